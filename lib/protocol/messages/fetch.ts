/**
 * Fetch (API key 1), versions 4–11: read record batches from partitions,
 * by consumers and by follower replicas (`replicaId` ≥ 0).
 *
 * ```
 * FetchRequest (v4-11) =>
 *   replicaId int32, maxWaitMs int32, minBytes int32, maxBytes int32,
 *   isolationLevel int8,
 *   sessionId int32 (v7+), sessionEpoch int32 (v7+),
 *   topics [topic string, partitions [
 *     partition int32, currentLeaderEpoch int32 (v9+), fetchOffset int64,
 *     logStartOffset int64 (v5+), partitionMaxBytes int32]]
 *   forgottenTopicsData [topic string, partitions [int32]] (v7+)
 *   rackId string (v11+)
 * FetchResponse (v4-11) =>
 *   throttleTimeMs int32, errorCode int16 (v7+), sessionId int32 (v7+),
 *   responses [topic string, partitions [
 *     partitionIndex int32, errorCode int16, highWatermark int64,
 *     lastStableOffset int64, logStartOffset int64 (v5+),
 *     abortedTransactions nullable [producerId int64, firstOffset int64],
 *     preferredReadReplica int32 (v11+), records nullable bytes]]
 * ```
 * Layout from Kafka's FetchRequest.json / FetchResponse.json. `records` are
 * raw bytes; the last batch may be cut (see `splitBatches`' allowPartialTail).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One partition to read in a {@linkcode FetchRequest}. */
export interface FetchPartition {
  partition: number;
  /** v9+; default -1 (unknown). */
  currentLeaderEpoch?: number;
  fetchOffset: bigint;
  /** v5+; only followers set it; default -1. */
  logStartOffset?: bigint;
  partitionMaxBytes: number;
}

/** One topic to read in a {@linkcode FetchRequest}. */
export interface FetchTopic {
  topic: string;
  partitions: FetchPartition[];
}

/** Partitions to drop from an incremental fetch session (v7+). */
export interface ForgottenTopic {
  topic: string;
  partitions: number[];
}

/** Fetch request body. */
export interface FetchRequest {
  /** -1 for consumers, the broker id for followers. */
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** 0 = read uncommitted, 1 = read committed. */
  isolationLevel: number;
  /** v7+; default 0. */
  sessionId?: number;
  /** v7+; default -1. */
  sessionEpoch?: number;
  topics: FetchTopic[];
  /** v7+; default []. */
  forgottenTopicsData?: ForgottenTopic[];
  /** v11+; default "". */
  rackId?: string;
}

/** An aborted transaction overlapping the fetched range. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/** One partition's data in a {@linkcode FetchResponse}. */
export interface FetchPartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  /** v5+; decoded as -1 for older versions. */
  logStartOffset?: bigint;
  abortedTransactions: AbortedTransaction[] | null;
  /** v11+; decoded as -1 for older versions. */
  preferredReadReplica?: number;
  /** Concatenated RecordBatch v2 bytes; the last batch may be cut. */
  records: Uint8Array | null;
}

/** One topic's data in a {@linkcode FetchResponse}. */
export interface FetchableTopicResponse {
  topic: string;
  partitions: FetchPartitionData[];
}

/** Fetch response body. */
export interface FetchResponse {
  throttleTimeMs: number;
  /** v7+; decoded as 0 for older versions. */
  errorCode?: number;
  /** v7+; decoded as 0 for older versions. */
  sessionId?: number;
  responses: FetchableTopicResponse[];
}

/** Writes a FetchRequest body. */
export function encodeFetchRequest(w: Writer, version: number, body: FetchRequest): void {
  w.int32(body.replicaId);
  w.int32(body.maxWaitMs);
  w.int32(body.minBytes);
  w.int32(body.maxBytes);
  w.int8(body.isolationLevel);
  if (version >= 7) {
    w.int32(body.sessionId ?? 0);
    w.int32(body.sessionEpoch ?? -1);
  }
  w.array(body.topics, (w, t) => {
    w.string(t.topic);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition);
      if (version >= 9) w.int32(p.currentLeaderEpoch ?? -1);
      w.int64(p.fetchOffset);
      if (version >= 5) w.int64(p.logStartOffset ?? -1n);
      w.int32(p.partitionMaxBytes);
    });
  });
  if (version >= 7) {
    w.array(body.forgottenTopicsData ?? [], (w, t) => {
      w.string(t.topic);
      w.int32Array(t.partitions);
    });
  }
  if (version >= 11) w.string(body.rackId ?? "");
}

/** Reads a FetchRequest body. */
export function decodeFetchRequest(r: Reader, version: number): FetchRequest {
  const replicaId = r.int32();
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = r.int32();
  const isolationLevel = r.int8();
  const sessionId = version >= 7 ? r.int32() : 0;
  const sessionEpoch = version >= 7 ? r.int32() : -1;
  const topics = r.array((r) => ({
    topic: r.string(),
    partitions: r.array((r): FetchPartition => {
      const partition = r.int32();
      const currentLeaderEpoch = version >= 9 ? r.int32() : -1;
      const fetchOffset = r.int64();
      const logStartOffset = version >= 5 ? r.int64() : -1n;
      const partitionMaxBytes = r.int32();
      return { partition, currentLeaderEpoch, fetchOffset, logStartOffset, partitionMaxBytes };
    }),
  }));
  const forgottenTopicsData = version >= 7
    ? r.array((r) => ({ topic: r.string(), partitions: r.int32Array() }))
    : [];
  const rackId = version >= 11 ? r.string() : "";
  return {
    replicaId,
    maxWaitMs,
    minBytes,
    maxBytes,
    isolationLevel,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData,
    rackId,
  };
}

/** Writes a FetchResponse body. */
export function encodeFetchResponse(w: Writer, version: number, body: FetchResponse): void {
  w.int32(body.throttleTimeMs);
  if (version >= 7) {
    w.int16(body.errorCode ?? 0);
    w.int32(body.sessionId ?? 0);
  }
  w.array(body.responses, (w, t) => {
    w.string(t.topic);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int16(p.errorCode);
      w.int64(p.highWatermark);
      w.int64(p.lastStableOffset);
      if (version >= 5) w.int64(p.logStartOffset ?? -1n);
      w.array(p.abortedTransactions, (w, a) => {
        w.int64(a.producerId);
        w.int64(a.firstOffset);
      });
      if (version >= 11) w.int32(p.preferredReadReplica ?? -1);
      w.nullableBytes(p.records);
    });
  });
}

/** Reads a FetchResponse body. */
export function decodeFetchResponse(r: Reader, version: number): FetchResponse {
  const throttleTimeMs = r.int32();
  const errorCode = version >= 7 ? r.int16() : 0;
  const sessionId = version >= 7 ? r.int32() : 0;
  const responses = r.array((r) => ({
    topic: r.string(),
    partitions: r.array((r): FetchPartitionData => {
      const partitionIndex = r.int32();
      const errorCode = r.int16();
      const highWatermark = r.int64();
      const lastStableOffset = r.int64();
      const logStartOffset = version >= 5 ? r.int64() : -1n;
      const abortedTransactions = r.nullableArray((r) => ({
        producerId: r.int64(),
        firstOffset: r.int64(),
      }));
      const preferredReadReplica = version >= 11 ? r.int32() : -1;
      const records = r.nullableBytes();
      return {
        partitionIndex,
        errorCode,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        abortedTransactions,
        preferredReadReplica,
        records,
      };
    }),
  }));
  return { throttleTimeMs, errorCode, sessionId, responses };
}
