/**
 * Tests for the long-poll park: wake-ups, timeouts, aborts, bookkeeping and its bound.
 * @module
 */
import assert from "node:assert/strict";
import { PENDING_FETCHES_MAX } from "@kafka-analog/lib/limits";
import { PartitionWaiters } from "./partition_waiters.ts";

/** Resolves to true if `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("PartitionWaiters.notify() wakes a waiter on its key", async () => {
  const waiters = new PartitionWaiters();
  const start = performance.now();
  const parked = waiters.wait(["t/0"], 10_000);
  assert.equal(waiters.size, 1);
  waiters.notify("t/0");
  await parked;
  assert.ok(performance.now() - start < 1000);
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.notify() on another key leaves the waiter parked", async () => {
  const waiters = new PartitionWaiters();
  const controller = new AbortController();
  const parked = waiters.wait(["t/0"], 10_000, controller.signal);
  waiters.notify("t/1");
  waiters.notify("other/0");
  assert.equal(await settlesWithin(parked, 30), false);
  assert.equal(waiters.size, 1);
  controller.abort();
  await parked;
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.notify() wakes every waiter on the key, once each", async () => {
  const waiters = new PartitionWaiters();
  const controller = new AbortController();
  const a = waiters.wait(["t/0"], 10_000);
  const b = waiters.wait(["t/0", "t/1"], 10_000);
  const c = waiters.wait(["t/2"], 10_000, controller.signal);
  assert.equal(waiters.size, 3);
  waiters.notify("t/0");
  await Promise.all([a, b]);
  assert.equal(waiters.size, 1, "only the waiter on t/2 is left");
  waiters.notify("t/1"); // b is gone; nothing to wake, nothing to miscount
  waiters.notify("t/0");
  assert.equal(waiters.size, 1);
  controller.abort();
  await c;
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() with several keys wakes on any of them", async () => {
  const waiters = new PartitionWaiters();
  const parked = waiters.wait(["t/0", "t/1", "u/3"], 10_000);
  waiters.notify("u/3");
  await parked;
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() with a repeated key counts the waiter once", async () => {
  const waiters = new PartitionWaiters();
  const parked = waiters.wait(["t/0", "t/0"], 10_000);
  assert.equal(waiters.size, 1);
  waiters.notify("t/0");
  await parked;
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() resolves after its timeout", async () => {
  const waiters = new PartitionWaiters();
  const start = performance.now();
  await waiters.wait(["t/0"], 40);
  const elapsedMs = performance.now() - start;
  assert.ok(elapsedMs >= 35, `woke after ${elapsedMs} ms, before the timeout`);
  assert.ok(elapsedMs < 1000, `woke after ${elapsedMs} ms`);
  assert.equal(waiters.size, 0);
  waiters.notify("t/0"); // a late notify finds nothing
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() resolves when its signal aborts", async () => {
  const waiters = new PartitionWaiters();
  const controller = new AbortController();
  const parked = waiters.wait(["t/0"], 10_000, controller.signal);
  assert.equal(waiters.size, 1);
  controller.abort();
  assert.equal(await settlesWithin(parked, 1000), true);
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() returns at once for an aborted signal or no time", async () => {
  const waiters = new PartitionWaiters();
  const aborted = AbortSignal.abort();
  assert.equal(await settlesWithin(waiters.wait(["t/0"], 10_000, aborted), 1000), true);
  assert.equal(await settlesWithin(waiters.wait(["t/0"], 0), 1000), true);
  assert.equal(await settlesWithin(waiters.wait(["t/0"], -5), 1000), true);
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters.wait() after a wake-up by notify ignores a later abort", async () => {
  const waiters = new PartitionWaiters();
  const controller = new AbortController();
  const parked = waiters.wait(["t/0"], 10_000, controller.signal);
  waiters.notify("t/0");
  await parked;
  controller.abort();
  assert.equal(waiters.size, 0);
});

Deno.test("PartitionWaiters parks at most PENDING_FETCHES_MAX and then answers at once", async () => {
  const waiters = new PartitionWaiters();
  const controller = new AbortController();
  const parked: Promise<void>[] = [];
  for (let i = 0; i < PENDING_FETCHES_MAX; i++) {
    parked.push(waiters.wait([`t/${i % 7}`], 60_000, controller.signal));
  }
  assert.equal(waiters.size, PENDING_FETCHES_MAX);
  const overflow = waiters.wait(["t/0"], 60_000, controller.signal);
  assert.equal(await settlesWithin(overflow, 1000), true, "a full park must not park more");
  assert.equal(waiters.size, PENDING_FETCHES_MAX);
  // Waking one key frees its waiters' slots.
  waiters.notify("t/0");
  const onT0 = Math.ceil(PENDING_FETCHES_MAX / 7);
  assert.equal(waiters.size, PENDING_FETCHES_MAX - onT0);
  controller.abort();
  await Promise.all(parked);
  assert.equal(waiters.size, 0);
});
