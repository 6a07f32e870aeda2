/**
 * Tests for the leader epoch cache: which epochs it records, where each one
 * ends (the answer to OffsetForLeaderEpoch) and truncation from the end.
 * @module
 */
import assert from "node:assert/strict";
import { LeaderEpochCache } from "./leader_epoch_cache.ts";

/** A cache holding epoch 0 from 0, epoch 2 from 10 and epoch 5 from 15. */
function filled(): LeaderEpochCache {
  const cache = new LeaderEpochCache();
  cache.assign(0, 0n);
  cache.assign(2, 10n);
  cache.assign(5, 15n);
  return cache;
}

Deno.test("LeaderEpochCache starts empty with latestEpoch -1", () => {
  const cache = new LeaderEpochCache();
  assert.equal(cache.latestEpoch, -1);
  assert.deepEqual(cache.entries(), []);
  assert.deepEqual(cache.endOffsetFor(0, 7n), { leaderEpoch: -1, endOffset: -1n });
});

Deno.test("LeaderEpochCache.assign() records newer epochs and ignores older, equal and negative ones", () => {
  const cache = new LeaderEpochCache();
  cache.assign(-1, 0n);
  assert.deepEqual(cache.entries(), [], "−1 is 'no epoch'");
  cache.assign(3, 0n);
  cache.assign(3, 5n); // a later batch of the current epoch
  cache.assign(1, 8n); // a replayed old epoch
  cache.assign(3, 0n);
  assert.deepEqual(cache.entries(), [{ epoch: 3, startOffset: 0n }]);
  cache.assign(4, 9n);
  assert.equal(cache.latestEpoch, 4);
  assert.deepEqual(cache.entries(), [{ epoch: 3, startOffset: 0n }, { epoch: 4, startOffset: 9n }]);
});

Deno.test("LeaderEpochCache.entries() is a copy", () => {
  const cache = filled();
  const entries = cache.entries();
  entries[0].startOffset = 99n;
  entries.pop();
  assert.deepEqual(cache.entries().map((e) => [e.epoch, e.startOffset]), [[0, 0n], [2, 10n], [
    5,
    15n,
  ]]);
});

Deno.test("LeaderEpochCache.endOffsetFor() is the start of the next known epoch, or the log end for the latest", () => {
  const cache = filled();
  assert.deepEqual(cache.endOffsetFor(0, 20n), { leaderEpoch: 0, endOffset: 10n });
  assert.deepEqual(cache.endOffsetFor(2, 20n), { leaderEpoch: 2, endOffset: 15n });
  assert.deepEqual(cache.endOffsetFor(5, 20n), { leaderEpoch: 5, endOffset: 20n });
});

Deno.test("LeaderEpochCache.endOffsetFor() of an unknown epoch answers the largest known epoch below it (KIP-279)", () => {
  const cache = filled();
  // Epoch 1 never wrote here: the asker learns that epoch 0 is the common one, ending at 10.
  assert.deepEqual(cache.endOffsetFor(1, 20n), { leaderEpoch: 0, endOffset: 10n });
  assert.deepEqual(cache.endOffsetFor(4, 20n), { leaderEpoch: 2, endOffset: 15n });
  // Newer than anything known: the latest epoch, ending at the log end.
  assert.deepEqual(cache.endOffsetFor(9, 20n), { leaderEpoch: 5, endOffset: 20n });
  // Older than everything known: no common epoch.
  const late = new LeaderEpochCache();
  late.assign(3, 40n);
  assert.deepEqual(late.endOffsetFor(2, 50n), { leaderEpoch: -1, endOffset: -1n });
  assert.deepEqual(late.endOffsetFor(-1, 50n), { leaderEpoch: -1, endOffset: -1n });
});

Deno.test("LeaderEpochCache.truncateFromEnd() drops the epochs that start at or after the offset", () => {
  const cache = filled();
  cache.truncateFromEnd(16n);
  assert.equal(cache.latestEpoch, 5, "epoch 5 starts before 16 and keeps its entry");
  cache.truncateFromEnd(15n);
  assert.deepEqual(cache.entries(), [{ epoch: 0, startOffset: 0n }, {
    epoch: 2,
    startOffset: 10n,
  }]);
  assert.deepEqual(cache.endOffsetFor(5, 15n), { leaderEpoch: 2, endOffset: 15n });
  cache.truncateFromEnd(11n);
  assert.equal(cache.latestEpoch, 2);
  cache.truncateFromEnd(0n);
  assert.deepEqual(cache.entries(), []);
  assert.equal(cache.latestEpoch, -1);
  // After truncation an epoch may be assigned again.
  cache.assign(2, 0n);
  assert.deepEqual(cache.entries(), [{ epoch: 2, startOffset: 0n }]);
});

Deno.test("LeaderEpochCache.clear() forgets every epoch", () => {
  const cache = filled();
  cache.clear();
  assert.equal(cache.latestEpoch, -1);
  assert.deepEqual(cache.entries(), []);
  cache.assign(0, 0n);
  assert.equal(cache.latestEpoch, 0);
});
