/**
 * Tests of the throughput rates and the sampler's schedule and history.
 * @module
 */
import assert from "node:assert/strict";
import {
  committedKey,
  type OffsetSample,
  partitionKey,
  ratesBetween,
  type Scheduler,
  ThroughputSampler,
} from "./throughput.ts";

function sample(
  atMs: number,
  ends: [string, number, number][],
  commits: [string, string, number, number][] = [],
  lags: [string, number][] = [],
): OffsetSample {
  return {
    atMs,
    endOffsets: new Map(ends.map(([t, p, o]) => [partitionKey(t, p), o])),
    committedOffsets: new Map(commits.map(([g, t, p, o]) => [committedKey(g, t, p), o])),
    groupLags: new Map(lags),
  };
}

Deno.test("ratesBetween() turns end-offset and commit growth into messages/s per topic", () => {
  const before = sample(1_000, [["a", 0, 10], ["a", 1, 5], ["b", 0, 0]], [
    ["g1", "a", 0, 4],
    ["g2", "a", 0, 0],
  ]);
  const after = sample(3_000, [["a", 0, 30], ["a", 1, 25], ["b", 0, 1]], [
    ["g1", "a", 0, 14],
    ["g2", "a", 0, 10],
  ], [["g2", 20], ["g1", 16]]);
  assert.deepEqual(ratesBetween(before, after), {
    atMs: 3_000,
    topics: [
      { topic: "a", producedPerSec: 20, consumedPerSec: 10 },
      { topic: "b", producedPerSec: 0.5, consumedPerSec: 0 },
    ],
    groups: [{ group: "g1", lag: 16 }, { group: "g2", lag: 20 }],
  });
});

Deno.test("ratesBetween() ignores partitions missing on one side and offsets that went down", () => {
  const before = sample(0, [["a", 0, 100], ["a", 1, 50]], [["g", "a", 0, 90]]);
  // Partition 1 has no leader for a moment; partition 0 was re-created; a first commit appears.
  const after = sample(1_000, [["a", 0, 3], ["a", 2, 7]], [["g", "a", 0, 2], ["g", "a", 1, 40]]);
  assert.deepEqual(ratesBetween(before, after).topics, [
    { topic: "a", producedPerSec: 0, consumedPerSec: 0 },
  ]);
  assert.deepEqual(ratesBetween(before, sample(0, [["a", 0, 200]])).topics, [
    { topic: "a", producedPerSec: 0, consumedPerSec: 0 },
  ]);
});

/** A scheduler the test runs by hand. */
function manualScheduler(): { schedule: Scheduler; pending: () => number; run: () => void } {
  const queue: { fn: () => void; cancelled: boolean }[] = [];
  return {
    schedule(fn) {
      const entry = { fn, cancelled: false };
      queue.push(entry);
      return () => {
        entry.cancelled = true;
      };
    },
    pending: () => queue.filter((e) => !e.cancelled).length,
    run() {
      const entry = queue.shift();
      if (entry !== undefined && !entry.cancelled) entry.fn();
    },
  };
}

Deno.test("ThroughputSampler samples only while listened to and keeps historyMax points", async () => {
  const timers = manualScheduler();
  let now = 0;
  let calls = 0;
  const sampler = new ThroughputSampler({
    sample: () => {
      calls++;
      now += 1_000;
      return Promise.resolve(sample(now, [["t", 0, now]]));
    },
    intervalMs: 1_000,
    historyMax: 3,
    schedule: timers.schedule,
  });
  assert.equal(timers.pending(), 0);
  const seen: number[] = [];
  const stop = sampler.subscribe((p) => seen.push(p.topics[0].producedPerSec));
  assert.equal(timers.pending(), 1);
  for (let i = 0; i < 5; i++) await sampler.tick();
  assert.equal(calls, 5);
  assert.deepEqual(seen, [1000, 1000, 1000, 1000]); // the first sample has nothing to compare to
  assert.equal(sampler.history().length, 3);
  assert.deepEqual(sampler.history().map((p) => p.atMs), [3_000, 4_000, 5_000]);
  stop();
  assert.equal(sampler.listenerCount, 0);
  assert.equal(timers.pending(), 0);
  await sampler.tick(); // a tick already queued when the last listener left does nothing
  assert.equal(calls, 5);
  sampler.close();
  assert.equal(timers.pending(), 0);
});

Deno.test("ThroughputSampler reports a failed sample and keeps going", async () => {
  const timers = manualScheduler();
  const errors: unknown[] = [];
  let fail = true;
  const sampler = new ThroughputSampler({
    sample: () => (fail ? Promise.reject(new Error("down")) : Promise.resolve(sample(1, []))),
    intervalMs: 10,
    historyMax: 10,
    schedule: timers.schedule,
    onError: (err) => errors.push(err),
  });
  const stop = sampler.subscribe(() => {});
  timers.run();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(errors.length, 1);
  assert.equal(timers.pending(), 1); // rescheduled
  fail = false;
  await sampler.tick();
  assert.equal(errors.length, 1);
  stop();
  sampler.close();
});
