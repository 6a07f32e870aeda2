/**
 * Snappy for Kafka record batches (codec 2), in plain TypeScript.
 *
 * Two layouts travel in Kafka:
 * - **raw**: one Snappy block — a varint of the uncompressed length, then
 *   literal and copy elements (github.com/google/snappy `format_description.txt`).
 *   librdkafka (kcat) writes this.
 * - **xerial** (snappy-java's `SnappyOutputStream`, which the Java client
 *   writes): the 16-byte header `\x82SNAPPY\0`, version 1 and compatible
 *   version 1 (int32 big-endian), then chunks of `[int32 BE length][raw block]`,
 *   each block covering at most 32 KiB of input.
 *
 * {@linkcode snappyDecompress} accepts both (a raw block can never start with
 * the xerial magic: its first element would be a copy before any output);
 * {@linkcode snappyCompress} writes xerial, which the Java client, librdkafka
 * and this module all read.
 *
 * The compressor is a greedy matcher over a hash table of 4-byte sequences
 * (as the reference implementation, without its tuned fast paths); it never
 * emits offsets above 65535. The decompressor checks every length and offset
 * against the bytes left and the output declared, refuses to declare more
 * than `limitBytes` before allocating, and reports any malformed input as a
 * KaError CORRUPT_MESSAGE.
 *
 * ```ts
 * import { snappyCompress, snappyDecompress } from "@kafka-analog/lib/compression";
 * const packed = snappyCompress(new TextEncoder().encode("hello hello hello"));
 * snappyDecompress(packed); // the 17 bytes back
 * ```
 * @module
 */
import { KaError } from "../errors.ts";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { load32 } from "./_bytes.ts";

/** The first 8 bytes of a snappy-java (xerial) stream. */
export const XERIAL_MAGIC: Uint8Array = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0);
/** Bytes of the xerial header: magic, version, compatible version. */
const XERIAL_HEADER_BYTES = 16;
/** Input bytes per xerial chunk (snappy-java's default block size). */
const XERIAL_CHUNK_BYTES = 32 * 1024;
/** Largest uncompressed length a raw block may declare (its varint is 32 bits). */
const BLOCK_LENGTH_MAX = 0xffff_ffff;
/** Hash table size (log2) of the compressor. */
const HASH_LOG = 14;
/** Largest copy offset the compressor emits (the 2-byte offset form). */
const OFFSET_MAX = 65_535;

function corrupt(message: string): KaError {
  return KaError.of("CORRUPT_MESSAGE", `Cannot decompress snappy data: ${message}`);
}

/** Worst-case size of a raw block for `n` input bytes (snappy's MaxCompressedLength). */
export function snappyMaxCompressedBytes(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function writeVarint(out: Uint8Array, op: number, value: number): number {
  while (value >= 0x80) {
    out[op++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[op++] = value;
  return op;
}

function emitLiteral(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
): number {
  const n = to - from - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = (n >>> 16) & 0xff;
    out[op++] = n >>> 24;
  }
  if (to - from < 16) {
    for (let i = from; i < to; i++) out[op++] = src[i];
    return op;
  }
  out.set(src.subarray(from, to), op);
  return op + (to - from);
}

function emitCopy2(out: Uint8Array, op: number, offset: number, len: number): number {
  out[op++] = 2 | ((len - 1) << 2);
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  return op;
}

function emitCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    op = emitCopy2(out, op, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    op = emitCopy2(out, op, offset, 60);
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) return emitCopy2(out, op, offset, len);
  out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
  out[op++] = offset & 0xff;
  return op;
}

function hash(seq: number): number {
  return Math.imul(seq, 0x1e35a7bd) >>> (32 - HASH_LOG);
}

/**
 * Compresses `src[from, to)` as one raw block into `out` at `op` (which must
 * have {@linkcode snappyMaxCompressedBytes} room); returns the end offset.
 * `table` is scratch of 2^HASH_LOG entries.
 */
function compressBlockInto(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
  table: Int32Array,
): number {
  op = writeVarint(out, op, to - from);
  if (to - from < 16) return to === from ? op : emitLiteral(src, from, to, out, op);
  table.fill(-1);
  let anchor = from;
  let ip = from;
  const ipLimit = to - 4;
  let skip = 32;
  while (ip <= ipLimit) {
    const seq = load32(src, ip);
    const h = hash(seq);
    const cand = table[h];
    table[h] = ip;
    if (cand >= from && ip - cand <= OFFSET_MAX && load32(src, cand) === seq) {
      let len = 4;
      while (ip + len < to && src[cand + len] === src[ip + len]) len++;
      if (anchor < ip) op = emitLiteral(src, anchor, ip, out, op);
      op = emitCopy(out, op, ip - cand, len);
      ip += len;
      anchor = ip;
      if (ip - 1 <= ipLimit) table[hash(load32(src, ip - 1))] = ip - 1;
      skip = 32;
    } else {
      ip += skip++ >> 5;
    }
  }
  if (anchor < to) op = emitLiteral(src, anchor, to, out, op);
  return op;
}

/** Compresses `input` as one raw Snappy block (what librdkafka writes). */
export function snappyCompressRaw(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(snappyMaxCompressedBytes(input.length));
  const end = compressBlockInto(input, 0, input.length, out, 0, new Int32Array(1 << HASH_LOG));
  return out.slice(0, end);
}

/**
 * Compresses `input` in snappy-java's (xerial) framing, as the Java Kafka
 * client writes it: header, then one chunk per 32 KiB of input.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const chunks = Math.ceil(input.length / XERIAL_CHUNK_BYTES);
  const out = new Uint8Array(
    XERIAL_HEADER_BYTES + chunks * (4 + snappyMaxCompressedBytes(XERIAL_CHUNK_BYTES)),
  );
  out.set(XERIAL_MAGIC);
  const view = new DataView(out.buffer);
  view.setInt32(8, 1);
  view.setInt32(12, 1);
  const table = new Int32Array(1 << HASH_LOG);
  let op = XERIAL_HEADER_BYTES;
  for (let from = 0; from < input.length; from += XERIAL_CHUNK_BYTES) {
    const to = Math.min(input.length, from + XERIAL_CHUNK_BYTES);
    const end = compressBlockInto(input, from, to, out, op + 4, table);
    view.setUint32(op, end - op - 4);
    op = end;
  }
  return out.slice(0, op);
}

/**
 * Most output one input byte of a block can yield (a 3-byte copy of 64): a
 * block declaring more than this allows is refused before allocating.
 */
const EXPANSION_MAX = 22;

/** Reads a raw block's length varint at `ip`: [length, offset after it]. */
function readLength(src: Uint8Array, ip: number, end: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (ip >= end) throw corrupt("its length is cut short");
    const b = src[ip++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (value > BLOCK_LENGTH_MAX) throw corrupt(`its length ${value} is out of range`);
      return [value, ip];
    }
  }
  throw corrupt("its length varint is longer than 5 bytes");
}

/**
 * Decodes the elements of a raw block in `src[ip, end)` into exactly
 * `out[op, opEnd)`.
 */
function decodeElements(
  src: Uint8Array,
  ip: number,
  end: number,
  out: Uint8Array,
  op: number,
  opEnd: number,
): void {
  const opStart = op;
  while (ip < end) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (ip + extra > end) throw corrupt("a literal's length is cut short");
        len = src[ip];
        if (extra > 1) len |= src[ip + 1] << 8;
        if (extra > 2) len |= src[ip + 2] << 16;
        if (extra > 3) len += src[ip + 3] * 2 ** 24;
        len += 1;
        ip += extra;
      }
      if (len > end - ip) throw corrupt(`a literal of ${len} bytes runs past the input`);
      if (len > opEnd - op) throw corrupt("a literal runs past the declared length");
      if (len < 16) {
        for (let i = 0; i < len; i++) out[op + i] = src[ip + i];
      } else {
        out.set(src.subarray(ip, ip + len), op);
      }
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= end) throw corrupt("a copy is cut short");
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[ip++];
    } else if (kind === 2) {
      if (ip + 2 > end) throw corrupt("a copy is cut short");
      len = (tag >>> 2) + 1;
      offset = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      if (ip + 4 > end) throw corrupt("a copy is cut short");
      len = (tag >>> 2) + 1;
      offset = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op - opStart) {
      throw corrupt(`a copy's offset ${offset} points outside the output`);
    }
    if (len > opEnd - op) throw corrupt("a copy runs past the declared length");
    let from = op - offset;
    if (offset >= len && len >= 32) {
      out.copyWithin(op, from, from + len);
      op += len;
    } else {
      const stop = op + len;
      while (op < stop) out[op++] = out[from++];
    }
  }
  if (op !== opEnd) {
    throw corrupt(`it declares ${opEnd - opStart} bytes but holds ${op - opStart}`);
  }
}

/**
 * Decompresses one raw Snappy block, refusing to produce more than
 * `limitBytes`. Malformed input is KaError CORRUPT_MESSAGE.
 */
export function snappyDecompressRaw(
  input: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Uint8Array {
  const [len, ip] = readLength(input, 0, input.length);
  if (len > limitBytes) {
    throw corrupt(`it declares ${len} bytes, more than the limit of ${limitBytes}`);
  }
  if (len > (input.length - ip) * EXPANSION_MAX) {
    throw corrupt(`it declares ${len} bytes, more than ${input.length} bytes can hold`);
  }
  const out = new Uint8Array(len);
  decodeElements(input, ip, input.length, out, 0, len);
  return out;
}

/** True when `input` starts with snappy-java's (xerial) header magic. */
export function isXerialSnappy(input: Uint8Array): boolean {
  if (input.length < XERIAL_MAGIC.length) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (input[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/**
 * Decompresses Kafka snappy data in either layout — xerial framing (Java
 * clients) or one raw block (librdkafka) — refusing to produce more than
 * `limitBytes`. Malformed input is KaError CORRUPT_MESSAGE.
 */
export function snappyDecompress(
  input: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Uint8Array {
  if (!isXerialSnappy(input)) return snappyDecompressRaw(input, limitBytes);
  if (input.length < XERIAL_HEADER_BYTES) throw corrupt("the xerial header is cut short");
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  // First pass: chunk bounds and declared lengths, so the output is allocated once.
  const chunks: number[] = [];
  let total = 0;
  let ip = XERIAL_HEADER_BYTES;
  while (ip < input.length) {
    if (ip + 4 > input.length) throw corrupt("a xerial chunk length is cut short");
    const size = view.getUint32(ip);
    const start = ip + 4;
    if (size > input.length - start) {
      throw corrupt(`a xerial chunk of ${size} bytes runs past the input`);
    }
    const [len, body] = readLength(input, start, start + size);
    if (len > (start + size - body) * EXPANSION_MAX) {
      throw corrupt(`a xerial chunk declares ${len} bytes, more than ${size} bytes can hold`);
    }
    total += len;
    if (total > limitBytes) {
      throw corrupt(`it declares more than the limit of ${limitBytes} bytes`);
    }
    chunks.push(body, start + size, len);
    ip = start + size;
  }
  const out = new Uint8Array(total);
  let op = 0;
  for (let i = 0; i < chunks.length; i += 3) {
    decodeElements(input, chunks[i], chunks[i + 1], out, op, op + chunks[i + 2]);
    op += chunks[i + 2];
  }
  return out;
}
