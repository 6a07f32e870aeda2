/**
 * Builds Kafka Metadata and ApiVersions responses. Brokers answer from their
 * cached snapshot and the coordinator from its own, with these same
 * functions, so a client sees the same answer wherever it bootstraps.
 * @module
 */
import type { ClusterSnapshot } from "./cluster.ts";
import { ERRORS } from "./protocol/error_codes.ts";
import {
  ApiKey,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  encodeResponse,
  isValidApiVersionsRequest,
  type MetadataRequest,
  type MetadataResponse,
  RequestDecodeError,
  type RequestHeader,
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

/** KIP-511's answer to a request it cannot take: INVALID_REQUEST and no API list. */
function invalidApiVersions(): ApiVersionsResponse {
  return { errorCode: ERRORS.INVALID_REQUEST.code, apiKeys: [], throttleTimeMs: 0 };
}

/**
 * The whole ApiVersions response frame for `request`, listing `apiKeys`:
 * either a decoded request, or the {@linkcode RequestDecodeError} its frame
 * raised (its `header` must be an ApiVersions header). As in Kafka (KIP-511):
 * - a version we do not serve (UNSUPPORTED_VERSION) is answered with a v0
 *   body, UNSUPPORTED_VERSION and our ranges, so the client can downgrade;
 * - a body that does not decode, or a v3 client software name or version
 *   that breaks KIP-511's pattern, is answered INVALID_REQUEST with no API
 *   list, in the request's version;
 * - anything else with every API in `apiKeys`.
 */
export function answerApiVersions(
  request: { header: RequestHeader; body: ApiVersionsRequest } | RequestDecodeError,
  apiKeys: readonly number[],
): Uint8Array {
  const header = request.header;
  assert(header?.apiKey === ApiKey.ApiVersions, "answerApiVersions() needs an ApiVersions header");
  const { apiVersion, correlationId } = header;
  if (request instanceof RequestDecodeError) {
    return request.code === ERRORS.UNSUPPORTED_VERSION.code
      ? encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
        ...buildApiVersionsResponse(apiKeys),
        errorCode: ERRORS.UNSUPPORTED_VERSION.code,
      })
      : encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, invalidApiVersions());
  }
  return encodeResponse(
    ApiKey.ApiVersions,
    apiVersion,
    correlationId,
    isValidApiVersionsRequest(apiVersion, request.body)
      ? buildApiVersionsResponse(apiKeys)
      : invalidApiVersions(),
  );
}
