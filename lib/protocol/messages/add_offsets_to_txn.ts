/**
 * AddOffsetsToTxn (API key 25), versions 0–2: a transactional producer tells
 * its transaction coordinator that the transaction will commit offsets for a
 * consumer group, so the coordinator adds that group's offsets partition to
 * the transaction. The producer then sends TxnOffsetCommit to the group
 * coordinator.
 *
 * ```
 * AddOffsetsToTxnRequest (v0-2) =>
 *   transactionalId string
 *   producerId int64
 *   producerEpoch int16
 *   groupId string
 * AddOffsetsToTxnResponse (v0-2) =>
 *   throttleTimeMs int32
 *   errorCode int16
 * ```
 * Layout from Kafka's AddOffsetsToTxnRequest.json / AddOffsetsToTxnResponse.json.
 * v1 is the same as v0 (only throttling behaviour changes); v2 adds the error
 * PRODUCER_FENCED. v3+ are flexible and not spoken here.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** AddOffsetsToTxn request body. */
export interface AddOffsetsToTxnRequest {
  /** The transactional id of the transaction. */
  transactionalId: string;
  /** The producer id in use by the transactional id. */
  producerId: bigint;
  /** The producer epoch in use by the transactional id. */
  producerEpoch: number;
  /** The consumer group whose offsets the transaction will commit. */
  groupId: string;
}

/** AddOffsetsToTxn response body. */
export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

/** Writes an AddOffsetsToTxnRequest body. */
export function encodeAddOffsetsToTxnRequest(
  w: Writer,
  _version: number,
  body: AddOffsetsToTxnRequest,
): void {
  w.string(body.transactionalId);
  w.int64(body.producerId);
  w.int16(body.producerEpoch);
  w.string(body.groupId);
}

/** Reads an AddOffsetsToTxnRequest body. */
export function decodeAddOffsetsToTxnRequest(r: Reader, _version: number): AddOffsetsToTxnRequest {
  return {
    transactionalId: r.string(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
    groupId: r.string(),
  };
}

/** Writes an AddOffsetsToTxnResponse body. */
export function encodeAddOffsetsToTxnResponse(
  w: Writer,
  _version: number,
  body: AddOffsetsToTxnResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.int16(body.errorCode);
}

/** Reads an AddOffsetsToTxnResponse body. */
export function decodeAddOffsetsToTxnResponse(
  r: Reader,
  _version: number,
): AddOffsetsToTxnResponse {
  return { throttleTimeMs: r.int32(), errorCode: r.int16() };
}
