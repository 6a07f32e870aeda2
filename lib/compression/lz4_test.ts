/**
 * Tests for LZ4: frame round trips over seeded inputs of many sizes, the
 * Java client's frame layout, hand-built blocks and frames using every
 * option (checksums, content size, linked blocks, stored blocks, skippable
 * frames), the frames kcat (librdkafka) wrote, and malformed input (always
 * CORRUPT_MESSAGE, never a crash or a hang).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { recordsPayloadOf } from "../protocol/mod.ts";
import {
  lz4Compress,
  lz4CompressBlock,
  lz4Decompress,
  lz4DecompressBlock,
  lz4MaxBlockBytes,
} from "./lz4.ts";
import { xxhash32 } from "./xxhash.ts";
import { fuzzDecoder, KINDS, sameBytes, sample, SIZES, testdata } from "./_test_data.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const corrupt = (e: unknown) => isKaError(e, "CORRUPT_MESSAGE");

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

interface FrameOptions {
  independent?: boolean;
  blockChecksum?: boolean;
  contentSize?: number;
  contentChecksumOf?: Uint8Array;
  bd?: number;
}

/** A frame around already-encoded blocks (`stored` ones get the high bit). */
function frame(
  blocks: { bytes: Uint8Array; stored?: boolean }[],
  o: FrameOptions = {},
): Uint8Array {
  const flg = 0x40 | (o.independent !== false ? 0x20 : 0) | (o.blockChecksum ? 0x10 : 0) |
    (o.contentSize !== undefined ? 0x08 : 0) | (o.contentChecksumOf !== undefined ? 0x04 : 0);
  const descriptor = [flg, o.bd ?? 0x40];
  if (o.contentSize !== undefined) descriptor.push(...u32le(o.contentSize), 0, 0, 0, 0);
  const hc = (xxhash32(Uint8Array.from(descriptor)) >>> 8) & 0xff;
  const out = [...u32le(0x184d2204), ...descriptor, hc];
  for (const b of blocks) {
    out.push(...u32le((b.bytes.length | (b.stored ? 0x8000_0000 : 0)) >>> 0), ...b.bytes);
    if (o.blockChecksum) out.push(...u32le(xxhash32(b.bytes)));
  }
  out.push(0, 0, 0, 0);
  if (o.contentChecksumOf !== undefined) out.push(...u32le(xxhash32(o.contentChecksumOf)));
  return Uint8Array.from(out);
}

Deno.test("lz4 frames round-trip every kind of input at every size", () => {
  let seed = 100;
  for (const kind of KINDS) {
    for (const n of SIZES) {
      const input = sample(kind, n, seed++);
      const packed = lz4Compress(input);
      assert.ok(
        packed.length <= 11 + n + Math.ceil(n / 65_536) * 4,
        `${kind} ${n}: ${packed.length}`,
      );
      assert.ok(sameBytes(lz4Decompress(packed), input), `${kind} ${n}`);
      const block = lz4CompressBlock(input);
      assert.ok(block.length <= lz4MaxBlockBytes(n));
      assert.ok(sameBytes(lz4DecompressBlock(block, n), input), `block ${kind} ${n}`);
      if (kind === "zeros") assert.ok(packed.length < 40 + n / 200, `${n}: ${packed.length}`);
    }
  }
});

Deno.test("lz4Compress() writes the Java client's frame: FLG 0x60, BD 0x40, KIP-57 checksum, 64 KiB blocks", () => {
  const input = sample("json", 200_000, 5);
  const packed = lz4Compress(input);
  // Magic, FLG (version 1, independent blocks), BD (64 KiB), header checksum: the same
  // seven bytes kcat (librdkafka) writes.
  assert.deepEqual([...packed.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
  const view = new DataView(packed.buffer);
  const sizes: number[] = [];
  let at = 7;
  while (true) {
    const word = view.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fff_ffff;
    sizes.push(
      word === size ? lz4DecompressBlock(packed.subarray(at, at + size), 65_536).length : size,
    );
    at += size;
  }
  assert.equal(at, packed.length);
  assert.deepEqual(sizes, [65_536, 65_536, 65_536, 3_392]);
  // Incompressible data goes in stored blocks (high bit set).
  const noise = lz4Compress(sample("random", 1000, 1));
  assert.equal(new DataView(noise.buffer).getUint32(7, true), (1000 | 0x8000_0000) >>> 0);
  assert.deepEqual([...lz4Compress(new Uint8Array(0))], [4, 34, 77, 24, 96, 64, 130, 0, 0, 0, 0]);
});

Deno.test("lz4DecompressBlock() decodes hand-built blocks (extended lengths, overlapping matches)", () => {
  const cases: [number[], string][] = [
    [[0x00], ""],
    [[0x50, ...enc.encode("hello")], "hello"],
    // "ab", then a match of 8 at offset 2, then an empty last sequence
    [[0x24, 0x61, 0x62, 0x02, 0x00, 0x00], "ababababab"],
    // "x", then a match of 15 + 255 + 10 + 4 = 284 at offset 1
    [[0x1f, 0x78, 0x01, 0x00, 0xff, 0x0a, 0x00], "x".repeat(285)],
    // 15 + 5 = 20 literals
    [[0xf0, 0x05, ...enc.encode("0123456789abcdefghij")], "0123456789abcdefghij"],
  ];
  for (const [block, text] of cases) {
    assert.equal(dec.decode(lz4DecompressBlock(Uint8Array.from(block), 1000)), text);
  }
});

Deno.test("lz4Decompress() reads every frame option: checksums, content size, linked and stored blocks", () => {
  const text = enc.encode("abcdefgh");
  const literal = Uint8Array.of(0x80, ...text); // 8 literals
  const copy = Uint8Array.of(0x04, 0x08, 0x00, 0x00); // a match of 8 at offset 8, then nothing
  // Linked blocks: the second block copies from the first.
  assert.equal(
    dec.decode(lz4Decompress(frame([{ bytes: literal }, { bytes: copy }], { independent: false }))),
    "abcdefghabcdefgh",
  );
  assert.throws(() => lz4Decompress(frame([{ bytes: literal }, { bytes: copy }])), corrupt);
  const all = enc.encode("abcdefghabcdefghxyz");
  const full = frame([{ bytes: literal }, { bytes: enc.encode("xyz"), stored: true }], {
    blockChecksum: true,
    contentSize: 11,
    contentChecksumOf: enc.encode("abcdefghxyz"),
    bd: 0x70,
  });
  assert.equal(dec.decode(lz4Decompress(full)), "abcdefghxyz");
  // Two frames and a skippable frame in between are one stream.
  const skippable = Uint8Array.of(...u32le(0x184d2a53), 3, 0, 0, 0, 1, 2, 3);
  const two = new Uint8Array([...frame([{ bytes: literal }]), ...skippable, ...full]);
  assert.equal(dec.decode(lz4Decompress(two)), "abcdefghabcdefghxyz");
  assert.equal(all.length, 19);
  // A checksum that does not match, a wrong content size.
  const badBlockSum = full.slice();
  badBlockSum[7 + 8 + 4 + literal.length] ^= 1;
  assert.throws(() => lz4Decompress(badBlockSum), corrupt);
  const badContentSum = full.slice();
  badContentSum[full.length - 1] ^= 1;
  assert.throws(() => lz4Decompress(badContentSum), corrupt);
  assert.throws(() => lz4Decompress(frame([{ bytes: literal }], { contentSize: 9 })), corrupt);
});

Deno.test("lz4Decompress() reads the frames kcat (librdkafka) wrote", () => {
  for (const [file, records] of [["kcat_lz4_small.bin", 20], ["kcat_lz4_large.bin", 3000]]) {
    const { payload } = recordsPayloadOf(testdata(file as string));
    const plain = lz4Decompress(payload);
    assert.equal(dec.decode(plain).split('"tag":"lz4"').length - 1, records);
    assert.ok(sameBytes(lz4Decompress(lz4Compress(plain)), plain));
  }
});

Deno.test("lz4Decompress() refuses malformed frames with CORRUPT_MESSAGE", () => {
  const good = lz4Compress(sample("json", 1000, 1));
  const mutate = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  const bad: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["not a frame", enc.encode("definitely not lz4")],
    ["magic cut short", good.subarray(0, 3)],
    ["descriptor cut short", good.subarray(0, 6)],
    ["no end mark", good.subarray(0, good.length - 4)],
    ["block cut short", good.subarray(0, 20)],
    ["version 2", mutate(4, 0xa0)],
    ["reserved FLG bit", mutate(4, 0x62)],
    ["dictionary id", mutate(4, 0x61)],
    ["block maximum id 3", mutate(5, 0x30)],
    ["reserved BD bit", mutate(5, 0x41)],
    ["header checksum", mutate(6, 0x83)],
    ["block larger than the maximum", frame([{ bytes: new Uint8Array(65_537), stored: true }])],
    ["empty compressed block", frame([{ bytes: new Uint8Array(0) }])],
    ["match offset 0", frame([{ bytes: Uint8Array.of(0x14, 0x61, 0x00, 0x00, 0x00) }])],
    ["match before the block", frame([{ bytes: Uint8Array.of(0x14, 0x61, 0x02, 0x00, 0x00) }])],
    ["literal past the block", frame([{ bytes: Uint8Array.of(0x50, 0x61) }])],
    ["offset cut short", frame([{ bytes: Uint8Array.of(0x14, 0x61, 0x01) }])],
    ["match length cut short", frame([{ bytes: Uint8Array.of(0x1f, 0x61, 0x01, 0x00, 0xff) }])],
    ["literal length cut short", frame([{ bytes: Uint8Array.of(0xf0, 0xff) }])],
    ["trailing garbage", new Uint8Array([...good, 1, 2, 3])],
  ];
  for (const [what, input] of bad) assert.throws(() => lz4Decompress(input), corrupt, what);
  // Over the output limit: a match that would run past a block's maximum, a frame past the limit.
  const huge = frame([{
    bytes: Uint8Array.of(0x1f, 0x61, 0x01, 0x00, ...Array(300).fill(255), 0),
  }]);
  assert.throws(() => lz4Decompress(huge), corrupt);
  const zeros = lz4Compress(new Uint8Array(200_000));
  assert.throws(() => lz4Decompress(zeros, 199_999), corrupt);
  assert.equal(lz4Decompress(zeros, 200_000).length, 200_000);
  assert.throws(() => lz4Decompress(frame([], { contentSize: 2 ** 31 })), corrupt);
});

Deno.test("lz4Decompress() decodes a block at LZ4's densest ratio (~255x) in a 4 MiB-block frame", () => {
  // "a", then a match of 15 + 4 + 255 * 1000 at offset 1, then the 5 last literals:
  // 1011 block bytes for 255,025 output bytes, within the 256-per-byte room a block gets.
  const block = Uint8Array.of(
    0x1f,
    0x61,
    0x01,
    0x00,
    ...Array(1000).fill(255),
    0,
    0x50,
    0x62,
    0x62,
    0x62,
    0x62,
    0x62,
  );
  const out = lz4Decompress(frame([{ bytes: block }], { bd: 0x70 }));
  assert.equal(out.length, 1 + 19 + 255_000 + 5);
  assert.ok(out.subarray(0, 255_020).every((b) => b === 0x61));
  assert.equal(dec.decode(out.subarray(255_020)), "bbbbb");
  // A frame of a few bytes with a 4 MiB block maximum still decodes (its block reserves ~1 KiB).
  assert.equal(
    dec.decode(lz4Decompress(frame([{ bytes: Uint8Array.of(0x20, 0x68, 0x69) }], { bd: 0x70 }))),
    "hi",
  );
});

Deno.test("lz4Decompress() survives 3000 mutated inputs (bytes or CORRUPT_MESSAGE)", async () => {
  const input = sample("json", 5_000, 3);
  const result = await fuzzDecoder(lz4Compress(input), (b) => lz4Decompress(b, 1 << 20), {
    rounds: 3000,
    seed: 21,
  });
  assert.ok(result.rejected > 1000, JSON.stringify(result));
});
