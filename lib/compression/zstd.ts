/**
 * Zstandard for Kafka record batches (codec 4), through the zstd built into
 * Deno's `node:zlib` (`zstdCompress` / `zstdDecompress`, run off the main
 * thread). Kafka's zstd payload is plain zstd frames (RFC 8878), no extra
 * framing.
 *
 * Before inflating, the frames are walked (header, block headers, checksum)
 * so a frame cut short is refused — `zstdDecompress` alone would return the
 * part it could decode — and a declared content size above `limitBytes` is
 * refused without inflating anything; `maxOutputLength` then bounds the real
 * output, the window a frame may ask for is at most 2^ZSTD_WINDOW_LOG_MAX, and
 * libzstd checks the block contents and the content checksum. Each frame is
 * inflated on its own (`zstdDecompress` stops after the first one) and the
 * outputs joined; skippable frames are skipped.
 * Malformed input is a KaError CORRUPT_MESSAGE.
 *
 * ```ts
 * import { zstdCompress, zstdDecompress } from "@kafka-analog/lib/compression";
 * await zstdDecompress(await zstdCompress(new TextEncoder().encode("hi")));
 * ```
 * @module
 */
import * as zlib from "node:zlib";
import { KaError } from "../errors.ts";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { concatChunks } from "./_bytes.ts";
import { isSkippableMagic, skipSkippableFrame } from "./_skippable.ts";

/** The zstd frame magic number (little-endian on the wire). */
export const ZSTD_FRAME_MAGIC = 0xfd2fb528;
/** Largest block a zstd frame may hold (Block_Maximum_Size). */
const ZSTD_BLOCK_BYTES_MAX = 128 * 1024;
/** zstd's default compression level, the Java client's default too. */
const ZSTD_LEVEL_DEFAULT = 3;
/**
 * Largest window (log2) a frame may ask the decoder to allocate: 32 MiB.
 * Every level up to 19 (and so every client default) uses at most 2^23;
 * without this bound a 20-byte frame could make libzstd allocate 2^27 bytes.
 */
export const ZSTD_WINDOW_LOG_MAX = 25;

function corrupt(message: string): KaError {
  return KaError.of("CORRUPT_MESSAGE", `Cannot decompress zstd data: ${message}`);
}

/**
 * Walks the frames in `input`, checking each is whole (no bytes missing, none
 * trailing) and that the content sizes they declare add up to no more than
 * `limitBytes`. Skippable frames are allowed. Block contents are not checked.
 * Returns where each zstd (non-skippable) frame starts and ends, in order.
 */
export function checkZstdFrames(
  input: Uint8Array,
  limitBytes: number,
): { start: number; end: number }[] {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const end = input.length;
  if (end === 0) throw corrupt("the input is empty");
  const frames: { start: number; end: number }[] = [];
  let declared = 0;
  let ip = 0;
  while (ip < end) {
    if (ip + 4 > end) throw corrupt("a frame magic is cut short");
    const start = ip;
    const magic = view.getUint32(ip, true);
    ip += 4;
    if (isSkippableMagic(magic)) {
      ip = skipSkippableFrame(view, ip, { codec: "zstd" });
      continue;
    }
    if (magic !== ZSTD_FRAME_MAGIC) throw corrupt(`magic 0x${magic.toString(16)} is not zstd's`);
    if (ip >= end) throw corrupt("the frame header is cut short");
    const fhd = input[ip++];
    if ((fhd & 0x08) !== 0) throw corrupt("a reserved frame header bit is set");
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const checksum = (fhd & 0x04) !== 0;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3];
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    const headerRest = (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes;
    if (ip + headerRest > end) throw corrupt("the frame header is cut short");
    ip += headerRest - fcsBytes;
    if (fcsBytes > 0) {
      let size: number;
      if (fcsBytes === 1) size = input[ip];
      else if (fcsBytes === 2) size = view.getUint16(ip, true) + 256;
      else if (fcsBytes === 4) size = view.getUint32(ip, true);
      else size = Number(view.getBigUint64(ip, true));
      declared += size;
      if (declared > limitBytes) {
        throw corrupt(`it declares more than the limit of ${limitBytes} bytes`);
      }
      ip += fcsBytes;
    }
    while (true) {
      if (ip + 3 > end) throw corrupt("a block header is cut short");
      const header = input[ip] | (input[ip + 1] << 8) | (input[ip + 2] << 16);
      ip += 3;
      const last = (header & 1) !== 0;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt("a block has the reserved type 3");
      if (size > ZSTD_BLOCK_BYTES_MAX) throw corrupt(`a block of ${size} bytes is too large`);
      const stored = type === 1 ? 1 : size;
      if (stored > end - ip) throw corrupt("a block runs past the input");
      ip += stored;
      if (last) break;
    }
    if (checksum) {
      if (ip + 4 > end) throw corrupt("the content checksum is cut short");
      ip += 4;
    }
    frames.push({ start, end: ip });
  }
  return frames;
}

function run(
  fn: (
    input: Uint8Array,
    options: zlib.ZstdOptions,
    callback: (err: Error | null, out: Uint8Array) => void,
  ) => void,
  input: Uint8Array,
  options: zlib.ZstdOptions,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    fn(input, options, (err, out) => {
      if (err !== null) reject(err);
      else resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    });
  });
}

/** Compresses `input` as one zstd frame at `level` (default 3, as the Java client). */
export function zstdCompress(
  input: Uint8Array,
  level: number = ZSTD_LEVEL_DEFAULT,
): Promise<Uint8Array> {
  return run(zlib.zstdCompress, input, {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
  });
}

/**
 * Decompresses zstd frames, refusing to produce more than `limitBytes`.
 * Malformed or truncated input is KaError CORRUPT_MESSAGE.
 */
export async function zstdDecompress(
  input: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Promise<Uint8Array> {
  const frames = checkZstdFrames(input, limitBytes);
  // node:zlib's zstdDecompress stops after the first frame (and yields nothing
  // when a skippable frame comes first), so each frame is inflated on its own.
  const parts: Uint8Array[] = [];
  let produced = 0;
  for (const frame of frames) {
    const bytes = input.subarray(frame.start, frame.end);
    const part = await inflateFrame(bytes, { roomBytes: limitBytes - produced, limitBytes });
    if (part.length > limitBytes - produced) throw overLimit(limitBytes);
    parts.push(part);
    produced += part.length;
  }
  return concatChunks(parts, produced);
}

function overLimit(limitBytes: number): KaError {
  return corrupt(`it decompresses to more than the limit of ${limitBytes} bytes`);
}

/**
 * Inflates one whole zstd frame into at most `roomBytes` (zlib needs at least
 * 1; the caller checks the result); more is over `limitBytes`, the whole limit.
 */
async function inflateFrame(
  frame: Uint8Array,
  { roomBytes, limitBytes }: { roomBytes: number; limitBytes: number },
): Promise<Uint8Array> {
  try {
    return await run(zlib.zstdDecompress, frame, {
      maxOutputLength: Math.max(1, roomBytes),
      params: { [zlib.constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX },
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw overLimit(limitBytes);
    throw corrupt(err instanceof Error ? err.message : String(err));
  }
}
