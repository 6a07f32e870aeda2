/**
 * TxnOffsetCommit (API key 28), versions 0–2: a transactional producer sends
 * consumed offsets to the group coordinator as part of its transaction
 * (after AddOffsetsToTxn). The offsets become visible to the group only when
 * the transaction commits, and are dropped when it aborts.
 *
 * ```
 * TxnOffsetCommitRequest (v0-2) =>
 *   transactionalId string
 *   groupId string
 *   producerId int64
 *   producerEpoch int16
 *   topics [name string, partitions [
 *     partitionIndex int32, committedOffset int64,
 *     committedLeaderEpoch int32 (v2+), committedMetadata nullable string]]
 * TxnOffsetCommitResponse (v0-2) =>
 *   throttleTimeMs int32
 *   topics [name string, partitions [partitionIndex int32, errorCode int16]]
 * ```
 * Layout from Kafka's TxnOffsetCommitRequest.json / TxnOffsetCommitResponse.json.
 * v1 is the same as v0 (only throttling behaviour changes). v3+ are flexible
 * and not spoken here (v3 adds generationId, memberId and groupInstanceId,
 * so a v0-2 commit is never fenced by group generation).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One partition's offset to commit in the transaction. */
export interface TxnOffsetCommitRequestPartition {
  partitionIndex: number;
  /** The next offset to consume. */
  committedOffset: bigint;
  /** v2+; decoded as -1 for older versions. */
  committedLeaderEpoch?: number;
  /** Client metadata stored with the offset. */
  committedMetadata: string | null;
}

/** One topic's offsets to commit in the transaction. */
export interface TxnOffsetCommitRequestTopic {
  name: string;
  partitions: TxnOffsetCommitRequestPartition[];
}

/** TxnOffsetCommit request body. */
export interface TxnOffsetCommitRequest {
  /** The transactional id of the transaction. */
  transactionalId: string;
  /** The consumer group the offsets belong to. */
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  topics: TxnOffsetCommitRequestTopic[];
}

/** One partition's commit outcome. */
export interface TxnOffsetCommitResponsePartition {
  partitionIndex: number;
  errorCode: number;
}

/** One topic's commit outcomes. */
export interface TxnOffsetCommitResponseTopic {
  name: string;
  partitions: TxnOffsetCommitResponsePartition[];
}

/** TxnOffsetCommit response body. */
export interface TxnOffsetCommitResponse {
  throttleTimeMs: number;
  topics: TxnOffsetCommitResponseTopic[];
}

/** Writes a TxnOffsetCommitRequest body. */
export function encodeTxnOffsetCommitRequest(
  w: Writer,
  version: number,
  body: TxnOffsetCommitRequest,
): void {
  w.string(body.transactionalId);
  w.string(body.groupId);
  w.int64(body.producerId);
  w.int16(body.producerEpoch);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int64(p.committedOffset);
      if (version >= 2) w.int32(p.committedLeaderEpoch ?? -1);
      w.nullableString(p.committedMetadata);
    });
  });
}

/** Reads a TxnOffsetCommitRequest body. */
export function decodeTxnOffsetCommitRequest(r: Reader, version: number): TxnOffsetCommitRequest {
  const transactionalId = r.string();
  const groupId = r.string();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): TxnOffsetCommitRequestPartition => {
      const partitionIndex = r.int32();
      const committedOffset = r.int64();
      const committedLeaderEpoch = version >= 2 ? r.int32() : -1;
      const committedMetadata = r.nullableString();
      return { partitionIndex, committedOffset, committedLeaderEpoch, committedMetadata };
    }),
  }));
  return { transactionalId, groupId, producerId, producerEpoch, topics };
}

/** Writes a TxnOffsetCommitResponse body. */
export function encodeTxnOffsetCommitResponse(
  w: Writer,
  _version: number,
  body: TxnOffsetCommitResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int16(p.errorCode);
    });
  });
}

/** Reads a TxnOffsetCommitResponse body. */
export function decodeTxnOffsetCommitResponse(
  r: Reader,
  _version: number,
): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: r.int32(),
    topics: r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ partitionIndex: r.int32(), errorCode: r.int16() })),
    })),
  };
}
