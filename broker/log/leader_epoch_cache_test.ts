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

// ---------------------------------------------------------------------------
// Persistence: the leader-epoch-checkpoint file.

import { isKaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import {
  decodeEpochCheckpoint,
  encodeEpochCheckpoint,
  type EpochCheckpoint,
  EpochCheckpointFile,
  type EpochEntry,
  openLeaderEpochCache,
} from "./leader_epoch_cache.ts";
import { MemoryLog } from "./memory_log.ts";

/** A checkpoint in memory that counts its writes. */
function memoryCheckpoint(saved: EpochEntry[] | null = null): EpochCheckpoint & {
  saved: EpochEntry[] | null;
  writes: number;
} {
  return {
    saved,
    writes: 0,
    read() {
      return this.saved;
    },
    write(entries) {
      this.saved = entries.map((e) => ({ ...e }));
      this.writes++;
    },
  };
}

Deno.test("encodeEpochCheckpoint() writes Kafka's format and decodeEpochCheckpoint() reads it back", () => {
  const entries = [{ epoch: 0, startOffset: 0n }, { epoch: 3, startOffset: 120n }];
  const text = encodeEpochCheckpoint(entries);
  assert.equal(text, "0\n2\n0 0\n3 120\n");
  assert.deepEqual(decodeEpochCheckpoint(text, "x"), entries);
  assert.deepEqual(decodeEpochCheckpoint("0\n0\n", "x"), []);
});

Deno.test("decodeEpochCheckpoint() refuses damaged files with KAFKA_STORAGE_ERROR", () => {
  for (
    const text of [
      "",
      "1\n0\n",
      "0\n2\n0 0\n",
      "0\n1\n0\n",
      "0\n1\n-1 0\n",
      "0\n2\n3 10\n2 20\n",
      "0\n2\n2 20\n3 10\n",
      "0\n1\n0 0 0\n",
    ]
  ) {
    assert.throws(
      () => decodeEpochCheckpoint(text, "where"),
      (e) => isKaError(e, "KAFKA_STORAGE_ERROR") && e.message.includes("where"),
      JSON.stringify(text),
    );
  }
});

Deno.test("LeaderEpochCache saves every change to its checkpoint, and only changes", () => {
  const checkpoint = memoryCheckpoint();
  const cache = new LeaderEpochCache({ checkpoint });
  cache.assign(0, 0n);
  cache.assign(0, 5n); // no change
  cache.assign(2, 10n);
  assert.equal(checkpoint.writes, 2);
  assert.deepEqual(checkpoint.saved, cache.entries());
  cache.truncateFromEnd(11n); // no change
  cache.truncateFromEnd(10n);
  assert.equal(checkpoint.writes, 3);
  assert.deepEqual(checkpoint.saved, [{ epoch: 0, startOffset: 0n }]);
  cache.clear();
  cache.clear();
  assert.equal(checkpoint.writes, 4);
  cache.detach();
  cache.assign(7, 0n);
  assert.equal(checkpoint.writes, 4, "detached: nothing saved");
});

Deno.test("EpochCheckpointFile round trip: a reopened cache has the same epochs", () => {
  const dir = Deno.makeTempDirSync({ prefix: "epoch_test_" });
  try {
    const path = `${dir}/leader-epoch-checkpoint`;
    const file = new EpochCheckpointFile(path);
    assert.equal(file.read(), null);
    const log = new MemoryLog();
    const cache = openLeaderEpochCache(log, file, createLogger("t", { sink: () => {} }));
    cache.assign(1, 0n);
    cache.assign(4, 0n);
    assert.equal(Deno.readTextFileSync(path), "0\n2\n1 0\n4 0\n");
    const again = openLeaderEpochCache(
      log,
      new EpochCheckpointFile(path),
      createLogger("t", {
        sink: () => {},
      }),
    );
    assert.deepEqual(again.entries(), cache.entries());
    assert.equal(again.latestEpoch, 4);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A memory log with batches of epochs 0, 0, 2, 5 at offsets 0, 2, 4, 6 (two records each). */
function epochLog(): MemoryLog {
  const log = new MemoryLog();
  for (const [i, epoch] of [0, 0, 2, 5].entries()) {
    const bytes = encodeRecordBatch(
      [{ value: new Uint8Array([i]) }, { value: new Uint8Array([i]) }],
      { timestamp: 0 },
    );
    log.append(bytes, readBatchHeader(bytes), epoch);
  }
  return log;
}

Deno.test("openLeaderEpochCache() rebuilds a missing checkpoint from the batches' epochs and saves it", () => {
  const checkpoint = memoryCheckpoint();
  const cache = openLeaderEpochCache(epochLog(), checkpoint, createLogger("t", { sink: () => {} }));
  const expected = [
    { epoch: 0, startOffset: 0n },
    { epoch: 2, startOffset: 4n },
    { epoch: 5, startOffset: 6n },
  ];
  assert.deepEqual(cache.entries(), expected);
  assert.deepEqual(checkpoint.saved, expected);
});

Deno.test("openLeaderEpochCache() rebuilds a damaged checkpoint, with a warning", () => {
  const dir = Deno.makeTempDirSync({ prefix: "epoch_test_" });
  try {
    const path = `${dir}/leader-epoch-checkpoint`;
    Deno.writeTextFileSync(path, "0\n7\ngarbage");
    const lines: string[] = [];
    const cache = openLeaderEpochCache(
      epochLog(),
      new EpochCheckpointFile(path),
      createLogger("t", { sink: (l) => lines.push(l) }),
    );
    assert.equal(cache.latestEpoch, 5);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /checkpoint unreadable/);
    assert.equal(Deno.readTextFileSync(path), "0\n3\n0 0\n2 4\n5 6\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("openLeaderEpochCache() drops epochs that start past the recovered log end", () => {
  // Saved before a crash; the recovery scan then cut the log back to offset 6.
  const checkpoint = memoryCheckpoint([
    { epoch: 0, startOffset: 0n },
    { epoch: 5, startOffset: 6n },
    { epoch: 6, startOffset: 8n },
    { epoch: 7, startOffset: 9n },
  ]);
  const log = epochLog();
  log.truncateTo(6n);
  const cache = openLeaderEpochCache(log, checkpoint, createLogger("t", { sink: () => {} }));
  assert.deepEqual(cache.entries(), [{ epoch: 0, startOffset: 0n }, { epoch: 5, startOffset: 6n }]);
  assert.deepEqual(checkpoint.saved, cache.entries(), "and saves the trimmed cache");
});
