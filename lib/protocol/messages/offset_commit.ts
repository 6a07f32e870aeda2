/**
 * OffsetCommit (API key 8), versions 2–7: a consumer group member stores the
 * offsets it has consumed up to, so the group can resume there.
 *
 * ```
 * OffsetCommitRequest (v2-7) =>
 *   groupId string
 *   generationIdOrMemberEpoch int32
 *   memberId string
 *   groupInstanceId nullable string (v7+)
 *   retentionTimeMs int64 (v2-4)
 *   topics [name string, partitions [
 *     partitionIndex int32, committedOffset int64,
 *     committedLeaderEpoch int32 (v6+), committedMetadata nullable string]]
 * OffsetCommitResponse (v2-7) =>
 *   throttleTimeMs int32 (v3+)
 *   topics [name string, partitions [partitionIndex int32, errorCode int16]]
 * ```
 * Layout from Kafka's OffsetCommitRequest.json / OffsetCommitResponse.json.
 * v0-1 are left out (removed in Kafka 4.0; the response file starts at v2,
 * and v1's commitTimestamp exists in no version we speak); v8+ are flexible.
 * A "simple" commit outside any group uses generation -1 and member id "".
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One partition's offset to commit. */
export interface OffsetCommitRequestPartition {
  partitionIndex: number;
  /** The next offset to consume. */
  committedOffset: bigint;
  /** v6+; decoded as -1 for older versions. */
  committedLeaderEpoch?: number;
  /** Client metadata stored with the offset. */
  committedMetadata: string | null;
}

/** One topic's offsets to commit. */
export interface OffsetCommitRequestTopic {
  name: string;
  partitions: OffsetCommitRequestPartition[];
}

/** OffsetCommit request body. */
export interface OffsetCommitRequest {
  groupId: string;
  /** The generation (classic groups); -1 for a commit outside the group protocol. */
  generationIdOrMemberEpoch: number;
  /** "" for a commit outside the group protocol. */
  memberId: string;
  /** v7+ (static membership); decoded as null for older versions. */
  groupInstanceId?: string | null;
  /** v2-4 only; -1 = broker default; decoded as -1 for v5+. */
  retentionTimeMs?: bigint;
  topics: OffsetCommitRequestTopic[];
}

/** One partition's commit outcome. */
export interface OffsetCommitResponsePartition {
  partitionIndex: number;
  errorCode: number;
}

/** One topic's commit outcomes. */
export interface OffsetCommitResponseTopic {
  name: string;
  partitions: OffsetCommitResponsePartition[];
}

/** OffsetCommit response body. */
export interface OffsetCommitResponse {
  /** v3+; decoded as 0 for v2. */
  throttleTimeMs?: number;
  topics: OffsetCommitResponseTopic[];
}

/** Writes an OffsetCommitRequest body. */
export function encodeOffsetCommitRequest(
  w: Writer,
  version: number,
  body: OffsetCommitRequest,
): void {
  w.string(body.groupId);
  w.int32(body.generationIdOrMemberEpoch);
  w.string(body.memberId);
  if (version >= 7) w.nullableString(body.groupInstanceId ?? null);
  if (version <= 4) w.int64(body.retentionTimeMs ?? -1n);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int64(p.committedOffset);
      if (version >= 6) w.int32(p.committedLeaderEpoch ?? -1);
      w.nullableString(p.committedMetadata);
    });
  });
}

/** Reads an OffsetCommitRequest body. */
export function decodeOffsetCommitRequest(r: Reader, version: number): OffsetCommitRequest {
  const groupId = r.string();
  const generationIdOrMemberEpoch = r.int32();
  const memberId = r.string();
  const groupInstanceId = version >= 7 ? r.nullableString() : null;
  const retentionTimeMs = version <= 4 ? r.int64() : -1n;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): OffsetCommitRequestPartition => {
      const partitionIndex = r.int32();
      const committedOffset = r.int64();
      const committedLeaderEpoch = version >= 6 ? r.int32() : -1;
      const committedMetadata = r.nullableString();
      return { partitionIndex, committedOffset, committedLeaderEpoch, committedMetadata };
    }),
  }));
  return {
    groupId,
    generationIdOrMemberEpoch,
    memberId,
    groupInstanceId,
    retentionTimeMs,
    topics,
  };
}

/** Writes an OffsetCommitResponse body. */
export function encodeOffsetCommitResponse(
  w: Writer,
  version: number,
  body: OffsetCommitResponse,
): void {
  if (version >= 3) w.int32(body.throttleTimeMs ?? 0);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int16(p.errorCode);
    });
  });
}

/** Reads an OffsetCommitResponse body. */
export function decodeOffsetCommitResponse(r: Reader, version: number): OffsetCommitResponse {
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ partitionIndex: r.int32(), errorCode: r.int16() })),
  }));
  return { throttleTimeMs, topics };
}
