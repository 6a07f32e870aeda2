/**
 * Metadata (API key 3), versions 1–8: brokers, topics, partition leaders,
 * replicas and ISR. Every broker answers it from its metadata cache.
 *
 * ```
 * MetadataRequest (v1-8) =>
 *   topics nullable [name string]            null = all topics
 *   allowAutoTopicCreation bool              (v4+)
 *   includeClusterAuthorizedOperations bool  (v8)
 *   includeTopicAuthorizedOperations bool    (v8+)
 * MetadataResponse (v1-8) =>
 *   throttleTimeMs int32 (v3+)
 *   brokers [nodeId int32, host string, port int32, rack nullable string]
 *   clusterId nullable string (v2+)
 *   controllerId int32
 *   topics [errorCode int16, name string, isInternal bool,
 *           partitions [errorCode int16, partitionIndex int32, leaderId int32,
 *                       leaderEpoch int32 (v7+), replicaNodes [int32], isrNodes [int32],
 *                       offlineReplicas [int32] (v5+)],
 *           topicAuthorizedOperations int32 (v8+)]
 *   clusterAuthorizedOperations int32 (v8)
 * ```
 * Layout from Kafka's MetadataRequest.json / MetadataResponse.json.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** "Authorized operations not requested", Kafka's INT32_MIN default. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** A topic to describe. */
export interface MetadataRequestTopic {
  name: string;
}

/** Metadata request body. */
export interface MetadataRequest {
  /** null = every topic; [] = no topics (brokers only). */
  topics: MetadataRequestTopic[] | null;
  /** v4+; default true. */
  allowAutoTopicCreation?: boolean;
  /** v8 only; default false. */
  includeClusterAuthorizedOperations?: boolean;
  /** v8+; default false. */
  includeTopicAuthorizedOperations?: boolean;
}

/** A broker in a {@linkcode MetadataResponse}. */
export interface MetadataResponseBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** A partition in a {@linkcode MetadataResponse}. */
export interface MetadataResponsePartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  /** v7+; decoded as -1 for older versions. */
  leaderEpoch?: number;
  replicaNodes: number[];
  isrNodes: number[];
  /** v5+; decoded as [] for older versions. */
  offlineReplicas?: number[];
}

/** A topic in a {@linkcode MetadataResponse}. */
export interface MetadataResponseTopic {
  errorCode: number;
  name: string;
  isInternal: boolean;
  partitions: MetadataResponsePartition[];
  /** v8+; decoded as {@linkcode AUTHORIZED_OPERATIONS_OMITTED} for older versions. */
  topicAuthorizedOperations?: number;
}

/** Metadata response body. */
export interface MetadataResponse {
  /** v3+; decoded as 0 for older versions. */
  throttleTimeMs?: number;
  brokers: MetadataResponseBroker[];
  /** v2+; decoded as null for older versions. */
  clusterId?: string | null;
  controllerId: number;
  topics: MetadataResponseTopic[];
  /** v8 only; decoded as {@linkcode AUTHORIZED_OPERATIONS_OMITTED} otherwise. */
  clusterAuthorizedOperations?: number;
}

/** Writes a MetadataRequest body. */
export function encodeMetadataRequest(w: Writer, version: number, body: MetadataRequest): void {
  w.array(body.topics, (w, t) => w.string(t.name));
  if (version >= 4) w.bool(body.allowAutoTopicCreation ?? true);
  if (version >= 8) {
    w.bool(body.includeClusterAuthorizedOperations ?? false);
    w.bool(body.includeTopicAuthorizedOperations ?? false);
  }
}

/** Reads a MetadataRequest body. */
export function decodeMetadataRequest(r: Reader, version: number): MetadataRequest {
  const topics = r.nullableArray((r) => ({ name: r.string() }));
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  const includeClusterAuthorizedOperations = version >= 8 ? r.bool() : false;
  const includeTopicAuthorizedOperations = version >= 8 ? r.bool() : false;
  return {
    topics,
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations,
    includeTopicAuthorizedOperations,
  };
}

/** Writes a MetadataResponse body. */
export function encodeMetadataResponse(w: Writer, version: number, body: MetadataResponse): void {
  if (version >= 3) w.int32(body.throttleTimeMs ?? 0);
  w.array(body.brokers, (w, b) => {
    w.int32(b.nodeId);
    w.string(b.host);
    w.int32(b.port);
    w.nullableString(b.rack);
  });
  if (version >= 2) w.nullableString(body.clusterId ?? null);
  w.int32(body.controllerId);
  w.array(body.topics, (w, t) => {
    w.int16(t.errorCode);
    w.string(t.name);
    w.bool(t.isInternal);
    w.array(t.partitions, (w, p) => {
      w.int16(p.errorCode);
      w.int32(p.partitionIndex);
      w.int32(p.leaderId);
      if (version >= 7) w.int32(p.leaderEpoch ?? -1);
      w.int32Array(p.replicaNodes);
      w.int32Array(p.isrNodes);
      if (version >= 5) w.int32Array(p.offlineReplicas ?? []);
    });
    if (version >= 8) w.int32(t.topicAuthorizedOperations ?? AUTHORIZED_OPERATIONS_OMITTED);
  });
  if (version === 8) {
    w.int32(body.clusterAuthorizedOperations ?? AUTHORIZED_OPERATIONS_OMITTED);
  }
}

/** Reads a MetadataResponse body. */
export function decodeMetadataResponse(r: Reader, version: number): MetadataResponse {
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const brokers = r.array((r) => ({
    nodeId: r.int32(),
    host: r.string(),
    port: r.int32(),
    rack: r.nullableString(),
  }));
  const clusterId = version >= 2 ? r.nullableString() : null;
  const controllerId = r.int32();
  const topics = r.array((r): MetadataResponseTopic => {
    const errorCode = r.int16();
    const name = r.string();
    const isInternal = r.bool();
    const partitions = r.array((r): MetadataResponsePartition => {
      const errorCode = r.int16();
      const partitionIndex = r.int32();
      const leaderId = r.int32();
      const leaderEpoch = version >= 7 ? r.int32() : -1;
      const replicaNodes = r.int32Array();
      const isrNodes = r.int32Array();
      const offlineReplicas = version >= 5 ? r.int32Array() : [];
      return {
        errorCode,
        partitionIndex,
        leaderId,
        leaderEpoch,
        replicaNodes,
        isrNodes,
        offlineReplicas,
      };
    });
    const topicAuthorizedOperations = version >= 8 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
    return { errorCode, name, isInternal, partitions, topicAuthorizedOperations };
  });
  const clusterAuthorizedOperations = version === 8 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
  return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations };
}
