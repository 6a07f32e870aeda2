/**
 * ListOffsets (API key 2), versions 1–5: find the offset for a timestamp, or
 * the earliest (-2) / latest (-1) offset of partitions.
 *
 * ```
 * ListOffsetsRequest (v1-5) =>
 *   replicaId int32, isolationLevel int8 (v2+),
 *   topics [name string, partitions [
 *     partitionIndex int32, currentLeaderEpoch int32 (v4+), timestamp int64]]
 * ListOffsetsResponse (v1-5) =>
 *   throttleTimeMs int32 (v2+),
 *   topics [name string, partitions [
 *     partitionIndex int32, errorCode int16, timestamp int64, offset int64,
 *     leaderEpoch int32 (v4+)]]
 * ```
 * Layout from Kafka's ListOffsetsRequest.json / ListOffsetsResponse.json.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** Special `timestamp` asking for the latest offset (the log end offset or LSO). */
export const LATEST_TIMESTAMP = -1n;
/** Special `timestamp` asking for the earliest offset (the log start offset). */
export const EARLIEST_TIMESTAMP = -2n;

/** One partition to look up. */
export interface ListOffsetsPartition {
  partitionIndex: number;
  /** v4+; default -1. */
  currentLeaderEpoch?: number;
  /** Milliseconds, or {@linkcode LATEST_TIMESTAMP} / {@linkcode EARLIEST_TIMESTAMP}. */
  timestamp: bigint;
}

/** One topic to look up. */
export interface ListOffsetsTopic {
  name: string;
  partitions: ListOffsetsPartition[];
}

/** ListOffsets request body. */
export interface ListOffsetsRequest {
  /** -1 for consumers. */
  replicaId: number;
  /** v2+; default 0 (read uncommitted). */
  isolationLevel?: number;
  topics: ListOffsetsTopic[];
}

/** One partition's answer. */
export interface ListOffsetsPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  timestamp: bigint;
  offset: bigint;
  /** v4+; decoded as -1 for older versions. */
  leaderEpoch?: number;
}

/** One topic's answers. */
export interface ListOffsetsTopicResponse {
  name: string;
  partitions: ListOffsetsPartitionResponse[];
}

/** ListOffsets response body. */
export interface ListOffsetsResponse {
  /** v2+; decoded as 0 for older versions. */
  throttleTimeMs?: number;
  topics: ListOffsetsTopicResponse[];
}

/** Writes a ListOffsetsRequest body. */
export function encodeListOffsetsRequest(
  w: Writer,
  version: number,
  body: ListOffsetsRequest,
): void {
  w.int32(body.replicaId);
  if (version >= 2) w.int8(body.isolationLevel ?? 0);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      if (version >= 4) w.int32(p.currentLeaderEpoch ?? -1);
      w.int64(p.timestamp);
    });
  });
}

/** Reads a ListOffsetsRequest body. */
export function decodeListOffsetsRequest(r: Reader, version: number): ListOffsetsRequest {
  const replicaId = r.int32();
  const isolationLevel = version >= 2 ? r.int8() : 0;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): ListOffsetsPartition => {
      const partitionIndex = r.int32();
      const currentLeaderEpoch = version >= 4 ? r.int32() : -1;
      const timestamp = r.int64();
      return { partitionIndex, currentLeaderEpoch, timestamp };
    }),
  }));
  return { replicaId, isolationLevel, topics };
}

/** Writes a ListOffsetsResponse body. */
export function encodeListOffsetsResponse(
  w: Writer,
  version: number,
  body: ListOffsetsResponse,
): void {
  if (version >= 2) w.int32(body.throttleTimeMs ?? 0);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int16(p.errorCode);
      w.int64(p.timestamp);
      w.int64(p.offset);
      if (version >= 4) w.int32(p.leaderEpoch ?? -1);
    });
  });
}

/** Reads a ListOffsetsResponse body. */
export function decodeListOffsetsResponse(r: Reader, version: number): ListOffsetsResponse {
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): ListOffsetsPartitionResponse => {
      const partitionIndex = r.int32();
      const errorCode = r.int16();
      const timestamp = r.int64();
      const offset = r.int64();
      const leaderEpoch = version >= 4 ? r.int32() : -1;
      return { partitionIndex, errorCode, timestamp, offset, leaderEpoch };
    }),
  }));
  return { throttleTimeMs, topics };
}
