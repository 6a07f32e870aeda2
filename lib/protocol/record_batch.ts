/**
 * Kafka RecordBatch v2 (magic 2): the unit producers send, brokers store as
 * is and fetches return as slices. This module encodes and decodes the
 * uncompressed form; compression (gzip is async in Deno) lives in the client,
 * which uses {@linkcode recordsPayloadOf}, {@linkcode withRecordsPayload} and
 * {@linkcode decodeRecordsFromPayload} around it.
 *
 * ```
 * RecordBatch =>                         byte offset
 *   baseOffset            int64          0
 *   batchLength           int32          8   bytes after this field (total - 12)
 *   partitionLeaderEpoch  int32          12
 *   magic                 int8           16  always 2
 *   crc                   uint32         17  CRC-32C of bytes [21, end)
 *   attributes            int16          21  bits 0-2 compression, 3 timestamp type,
 *                                            4 transactional, 5 control
 *   lastOffsetDelta       int32          23
 *   baseTimestamp         int64          27
 *   maxTimestamp          int64          35
 *   producerId            int64          43
 *   producerEpoch         int16          51
 *   baseSequence          int32          53
 *   recordCount           int32          57
 *   records               [Record]       61
 * Record =>
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *   keyLength varint, key bytes, valueLength varint, value bytes,
 *   headerCount varint, [headerKeyLength varint, headerKey, headerValueLength varint, value]
 * ```
 *
 * `baseOffset` and `partitionLeaderEpoch` lie before the CRC range, so a
 * leader can patch them in place ({@linkcode setBaseOffset}) without
 * recomputing the CRC. Malformed batches throw `KaError` CORRUPT_MESSAGE.
 * @module
 */
import { assert } from "../assert.ts";
import { KaError } from "../errors.ts";
import { ARRAY_LENGTH_MAX, BATCH_RECORDS_MAX } from "../limits.ts";
import { encodeUtf8, Reader, sizeOfVarint, sizeOfVarlongNumber, Writer } from "./codec.ts";
import { crc32c } from "./crc32c.ts";

/** Bytes of a batch before its first record. */
export const RECORD_BATCH_HEADER_BYTES = 61;
/** Bytes before `batchLength` counts: baseOffset (8) + batchLength (4). */
export const BATCH_LENGTH_PREFIX_BYTES = 12;
/** The only magic byte we read and write. */
export const RECORD_BATCH_MAGIC = 2;

/** Byte offset of each header field in a batch. */
export const BATCH_OFFSETS = Object.freeze({
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
});

/** Mask of the compression codec bits in `attributes` (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export const ATTR_COMPRESSION_MASK = 0x07;
/** `attributes` bit: timestamps are log-append time. */
export const ATTR_TIMESTAMP_TYPE = 0x08;
/** `attributes` bit: the batch belongs to a transaction. */
export const ATTR_TRANSACTIONAL = 0x10;
/** `attributes` bit: the batch holds control records (transaction markers). */
export const ATTR_CONTROL = 0x20;

assert(RECORD_BATCH_HEADER_BYTES === 61, "RecordBatch v2 header must be 61 bytes");
assert(BATCH_OFFSETS.records === RECORD_BATCH_HEADER_BYTES, "records must start after the header");
assert(BATCH_OFFSETS.crc + 4 === BATCH_OFFSETS.attributes, "the CRC must cover attributes..end");
assert(
  BATCH_OFFSETS.batchLength + 4 === BATCH_LENGTH_PREFIX_BYTES,
  "batchLength must count bytes after itself",
);

/** One record header; keys are UTF-8 strings, values raw bytes. */
export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A record to encode. `timestamp` defaults to the batch's {@linkcode EncodeBatchOptions.timestamp}. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  timestamp?: number;
}

/** A decoded record with absolute offset and timestamp. Key and value are views into the batch. */
export interface KaRecord {
  offset: bigint;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/** The fixed 61-byte header of a batch. */
export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Options for {@linkcode encodeRecordBatch}. */
export interface EncodeBatchOptions {
  /** Default 0n; the leader overwrites it on append. */
  baseOffset?: bigint;
  /** Timestamp (ms since the epoch) for records without their own. */
  timestamp: number;
  /** Default -1n (no idempotence). */
  producerId?: bigint;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  /** Default -1; the leader overwrites it on append. */
  partitionLeaderEpoch?: number;
  /** Sets the transactional attribute bit. */
  transactional?: boolean;
  /** Sets the control attribute bit. */
  control?: boolean;
}

function corrupt(message: string): KaError {
  return KaError.of("CORRUPT_MESSAGE", message);
}

function checkTimestamp(ts: number, what: string): void {
  if (!Number.isSafeInteger(ts)) {
    throw KaError.of(
      "INVALID_TIMESTAMP",
      `Cannot encode record batch as '${what}' must be an integer: current value is ${ts}`,
    );
  }
}

interface PreparedRecord {
  timestampDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headerKeys: Uint8Array[];
  headers: RecordHeader[];
  bodyBytes: number;
}

/** Encodes `records` as one uncompressed RecordBatch v2 with a valid CRC. */
export function encodeRecordBatch(records: RecordInput[], options: EncodeBatchOptions): Uint8Array {
  if (records.length === 0) {
    throw KaError.of(
      "INVALID_REQUEST",
      "Cannot encode record batch as 'records' must not be empty",
    );
  }
  if (records.length > BATCH_RECORDS_MAX) {
    throw KaError.of(
      "RECORD_LIST_TOO_LARGE",
      `Cannot encode record batch as it must hold at most ${BATCH_RECORDS_MAX} records: current value is ${records.length}`,
    );
  }
  checkTimestamp(options.timestamp, "timestamp");
  const baseTimestamp = records[0].timestamp ?? options.timestamp;
  checkTimestamp(baseTimestamp, "records[0].timestamp");
  const fast = encodeHeaderlessBatch(records, options, baseTimestamp);
  if (fast !== null) return fast;
  let maxTimestamp = baseTimestamp;
  let totalBytes = RECORD_BATCH_HEADER_BYTES;
  const prepared: PreparedRecord[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    const ts = rec.timestamp ?? options.timestamp;
    checkTimestamp(ts, `records[${i}].timestamp`);
    if (ts > maxTimestamp) maxTimestamp = ts;
    const timestampDelta = ts - baseTimestamp;
    const key = rec.key ?? null;
    const value = rec.value;
    const headers = rec.headers ?? [];
    const headerKeys = headers.map((h) => encodeUtf8(h.key));
    let body = 1 + sizeOfVarlongNumber(timestampDelta) + sizeOfVarint(i);
    body += key === null ? 1 : sizeOfVarint(key.length) + key.length;
    body += value === null ? 1 : sizeOfVarint(value.length) + value.length;
    body += sizeOfVarint(headers.length);
    for (let h = 0; h < headers.length; h++) {
      const hv = headers[h].value;
      body += sizeOfVarint(headerKeys[h].length) + headerKeys[h].length;
      body += hv === null ? 1 : sizeOfVarint(hv.length) + hv.length;
    }
    prepared[i] = { timestampDelta, key, value, headerKeys, headers, bodyBytes: body };
    totalBytes += sizeOfVarint(body) + body;
  }

  let attributes = 0;
  if (options.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (options.control) attributes |= ATTR_CONTROL;

  const w = new Writer(totalBytes);
  w.int64(options.baseOffset ?? 0n);
  w.int32(totalBytes - BATCH_LENGTH_PREFIX_BYTES);
  w.int32(options.partitionLeaderEpoch ?? -1);
  w.int8(RECORD_BATCH_MAGIC);
  w.uint32(0); // CRC, patched below.
  w.int16(attributes);
  w.int32(records.length - 1);
  w.int64(BigInt(baseTimestamp));
  w.int64(BigInt(maxTimestamp));
  w.int64(options.producerId ?? -1n);
  w.int16(options.producerEpoch ?? -1);
  w.int32(options.baseSequence ?? -1);
  w.int32(records.length);
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i];
    w.varint(p.bodyBytes);
    w.int8(0);
    w.varlongNumber(p.timestampDelta);
    w.varint(i);
    if (p.key === null) w.varint(-1);
    else w.varint(p.key.length).raw(p.key);
    if (p.value === null) w.varint(-1);
    else w.varint(p.value.length).raw(p.value);
    w.varint(p.headers.length);
    for (let h = 0; h < p.headers.length; h++) {
      const hv = p.headers[h].value;
      w.varint(p.headerKeys[h].length).raw(p.headerKeys[h]);
      if (hv === null) w.varint(-1);
      else w.varint(hv.length).raw(hv);
    }
  }
  const bytes = w.finish();
  assert(bytes.length === totalBytes, "record batch size must match its precomputed size");
  const crc = crc32c(bytes, BATCH_OFFSETS.attributes, bytes.length);
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(BATCH_OFFSETS.crc, crc);
  return bytes;
}

/** Per-record body sizes of the batch being encoded (reused: encoding is synchronous). */
let scratchBodyBytes = new Int32Array(1024);

/** Zigzag varint of an int32 `value` into `out` at `pos`; returns the next position. */
function putVarint(out: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Bytes of `value` (an int32) as a zigzag varint. */
function varintBytes(value: number): number {
  const v = ((value << 1) ^ (value >> 31)) >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * The common case of {@linkcode encodeRecordBatch}, straight into one
 * pre-sized buffer: records without headers whose timestamp deltas fit an
 * int32. Returns null for anything else (the general path encodes it).
 */
function encodeHeaderlessBatch(
  records: RecordInput[],
  options: EncodeBatchOptions,
  baseTimestamp: number,
): Uint8Array | null {
  const count = records.length;
  if (scratchBodyBytes.length < count) scratchBodyBytes = new Int32Array(count);
  const bodies = scratchBodyBytes;
  let maxTimestamp = baseTimestamp;
  let totalBytes = RECORD_BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const rec = records[i];
    if (rec.headers !== undefined && rec.headers.length > 0) return null;
    const ts = rec.timestamp ?? options.timestamp;
    if (!Number.isSafeInteger(ts)) return null; // the general path reports it
    const delta = ts - baseTimestamp;
    if (delta < INT32_MIN || delta > INT32_MAX) return null;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const key = rec.key ?? null;
    const value = rec.value;
    // attributes + timestampDelta + offsetDelta + key + value + headerCount (0).
    let body = 1 + varintBytes(delta) + varintBytes(i) + 1;
    body += key === null ? 1 : varintBytes(key.length) + key.length;
    body += value === null ? 1 : varintBytes(value.length) + value.length;
    bodies[i] = body;
    totalBytes += varintBytes(body) + body;
  }
  let attributes = 0;
  if (options.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (options.control) attributes |= ATTR_CONTROL;
  const out = new Uint8Array(totalBytes);
  const view = new DataView(out.buffer, 0, RECORD_BATCH_HEADER_BYTES);
  view.setBigInt64(BATCH_OFFSETS.baseOffset, options.baseOffset ?? 0n);
  view.setInt32(BATCH_OFFSETS.batchLength, totalBytes - BATCH_LENGTH_PREFIX_BYTES);
  view.setInt32(BATCH_OFFSETS.partitionLeaderEpoch, options.partitionLeaderEpoch ?? -1);
  view.setInt8(BATCH_OFFSETS.magic, RECORD_BATCH_MAGIC);
  view.setInt16(BATCH_OFFSETS.attributes, attributes);
  view.setInt32(BATCH_OFFSETS.lastOffsetDelta, count - 1);
  view.setBigInt64(BATCH_OFFSETS.baseTimestamp, BigInt(baseTimestamp));
  view.setBigInt64(BATCH_OFFSETS.maxTimestamp, BigInt(maxTimestamp));
  view.setBigInt64(BATCH_OFFSETS.producerId, options.producerId ?? -1n);
  view.setInt16(BATCH_OFFSETS.producerEpoch, options.producerEpoch ?? -1);
  view.setInt32(BATCH_OFFSETS.baseSequence, options.baseSequence ?? -1);
  view.setInt32(BATCH_OFFSETS.recordCount, count);
  let pos = RECORD_BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const rec = records[i];
    pos = putVarint(out, pos, bodies[i]);
    out[pos++] = 0; // record attributes
    pos = putVarint(out, pos, (rec.timestamp ?? options.timestamp) - baseTimestamp);
    pos = putVarint(out, pos, i);
    const key = rec.key ?? null;
    if (key === null) out[pos++] = 1; // zigzag(-1)
    else {
      pos = putVarint(out, pos, key.length);
      out.set(key, pos);
      pos += key.length;
    }
    const value = rec.value;
    if (value === null) out[pos++] = 1;
    else {
      pos = putVarint(out, pos, value.length);
      out.set(value, pos);
      pos += value.length;
    }
    out[pos++] = 0; // header count
  }
  assert(pos === totalBytes, "record batch size must match its precomputed size");
  view.setUint32(BATCH_OFFSETS.crc, crc32c(out, BATCH_OFFSETS.attributes, totalBytes));
  return out;
}

/**
 * Reads the 61-byte header at `offset`. Throws CORRUPT_MESSAGE when fewer than
 * 61 bytes remain, `batchLength` cannot hold the header, magic is not 2 or the
 * record count is negative. The records themselves need not be present.
 */
export function readBatchHeader(bytes: Uint8Array, offset: number = 0): BatchHeader {
  if (
    !Number.isInteger(offset) || offset < 0 || bytes.length - offset < RECORD_BATCH_HEADER_BYTES
  ) {
    throw corrupt(
      `Cannot read record batch header at offset ${offset}: needs ${RECORD_BATCH_HEADER_BYTES} bytes, ${
        Math.max(0, bytes.length - offset)
      } left`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_BATCH_HEADER_BYTES);
  const batchLength = v.getInt32(BATCH_OFFSETS.batchLength);
  const magic = v.getInt8(BATCH_OFFSETS.magic);
  if (magic !== RECORD_BATCH_MAGIC) {
    throw corrupt(
      `Cannot read record batch at offset ${offset} as 'magic' must be 2: current value is ${magic}`,
    );
  }
  if (batchLength < RECORD_BATCH_HEADER_BYTES - BATCH_LENGTH_PREFIX_BYTES) {
    throw corrupt(
      `Cannot read record batch at offset ${offset} as 'batchLength' must be at least ${
        RECORD_BATCH_HEADER_BYTES - BATCH_LENGTH_PREFIX_BYTES
      }: current value is ${batchLength}`,
    );
  }
  const recordCount = v.getInt32(BATCH_OFFSETS.recordCount);
  if (recordCount < 0) {
    throw corrupt(
      `Cannot read record batch at offset ${offset} as 'recordCount' must not be negative: current value is ${recordCount}`,
    );
  }
  return {
    baseOffset: v.getBigInt64(BATCH_OFFSETS.baseOffset),
    batchLength,
    partitionLeaderEpoch: v.getInt32(BATCH_OFFSETS.partitionLeaderEpoch),
    magic,
    crc: v.getUint32(BATCH_OFFSETS.crc),
    attributes: v.getInt16(BATCH_OFFSETS.attributes),
    lastOffsetDelta: v.getInt32(BATCH_OFFSETS.lastOffsetDelta),
    baseTimestamp: Number(v.getBigInt64(BATCH_OFFSETS.baseTimestamp)),
    maxTimestamp: Number(v.getBigInt64(BATCH_OFFSETS.maxTimestamp)),
    producerId: v.getBigInt64(BATCH_OFFSETS.producerId),
    producerEpoch: v.getInt16(BATCH_OFFSETS.producerEpoch),
    baseSequence: v.getInt32(BATCH_OFFSETS.baseSequence),
    recordCount,
  };
}

/** Total bytes of the batch on the wire: 12 + batchLength. */
export function batchBytesTotal(header: BatchHeader): number {
  return BATCH_LENGTH_PREFIX_BYTES + header.batchLength;
}

/** The offset of the batch's last record: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(header: BatchHeader): bigint {
  return header.baseOffset + BigInt(header.lastOffsetDelta);
}

/** Computes the CRC-32C of the batch at `offset` (attributes..end); throws if it is cut. */
export function computeBatchCrc(bytes: Uint8Array, offset: number, header: BatchHeader): number {
  const end = offset + batchBytesTotal(header);
  if (end > bytes.length) {
    throw corrupt(
      `Cannot check CRC of record batch at offset ${offset}: needs ${
        batchBytesTotal(header)
      } bytes, ${bytes.length - offset} left`,
    );
  }
  return crc32c(bytes, offset + BATCH_OFFSETS.attributes, end);
}

/** True when the batch's stored CRC matches CRC-32C of attributes..end. */
export function verifyBatchCrc(bytes: Uint8Array, offset: number, header: BatchHeader): boolean {
  return computeBatchCrc(bytes, offset, header) === header.crc;
}

function crcMismatch(offset: number, header: BatchHeader, actual: number): KaError {
  return corrupt(
    `Record batch at offset ${offset} (baseOffset ${header.baseOffset}) failed its CRC check: expected crc 0x${
      header.crc.toString(16).padStart(8, "0")
    }, actual 0x${actual.toString(16).padStart(8, "0")}`,
  );
}

/** One batch found by {@linkcode splitBatches}. */
export interface BatchSlice {
  header: BatchHeader;
  /** The whole batch, a view (subarray) of the input. */
  bytes: Uint8Array;
}

/** Options for {@linkcode splitBatches}. */
export interface SplitBatchesOptions {
  /** Drop an incomplete last batch instead of throwing (a fetch may cut one). Default false. */
  allowPartialTail?: boolean;
  /** Verify each complete batch's CRC. Default true. */
  verifyCrc?: boolean;
}

/**
 * Splits concatenated batches (a produce or fetch `records` field). Strict by
 * default: a cut last batch or a bad CRC throws CORRUPT_MESSAGE.
 */
export function splitBatches(bytes: Uint8Array, options: SplitBatchesOptions = {}): BatchSlice[] {
  const allowPartialTail = options.allowPartialTail ?? false;
  const verifyCrc = options.verifyCrc ?? true;
  const slices: BatchSlice[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < RECORD_BATCH_HEADER_BYTES) {
      if (allowPartialTail) break;
      throw corrupt(
        `Cannot read record batch at offset ${offset}: needs ${RECORD_BATCH_HEADER_BYTES} header bytes, ${left} left`,
      );
    }
    const header = readBatchHeader(bytes, offset);
    const total = batchBytesTotal(header);
    if (total > left) {
      if (allowPartialTail) break;
      throw corrupt(
        `Cannot read record batch at offset ${offset}: 'batchLength' says ${total} bytes, ${left} left`,
      );
    }
    if (verifyCrc) {
      const actual = crc32c(bytes, offset + BATCH_OFFSETS.attributes, offset + total);
      if (actual !== header.crc) throw crcMismatch(offset, header, actual);
    }
    slices.push({ header, bytes: bytes.subarray(offset, offset + total) });
    offset += total;
  }
  return slices;
}

function readRecordBytes(r: Reader, what: string): Uint8Array | null {
  const length = r.varint();
  if (length === -1) return null;
  if (length < -1) throw r.error(`Cannot read record ${what}: bad length ${length}`);
  return r.raw(length);
}

/**
 * Decodes the records of one whole batch (bytes beyond the batch are ignored).
 * Verifies the CRC and returns absolute offsets and timestamps. Key, value and
 * header values are views into `batch`.
 */
export function decodeRecords(batch: Uint8Array): KaRecord[] {
  const header = readBatchHeader(batch, 0);
  const total = batchBytesTotal(header);
  if (total > batch.length) {
    throw corrupt(
      `Cannot decode record batch: 'batchLength' says ${total} bytes, ${batch.length} present`,
    );
  }
  const actual = crc32c(batch, BATCH_OFFSETS.attributes, total);
  if (actual !== header.crc) throw crcMismatch(0, header, actual);
  const compression = header.attributes & ATTR_COMPRESSION_MASK;
  if (compression !== 0) {
    throw KaError.of(
      "UNSUPPORTED_COMPRESSION_TYPE",
      `Cannot decode record batch as compression must be none (0): current value is ${compression}`,
    );
  }
  return decodeRecordsFromPayload(header, batch.subarray(RECORD_BATCH_HEADER_BYTES, total));
}

/**
 * The records section of one whole batch (bytes 61..end, still compressed if
 * the batch is), after checking its length and CRC. A client decompresses it
 * and hands the result to {@linkcode decodeRecordsFromPayload}.
 */
export function recordsPayloadOf(batch: Uint8Array): { header: BatchHeader; payload: Uint8Array } {
  const header = readBatchHeader(batch, 0);
  const total = batchBytesTotal(header);
  if (total > batch.length) {
    throw corrupt(
      `Cannot read record batch: 'batchLength' says ${total} bytes, ${batch.length} present`,
    );
  }
  const actual = crc32c(batch, BATCH_OFFSETS.attributes, total);
  if (actual !== header.crc) throw crcMismatch(0, header, actual);
  return { header, payload: batch.subarray(RECORD_BATCH_HEADER_BYTES, total) };
}

/**
 * Decodes `header.recordCount` records from an uncompressed records section
 * (`payload`: what follows the 61-byte header, or its decompressed form).
 * Offsets and timestamps are made absolute from `header`. Key, value and
 * header values are views into `payload`. Malformed input is CORRUPT_MESSAGE.
 */
export function decodeRecordsFromPayload(header: BatchHeader, payload: Uint8Array): KaRecord[] {
  const count = header.recordCount;
  // A record takes at least 7 bytes, so a count beyond that is garbage.
  if (count > BATCH_RECORDS_MAX || count * 7 > payload.length) {
    throw corrupt(
      `Cannot decode record batch as 'recordCount' ${count} does not fit in ${payload.length} bytes`,
    );
  }
  const r = new Reader(payload, 0, "CORRUPT_MESSAGE");
  const records: KaRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (length < 0 || length > r.remaining) {
      throw corrupt(
        `Cannot decode record ${i} as its length ${length} exceeds the ${r.remaining} bytes left`,
      );
    }
    const end = r.offset + length;
    r.int8(); // Record attributes: unused in v2.
    const timestampDelta = r.varlongNumber();
    const offsetDelta = r.varint();
    const key = readRecordBytes(r, "key");
    const value = readRecordBytes(r, "value");
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount > ARRAY_LENGTH_MAX || headerCount > end - r.offset) {
      throw corrupt(`Cannot decode record ${i} as its header count ${headerCount} is bad`);
    }
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = r.varint();
      if (keyLength < 0) throw corrupt(`Cannot decode record ${i} header ${h}: null key`);
      const hkey = r.utf8(keyLength);
      headers[h] = { key: hkey, value: readRecordBytes(r, "header value") };
    }
    if (r.offset !== end) {
      throw corrupt(
        `Cannot decode record ${i} as its length says ${length} bytes but its fields take ${
          length + r.offset - end
        }`,
      );
    }
    records[i] = {
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp: header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  }
  if (r.remaining !== 0) {
    throw corrupt(`Cannot decode record batch: ${r.remaining} bytes after its ${count} records`);
  }
  return records;
}

/**
 * A copy of `batch` whose records section is `payload` and whose compression
 * bits say `compression` (0 none, 1 gzip, ...): `batchLength` and the CRC are
 * recomputed, every other header field is kept. The producer encodes a batch
 * uncompressed, compresses its records section (asynchronously, outside this
 * sans-I/O module) and rebuilds it with this.
 */
export function withRecordsPayload(
  batch: Uint8Array,
  compression: number,
  payload: Uint8Array,
): Uint8Array {
  if (!Number.isInteger(compression) || compression < 0 || compression > ATTR_COMPRESSION_MASK) {
    throw KaError.of(
      "UNSUPPORTED_COMPRESSION_TYPE",
      `Cannot set compression as it must be 0-${ATTR_COMPRESSION_MASK}: current value is ${compression}`,
    );
  }
  const header = readBatchHeader(batch, 0);
  const total = RECORD_BATCH_HEADER_BYTES + payload.length;
  const out = new Uint8Array(total);
  out.set(batch.subarray(0, RECORD_BATCH_HEADER_BYTES));
  out.set(payload, RECORD_BATCH_HEADER_BYTES);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setInt32(BATCH_OFFSETS.batchLength, total - BATCH_LENGTH_PREFIX_BYTES);
  v.setInt16(
    BATCH_OFFSETS.attributes,
    (header.attributes & ~ATTR_COMPRESSION_MASK) | compression,
  );
  v.setUint32(BATCH_OFFSETS.crc, crc32c(out, BATCH_OFFSETS.attributes, total));
  return out;
}

function checkPatchable(batch: Uint8Array, what: string): DataView {
  if (batch.length < RECORD_BATCH_HEADER_BYTES) {
    throw corrupt(`Cannot set ${what}: the batch has ${batch.length} bytes, fewer than a header`);
  }
  return new DataView(batch.buffer, batch.byteOffset, RECORD_BATCH_HEADER_BYTES);
}

/** Overwrites `baseOffset` in place. It lies outside the CRC, which stays valid. */
export function setBaseOffset(batch: Uint8Array, baseOffset: bigint): void {
  checkPatchable(batch, "baseOffset").setBigInt64(BATCH_OFFSETS.baseOffset, baseOffset);
}

/** Overwrites `partitionLeaderEpoch` in place. It lies outside the CRC, which stays valid. */
export function setPartitionLeaderEpoch(batch: Uint8Array, epoch: number): void {
  checkPatchable(batch, "partitionLeaderEpoch").setInt32(
    BATCH_OFFSETS.partitionLeaderEpoch,
    epoch,
  );
}

/** True when the batch holds control records (transaction markers). */
export function isControlBatch(h: BatchHeader): boolean {
  return (h.attributes & ATTR_CONTROL) !== 0;
}

/** True when the batch is part of a transaction. */
export function isTransactionalBatch(h: BatchHeader): boolean {
  return (h.attributes & ATTR_TRANSACTIONAL) !== 0;
}

/** The compression codec of the batch (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export function compressionOf(h: BatchHeader): number {
  return h.attributes & ATTR_COMPRESSION_MASK;
}
