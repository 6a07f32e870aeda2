/**
 * EndTxn (API key 26), versions 0–2: a transactional producer asks its
 * transaction coordinator to commit or abort the current transaction. The
 * coordinator records the decision, then writes a COMMIT or ABORT control
 * record (see `control_record.ts`) to every partition in the transaction
 * with WriteTxnMarkers.
 *
 * ```
 * EndTxnRequest (v0-2) =>
 *   transactionalId string
 *   producerId int64
 *   producerEpoch int16
 *   committed bool
 * EndTxnResponse (v0-2) =>
 *   throttleTimeMs int32
 *   errorCode int16
 * ```
 * Layout from Kafka's EndTxnRequest.json / EndTxnResponse.json. v1 is the
 * same as v0 (only throttling behaviour changes); v2 adds the error
 * PRODUCER_FENCED. v3+ are flexible and not spoken here.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** EndTxn request body. */
export interface EndTxnRequest {
  /** The transactional id of the transaction to end. */
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  /** True to commit the transaction, false to abort it. */
  committed: boolean;
}

/** EndTxn response body. */
export interface EndTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

/** Writes an EndTxnRequest body. */
export function encodeEndTxnRequest(w: Writer, _version: number, body: EndTxnRequest): void {
  w.string(body.transactionalId);
  w.int64(body.producerId);
  w.int16(body.producerEpoch);
  w.bool(body.committed);
}

/** Reads an EndTxnRequest body. */
export function decodeEndTxnRequest(r: Reader, _version: number): EndTxnRequest {
  return {
    transactionalId: r.string(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
    committed: r.bool(),
  };
}

/** Writes an EndTxnResponse body. */
export function encodeEndTxnResponse(w: Writer, _version: number, body: EndTxnResponse): void {
  w.int32(body.throttleTimeMs);
  w.int16(body.errorCode);
}

/** Reads an EndTxnResponse body. */
export function decodeEndTxnResponse(r: Reader, _version: number): EndTxnResponse {
  return { throttleTimeMs: r.int32(), errorCode: r.int16() };
}
