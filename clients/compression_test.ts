/**
 * Tests for batch compression: round trips of every codec, the codec bits,
 * bounds on inflation, corrupt input and unsupported codecs.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  compressionOf,
  decodeRecords,
  encodeRecordBatch,
  readBatchHeader,
  recordsPayloadOf,
  splitBatches,
  withRecordsPayload,
} from "@kafka-analog/lib/protocol";
import {
  compressBatch,
  COMPRESSION_CODECS,
  COMPRESSION_TYPES,
  decodeBatchRecords,
  gunzip,
  gzip,
  isCompressionType,
} from "./compression.ts";

const enc = new TextEncoder();

function batch(count: number): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: enc.encode(`key-${i}`),
      value: enc.encode(`value ${i} `.repeat(10)),
      headers: [{ key: "h", value: enc.encode(String(i)) }],
    })),
    { timestamp: 1_700_000_000_000, producerId: 3n, producerEpoch: 0, baseSequence: 10 },
  );
}

Deno.test("compressBatch(gzip) sets codec 1, shrinks repetitive data and decodes back", async () => {
  const plain = batch(200);
  const packed = await compressBatch(plain, "gzip");
  const header = readBatchHeader(packed);
  assert.equal(compressionOf(header), 1);
  assert.ok(packed.length < plain.length / 3, `${packed.length} vs ${plain.length}`);
  assert.equal(header.baseSequence, 10);
  assert.equal(splitBatches(packed).length, 1); // the CRC is valid
  assert.deepEqual(await decodeBatchRecords(packed), decodeRecords(plain));
  assert.deepEqual(await decodeBatchRecords(packed, header), decodeRecords(plain));
  assert.equal(await compressBatch(plain, "none"), plain);
  assert.deepEqual(await decodeBatchRecords(plain), decodeRecords(plain));
});

Deno.test("gunzip() bounds its output and reports corrupt input as CORRUPT_MESSAGE", async () => {
  const big = await gzip(new Uint8Array(100_000));
  assert.equal((await gunzip(big)).length, 100_000);
  await assert.rejects(gunzip(big, 50_000), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  await assert.rejects(
    gunzip(enc.encode("not gzip at all")),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
});

Deno.test("compressBatch() with each codec sets its bits, shrinks the batch and decodes back", async () => {
  const plain = batch(300);
  for (const type of COMPRESSION_TYPES) {
    const packed = await compressBatch(plain, type);
    const header = readBatchHeader(packed);
    assert.equal(compressionOf(header), COMPRESSION_CODECS[type], type);
    if (type !== "none") assert.ok(packed.length < plain.length / 3, `${type}: ${packed.length}`);
    assert.equal(splitBatches(packed).length, 1); // the CRC is valid
    assert.deepEqual(await decodeBatchRecords(packed), decodeRecords(plain), type);
    assert.deepEqual(await decodeBatchRecords(packed, header), decodeRecords(plain), type);
  }
  assert.ok(isCompressionType("zstd") && !isCompressionType("brotli") && !isCompressionType(1));
});

Deno.test("decodeBatchRecords() refuses unknown codecs and corrupt data of every codec", async () => {
  const plain = batch(2);
  const { payload } = recordsPayloadOf(plain);
  const unknown = withRecordsPayload(plain, 5, payload);
  await assert.rejects(
    decodeBatchRecords(unknown),
    (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE") && /codec 5/.test(e.message),
  );
  for (const codec of [1, 2, 3, 4]) {
    const broken = withRecordsPayload(plain, codec, enc.encode("garbage that is no codec's"));
    await assert.rejects(
      decodeBatchRecords(broken),
      (e) => isKaError(e, "CORRUPT_MESSAGE"),
      `codec ${codec}`,
    );
    // Well-formed compressed bytes that are not a records section.
    const packed = recordsPayloadOf(await compressBatch(plain, COMPRESSION_TYPES[codec])).payload;
    const truncated = withRecordsPayload(plain, codec, packed.subarray(0, packed.length - 3));
    await assert.rejects(
      decodeBatchRecords(truncated),
      (e) => isKaError(e, "CORRUPT_MESSAGE"),
      `codec ${codec}`,
    );
  }
});
