/**
 * Tests for the primitive codec: round trips, varint edges and truncation.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "../errors.ts";
import {
  Reader,
  sizeOfUvarint,
  sizeOfVarint,
  sizeOfVarlongNumber,
  utf8Length,
  Writer,
} from "./codec.ts";

const INT32_EDGES = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, 2 ** 31 - 1, -(2 ** 31)];
const INT64_EDGES = [
  0n,
  1n,
  -1n,
  63n,
  -64n,
  -65n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 53n,
  -(2n ** 53n),
  2n ** 63n - 1n,
  -(2n ** 63n),
];

Deno.test("Writer/Reader round trip fixed-width integers", () => {
  const w = new Writer(1);
  w.int8(-128).int8(127).int16(-32768).int16(32767).int32(-(2 ** 31)).int32(2 ** 31 - 1);
  w.uint32(0xffffffff).bool(true).bool(false);
  for (const v of INT64_EDGES) w.int64(v);
  const r = new Reader(w.finish());
  assert.equal(r.int8(), -128);
  assert.equal(r.int8(), 127);
  assert.equal(r.int16(), -32768);
  assert.equal(r.int16(), 32767);
  assert.equal(r.int32(), -(2 ** 31));
  assert.equal(r.int32(), 2 ** 31 - 1);
  assert.equal(r.uint32(), 0xffffffff);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  for (const v of INT64_EDGES) assert.equal(r.int64(), v);
  assert.equal(r.remaining, 0);
});

Deno.test("Writer.int32() is big-endian", () => {
  assert.deepEqual([...new Writer().int32(0x01020304).finish()], [1, 2, 3, 4]);
});

Deno.test("varint round trips edge values and sizes match", () => {
  for (const v of INT32_EDGES) {
    const bytes = new Writer().varint(v).finish();
    assert.equal(bytes.length, sizeOfVarint(v), `size of ${v}`);
    const r = new Reader(bytes);
    assert.equal(r.varint(), v);
    assert.equal(r.remaining, 0);
  }
  // Known zigzag encodings from the Kafka/protobuf spec.
  assert.deepEqual([...new Writer().varint(0).finish()], [0]);
  assert.deepEqual([...new Writer().varint(-1).finish()], [1]);
  assert.deepEqual([...new Writer().varint(1).finish()], [2]);
  assert.deepEqual([...new Writer().varint(-64).finish()], [127]);
  assert.deepEqual([...new Writer().varint(64).finish()], [0x80, 0x01]);
  assert.deepEqual([...new Writer().varint(-(2 ** 31)).finish()], [0xff, 0xff, 0xff, 0xff, 0x0f]);
});

Deno.test("uvarint round trips 0 to 2^32-1", () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1]) {
    const bytes = new Writer().uvarint(v).finish();
    assert.equal(bytes.length, sizeOfUvarint(v));
    assert.equal(new Reader(bytes).uvarint(), v);
  }
});

Deno.test("varlong and varlongNumber agree on edge values", () => {
  for (const v of INT64_EDGES) {
    const bytes = new Writer().varlong(v).finish();
    assert.equal(new Reader(bytes).varlong(), v);
    if (v >= -(2n ** 53n) && v <= 2n ** 53n) {
      const n = Number(v);
      const viaNumber = new Writer().varlongNumber(n).finish();
      assert.deepEqual(viaNumber, bytes, `varlongNumber(${n}) bytes`);
      assert.equal(sizeOfVarlongNumber(n), bytes.length);
      assert.equal(new Reader(bytes).varlongNumber(), n);
    } else {
      assert.throws(() => new Reader(bytes).varlongNumber(), (e) => isKaError(e));
    }
  }
  assert.equal(new Writer().varlong(2n ** 63n - 1n).finish().length, 10);
});

Deno.test("varint longer than 5 bytes or wider than 32 bits is rejected", () => {
  const tooLong = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.throws(() => new Reader(tooLong).varint(), (e) => isKaError(e, "INVALID_REQUEST"));
  const tooWide = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]);
  assert.throws(() => new Reader(tooWide).varint(), (e) => isKaError(e, "INVALID_REQUEST"));
  const tooLongLong = new Uint8Array(11).fill(0x80);
  assert.throws(() => new Reader(tooLongLong).varlong(), (e) => isKaError(e));
  assert.throws(() => new Reader(tooLongLong).varlongNumber(), (e) => isKaError(e));
});

Deno.test("strings, bytes and arrays round trip, including null and UTF-8", () => {
  const strings = ["", "topic-1", "ünïcødé ✓ 🎉", "x".repeat(200)];
  const w = new Writer(4);
  for (const s of strings) w.string(s);
  w.nullableString(null).nullableString("n");
  w.bytes(new Uint8Array([1, 2, 3])).nullableBytes(null).bytes(new Uint8Array(0));
  w.array([1, 2, 3], (w, v) => w.int32(v)).array(null, (w, v: number) => w.int32(v));
  w.int32Array([7, -8]).array([], (w, v: number) => w.int32(v));
  const r = new Reader(w.finish());
  for (const s of strings) assert.equal(r.string(), s);
  assert.equal(r.nullableString(), null);
  assert.equal(r.nullableString(), "n");
  assert.deepEqual(r.bytes(), new Uint8Array([1, 2, 3]));
  assert.equal(r.nullableBytes(), null);
  assert.deepEqual(r.bytes(), new Uint8Array(0));
  assert.deepEqual(r.array((r) => r.int32()), [1, 2, 3]);
  assert.deepEqual(r.array((r) => r.int32()), []);
  assert.deepEqual(r.int32Array(), [7, -8]);
  assert.deepEqual(r.nullableArray((r) => r.int32()), []);
  assert.equal(r.remaining, 0);
  for (const s of strings) assert.equal(utf8Length(s), new TextEncoder().encode(s).length);
});

Deno.test("Writer.string() rejects strings over 32767 bytes", () => {
  assert.throws(() => new Writer().string("é".repeat(20000)), (e) => isKaError(e));
});

Deno.test("Reader throws KaError with the chosen code on truncation", () => {
  const bytes = new Writer().string("hello").int64(5n).finish();
  for (let n = 0; n < bytes.length; n++) {
    const r = new Reader(bytes.subarray(0, n), 0, "CORRUPT_MESSAGE");
    assert.throws(() => {
      r.string();
      r.int64();
    }, (e) => isKaError(e, "CORRUPT_MESSAGE"));
  }
  assert.throws(
    () => new Reader(new Uint8Array(2)).int32(),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(
    () => new Reader(new Uint8Array(2), 0, { errorName: "CORRUPT_MESSAGE" }).int32(),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
  assert.throws(() => new Reader(new Uint8Array(2), 3), (e) => e instanceof KaError);
});

Deno.test("Reader refuses lengths and counts before allocating", () => {
  // Array count far beyond the bytes left.
  const hugeArray = new Writer().int32(0x7fffffff).finish();
  assert.throws(() => new Reader(hugeArray).array((r) => r.int8()), (e) => isKaError(e));
  const negArray = new Writer().int32(-2).finish();
  assert.throws(() => new Reader(negArray).array((r) => r.int8()), (e) => isKaError(e));
  const hugeBytes = new Writer().int32(0x7fffffff).finish();
  assert.throws(() => new Reader(hugeBytes).bytes(), (e) => isKaError(e));
  const negString = new Writer().int16(-2).finish();
  assert.throws(() => new Reader(negString).nullableString(), (e) => isKaError(e));
  const nullString = new Writer().int16(-1).finish();
  assert.throws(() => new Reader(nullString).string(), (e) => isKaError(e));
  const nullBytes = new Writer().int32(-1).finish();
  assert.throws(() => new Reader(nullBytes).bytes(), (e) => isKaError(e));
  const badUtf8 = new Uint8Array([0, 2, 0xc3, 0x28]);
  assert.throws(() => new Reader(badUtf8).string(), (e) => isKaError(e));
  const badUtf8Long = new Writer().int16(100).raw(new Uint8Array(100).fill(0xff)).finish();
  assert.throws(() => new Reader(badUtf8Long).string(), (e) => isKaError(e));
});

Deno.test("Reader.bytes() returns a view at the right place", () => {
  const buf = new Uint8Array([9, 9, 0, 0, 0, 2, 5, 6, 9]);
  const r = new Reader(buf.subarray(2));
  assert.deepEqual(r.bytes(), new Uint8Array([5, 6]));
  assert.equal(r.offset, 6);
  assert.equal(r.remaining, 1);
});

Deno.test("Writer grows across many writes", () => {
  const w = new Writer(16);
  for (let i = 0; i < 10_000; i++) w.int32(i);
  assert.equal(w.length, 40_000);
  const r = new Reader(w.finish());
  for (let i = 0; i < 10_000; i++) assert.equal(r.int32(), i);
});
