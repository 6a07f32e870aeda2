/**
 * xxHash32 (Yann Collet's 32-bit non-cryptographic hash), as the LZ4 frame
 * format uses it for its header, block and content checksums (seed 0).
 * Pure and synchronous; `Math.imul` keeps every product in 32 bits.
 *
 * ```ts
 * import { xxhash32 } from "@kafka-analog/lib/compression";
 * xxhash32(new TextEncoder().encode("abc")); // 0x32d153ff
 * ```
 * @module
 */

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/**
 * The xxHash32 of `bytes[start, end)` with `seed`, as an unsigned 32-bit
 * number. `start` and `end` default to the whole array.
 */
export function xxhash32(
  bytes: Uint8Array,
  options: { seed?: number; start?: number; end?: number } = {},
): number {
  const seed = (options.seed ?? 0) >>> 0;
  const start = options.start ?? 0;
  const end = options.end ?? bytes.length;
  const len = end - start;
  let i = start;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32le(bytes, i), PRIME2)) | 0, 13), PRIME1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32le(bytes, i + 4), PRIME2)) | 0, 13), PRIME1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32le(bytes, i + 8), PRIME2)) | 0, 13), PRIME1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32le(bytes, i + 12), PRIME2)) | 0, 13), PRIME1);
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(u32le(bytes, i), PRIME3)) | 0, 17), PRIME4);
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl((h + Math.imul(bytes[i], PRIME5)) | 0, 11), PRIME1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}
