/**
 * Tests for xxHash32: the reference vectors, seeds, ranges, every tail length.
 * @module
 */
import assert from "node:assert/strict";
import { xxhash32 } from "./xxhash.ts";

const enc = new TextEncoder();

Deno.test("xxhash32() matches the reference vectors", () => {
  // Values from the xxHash reference implementation (XXH32, seed 0 unless noted).
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxhash32(new Uint8Array(0), { seed: 1 }), 0x0b2cb792);
  assert.equal(xxhash32(enc.encode("a")), 0x550d7456);
  assert.equal(xxhash32(enc.encode("abc")), 0x32d153ff);
  assert.equal(xxhash32(enc.encode("Nobody inspects the spammish repetition")), 0xe2293b2f);
});

Deno.test("xxhash32() of a range equals the hash of that slice, for every tail length", () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff);
  const seen = new Set<number>();
  for (let start = 0; start < 5; start++) {
    for (let end = start; end <= bytes.length; end++) {
      const h = xxhash32(bytes, { start, end });
      assert.equal(h, xxhash32(bytes.slice(start, end)));
      assert.ok(h >= 0 && h <= 0xffff_ffff && Number.isInteger(h));
      if (start === 0) seen.add(h);
    }
  }
  assert.equal(seen.size, bytes.length + 1, "no collisions among prefixes");
});
