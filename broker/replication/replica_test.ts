/**
 * Tests for {@linkcode Replica}: the high watermark over the ISR, acks=all
 * waiters, ISR proposals, and what changes when leadership moves.
 * @module
 */
import assert from "node:assert/strict";
import type { PartitionState } from "@kafka-analog/lib/cluster";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { readBatchHeader } from "@kafka-analog/lib/protocol";
import { fixtureBatch } from "../_fixtures.ts";
import { MemoryLog } from "../log/memory_log.ts";
import { Replica } from "./replica.ts";

const T0 = 1_000_000;
const LAG_MS = 10_000;

function state(overrides: Partial<PartitionState> = {}): PartitionState {
  return {
    partition: 0,
    leader: 0,
    leaderEpoch: 4,
    replicas: [0, 1, 2],
    isr: [0, 1, 2],
    ...overrides,
  };
}

/** Broker 0's replica of r-0 (leader by default). */
function replica(overrides: Partial<PartitionState> = {}, log = new MemoryLog()): Replica {
  return new Replica("r", 0, 0, log, state(overrides), T0);
}

/** Appends one batch of `count` records as leader; returns the new log end. */
function append(r: Replica, count: number): bigint {
  const bytes = fixtureBatch("x", count);
  r.appendAsLeader(bytes, readBatchHeader(bytes));
  return r.log.logEndOffset;
}

/** Settles to "resolved" or the error name, within `ms`. */
async function outcome(p: Promise<void>, ms = 1000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("pending"), ms);
  });
  try {
    return await Promise.race([
      p.then(() => "resolved", (e) => (isKaError(e) ? e.errorName : `non-KaError ${e}`)),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("Replica as leader: the high watermark is the smallest log end offset over the ISR", () => {
  const r = replica();
  assert.ok(r.isLeader);
  assert.equal(append(r, 5), 5n);
  assert.equal(r.highWatermark, 0n, "no follower has fetched yet");
  r.onFollowerFetch(1, 3n, T0);
  assert.equal(r.highWatermark, 0n, "follower 2 has nothing");
  r.onFollowerFetch(2, 5n, T0);
  assert.equal(r.highWatermark, 3n);
  r.onFollowerFetch(1, 5n, T0);
  assert.equal(r.highWatermark, 5n);
  append(r, 2);
  assert.equal(r.highWatermark, 5n, "new records are not committed until the ISR has them");
});

Deno.test("Replica as leader with ISR [leader]: the high watermark follows the log end at once", () => {
  const r = replica({ isr: [0] });
  append(r, 3);
  assert.equal(r.highWatermark, 3n);
  // A follower outside the ISR does not hold it back.
  r.onFollowerFetch(1, 1n, T0);
  assert.equal(r.highWatermark, 3n);
  append(r, 1);
  assert.equal(r.highWatermark, 4n);
});

Deno.test("Replica high watermark never goes back", () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  append(r, 4);
  r.onFollowerFetch(1, 4n, T0);
  assert.equal(r.highWatermark, 4n);
  // A stale or retried fetch from an older offset does not lower it.
  r.onFollowerFetch(1, 2n, T0);
  assert.equal(r.highWatermark, 4n);
  // Nor does a follower joining the ISR with less than the leader.
  r.update(state({ replicas: [0, 1, 2], isr: [0, 1, 2] }), T0);
  assert.equal(r.highWatermark, 4n);
});

Deno.test("Replica ISR shrink in new metadata advances the high watermark", () => {
  const r = replica();
  append(r, 4);
  r.onFollowerFetch(1, 4n, T0);
  assert.equal(r.highWatermark, 0n, "follower 2 holds it back");
  r.update(state({ isr: [0, 1] }), T0);
  assert.equal(r.highWatermark, 4n);
});

Deno.test("Replica.onFollowerFetch() ignores brokers that are not followers", () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  append(r, 2);
  r.onFollowerFetch(7, 2n, T0);
  r.onFollowerFetch(0, 2n, T0);
  assert.equal(r.highWatermark, 0n);
  assert.deepEqual([...r.followers.keys()], [1]);
});

Deno.test("Replica.waitForHighWatermark() resolves when a follower fetch advances the high watermark", async () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  const end = append(r, 3);
  const waiting = r.waitForHighWatermark(end, 5_000);
  assert.equal(await outcome(waiting, 20), "pending");
  r.onFollowerFetch(1, 2n, T0);
  assert.equal(await outcome(waiting, 20), "pending", "offset 2 is not enough");
  r.onFollowerFetch(1, end, T0);
  assert.equal(await outcome(waiting), "resolved");
  // Already past: resolves at once.
  assert.equal(await outcome(r.waitForHighWatermark(2n, 5_000), 0), "resolved");
});

Deno.test("Replica.waitForHighWatermark() rejects with REQUEST_TIMED_OUT after its timeout", async () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  const end = append(r, 1);
  const start = performance.now();
  await assert.rejects(
    r.waitForHighWatermark(end, 30),
    (e) => isKaError(e, "REQUEST_TIMED_OUT") && e.message.includes("r-0"),
  );
  assert.ok(performance.now() - start >= 25);
  // The timed-out waiter is gone: a later advance resolves only live waiters.
  const later = r.waitForHighWatermark(end, 5_000);
  r.onFollowerFetch(1, end, T0);
  assert.equal(await outcome(later), "resolved");
});

Deno.test("Replica waiters are rejected with NOT_LEADER_OR_FOLLOWER when leadership moves", async () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  const end = append(r, 2);
  const first = r.waitForHighWatermark(end, 5_000);
  const second = r.waitForHighWatermark(1n, 5_000);
  r.update(state({ leader: 1, leaderEpoch: 5, replicas: [0, 1], isr: [0, 1] }), T0);
  assert.equal(await outcome(first), "NOT_LEADER_OR_FOLLOWER");
  assert.equal(await outcome(second), "NOT_LEADER_OR_FOLLOWER");
  assert.equal(r.isLeader, false);
  assert.equal(r.needsTruncation, true, "a new follower must check its tail first");
  assert.equal(r.followers.size, 0);
});

Deno.test("Replica.close() rejects every waiter with the reason", async () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  const end = append(r, 1);
  const waiting = r.waitForHighWatermark(end, 5_000);
  r.close(KaError.of("NOT_LEADER_OR_FOLLOWER", "gone"));
  assert.equal(await outcome(waiting), "NOT_LEADER_OR_FOLLOWER");
});

Deno.test("Replica becoming leader starts its epoch at the log end and resets follower state", () => {
  const log = new MemoryLog();
  const r = replica({ leader: 1, leaderEpoch: 3, replicas: [0, 1], isr: [0, 1] }, log);
  assert.equal(r.isLeader, false);
  assert.equal(r.needsTruncation, true);
  // Copy 4 records of epoch 3 as a follower would.
  const bytes = fixtureBatch("f", 4);
  const header = readBatchHeader(bytes);
  log.appendReplica(bytes, header);
  r.epochCache.assign(3, 0n);
  r.update(state({ leader: 0, leaderEpoch: 4, replicas: [0, 1], isr: [0, 1] }), T0);
  assert.ok(r.isLeader);
  assert.equal(r.needsTruncation, false);
  assert.deepEqual(r.epochCache.entries(), [{ epoch: 3, startOffset: 0n }, {
    epoch: 4,
    startOffset: 4n,
  }]);
  assert.equal(r.epochStartOffset(), 4n);
  assert.deepEqual([...r.followers.entries()], [[1, {
    logEndOffset: -1n,
    lastCaughtUpMs: T0,
    leaderEndAtLastFetch: -1n,
  }]]);
  // Its own appends carry epoch 4.
  append(r, 1);
  const stored = r.log.read(4n, 1 << 20).batches[0];
  assert.equal(readBatchHeader(stored).partitionLeaderEpoch, 4);
});

Deno.test("Replica.update() at the same epoch keeps follower state; a new epoch resets it", () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  append(r, 2);
  r.onFollowerFetch(1, 2n, T0 + 5);
  r.update(state({ replicas: [0, 1], isr: [0, 1] }), T0 + 8);
  assert.equal(r.followers.get(1)?.logEndOffset, 2n, "same epoch, still in the ISR: kept");
  r.update(state({ replicas: [0, 1], isr: [0] }), T0 + 10);
  // Out of the ISR: its old position may belong to a dead process, it must fetch again to rejoin.
  assert.equal(r.followers.get(1)?.logEndOffset, -1n);
  assert.equal(r.proposedIsr(T0 + 11, 10_000), null, "no rejoin before a new fetch");
  r.onFollowerFetch(1, 2n, T0 + 12);
  assert.deepEqual(r.proposedIsr(T0 + 13, 10_000), [0, 1]);
  r.update(state({ leaderEpoch: 5, replicas: [0, 1], isr: [0] }), T0 + 20);
  assert.equal(r.followers.get(1)?.logEndOffset, -1n);
  assert.equal(r.followers.get(1)?.lastCaughtUpMs, T0 + 20);
  // A replica removed from the assignment is forgotten.
  r.update(state({ leaderEpoch: 5, replicas: [0], isr: [0] }), T0 + 30);
  assert.deepEqual([...r.followers.keys()], []);
});

Deno.test("Replica.setFollowerHighWatermark() takes the leader's, capped at its own log end", () => {
  const r = replica({ leader: 1, replicas: [0, 1], isr: [0, 1] });
  const bytes = fixtureBatch("f", 3);
  r.log.appendReplica(bytes, readBatchHeader(bytes));
  r.setFollowerHighWatermark(2n);
  assert.equal(r.highWatermark, 2n);
  r.setFollowerHighWatermark(10n);
  assert.equal(r.highWatermark, 3n);
  r.setFollowerHighWatermark(-1n);
  assert.equal(r.highWatermark, 3n, "−1 (unknown) is ignored");
});

Deno.test("Replica.proposedIsr() adds a follower that caught up to the high watermark", () => {
  const r = replica({ replicas: [0, 1, 2], isr: [0] });
  append(r, 5);
  assert.equal(r.highWatermark, 5n);
  assert.equal(r.proposedIsr(T0, LAG_MS), null, "nobody has fetched");
  r.onFollowerFetch(2, 4n, T0);
  assert.equal(r.proposedIsr(T0, LAG_MS), null, "4 < high watermark 5");
  r.onFollowerFetch(2, 5n, T0);
  assert.deepEqual(r.proposedIsr(T0, LAG_MS), [0, 2]);
  r.onFollowerFetch(1, 5n, T0);
  assert.deepEqual(r.proposedIsr(T0, LAG_MS), [0, 1, 2], "in replica order");
});

Deno.test("Replica.proposedIsr() does not add a follower below the start of the leader's epoch", () => {
  // Leader of epoch 4 from offset 5 (it copied 0..4 in epoch 3); follower 1 in the ISR has not
  // fetched, so the high watermark is still 0.
  const log = new MemoryLog();
  const bytes = fixtureBatch("old", 5);
  log.appendReplica(bytes, readBatchHeader(bytes));
  const r = replica({ replicas: [0, 1, 2], isr: [0, 1] }, log);
  assert.equal(r.epochStartOffset(), 5n);
  assert.equal(r.highWatermark, 0n);
  r.onFollowerFetch(2, 3n, T0);
  assert.equal(r.proposedIsr(T0, LAG_MS), null, "3 ≥ high watermark 0 but < epoch start 5");
  r.onFollowerFetch(2, 5n, T0);
  assert.deepEqual(r.proposedIsr(T0, LAG_MS), [0, 1, 2]);
});

Deno.test("Replica.proposedIsr() removes a follower not caught up for longer than lagMaxMs", () => {
  const r = replica({ replicas: [0, 1, 2], isr: [0, 1, 2] });
  append(r, 3);
  r.onFollowerFetch(1, 3n, T0 + 100);
  r.onFollowerFetch(2, 3n, T0 + 100);
  append(r, 2); // leader end 5
  // Follower 1 keeps up (reaches what the leader had at its previous fetch); 2 goes silent.
  r.onFollowerFetch(1, 5n, T0 + 5_000);
  append(r, 1);
  r.onFollowerFetch(1, 5n, T0 + 9_000); // behind the new end, but had all of it at its last fetch
  assert.equal(r.proposedIsr(T0 + 100 + LAG_MS, LAG_MS), null, "exactly lagMaxMs is still in");
  assert.deepEqual(r.proposedIsr(T0 + 101 + LAG_MS, LAG_MS), [0, 1]);
});

Deno.test("Replica.proposedIsr() removes a follower that fetches but never catches up", () => {
  const r = replica({ replicas: [0, 1], isr: [0, 1] });
  append(r, 10);
  // Each fetch is below what the leader had at the previous one, as the leader keeps growing.
  let now = T0;
  for (let offset = 1n; offset < 8n; offset++) {
    now += 2_000;
    r.onFollowerFetch(1, offset, now);
    append(r, 5);
  }
  assert.equal(r.followers.get(1)?.lastCaughtUpMs, T0, "never caught up since becoming leader");
  assert.deepEqual(r.proposedIsr(now, LAG_MS), [0]);
});

Deno.test("Replica.proposedIsr() is null while a change is in flight, and for a follower", () => {
  const r = replica({ replicas: [0, 1], isr: [0] });
  append(r, 2);
  r.onFollowerFetch(1, 2n, T0);
  r.isrChangeInFlight = true;
  assert.equal(r.proposedIsr(T0, LAG_MS), null);
  // New metadata (the answer to the proposal, or anything else) clears the flag.
  r.update(state({ replicas: [0, 1], isr: [0] }), T0);
  assert.equal(r.isrChangeInFlight, false);
  assert.deepEqual(r.proposedIsr(T0, LAG_MS), [0, 1]);
  const follower = replica({ leader: 1, replicas: [0, 1], isr: [1] });
  assert.equal(follower.proposedIsr(T0 + 60_000, LAG_MS), null);
});
