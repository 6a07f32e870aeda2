/**
 * Byte helpers the codecs share: a little-endian 32-bit load for the block
 * compressors' hash tables, and joining decompressed chunks.
 * @module
 */

/** The 4 bytes at `i` of `b` as a little-endian int32 (signed; a hash-table key). */
export function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/** `chunks` joined, `totalBytes` in all; a single chunk is returned as it is. */
export function concatChunks(chunks: Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(totalBytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
