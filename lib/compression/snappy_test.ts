/**
 * Tests for Snappy: raw and xerial round trips over seeded inputs of many
 * sizes, hand-built blocks using every element form, the raw blocks kcat
 * (librdkafka) wrote, the xerial layout the Java client expects, and
 * malformed input (always CORRUPT_MESSAGE, never a crash or a hang).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { recordsPayloadOf } from "../protocol/mod.ts";
import {
  isXerialSnappy,
  snappyCompress,
  snappyCompressRaw,
  snappyDecompress,
  snappyDecompressRaw,
  snappyMaxCompressedBytes,
  XERIAL_MAGIC,
} from "./snappy.ts";
import { fuzzDecoder, KINDS, sameBytes, sample, SIZES, testdata } from "./_test_data.ts";

const enc = new TextEncoder();
const corrupt = (e: unknown) => isKaError(e, "CORRUPT_MESSAGE");

Deno.test("snappy raw and xerial round-trip every kind of input at every size", () => {
  let seed = 1;
  for (const kind of KINDS) {
    for (const n of SIZES) {
      const input = sample(kind, n, seed++);
      const raw = snappyCompressRaw(input);
      assert.ok(raw.length <= snappyMaxCompressedBytes(n), `${kind} ${n}: ${raw.length}`);
      assert.ok(sameBytes(snappyDecompressRaw(raw), input), `raw ${kind} ${n}`);
      assert.ok(sameBytes(snappyDecompress(raw), input), `raw via auto ${kind} ${n}`);
      const framed = snappyCompress(input);
      assert.ok(isXerialSnappy(framed));
      assert.ok(sameBytes(snappyDecompress(framed), input), `xerial ${kind} ${n}`);
      if (kind === "zeros" && n >= 1000) {
        assert.ok(framed.length < n / 10, `${n}: ${framed.length}`);
      }
    }
  }
});

Deno.test("snappyCompress() writes snappy-java's layout: header, then one chunk per 32 KiB", () => {
  const input = sample("json", 100_000, 7);
  const framed = snappyCompress(input);
  assert.deepEqual(framed.subarray(0, 8), XERIAL_MAGIC);
  assert.deepEqual([...framed.subarray(8, 16)], [0, 0, 0, 1, 0, 0, 0, 1]); // version 1, compat 1
  const view = new DataView(framed.buffer);
  const lengths: number[] = [];
  let at = 16;
  while (at < framed.length) {
    const size = view.getUint32(at);
    lengths.push(snappyDecompressRaw(framed.subarray(at + 4, at + 4 + size)).length);
    at += 4 + size;
  }
  assert.equal(at, framed.length);
  assert.deepEqual(lengths, [32_768, 32_768, 32_768, 1_696]);
  assert.deepEqual(snappyCompress(new Uint8Array(0)), framed.subarray(0, 16));
  assert.equal(snappyDecompress(framed.subarray(0, 16)).length, 0);
});

Deno.test("snappyDecompressRaw() decodes hand-built blocks using every element form", () => {
  const cases: [number[], string][] = [
    [[0x00], ""],
    [[0x01, 0x00, 0x61], "a"],
    // literal "ab", then copy (1-byte offset) of 8 from offset 2
    [[10, 0x04, 0x61, 0x62, 0x11, 0x02], "ababababab"],
    // literal "x", copy (2-byte offset) of 64 from 1, copy (1-byte offset) of 5 from 1
    [[70, 0x00, 0x78, 0xfe, 0x01, 0x00, 0x05, 0x01], "x".repeat(70)],
    // literal "abc", copy (4-byte offset) of 2 from offset 3
    [[5, 0x08, 0x61, 0x62, 0x63, 0x07, 0x03, 0x00, 0x00, 0x00], "abcab"],
    // a 61-byte literal with a 1-byte length, a 300-byte one with a 2-byte length
    [[61, 0xf0, 60, ...enc.encode("q".repeat(61))], "q".repeat(61)],
    [[0xac, 0x02, 0xf4, 0x2b, 0x01, ...enc.encode("r".repeat(300))], "r".repeat(300)],
  ];
  for (const [block, text] of cases) {
    assert.equal(new TextDecoder().decode(snappyDecompressRaw(Uint8Array.from(block))), text);
  }
});

Deno.test("snappyDecompress() reads the raw blocks kcat (librdkafka) wrote", () => {
  for (const [file, records] of [["kcat_snappy_small.bin", 20], ["kcat_snappy_large.bin", 3000]]) {
    const { payload } = recordsPayloadOf(testdata(file as string));
    assert.ok(!isXerialSnappy(payload));
    const plain = snappyDecompress(payload);
    // The records section starts with the first record's length varint; count the records' values.
    const text = new TextDecoder().decode(plain);
    assert.equal(text.split('"tag":"snappy"').length - 1, records);
    assert.ok(sameBytes(snappyDecompress(snappyCompress(plain)), plain));
  }
});

Deno.test("snappy decompressors refuse malformed blocks with CORRUPT_MESSAGE", () => {
  const bad: [string, number[]][] = [
    ["empty input", []],
    ["varint cut short", [0x80]],
    ["varint longer than 5 bytes", [0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ["varint above 32 bits", [0xff, 0xff, 0xff, 0xff, 0x7f]],
    ["copy offset 0", [4, 0x00, 0x61, 0x01, 0x00]],
    ["copy before the start", [9, 0x00, 0x61, 0x11, 0x02]],
    ["literal past the input", [5, 0x10, 0x61]],
    ["literal past the declared length", [1, 0x04, 0x61, 0x62]],
    ["copy past the declared length", [5, 0x00, 0x61, 0x11, 0x01]],
    ["fewer bytes than declared", [3, 0x00, 0x61]],
    ["literal length cut short", [100, 0xf4, 0x10]],
    ["copy cut short", [5, 0x00, 0x61, 0x02, 0x01]],
    ["4-byte copy cut short", [5, 0x00, 0x61, 0x03, 0x01, 0x00]],
  ];
  for (const [what, block] of bad) {
    assert.throws(() => snappyDecompressRaw(Uint8Array.from(block)), corrupt, what);
    assert.throws(() => snappyDecompress(Uint8Array.from(block)), corrupt, what);
  }
  // A 4 GiB claim is refused before anything is allocated.
  assert.throws(
    () => snappyDecompressRaw(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00)),
    (e) => corrupt(e) && /limit/.test((e as Error).message),
  );
  // 64 KiB claimed by 3 bytes of elements: refused before allocating, whatever the limit.
  assert.throws(
    () => snappyDecompressRaw(Uint8Array.of(0x80, 0x80, 0x04, 0xfe, 0x01, 0x00)),
    corrupt,
  );
  const input = sample("zeros", 10_000, 1);
  assert.throws(() => snappyDecompressRaw(snappyCompressRaw(input), 9_999), corrupt);
  assert.equal(snappyDecompressRaw(snappyCompressRaw(input), 10_000).length, 10_000);
  // xerial: header cut short, a chunk past the input, the total over the limit.
  const framed = snappyCompress(sample("zeros", 100_000, 1));
  assert.throws(() => snappyDecompress(framed.subarray(0, 12)), corrupt);
  assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 1)), corrupt);
  assert.throws(() => snappyDecompress(framed.subarray(0, 18)), corrupt);
  assert.throws(() => snappyDecompress(framed, 99_999), corrupt);
  assert.equal(snappyDecompress(framed, 100_000).length, 100_000);
});

Deno.test("snappy decompressors survive 3000 mutated inputs (bytes or CORRUPT_MESSAGE)", async () => {
  const input = sample("json", 5_000, 3);
  const raw = await fuzzDecoder(snappyCompressRaw(input), (b) => snappyDecompress(b, 1 << 20), {
    rounds: 1500,
    seed: 11,
  });
  const framed = await fuzzDecoder(snappyCompress(input), (b) => snappyDecompress(b, 1 << 20), {
    rounds: 1500,
    seed: 12,
  });
  assert.ok(raw.rejected > 500 && framed.rejected > 500, JSON.stringify({ raw, framed }));
});
