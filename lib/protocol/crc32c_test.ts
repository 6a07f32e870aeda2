/**
 * Tests for CRC-32C against the check value and a bitwise reference.
 * @module
 */
import assert from "node:assert/strict";
import { crc32c } from "./crc32c.ts";

function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

Deno.test("crc32c() of '123456789' is the check value 0xE3069283", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

Deno.test("crc32c() of nothing is 0", () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("crc32c() matches a bitwise reference on every length and range", () => {
  const bytes = new Uint8Array(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (let n = 0; n <= 64; n++) {
    assert.equal(crc32c(bytes, 0, n), referenceCrc32c(bytes.subarray(0, n)), `length ${n}`);
  }
  assert.equal(crc32c(bytes, 13, 250), referenceCrc32c(bytes.subarray(13, 250)));
  assert.equal(crc32c(bytes), referenceCrc32c(bytes));
});
