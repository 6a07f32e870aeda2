/**
 * Tests for the codec dispatch: every codec number round-trips, unknown ones
 * are UNSUPPORTED_COMPRESSION_TYPE, and the batches kcat (librdkafka) wrote
 * with each codec decode to the records it was given.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { compressionOf, decodeRecordsFromPayload, recordsPayloadOf } from "../protocol/mod.ts";
import { CODEC, CODEC_NAMES, compressPayload, decompressPayload, gunzip, gzip } from "./mod.ts";
import { DEFAULT_CONFIG, parseConfig } from "../config/config.ts";
import { jsonRecords, kcatLines, sameBytes, testdata } from "./_test_data.ts";

Deno.test("compressPayload()/decompressPayload() round-trip every codec", async () => {
  const input = jsonRecords(500, 1);
  for (const codec of Object.values(CODEC)) {
    const packed = await compressPayload(codec, input);
    if (codec === 0) assert.equal(packed, input);
    else assert.ok(packed.length < input.length / 2, `codec ${codec}: ${packed.length}`);
    assert.ok(sameBytes(await decompressPayload(codec, packed), input), `codec ${codec}`);
    if (codec !== 0) {
      await assert.rejects(
        decompressPayload(codec, packed, input.length - 1),
        (e) => isKaError(e, "CORRUPT_MESSAGE"),
        `codec ${codec} limit`,
      );
    }
  }
  for (const codec of [5, 6, 7, -1]) {
    await assert.rejects(
      compressPayload(codec, input),
      (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE"),
    );
    await assert.rejects(
      decompressPayload(codec, input),
      (e) => isKaError(e, "UNSUPPORTED_COMPRESSION_TYPE") && /codec/.test(e.message),
    );
  }
});

Deno.test("gunzip() bounds its output and reports corrupt input as CORRUPT_MESSAGE", async () => {
  const big = await gzip(new Uint8Array(100_000));
  assert.equal((await gunzip(big)).length, 100_000);
  await assert.rejects(gunzip(big, 50_000), (e) => isKaError(e, "CORRUPT_MESSAGE"));
  await assert.rejects(
    gunzip(new TextEncoder().encode("not gzip at all")),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
});

Deno.test("batches kcat (librdkafka 2.0.2) compressed with each codec decode to its input", async () => {
  const files: [string, string, number, number][] = [
    ["kcat_gzip_small.bin", "gzip", 1, 20],
    ["kcat_snappy_small.bin", "snappy", 2, 20],
    ["kcat_snappy_large.bin", "snappy", 2, 3000],
    ["kcat_lz4_small.bin", "lz4", 3, 20],
    ["kcat_lz4_large.bin", "lz4", 3, 3000],
    ["kcat_zstd_small.bin", "zstd", 4, 20],
  ];
  const decoder = new TextDecoder();
  for (const [file, name, codec, count] of files) {
    const { header, payload } = recordsPayloadOf(testdata(file));
    assert.equal(compressionOf(header), codec, file);
    const records = decodeRecordsFromPayload(header, await decompressPayload(codec, payload));
    assert.deepEqual(records.map((r) => decoder.decode(r.value!)), kcatLines(name, count), file);
  }
});

Deno.test("CODEC is the one codec table: CODEC_NAMES and config.yaml's producer.compression follow it", () => {
  assert.deepEqual(CODEC_NAMES, ["none", "gzip", "snappy", "lz4", "zstd"]);
  assert.deepEqual(CODEC_NAMES.map((name) => CODEC[name]), [0, 1, 2, 3, 4]);
  assert.equal(DEFAULT_CONFIG.producer.compression, "none");
  for (const name of CODEC_NAMES) {
    assert.equal(parseConfig(`producer:\n  compression: ${name}\n`).producer.compression, name);
  }
  assert.throws(
    () => parseConfig("producer:\n  compression: brotli\n"),
    (e) => isKaError(e) && /"none", "gzip", "snappy", "lz4" or "zstd"/.test(`${e}`),
  );
});
