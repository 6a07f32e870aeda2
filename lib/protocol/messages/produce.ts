/**
 * Produce (API key 0), versions 3–8: write record batches to partitions.
 *
 * ```
 * ProduceRequest (v3-8) =>
 *   transactionalId  nullable string
 *   acks             int16
 *   timeoutMs        int32
 *   topicData        [name string, partitionData [index int32, records nullable bytes]]
 * ProduceResponse (v3-8) =>
 *   responses        [name string, partitionResponses [
 *                       index int32, errorCode int16, baseOffset int64,
 *                       logAppendTimeMs int64,
 *                       logStartOffset int64                      (v5+)
 *                       recordErrors [batchIndex int32,
 *                                     batchIndexErrorMessage nullable string] (v8+)
 *                       errorMessage nullable string              (v8+)]]
 *   throttleTimeMs   int32
 * ```
 * Layout from Kafka's ProduceRequest.json / ProduceResponse.json. `records`
 * stay raw bytes: batches are split and checked by the broker, not here.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One partition's records in a {@linkcode ProduceRequest}. */
export interface ProducePartitionData {
  index: number;
  /** Concatenated RecordBatch v2 bytes. */
  records: Uint8Array | null;
}

/** One topic in a {@linkcode ProduceRequest}. */
export interface ProduceTopicData {
  name: string;
  partitionData: ProducePartitionData[];
}

/** Produce request body. */
export interface ProduceRequest {
  transactionalId: string | null;
  /** 0, 1 or -1 (all in-sync replicas). */
  acks: number;
  timeoutMs: number;
  topicData: ProduceTopicData[];
}

/** A record the broker rejected (v8+). */
export interface ProduceRecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

/** One partition's outcome in a {@linkcode ProduceResponse}. */
export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  /** -1 unless the topic uses log-append time. */
  logAppendTimeMs: bigint;
  /** v5+; decoded as -1 for older versions. */
  logStartOffset: bigint;
  /** v8+; decoded as [] for older versions. */
  recordErrors?: ProduceRecordError[];
  /** v8+; decoded as null for older versions. */
  errorMessage?: string | null;
}

/** One topic's outcome in a {@linkcode ProduceResponse}. */
export interface ProduceTopicResponse {
  name: string;
  partitionResponses: ProducePartitionResponse[];
}

/** Produce response body. */
export interface ProduceResponse {
  responses: ProduceTopicResponse[];
  throttleTimeMs: number;
}

/** Writes a ProduceRequest body. */
export function encodeProduceRequest(w: Writer, _version: number, body: ProduceRequest): void {
  w.nullableString(body.transactionalId);
  w.int16(body.acks);
  w.int32(body.timeoutMs);
  w.array(body.topicData, (w, t) => {
    w.string(t.name);
    w.array(t.partitionData, (w, p) => {
      w.int32(p.index);
      w.nullableBytes(p.records);
    });
  });
}

/** Reads a ProduceRequest body. */
export function decodeProduceRequest(r: Reader, _version: number): ProduceRequest {
  return {
    transactionalId: r.nullableString(),
    acks: r.int16(),
    timeoutMs: r.int32(),
    topicData: r.array((r) => ({
      name: r.string(),
      partitionData: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
    })),
  };
}

/** Writes a ProduceResponse body. */
export function encodeProduceResponse(w: Writer, version: number, body: ProduceResponse): void {
  w.array(body.responses, (w, t) => {
    w.string(t.name);
    w.array(t.partitionResponses, (w, p) => {
      w.int32(p.index);
      w.int16(p.errorCode);
      w.int64(p.baseOffset);
      w.int64(p.logAppendTimeMs);
      if (version >= 5) w.int64(p.logStartOffset);
      if (version >= 8) {
        w.array(p.recordErrors ?? [], (w, e) => {
          w.int32(e.batchIndex);
          w.nullableString(e.batchIndexErrorMessage);
        });
        w.nullableString(p.errorMessage ?? null);
      }
    });
  });
  w.int32(body.throttleTimeMs);
}

/** Reads a ProduceResponse body. */
export function decodeProduceResponse(r: Reader, version: number): ProduceResponse {
  return {
    responses: r.array((r) => ({
      name: r.string(),
      partitionResponses: r.array((r): ProducePartitionResponse => {
        const index = r.int32();
        const errorCode = r.int16();
        const baseOffset = r.int64();
        const logAppendTimeMs = r.int64();
        const logStartOffset = version >= 5 ? r.int64() : -1n;
        const recordErrors = version >= 8
          ? r.array((r) => ({ batchIndex: r.int32(), batchIndexErrorMessage: r.nullableString() }))
          : [];
        const errorMessage = version >= 8 ? r.nullableString() : null;
        return {
          index,
          errorCode,
          baseOffset,
          logAppendTimeMs,
          logStartOffset,
          recordErrors,
          errorMessage,
        };
      }),
    })),
    throttleTimeMs: r.int32(),
  };
}
