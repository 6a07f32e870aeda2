/**
 * Tests for the sparse offset index: lookups between entries, truncation,
 * and the `.index` encoding with its validation (stale or damaged files
 * decode to null so the segment rebuilds them).
 * @module
 */
import assert from "node:assert/strict";
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex } from "./offset_index.ts";

function filled(): OffsetIndex {
  const index = new OffsetIndex();
  index.append(10, 4100);
  index.append(25, 8300);
  index.append(40, 12400);
  return index;
}

Deno.test("OffsetIndex.lookup() gives the last entry at or before the offset, else the segment start", () => {
  const index = filled();
  assert.deepEqual(index.lookup(0), { relativeOffset: 0, position: 0 });
  assert.deepEqual(index.lookup(9), { relativeOffset: 0, position: 0 });
  assert.deepEqual(index.lookup(10), { relativeOffset: 10, position: 4100 });
  assert.deepEqual(index.lookup(24), { relativeOffset: 10, position: 4100 });
  assert.deepEqual(index.lookup(25), { relativeOffset: 25, position: 8300 });
  assert.deepEqual(index.lookup(1_000_000), { relativeOffset: 40, position: 12400 });
  assert.deepEqual(new OffsetIndex().lookup(5), { relativeOffset: 0, position: 0 });
});

Deno.test("OffsetIndex.truncateToPosition() drops entries at or past the cut", () => {
  const index = filled();
  index.truncateToPosition(8301);
  assert.equal(index.length, 2);
  index.truncateToPosition(8300);
  assert.deepEqual(index.last, { relativeOffset: 10, position: 4100 });
  index.truncateToPosition(0);
  assert.equal(index.length, 0);
  assert.equal(index.last, null);
});

Deno.test("OffsetIndex.append() asserts increasing entries", () => {
  const index = filled();
  assert.throws(() => index.append(40, 20000));
  assert.throws(() => index.append(50, 12400));
});

Deno.test("OffsetIndex encodes 8 bytes an entry and decodes back", () => {
  const bytes = filled().encode();
  assert.equal(bytes.length, 3 * OFFSET_INDEX_ENTRY_BYTES);
  const decoded = OffsetIndex.decode(bytes, { logBytes: 20000, relativeOffsetEnd: 50 });
  assert.ok(decoded);
  assert.equal(decoded.length, 3);
  assert.deepEqual(decoded.lookup(30), { relativeOffset: 25, position: 8300 });
  assert.equal(
    OffsetIndex.decode(new Uint8Array(0), { logBytes: 0, relativeOffsetEnd: 1 })?.length,
    0,
  );
});

Deno.test("OffsetIndex.decode() refuses stale or damaged bytes", () => {
  const bytes = filled().encode();
  const limits = { logBytes: 20000, relativeOffsetEnd: 50 };
  assert.equal(OffsetIndex.decode(bytes.subarray(0, 13), limits), null, "not whole entries");
  assert.equal(OffsetIndex.decode(bytes, { ...limits, logBytes: 12400 }), null, "past the log end");
  assert.equal(
    OffsetIndex.decode(bytes, { ...limits, relativeOffsetEnd: 40 }),
    null,
    "offset too big",
  );
  const swapped = new Uint8Array(bytes);
  swapped.set(bytes.subarray(0, 8), 8);
  assert.equal(OffsetIndex.decode(swapped, limits), null, "not increasing");
  assert.equal(
    OffsetIndex.decode(new Uint8Array(8), limits),
    null,
    "zeros (a crash) are not an entry",
  );
});
