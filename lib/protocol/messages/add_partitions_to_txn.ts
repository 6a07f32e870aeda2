/**
 * AddPartitionsToTxn (API key 24), versions 0–2: a transactional producer
 * tells its transaction coordinator which partitions it is about to write to,
 * before its first produce to each, so the coordinator knows where to write
 * the commit or abort markers when the transaction ends.
 *
 * ```
 * AddPartitionsToTxnRequest (v0-2) =>
 *   v3AndBelowTransactionalId string
 *   v3AndBelowProducerId int64
 *   v3AndBelowProducerEpoch int16
 *   v3AndBelowTopics [name string, partitions [int32]]
 * AddPartitionsToTxnResponse (v0-2) =>
 *   throttleTimeMs int32
 *   resultsByTopicV3AndBelow [name string,
 *     resultsByPartition [partitionIndex int32, partitionErrorCode int16]]
 * ```
 * Layout from Kafka's AddPartitionsToTxnRequest.json / AddPartitionsToTxnResponse.json.
 * v1 is the same as v0 (only throttling behaviour changes); v2 adds the error
 * PRODUCER_FENCED. v3+ are flexible and not spoken here (v4+ also batch
 * several transactions and are meant for brokers only). The field names keep
 * Kafka's "V3AndBelow" spelling so they match the grammar.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One topic's partitions to add to the transaction. */
export interface AddPartitionsToTxnTopic {
  name: string;
  /** The partition indexes to add. */
  partitions: number[];
}

/** AddPartitionsToTxn request body. */
export interface AddPartitionsToTxnRequest {
  /** The transactional id of the transaction. */
  v3AndBelowTransactionalId: string;
  /** The producer id in use by the transactional id. */
  v3AndBelowProducerId: bigint;
  /** The producer epoch in use by the transactional id. */
  v3AndBelowProducerEpoch: number;
  /** The partitions to add. */
  v3AndBelowTopics: AddPartitionsToTxnTopic[];
}

/** One partition's outcome. */
export interface AddPartitionsToTxnPartitionResult {
  partitionIndex: number;
  partitionErrorCode: number;
}

/** One topic's outcomes. */
export interface AddPartitionsToTxnTopicResult {
  name: string;
  resultsByPartition: AddPartitionsToTxnPartitionResult[];
}

/** AddPartitionsToTxn response body. */
export interface AddPartitionsToTxnResponse {
  throttleTimeMs: number;
  resultsByTopicV3AndBelow: AddPartitionsToTxnTopicResult[];
}

/** Writes an AddPartitionsToTxnRequest body. */
export function encodeAddPartitionsToTxnRequest(
  w: Writer,
  _version: number,
  body: AddPartitionsToTxnRequest,
): void {
  w.string(body.v3AndBelowTransactionalId);
  w.int64(body.v3AndBelowProducerId);
  w.int16(body.v3AndBelowProducerEpoch);
  w.array(body.v3AndBelowTopics, (w, t) => {
    w.string(t.name);
    w.int32Array(t.partitions);
  });
}

/** Reads an AddPartitionsToTxnRequest body. */
export function decodeAddPartitionsToTxnRequest(
  r: Reader,
  _version: number,
): AddPartitionsToTxnRequest {
  return {
    v3AndBelowTransactionalId: r.string(),
    v3AndBelowProducerId: r.int64(),
    v3AndBelowProducerEpoch: r.int16(),
    v3AndBelowTopics: r.array((r) => ({ name: r.string(), partitions: r.int32Array() })),
  };
}

/** Writes an AddPartitionsToTxnResponse body. */
export function encodeAddPartitionsToTxnResponse(
  w: Writer,
  _version: number,
  body: AddPartitionsToTxnResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.resultsByTopicV3AndBelow, (w, t) => {
    w.string(t.name);
    w.array(t.resultsByPartition, (w, p) => {
      w.int32(p.partitionIndex);
      w.int16(p.partitionErrorCode);
    });
  });
}

/** Reads an AddPartitionsToTxnResponse body. */
export function decodeAddPartitionsToTxnResponse(
  r: Reader,
  _version: number,
): AddPartitionsToTxnResponse {
  return {
    throttleTimeMs: r.int32(),
    resultsByTopicV3AndBelow: r.array((r) => ({
      name: r.string(),
      resultsByPartition: r.array((r) => ({
        partitionIndex: r.int32(),
        partitionErrorCode: r.int16(),
      })),
    })),
  };
}
