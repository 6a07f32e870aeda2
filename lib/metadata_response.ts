/**
 * Builds Kafka Metadata responses from a cluster snapshot. Brokers answer
 * from their cached snapshot and the coordinator from its own, with this one
 * function, so a client sees the same answer wherever it bootstraps.
 * @module
 */
import type { ClusterSnapshot } from "./cluster.ts";
import { ERRORS } from "./protocol/error_codes.ts";
import {
  type ApiVersionsResponse,
  type MetadataRequest,
  type MetadataResponse,
  SUPPORTED_VERSIONS,
} from "./protocol/mod.ts";
import { assert } from "./assert.ts";

/**
 * Answers `request` from `snapshot`. A partition whose leader is not among
 * the live brokers is reported with leader −1 and LEADER_NOT_AVAILABLE, and
 * its dead replicas as offline.
 */
export function buildMetadataResponse(
  snapshot: ClusterSnapshot,
  request: MetadataRequest,
): MetadataResponse {
  const live = new Set(snapshot.brokers.map((b) => b.id));
  const byName = new Map(snapshot.topics.map((t) => [t.name, t]));
  const names = request.topics === null
    ? [...byName.keys()]
    : request.topics.map((t) => t.name ?? "");
  return {
    throttleTimeMs: 0,
    brokers: snapshot.brokers.map((b) => ({
      nodeId: b.id,
      host: b.host,
      port: b.port,
      rack: null,
    })),
    clusterId: snapshot.clusterId,
    controllerId: snapshot.controllerId,
    topics: names.map((name) => {
      const topic = byName.get(name);
      if (!topic) {
        return {
          errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
          name,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: -2147483648,
        };
      }
      return {
        errorCode: 0,
        name,
        isInternal: false,
        partitions: topic.partitions.map((p) => {
          const leaderLive = live.has(p.leader);
          return {
            errorCode: leaderLive ? 0 : ERRORS.LEADER_NOT_AVAILABLE.code,
            partitionIndex: p.partition,
            leaderId: leaderLive ? p.leader : -1,
            leaderEpoch: p.leaderEpoch,
            replicaNodes: p.replicas,
            isrNodes: p.isr,
            offlineReplicas: p.replicas.filter((id) => !live.has(id)),
          };
        }),
        topicAuthorizedOperations: -2147483648,
      };
    }),
    clusterAuthorizedOperations: -2147483648,
  };
}

/** The ApiVersions answer: every API this process serves, with our version range. */
export function buildApiVersionsResponse(apiKeys: readonly number[]): ApiVersionsResponse {
  return {
    errorCode: 0,
    apiKeys: apiKeys.map((apiKey) => {
      const range = SUPPORTED_VERSIONS.get(apiKey);
      assert(range !== undefined, `API ${apiKey} has no version range`);
      return { apiKey, minVersion: range.min, maxVersion: range.max };
    }),
    throttleTimeMs: 0,
  };
}
