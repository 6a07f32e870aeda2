/**
 * Tests for the sparse time index: where a timestamp search starts,
 * truncation, and the `.timeindex` encoding with its validation.
 * @module
 */
import assert from "node:assert/strict";
import { TIME_INDEX_ENTRY_BYTES, TimeIndex } from "./time_index.ts";

function filled(): TimeIndex {
  const index = new TimeIndex();
  index.append(1000, 5); // batches before 5 have max timestamps ≤ 1000
  index.append(2000, 12);
  index.append(2000, 20); // a closing entry may repeat the maximum
  return index;
}

Deno.test("TimeIndex.lookup() starts after every batch known to be older", () => {
  const index = filled();
  assert.equal(index.lookup(0), 0);
  assert.equal(index.lookup(1000), 0, "a batch before 5 may reach 1000");
  assert.equal(index.lookup(1001), 5);
  assert.equal(index.lookup(2000), 5);
  assert.equal(index.lookup(2001), 20);
  assert.equal(new TimeIndex().lookup(5), 0);
});

Deno.test("TimeIndex.truncateToOffset() keeps entries at the cut (still true) and drops later ones", () => {
  const index = filled();
  index.truncateToOffset(12);
  assert.deepEqual(index.last, { timestamp: 2000, relativeOffset: 12 });
  index.truncateToOffset(4);
  assert.equal(index.length, 0);
});

Deno.test("TimeIndex.append() asserts growing offsets and non-decreasing timestamps", () => {
  const index = filled();
  assert.throws(() => index.append(3000, 20));
  assert.throws(() => index.append(1999, 30));
});

Deno.test("TimeIndex encodes 12 bytes an entry, decodes back, and refuses damaged bytes", () => {
  const bytes = filled().encode();
  assert.equal(bytes.length, 3 * TIME_INDEX_ENTRY_BYTES);
  const decoded = TimeIndex.decode(bytes, { relativeOffsetEnd: 20 });
  assert.ok(decoded);
  assert.deepEqual(decoded.last, { timestamp: 2000, relativeOffset: 20 });
  assert.equal(decoded.lookup(1500), 5);
  assert.equal(TimeIndex.decode(bytes.subarray(0, 11), { relativeOffsetEnd: 20 }), null);
  assert.equal(TimeIndex.decode(bytes, { relativeOffsetEnd: 19 }), null, "past the segment end");
  assert.equal(TimeIndex.decode(new Uint8Array(12), { relativeOffsetEnd: 20 }), null, "zeros");
  const older = filled().encode();
  new DataView(older.buffer).setBigInt64(12, 10n); // second timestamp goes back in time
  assert.equal(TimeIndex.decode(older, { relativeOffsetEnd: 20 }), null);
});
