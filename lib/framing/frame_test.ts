/**
 * Tests for the frame splitter: limits before allocation, split chunks,
 * many frames per chunk and the stream adapter.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { FRAME_BYTES_MAX } from "../limits.ts";
import { FrameDecoder, readFrames } from "./frame.ts";

function frameOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bodies(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => new Uint8Array(i % 7 === 0 ? 0 : i * 3).fill(i));
}

Deno.test("FrameDecoder.push() rejects length 0x7fffffff with FRAME_TOO_LARGE before buffering", () => {
  const d = new FrameDecoder();
  assert.throws(
    () => d.push(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])),
    (e) => isKaError(e, "FRAME_TOO_LARGE"),
  );
  const split = new FrameDecoder();
  assert.deepEqual(split.push(new Uint8Array([0x7f, 0xff])), []);
  assert.throws(
    () => split.push(new Uint8Array([0xff, 0xff])),
    (e) => isKaError(e, "FRAME_TOO_LARGE"),
  );
  assert.ok(FRAME_BYTES_MAX < 0x7fffffff);
});

Deno.test("FrameDecoder.push() rejects negative lengths with INVALID_REQUEST", () => {
  assert.throws(
    () => new FrameDecoder().push(new Uint8Array([0xff, 0xff, 0xff, 0xfe])),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
});

Deno.test("FrameDecoder honours a custom frameBytesMax", () => {
  const d = new FrameDecoder({ frameBytesMax: 8 });
  assert.deepEqual(d.push(frameOf(new Uint8Array(8).fill(1))), [new Uint8Array(8).fill(1)]);
  assert.throws(() => d.push(frameOf(new Uint8Array(9))), (e) => isKaError(e, "FRAME_TOO_LARGE"));
});

Deno.test("FrameDecoder handles many frames in one chunk", () => {
  const expected = bodies(500);
  const d = new FrameDecoder();
  assert.deepEqual(d.push(concat(expected.map(frameOf))), expected);
  assert.equal(d.buffered, 0);
});

Deno.test("FrameDecoder handles frames split at every byte boundary", () => {
  const expected = bodies(20);
  const stream = concat(expected.map(frameOf));
  for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
    const d = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += chunkBytes) {
      got.push(...d.push(stream.subarray(i, i + chunkBytes)));
    }
    assert.deepEqual(got, expected, `chunks of ${chunkBytes}`);
    assert.equal(d.buffered, 0);
  }
});

Deno.test("FrameDecoder.buffered counts bytes of an incomplete frame", () => {
  const d = new FrameDecoder();
  const f = frameOf(new Uint8Array(10).fill(9));
  assert.deepEqual(d.push(f.subarray(0, 2)), []);
  assert.equal(d.buffered, 2);
  assert.deepEqual(d.push(f.subarray(2, 8)), []);
  assert.equal(d.buffered, 4);
  assert.deepEqual(d.push(f.subarray(8)), [new Uint8Array(10).fill(9)]);
  assert.equal(d.buffered, 0);
});

Deno.test("FrameDecoder returns copies, not views of the caller's chunk", () => {
  const chunk = frameOf(new Uint8Array([1, 2, 3]));
  const [frame] = new FrameDecoder().push(chunk);
  chunk.fill(0);
  assert.deepEqual(frame, new Uint8Array([1, 2, 3]));
});

Deno.test("FrameDecoder is linear in a large frame fed in small chunks", () => {
  const body = new Uint8Array(8 * 1024 * 1024).fill(5);
  const stream = frameOf(body);
  const d = new FrameDecoder();
  const start = performance.now();
  let got: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 1024) {
    got = got.concat(d.push(stream.subarray(i, i + 1024)));
  }
  const elapsedMs = performance.now() - start;
  assert.equal(got.length, 1);
  assert.equal(got[0].length, body.length);
  assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
});

Deno.test("readFrames() yields the frames of a stream and rejects a cut tail", async () => {
  const expected = bodies(30);
  const stream = concat(expected.map(frameOf));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 11) chunks.push(stream.slice(i, i + 11));
  const got: Uint8Array[] = [];
  for await (const f of readFrames(ReadableStream.from(chunks))) got.push(f);
  assert.deepEqual(got, expected);

  const cut = [stream.slice(0, stream.length - 1)];
  const partial: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const f of readFrames(ReadableStream.from(cut))) partial.push(f);
  }, (e) => isKaError(e, "NETWORK_EXCEPTION"));
  assert.equal(partial.length, expected.length - 1);

  await assert.rejects(async () => {
    for await (
      const _ of readFrames(ReadableStream.from([frameOf(new Uint8Array(9))]), {
        frameBytesMax: 4,
      })
    ) {
      // Nothing: the first frame is too large.
    }
  }, (e) => isKaError(e, "FRAME_TOO_LARGE"));
});

Deno.test("readFrames() cancels the stream when the consumer stops early", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(frameOf(new Uint8Array([1])));
    },
    cancel() {
      cancelled = true;
    },
  });
  let count = 0;
  for await (const _ of readFrames(stream)) {
    if (++count === 3) break;
  }
  assert.equal(count, 3);
  assert.ok(cancelled);
});
