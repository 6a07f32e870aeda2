/**
 * Tests for the skippable-frame reader LZ4 and zstd share: frames are
 * skipped in both codecs, and a cut or overlong one is CORRUPT_MESSAGE
 * naming the codec.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { isSkippableMagic, skipSkippableFrame } from "./_skippable.ts";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { zstdCompress, zstdDecompress } from "./zstd.ts";

function view(bytes: number[]): DataView {
  return new DataView(Uint8Array.from(bytes).buffer);
}

Deno.test("isSkippableMagic() takes exactly 0x184D2A50-0x184D2A5F", () => {
  for (let low = 0; low < 16; low++) assert.ok(isSkippableMagic(0x184d2a50 + low));
  for (const magic of [0x184d2a4f, 0x184d2a60, 0x184d2204, 0xfd2fb528, 0]) {
    assert.ok(!isSkippableMagic(magic), magic.toString(16));
  }
});

Deno.test("skipSkippableFrame() returns the offset after the frame or CORRUPT_MESSAGE", () => {
  // Magic (4 bytes, already read), size 3, three bytes, then one more byte.
  assert.equal(
    skipSkippableFrame(view([0, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 9]), 4, { codec: "x" }),
    11,
  );
  assert.equal(skipSkippableFrame(view([0, 0, 0, 0, 0, 0, 0, 0]), 4, { codec: "x" }), 8);
  const cases: [number[], RegExp][] = [
    [[0, 0, 0, 0, 3, 0, 0], /lz4 data: a skippable frame size is cut short/],
    [[0, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3], /lz4 data: a skippable frame runs past the input/],
    [[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], /lz4 data: a skippable frame runs past the input/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => skipSkippableFrame(view(bytes), 4, { codec: "lz4" }),
      (e) => isKaError(e, "CORRUPT_MESSAGE") && message.test(`${e}`),
    );
  }
});

Deno.test("lz4 and zstd both skip a skippable frame before their data and refuse a cut one", async () => {
  const text = new TextEncoder().encode("skipped around");
  const skippable = [0x5f, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xaa, 0xbb];
  const lz4 = Uint8Array.from([...skippable, ...lz4Compress(text)]);
  assert.deepEqual(lz4Decompress(lz4), text);
  const zstd = Uint8Array.from([...skippable, ...await zstdCompress(text)]);
  assert.deepEqual(await zstdDecompress(zstd), text);
  // Two zstd frames with a skippable one between them are one stream, as for lz4.
  const frame = await zstdCompress(text);
  const both = Uint8Array.from([...frame, ...skippable, ...frame]);
  assert.deepEqual(await zstdDecompress(both), Uint8Array.from([...text, ...text]));
  assert.deepEqual(
    lz4Decompress(Uint8Array.from([...lz4, ...lz4])),
    Uint8Array.from([...text, ...text]),
  );
  const cut = Uint8Array.from(skippable.slice(0, 9));
  assert.throws(
    () => lz4Decompress(cut),
    (e) => isKaError(e, "CORRUPT_MESSAGE") && /lz4/.test(`${e}`),
  );
  await assert.rejects(
    zstdDecompress(cut),
    (e) => isKaError(e, "CORRUPT_MESSAGE") && /zstd/.test(`${e}`),
  );
});
