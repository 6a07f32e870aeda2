/**
 * Skippable frames, which the LZ4 frame format and zstd (RFC 8878 §3.1.2)
 * define alike: a magic 0x184D2A50–0x184D2A5F, a 4-byte little-endian size,
 * then that many bytes a reader ignores.
 * @module
 */
import { KaError } from "../errors.ts";

/** Whether `magic` (read little-endian) opens a skippable frame. */
export function isSkippableMagic(magic: number): boolean {
  return (magic & 0xffff_fff0) >>> 0 === 0x184d2a50;
}

/**
 * Returns the offset just past the skippable frame whose size field starts at
 * `ip` (right after its magic) in `view`. A size cut short, or a frame running
 * past the input, is KaError CORRUPT_MESSAGE naming `options.codec`.
 */
export function skipSkippableFrame(view: DataView, ip: number, options: { codec: string }): number {
  const corrupt = (message: string) =>
    KaError.of("CORRUPT_MESSAGE", `Cannot decompress ${options.codec} data: ${message}`);
  if (ip + 4 > view.byteLength) throw corrupt("a skippable frame size is cut short");
  const size = view.getUint32(ip, true);
  if (size > view.byteLength - ip - 4) throw corrupt("a skippable frame runs past the input");
  return ip + 4 + size;
}
