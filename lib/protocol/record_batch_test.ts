/**
 * Tests for RecordBatch v2: round trips, CRC checks, splitting and patching.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { Writer } from "./codec.ts";
import { crc32c } from "./crc32c.ts";
import {
  ATTR_COMPRESSION_MASK,
  BATCH_OFFSETS,
  batchBytesTotal,
  decodeRecords,
  decodeRecordsFromPayload,
  encodeRecordBatch,
  isControlBatch,
  isTransactionalBatch,
  readBatchHeader,
  RECORD_BATCH_HEADER_BYTES,
  type RecordInput,
  recordsPayloadOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
  splitBatches,
  verifyBatchCrc,
  withRecordsPayload,
} from "./record_batch.ts";

const enc = new TextEncoder();
const NOW = 1_700_000_000_000;

function sampleRecords(): RecordInput[] {
  return [
    { key: enc.encode("k1"), value: enc.encode("v1") },
    { key: null, value: null, timestamp: NOW - 5 },
    {
      value: enc.encode("with headers"),
      headers: [{ key: "trace", value: enc.encode("abc") }, { key: "ünï", value: null }],
      timestamp: NOW + 1000,
    },
    { key: new Uint8Array(0), value: new Uint8Array(300).fill(7) },
  ];
}

Deno.test("encodeRecordBatch() then decodeRecords() round trips keys, null values and headers", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW, baseOffset: 100n });
  const header = readBatchHeader(batch);
  assert.equal(header.magic, 2);
  assert.equal(header.baseOffset, 100n);
  assert.equal(header.recordCount, 4);
  assert.equal(header.lastOffsetDelta, 3);
  assert.equal(header.baseTimestamp, NOW);
  assert.equal(header.maxTimestamp, NOW + 1000);
  assert.equal(header.producerId, -1n);
  assert.equal(header.producerEpoch, -1);
  assert.equal(header.baseSequence, -1);
  assert.equal(header.partitionLeaderEpoch, -1);
  assert.equal(batchBytesTotal(header), batch.length);
  assert.ok(verifyBatchCrc(batch, 0, header));
  const records = decodeRecords(batch);
  assert.deepEqual(records, [
    { offset: 100n, timestamp: NOW, key: enc.encode("k1"), value: enc.encode("v1"), headers: [] },
    { offset: 101n, timestamp: NOW - 5, key: null, value: null, headers: [] },
    {
      offset: 102n,
      timestamp: NOW + 1000,
      key: null,
      value: enc.encode("with headers"),
      headers: [{ key: "trace", value: enc.encode("abc") }, { key: "ünï", value: null }],
    },
    {
      offset: 103n,
      timestamp: NOW,
      key: new Uint8Array(0),
      value: new Uint8Array(300).fill(7),
      headers: [],
    },
  ]);
});

Deno.test("encodeRecordBatch() sets producer fields and attribute bits", () => {
  const batch = encodeRecordBatch([{ value: null }], {
    timestamp: NOW,
    producerId: 77n,
    producerEpoch: 3,
    baseSequence: 10,
    partitionLeaderEpoch: 5,
    transactional: true,
    control: true,
  });
  const h = readBatchHeader(batch);
  assert.equal(h.producerId, 77n);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 10);
  assert.equal(h.partitionLeaderEpoch, 5);
  assert.ok(isTransactionalBatch(h));
  assert.ok(isControlBatch(h));
  const plain = readBatchHeader(encodeRecordBatch([{ value: null }], { timestamp: NOW }));
  assert.ok(!isTransactionalBatch(plain));
  assert.ok(!isControlBatch(plain));
});

Deno.test("encodeRecordBatch() rejects empty batches and bad timestamps", () => {
  assert.throws(() => encodeRecordBatch([], { timestamp: NOW }), (e) => isKaError(e));
  assert.throws(
    () => encodeRecordBatch([{ value: null, timestamp: 1.5 }], { timestamp: NOW }),
    (e) => isKaError(e, "INVALID_TIMESTAMP"),
  );
});

Deno.test("a flipped byte anywhere in the CRC range is CORRUPT_MESSAGE", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW });
  for (let i = BATCH_OFFSETS.crc; i < batch.length; i++) {
    const bad = batch.slice();
    bad[i] ^= 0x01;
    assert.throws(
      () => {
        const h = readBatchHeader(bad);
        if (!verifyBatchCrc(bad, 0, h)) throw new Error("verifyBatchCrc() said false");
        decodeRecords(bad);
      },
      (e) => isKaError(e) || (e instanceof Error && e.message.includes("verifyBatchCrc")),
      `byte ${i}`,
    );
    assert.throws(() => splitBatches(bad), (e) => isKaError(e), `byte ${i}`);
  }
  const bad = batch.slice();
  bad[batch.length - 1] ^= 0xff;
  assert.throws(
    () => splitBatches(bad),
    (e) =>
      isKaError(e, "CORRUPT_MESSAGE") && /expected crc 0x[0-9a-f]{8}, actual 0x/.test(e.message),
  );
  assert.throws(() => decodeRecords(bad), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});

Deno.test("truncated batches throw CORRUPT_MESSAGE, never anything else", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW });
  for (let n = 0; n < batch.length; n++) {
    const cut = batch.subarray(0, n);
    assert.throws(() => decodeRecords(cut), (e) => isKaError(e, "CORRUPT_MESSAGE"), `length ${n}`);
    if (n > 0) {
      assert.throws(() => splitBatches(cut), (e) => isKaError(e, "CORRUPT_MESSAGE"), `length ${n}`);
    }
    assert.deepEqual(splitBatches(cut, { allowPartialTail: true }), []);
  }
});

Deno.test("a batch whose record lengths lie is CORRUPT_MESSAGE even with a valid CRC", () => {
  const batch = encodeRecordBatch([{ value: enc.encode("abc") }], { timestamp: NOW });
  const bad = batch.slice();
  bad[RECORD_BATCH_HEADER_BYTES] += 2; // First record's length varint (zigzag): +1 byte.
  new DataView(bad.buffer).setUint32(BATCH_OFFSETS.crc, crc32c(bad, BATCH_OFFSETS.attributes));
  assert.throws(() => decodeRecords(bad), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  const wrongCount = batch.slice();
  new DataView(wrongCount.buffer).setInt32(BATCH_OFFSETS.recordCount, 2);
  new DataView(wrongCount.buffer).setUint32(
    BATCH_OFFSETS.crc,
    crc32c(wrongCount, BATCH_OFFSETS.attributes),
  );
  assert.throws(() => decodeRecords(wrongCount), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});

Deno.test("readBatchHeader() rejects bad magic, short batchLength and short input", () => {
  const batch = encodeRecordBatch([{ value: null }], { timestamp: NOW });
  const badMagic = batch.slice();
  badMagic[BATCH_OFFSETS.magic] = 1;
  assert.throws(() => readBatchHeader(badMagic), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  const shortLength = batch.slice();
  new DataView(shortLength.buffer).setInt32(BATCH_OFFSETS.batchLength, 10);
  assert.throws(() => readBatchHeader(shortLength), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  assert.throws(
    () => readBatchHeader(batch.subarray(0, 60)),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
  assert.throws(() => readBatchHeader(batch, -1), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});

Deno.test("compressed batches: header reads, records are UNSUPPORTED_COMPRESSION_TYPE", () => {
  const batch = encodeRecordBatch([{ value: null }], { timestamp: NOW }).slice();
  const view = new DataView(batch.buffer);
  view.setInt16(BATCH_OFFSETS.attributes, 1 & ATTR_COMPRESSION_MASK); // gzip
  view.setUint32(BATCH_OFFSETS.crc, crc32c(batch, BATCH_OFFSETS.attributes));
  assert.equal(readBatchHeader(batch).attributes & ATTR_COMPRESSION_MASK, 1);
  assert.equal(splitBatches(batch).length, 1);
  assert.throws(() => decodeRecords(batch), (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE"));
});

Deno.test("withRecordsPayload() swaps the records section, sets compression bits, keeps the CRC valid", () => {
  const batch = encodeRecordBatch(sampleRecords(), {
    timestamp: NOW,
    producerId: 42n,
    producerEpoch: 3,
    baseSequence: 17,
  });
  const { header, payload } = recordsPayloadOf(batch);
  assert.equal(payload.length, batch.length - RECORD_BATCH_HEADER_BYTES);
  // Pretend the payload was compressed into something else (reversed bytes).
  const other = payload.slice().reverse();
  const rebuilt = withRecordsPayload(batch, 1, other);
  const h = readBatchHeader(rebuilt);
  assert.equal(h.attributes & ATTR_COMPRESSION_MASK, 1);
  assert.equal(batchBytesTotal(h), rebuilt.length);
  assert.ok(verifyBatchCrc(rebuilt, 0, h));
  assert.equal(h.producerId, 42n);
  assert.equal(h.baseSequence, 17);
  assert.equal(h.recordCount, header.recordCount);
  assert.deepEqual(recordsPayloadOf(rebuilt).payload, other);
  // Back to the original payload and no compression: byte-identical to the original.
  assert.deepEqual(withRecordsPayload(rebuilt, 0, payload), batch);
  assert.throws(
    () => withRecordsPayload(batch, 8, payload),
    (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE"),
  );
});

Deno.test("decodeRecordsFromPayload() decodes a records section like decodeRecords()", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW, baseOffset: 100n });
  const { header, payload } = recordsPayloadOf(batch);
  assert.deepEqual(decodeRecordsFromPayload(header, payload), decodeRecords(batch));
  assert.throws(
    () => decodeRecordsFromPayload(header, payload.subarray(0, payload.length - 3)),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
  assert.throws(
    () => decodeRecordsFromPayload({ ...header, recordCount: 1000 }, payload),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
  const flipped = batch.slice();
  flipped[flipped.length - 1] ^= 1;
  assert.throws(() => recordsPayloadOf(flipped), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});

Deno.test("setBaseOffset() and setPartitionLeaderEpoch() patch in place and keep the CRC valid", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW });
  setBaseOffset(batch, 1234567890123n);
  setPartitionLeaderEpoch(batch, 42);
  const h = readBatchHeader(batch);
  assert.equal(h.baseOffset, 1234567890123n);
  assert.equal(h.partitionLeaderEpoch, 42);
  assert.ok(verifyBatchCrc(batch, 0, h));
  assert.deepEqual(decodeRecords(batch).map((r) => r.offset), [
    1234567890123n,
    1234567890124n,
    1234567890125n,
    1234567890126n,
  ]);
  assert.throws(() => setBaseOffset(new Uint8Array(10), 1n), (e) => isKaError(e));
});

Deno.test("splitBatches() splits concatenated batches and handles a cut tail", () => {
  const a = encodeRecordBatch([{ value: enc.encode("a") }], { timestamp: NOW, baseOffset: 0n });
  const b = encodeRecordBatch(sampleRecords(), { timestamp: NOW, baseOffset: 1n });
  const c = encodeRecordBatch([{ value: enc.encode("c") }], { timestamp: NOW, baseOffset: 5n });
  const all = new Writer().raw(a).raw(b).raw(c).finish();
  const slices = splitBatches(all);
  assert.deepEqual(slices.map((s) => s.header.baseOffset), [0n, 1n, 5n]);
  assert.deepEqual(slices[1].bytes, b);
  assert.deepEqual(splitBatches(new Uint8Array(0)), []);
  const cut = all.subarray(0, a.length + b.length + c.length - 1);
  assert.throws(() => splitBatches(cut), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  const partial = splitBatches(cut, { allowPartialTail: true });
  assert.deepEqual(partial.map((s) => s.header.baseOffset), [0n, 1n]);
  const cutInHeader = all.subarray(0, a.length + 30);
  assert.equal(splitBatches(cutInHeader, { allowPartialTail: true }).length, 1);
  const bad = all.slice();
  bad[a.length + 70] ^= 1;
  assert.throws(() => splitBatches(bad), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  assert.equal(splitBatches(bad, { verifyCrc: false }).length, 3);
});

Deno.test("timestamps and offsets stay exact for large values", () => {
  const ts = 2 ** 50;
  const batch = encodeRecordBatch([
    { value: null, timestamp: ts },
    { value: null, timestamp: ts - 2 ** 40 },
  ], { timestamp: ts, baseOffset: 2n ** 62n });
  const records = decodeRecords(batch);
  assert.equal(records[0].timestamp, ts);
  assert.equal(records[1].timestamp, ts - 2 ** 40);
  assert.equal(records[1].offset, 2n ** 62n + 1n);
});

Deno.test("decodeRecords() on random mutations throws only KaError", () => {
  const batch = encodeRecordBatch(sampleRecords(), { timestamp: NOW });
  let seed = 12345;
  function next(): number {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  }
  for (let i = 0; i < 2000; i++) {
    const bad = batch.slice();
    const flips = 1 + (next() % 4);
    for (let f = 0; f < flips; f++) {
      bad[BATCH_OFFSETS.attributes + (next() % (bad.length - BATCH_OFFSETS.attributes))] = next() &
        0xff;
    }
    // Re-seal the CRC so the record parser itself is exercised.
    new DataView(bad.buffer).setUint32(BATCH_OFFSETS.crc, crc32c(bad, BATCH_OFFSETS.attributes));
    try {
      decodeRecords(bad);
    } catch (e) {
      assert.ok(isKaError(e), `iteration ${i}: ${e}`);
    }
  }
});

Deno.test("encodeRecordBatch() headerless fast path writes the exact v2 record bytes", () => {
  // Two records: key "k" + value "v" at the base timestamp, then null key + 200-byte value 3 ms later.
  const big = new Uint8Array(200).fill(7);
  const bytes = encodeRecordBatch([
    { key: enc.encode("k"), value: enc.encode("v"), timestamp: NOW },
    { key: null, value: big, timestamp: NOW + 3 },
  ], { timestamp: NOW, producerId: 5n, producerEpoch: 1, baseSequence: 9 });
  const w = new Writer();
  // record 0: attributes 0, tsDelta 0, offsetDelta 0, key len 1 "k", value len 1 "v", 0 headers
  w.varint(8).int8(0).varint(0).varint(0).varint(1).raw(enc.encode("k"));
  w.varint(1).raw(enc.encode("v")).varint(0);
  // record 1: body = 1 + 1 (ts 3) + 1 (offset 1) + 1 (null key) + 2 + 200 (value) + 1
  w.varint(207).int8(0).varint(3).varint(1).varint(-1).varint(200).raw(big).varint(0);
  const records = w.finish();
  assert.deepEqual(bytes.subarray(RECORD_BATCH_HEADER_BYTES), records);
  const h = readBatchHeader(bytes);
  assert.equal(h.recordCount, 2);
  assert.equal(h.lastOffsetDelta, 1);
  assert.equal(h.baseTimestamp, NOW);
  assert.equal(h.maxTimestamp, NOW + 3);
  assert.equal(h.producerId, 5n);
  assert.equal(h.producerEpoch, 1);
  assert.equal(h.baseSequence, 9);
  assert.equal(h.batchLength, bytes.length - 12);
  assert.ok(verifyBatchCrc(bytes, 0, h));
  // The general path (a record with headers) agrees on everything else.
  const withHeader = decodeRecords(encodeRecordBatch([
    { key: enc.encode("k"), value: enc.encode("v"), timestamp: NOW, headers: [] },
    { key: null, value: big, timestamp: NOW + 3, headers: [{ key: "h", value: null }] },
  ], { timestamp: NOW }));
  const plain = decodeRecords(bytes);
  assert.deepEqual(
    plain.map((r) => ({ ...r, headers: [] })),
    withHeader.map((r) => ({ ...r, headers: [] })),
  );
  // A timestamp delta beyond int32 takes the general path and still round-trips.
  const far = decodeRecords(encodeRecordBatch([
    { value: enc.encode("a"), timestamp: NOW },
    { value: enc.encode("b"), timestamp: NOW + 2 ** 40 },
  ], { timestamp: NOW }));
  assert.deepEqual(far.map((r) => r.timestamp), [NOW, NOW + 2 ** 40]);
});
