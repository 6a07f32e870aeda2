/**
 * LZ4 for Kafka record batches (codec 3), in plain TypeScript: the LZ4
 * *frame* format (github.com/lz4/lz4 `doc/lz4_Frame_format.md`) around LZ4
 * blocks (`doc/lz4_Block_format.md`), with the header checksum computed as
 * KIP-57 fixed it for magic v1+ (xxHash32 of the frame descriptor only).
 *
 * Reading accepts what any LZ4 frame writer produces: one or more frames
 * (skippable frames are skipped), independent or linked blocks, block sizes
 * 64 KiB to 4 MiB, optional block checksums, content size and content
 * checksum (all checked), uncompressed blocks. Frames needing a dictionary
 * are refused. The pre-KIP-57 broken header checksum (Kafka magic v0/v1) is
 * not accepted; v2 record batches never carry it.
 *
 * Writing produces what the Java client's `KafkaLZ4BlockOutputStream` does:
 * one frame, independent 64 KiB blocks, no block or content checksum, no
 * content size; a block that does not shrink is stored uncompressed. The
 * block compressor is a greedy hash-table matcher.
 *
 * The decompressor checks every length and offset against the bytes left,
 * the block maximum and `limitBytes`, and reports malformed input as a
 * KaError CORRUPT_MESSAGE.
 *
 * ```ts
 * import { lz4Compress, lz4Decompress } from "@kafka-analog/lib/compression";
 * lz4Decompress(lz4Compress(new TextEncoder().encode("hello hello hello")));
 * ```
 * @module
 */
import { KaError } from "../errors.ts";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { load32 } from "./_bytes.ts";
import { isSkippableMagic, skipSkippableFrame } from "./_skippable.ts";
import { xxhash32 } from "./xxhash.ts";

/** The LZ4 frame magic number (little-endian on the wire). */
export const LZ4_FRAME_MAGIC = 0x184d2204;
/** Input bytes per block the compressor writes (block maximum id 4). */
const WRITE_BLOCK_BYTES = 64 * 1024;
/** Bytes at the end of a block that must be literals (LASTLITERALS). */
const LAST_LITERALS = 5;
/** A match must start at least this far before the block end (MFLIMIT). */
const MF_LIMIT = 12;
/** Hash table size (log2) of the compressor. */
const HASH_LOG = 14;
/** Largest match offset the format can express. */
const OFFSET_MAX = 65_535;

function corrupt(message: string): KaError {
  return KaError.of("CORRUPT_MESSAGE", `Cannot decompress lz4 data: ${message}`);
}

/** Worst-case size of an LZ4 block for `n` input bytes (LZ4_compressBound). */
export function lz4MaxBlockBytes(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function hash(seq: number): number {
  return Math.imul(seq, 0x9e3779b1) >>> (32 - HASH_LOG);
}

function writeLength(out: Uint8Array, op: number, rest: number): number {
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

function emitSequence(
  src: Uint8Array,
  anchor: number,
  ip: number,
  out: Uint8Array,
  op: number,
  offset: number,
  matchLen: number,
): number {
  const litLen = ip - anchor;
  const m = matchLen === 0 ? 0 : matchLen - 4;
  out[op++] = (Math.min(litLen, 15) << 4) | Math.min(m, 15);
  if (litLen >= 15) op = writeLength(out, op, litLen - 15);
  if (litLen < 16) {
    for (let i = anchor; i < ip; i++) out[op++] = src[i];
  } else {
    out.set(src.subarray(anchor, ip), op);
    op += litLen;
  }
  if (matchLen === 0) return op; // the last, literal-only sequence
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  if (m >= 15) op = writeLength(out, op, m - 15);
  return op;
}

/**
 * Compresses `src[from, to)` as one independent LZ4 block into `out` at `op`
 * (which must have {@linkcode lz4MaxBlockBytes} room); returns the end
 * offset. `table` is scratch of 2^HASH_LOG entries; positions before `from`
 * in it are ignored, so it need not be cleared between blocks.
 */
function compressBlockInto(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
  table: Int32Array,
): number {
  let anchor = from;
  const matchLimit = to - LAST_LITERALS;
  const ipLimit = to - MF_LIMIT;
  let ip = from;
  let skip = 64;
  while (ip < ipLimit) {
    const seq = load32(src, ip);
    const h = hash(seq);
    const cand = table[h];
    table[h] = ip;
    if (cand >= from && ip - cand <= OFFSET_MAX && load32(src, cand) === seq) {
      let len = 4;
      while (ip + len < matchLimit && src[cand + len] === src[ip + len]) len++;
      op = emitSequence(src, anchor, ip, out, op, ip - cand, len);
      ip += len;
      anchor = ip;
      if (ip - 2 < ipLimit) table[hash(load32(src, ip - 2))] = ip - 2;
      skip = 64;
    } else {
      ip += skip++ >> 6;
    }
  }
  return emitSequence(src, anchor, to, out, op, 0, 0);
}

/** Compresses `input` as one raw LZ4 block (no frame), for tests and tools. */
export function lz4CompressBlock(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4MaxBlockBytes(input.length));
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  return out.slice(0, compressBlockInto(input, 0, input.length, out, 0, table));
}

/**
 * Compresses `input` as one LZ4 frame the way the Java Kafka client does:
 * FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB blocks), the
 * KIP-57 header checksum, blocks, end mark.
 */
export function lz4Compress(input: Uint8Array): Uint8Array {
  const blocks = Math.ceil(input.length / WRITE_BLOCK_BYTES);
  const out = new Uint8Array(7 + blocks * (4 + lz4MaxBlockBytes(WRITE_BLOCK_BYTES)) + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, LZ4_FRAME_MAGIC, true);
  out[4] = 0x60;
  out[5] = 0x40;
  out[6] = (xxhash32(out, { start: 4, end: 6 }) >>> 8) & 0xff;
  let op = 7;
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  for (let from = 0; from < input.length; from += WRITE_BLOCK_BYTES) {
    const to = Math.min(input.length, from + WRITE_BLOCK_BYTES);
    const end = compressBlockInto(input, from, to, out, op + 4, table);
    const size = end - op - 4;
    if (size < to - from) {
      view.setUint32(op, size, true);
      op = end;
    } else {
      view.setUint32(op, (to - from) | 0x8000_0000, true);
      out.set(input.subarray(from, to), op + 4);
      op += 4 + to - from;
    }
  }
  view.setUint32(op, 0, true);
  return out.slice(0, op + 4);
}

/**
 * Decodes one LZ4 block `src[ip, end)` into `out` from `op`, writing no
 * further than `opMax` and copying from no earlier than `windowStart`;
 * returns the new output end.
 */
function decodeBlock(
  src: Uint8Array,
  ip: number,
  end: number,
  out: Uint8Array,
  op: number,
  opMax: number,
  windowStart: number,
): number {
  if (ip >= end) throw corrupt("a block is empty");
  while (true) {
    if (ip >= end) throw corrupt("a block ends without its last literals");
    const token = src[ip++];
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw corrupt("a literal length is cut short");
        b = src[ip++];
        litLen += b;
      } while (b === 255);
    }
    if (litLen > end - ip) throw corrupt(`a literal of ${litLen} bytes runs past the block`);
    if (litLen > opMax - op) throw corrupt("a block decodes to more than its maximum size");
    if (litLen < 16) {
      for (let i = 0; i < litLen; i++) out[op + i] = src[ip + i];
    } else {
      out.set(src.subarray(ip, ip + litLen), op);
    }
    ip += litLen;
    op += litLen;
    if (ip === end) return op;
    if (ip + 2 > end) throw corrupt("a match offset is cut short");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) {
      throw corrupt(`a match offset ${offset} points outside the window`);
    }
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        if (ip >= end) throw corrupt("a match length is cut short");
        b = src[ip++];
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (len > opMax - op) throw corrupt("a block decodes to more than its maximum size");
    let from = op - offset;
    if (offset >= len && len >= 32) {
      out.copyWithin(op, from, from + len);
      op += len;
    } else {
      const stop = op + len;
      while (op < stop) out[op++] = out[from++];
    }
  }
}

/**
 * Decompresses one raw LZ4 block (no frame) whose output is at most
 * `limitBytes`. Malformed input is KaError CORRUPT_MESSAGE.
 */
export function lz4DecompressBlock(input: Uint8Array, limitBytes: number): Uint8Array {
  // No block yields more than 256 bytes per input byte (a match length byte of 255).
  const room = Math.min(limitBytes, input.length * 256);
  const out = new Uint8Array(room);
  return out.slice(0, decodeBlock(input, 0, input.length, out, 0, room, 0));
}

/** A growable output buffer bounded by a limit. */
class Output {
  bytes: Uint8Array;
  length = 0;
  readonly limit: number;

  constructor(initial: number, limit: number) {
    this.limit = limit;
    this.bytes = new Uint8Array(Math.min(initial, limit));
  }

  /** Makes room for `n` more bytes; more than the limit is CORRUPT_MESSAGE. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need > this.limit) {
      throw corrupt(`it decompresses to more than the limit of ${this.limit} bytes`);
    }
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.min(this.limit, Math.max(need, this.bytes.length * 2)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

const BLOCK_MAX_BYTES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

/** Decodes the frame starting at `ip` (after its magic was checked) into `out`; returns the input end. */
function decodeFrame(src: Uint8Array, view: DataView, ip: number, out: Output): number {
  const descriptor = ip;
  if (ip + 3 > src.length) throw corrupt("the frame descriptor is cut short");
  const flg = src[ip];
  const bd = src[ip + 1];
  if (flg >>> 6 !== 1) throw corrupt(`frame version ${flg >>> 6} is not 1`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt("reserved descriptor bits are set");
  if ((flg & 0x01) !== 0) throw corrupt("frames that need a dictionary are not supported");
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = BLOCK_MAX_BYTES[(bd >>> 4) & 7];
  if (blockMax === undefined) throw corrupt(`block maximum id ${(bd >>> 4) & 7} is not 4-7`);
  ip += 2;
  let contentSize = -1;
  if (hasContentSize) {
    if (ip + 8 > src.length) throw corrupt("the content size is cut short");
    const size = view.getBigUint64(ip, true);
    if (size > BigInt(out.limit - out.length)) {
      throw corrupt(`it declares ${size} bytes, more than the limit of ${out.limit}`);
    }
    contentSize = Number(size);
    ip += 8;
  }
  if (ip >= src.length) throw corrupt("the header checksum is missing");
  const hc = (xxhash32(src, { start: descriptor, end: ip }) >>> 8) & 0xff;
  if (src[ip] !== hc) throw corrupt(`header checksum ${src[ip]} should be ${hc}`);
  ip++;
  const frameStart = out.length;
  // Pre-size for the declared content, but no more than the input left could
  // yield (a match length byte of 255 is the densest form), so a tiny frame
  // cannot make us allocate the whole limit.
  if (contentSize >= 0) out.reserve(Math.min(contentSize, (src.length - ip) * 256));
  while (true) {
    if (ip + 4 > src.length) throw corrupt("a block size is cut short");
    const word = view.getUint32(ip, true);
    ip += 4;
    if (word === 0) break;
    const size = word & 0x7fff_ffff;
    const stored = word !== size;
    if (size > blockMax) throw corrupt(`a block of ${size} bytes exceeds the maximum ${blockMax}`);
    if (size > src.length - ip) throw corrupt(`a block of ${size} bytes runs past the input`);
    if (blockChecksum) {
      if (ip + size + 4 > src.length) throw corrupt("a block checksum is cut short");
      if (xxhash32(src, { start: ip, end: ip + size }) !== view.getUint32(ip + size, true)) {
        throw corrupt("a block checksum does not match");
      }
    }
    if (stored) {
      out.reserve(size);
      out.bytes.set(src.subarray(ip, ip + size), out.length);
      out.length += size;
    } else {
      // A block yields at most 256 bytes per input byte (each match length byte of 255
      // adds 255), so a tiny block in a 4 MiB-block frame reserves little.
      const room = Math.min(blockMax, out.limit - out.length, size * 256);
      const start = out.length;
      if (start + room > out.bytes.length) out.reserve(room);
      out.length = decodeBlock(
        src,
        ip,
        ip + size,
        out.bytes,
        start,
        start + room,
        independent ? start : frameStart,
      );
    }
    ip += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (ip + 4 > src.length) throw corrupt("the content checksum is cut short");
    if (xxhash32(out.bytes, { start: frameStart, end: out.length }) !== view.getUint32(ip, true)) {
      throw corrupt("the content checksum does not match");
    }
    ip += 4;
  }
  if (contentSize >= 0 && out.length - frameStart !== contentSize) {
    throw corrupt(`it declares ${contentSize} bytes but holds ${out.length - frameStart}`);
  }
  return ip;
}

/**
 * Decompresses LZ4 frame data (one or more frames, as Kafka clients write
 * it), refusing to produce more than `limitBytes`. Malformed input is
 * KaError CORRUPT_MESSAGE.
 */
export function lz4Decompress(
  input: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const out = new Output(Math.max(64 * 1024, input.length * 4), limitBytes);
  let ip = 0;
  if (input.length === 0) throw corrupt("the input is empty");
  while (ip < input.length) {
    if (ip + 4 > input.length) throw corrupt("a frame magic is cut short");
    const magic = view.getUint32(ip, true);
    ip += 4;
    if (magic === LZ4_FRAME_MAGIC) {
      ip = decodeFrame(input, view, ip, out);
    } else if (isSkippableMagic(magic)) {
      ip = skipSkippableFrame(view, ip, { codec: "lz4" });
    } else {
      throw corrupt(`magic 0x${magic.toString(16)} is not an LZ4 frame's`);
    }
  }
  return out.bytes.slice(0, out.length);
}
