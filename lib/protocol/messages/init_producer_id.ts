/**
 * InitProducerId (API key 22), versions 0–1: a producer asks the coordinator
 * for a producer id and epoch before it sends idempotent (or transactional)
 * batches. A non-transactional producer gets a fresh id with epoch 0; a
 * transactional id keeps its producer id and gets the next epoch, fencing
 * older instances.
 *
 * ```
 * InitProducerIdRequest (v0-1) =>
 *   transactionalId       nullable string
 *   transactionTimeoutMs  int32
 * InitProducerIdResponse (v0-1) =>
 *   throttleTimeMs        int32
 *   errorCode             int16
 *   producerId            int64
 *   producerEpoch         int16
 * ```
 * Layout from Kafka's InitProducerIdRequest.json / InitProducerIdResponse.json
 * (v1 only changes throttling behaviour; v2+ are flexible and not spoken here).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** InitProducerId request body. */
export interface InitProducerIdRequest {
  /** Null for an idempotent producer without transactions. */
  transactionalId: string | null;
  /** Only meaningful with a transactional id; -1 otherwise is fine. */
  transactionTimeoutMs: number;
}

/** InitProducerId response body. */
export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  /** -1 on error. */
  producerId: bigint;
  /** -1 on error. */
  producerEpoch: number;
}

/** Writes an InitProducerIdRequest body. */
export function encodeInitProducerIdRequest(
  w: Writer,
  _version: number,
  body: InitProducerIdRequest,
): void {
  w.nullableString(body.transactionalId);
  w.int32(body.transactionTimeoutMs);
}

/** Reads an InitProducerIdRequest body. */
export function decodeInitProducerIdRequest(r: Reader, _version: number): InitProducerIdRequest {
  return { transactionalId: r.nullableString(), transactionTimeoutMs: r.int32() };
}

/** Writes an InitProducerIdResponse body. */
export function encodeInitProducerIdResponse(
  w: Writer,
  _version: number,
  body: InitProducerIdResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.int16(body.errorCode);
  w.int64(body.producerId);
  w.int16(body.producerEpoch);
}

/** Reads an InitProducerIdResponse body. */
export function decodeInitProducerIdResponse(r: Reader, _version: number): InitProducerIdResponse {
  return {
    throttleTimeMs: r.int32(),
    errorCode: r.int16(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
  };
}
