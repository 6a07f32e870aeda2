/**
 * Tests for batch compression: gzip round trips, the codec bits, bounds on
 * inflation, corrupt input and unsupported codecs.
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
import { compressBatch, decodeBatchRecords, gunzip, gzip } from "./compression.ts";

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

Deno.test("decodeBatchRecords() refuses codecs other than none and gzip", async () => {
  const plain = batch(2);
  const snappy = withRecordsPayload(plain, 2, recordsPayloadOf(plain).payload);
  await assert.rejects(
    decodeBatchRecords(snappy),
    (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE") && /codec 2/.test(e.message),
  );
  const broken = withRecordsPayload(plain, 1, enc.encode("garbage"));
  await assert.rejects(decodeBatchRecords(broken), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});
