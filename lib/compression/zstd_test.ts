/**
 * Tests for zstd: round trips, the frames kcat (librdkafka) wrote, the output
 * limit, and truncated or malformed frames (CORRUPT_MESSAGE, never a partial
 * result).
 * @module
 */
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { isKaError } from "../errors.ts";
import { recordsPayloadOf } from "../protocol/mod.ts";
import { checkZstdFrames, zstdCompress, zstdDecompress } from "./zstd.ts";
import { fuzzDecoder, KINDS, sameBytes, sample, testdata } from "./_test_data.ts";

const corrupt = (e: unknown) => isKaError(e, "CORRUPT_MESSAGE");

Deno.test("zstd round-trips every kind of input at several sizes", async () => {
  let seed = 200;
  for (const kind of KINDS) {
    for (const n of [0, 1, 100, 65_536, 300_000]) {
      const input = sample(kind, n, seed++);
      const packed = await zstdCompress(input);
      assert.ok(sameBytes(await zstdDecompress(packed), input), `${kind} ${n}`);
    }
  }
});

Deno.test("zstdDecompress() reads the frame kcat (librdkafka) wrote", async () => {
  const { payload } = recordsPayloadOf(testdata("kcat_zstd_small.bin"));
  const plain = await zstdDecompress(payload);
  assert.equal(new TextDecoder().decode(plain).split('"tag":"zstd"').length - 1, 20);
});

Deno.test("zstdDecompress() bounds its output and refuses truncated or malformed frames", async () => {
  const zeros = await zstdCompress(new Uint8Array(1_000_000));
  assert.equal((await zstdDecompress(zeros, 1_000_000)).length, 1_000_000);
  await assert.rejects(zstdDecompress(zeros, 999_999), corrupt);
  const json = await zstdCompress(sample("json", 50_000, 1));
  // Every prefix is refused: zstd alone would return the part it could decode.
  for (let cut = 0; cut < json.length; cut += 97) {
    await assert.rejects(zstdDecompress(json.subarray(0, cut)), corrupt, `cut at ${cut}`);
  }
  await assert.rejects(zstdDecompress(new Uint8Array([...json, 0])), corrupt);
  await assert.rejects(zstdDecompress(new TextEncoder().encode("not zstd at all")), corrupt);
  // A frame declaring 1 GiB of content is refused before inflating.
  const claim = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x00, 0x00, 0x00, 0x40, 0x01, 0, 0);
  assert.throws(() => checkZstdFrames(claim, 1 << 20), (e) => corrupt(e) && /limit/.test(`${e}`));
  // A frame asking for a 128 MiB window (no content size) is refused, whatever it holds.
  const wide = zlib.zstdCompressSync(new Uint8Array(1000), {
    params: { [zlib.constants.ZSTD_c_windowLog]: 27, [zlib.constants.ZSTD_c_contentSizeFlag]: 0 },
  });
  await assert.rejects(zstdDecompress(wide), (e) => corrupt(e) && /memory/.test(`${e}`));
  // A corrupted block body is caught by libzstd (content checksum or block decoding).
  const flipped = json.slice();
  flipped[Math.floor(json.length / 2)] ^= 0x55;
  await assert.rejects(zstdDecompress(flipped), corrupt);
});

Deno.test("zstdDecompress() joins every frame's output and bounds their sum", async () => {
  // Frames without a content size, so only the inflated bytes can hit the limit.
  const noSize = { params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } };
  const a = zlib.zstdCompressSync(new Uint8Array(1000).fill(1), noSize);
  const b = zlib.zstdCompressSync(new Uint8Array(500).fill(2), noSize);
  const both = Uint8Array.from([...a, ...b]);
  const out = await zstdDecompress(both);
  assert.equal(out.length, 1500);
  assert.ok(
    out.subarray(0, 1000).every((x) => x === 1) && out.subarray(1000).every((x) => x === 2),
  );
  assert.equal((await zstdDecompress(both, 1500)).length, 1500);
  await assert.rejects(
    zstdDecompress(both, 1499),
    (e) => corrupt(e) && /limit of 1499 bytes/.test(`${e}`),
  );
  await assert.rejects(
    zstdDecompress(both, 1000),
    (e) => corrupt(e) && /limit of 1000/.test(`${e}`),
  );
});

Deno.test("zstdDecompress() survives 500 mutated inputs (bytes or CORRUPT_MESSAGE)", async () => {
  const packed = await zstdCompress(sample("json", 5_000, 3));
  const result = await fuzzDecoder(packed, (b) => zstdDecompress(b, 1 << 20), {
    rounds: 500,
    seed: 31,
  });
  assert.ok(result.rejected > 100, JSON.stringify(result));
});
