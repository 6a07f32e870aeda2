/**
 * OffsetForLeaderEpoch (API key 23), versions 2–3: the end offset of a
 * leader epoch on the leader. A follower asks it for its latest epoch after
 * a leadership change and truncates anything past the answer (KIP-101,
 * KIP-279), so a returning replica never keeps a divergent tail.
 *
 * ```
 * OffsetForLeaderEpochRequest (v2-3) =>
 *   replicaId int32 (v3+)
 *   topics [topic string, partitions [partition int32, currentLeaderEpoch int32, leaderEpoch int32]]
 * OffsetForLeaderEpochResponse (v2-3) =>
 *   throttleTimeMs int32
 *   topics [topic string, partitions [errorCode int16, partition int32, leaderEpoch int32, endOffset int64]]
 * ```
 * Layout from Kafka's OffsetForLeaderEpochRequest.json / OffsetForLeaderEpochResponse.json.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One partition asked about. */
export interface OffsetForLeaderPartition {
  partition: number;
  /** The asker's view of the current epoch (fencing); −1 for unknown. */
  currentLeaderEpoch: number;
  /** The epoch whose end offset is wanted. */
  leaderEpoch: number;
}

/** OffsetForLeaderEpoch request body. */
export interface OffsetForLeaderEpochRequest {
  /** v3+; the follower's broker id, −1 for a consumer; decoded as −2 for v2. */
  replicaId?: number;
  topics: { topic: string; partitions: OffsetForLeaderPartition[] }[];
}

/** One partition's answer. */
export interface EpochEndOffset {
  errorCode: number;
  partition: number;
  /** The largest epoch ≤ the one asked for that the leader knows, or −1. */
  leaderEpoch: number;
  /** Where that epoch ends (exclusive), or −1. */
  endOffset: bigint;
}

/** OffsetForLeaderEpoch response body. */
export interface OffsetForLeaderEpochResponse {
  throttleTimeMs: number;
  topics: { topic: string; partitions: EpochEndOffset[] }[];
}

/** Writes an OffsetForLeaderEpochRequest body. */
export function encodeOffsetForLeaderEpochRequest(
  w: Writer,
  version: number,
  body: OffsetForLeaderEpochRequest,
): void {
  if (version >= 3) w.int32(body.replicaId ?? -1);
  w.array(body.topics, (w, t) => {
    w.string(t.topic);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition);
      w.int32(p.currentLeaderEpoch);
      w.int32(p.leaderEpoch);
    });
  });
}

/** Reads an OffsetForLeaderEpochRequest body. */
export function decodeOffsetForLeaderEpochRequest(
  r: Reader,
  version: number,
): OffsetForLeaderEpochRequest {
  const replicaId = version >= 3 ? r.int32() : -2;
  const topics = r.array((r) => ({
    topic: r.string(),
    partitions: r.array((r) => ({
      partition: r.int32(),
      currentLeaderEpoch: r.int32(),
      leaderEpoch: r.int32(),
    })),
  }));
  return { replicaId, topics };
}

/** Writes an OffsetForLeaderEpochResponse body. */
export function encodeOffsetForLeaderEpochResponse(
  w: Writer,
  _version: number,
  body: OffsetForLeaderEpochResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.topics, (w, t) => {
    w.string(t.topic);
    w.array(t.partitions, (w, p) => {
      w.int16(p.errorCode);
      w.int32(p.partition);
      w.int32(p.leaderEpoch);
      w.int64(p.endOffset);
    });
  });
}

/** Reads an OffsetForLeaderEpochResponse body. */
export function decodeOffsetForLeaderEpochResponse(
  r: Reader,
  _version: number,
): OffsetForLeaderEpochResponse {
  return {
    throttleTimeMs: r.int32(),
    topics: r.array((r) => ({
      topic: r.string(),
      partitions: r.array((r) => ({
        errorCode: r.int16(),
        partition: r.int32(),
        leaderEpoch: r.int32(),
        endOffset: r.int64(),
      })),
    })),
  };
}
