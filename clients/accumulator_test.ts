/**
 * Tests for the record accumulator: the size trigger, the linger trigger,
 * one batch per partition in flight, forced drains, expiry and wake times.
 * @module
 */
import assert from "node:assert/strict";
import { type AccumulatedRecord, RecordAccumulator } from "./accumulator.ts";

function rec(bytes: number, id = 0): AccumulatedRecord<number> {
  return { record: { value: new Uint8Array(0) }, bytes, handle: id };
}

const T0 = 1_000_000;

Deno.test("RecordAccumulator: a batch is sent when the next record would overflow batch_size", () => {
  const acc = new RecordAccumulator<number>({
    batchBytes: 261,
    lingerMs: 1000,
    deliveryTimeoutMs: 60_000,
  });
  assert.deepEqual(acc.append("t", 0, rec(100, 1), T0), { batchFull: false }); // 61 + 100
  assert.deepEqual(acc.append("t", 0, rec(100, 2), T0), { batchFull: true }); // 261: full
  assert.deepEqual(acc.append("t", 0, rec(100, 3), T0), { batchFull: false }); // new batch
  assert.equal(acc.batchCount, 2);
  const drained = acc.drain(T0);
  assert.equal(drained.length, 1);
  assert.deepEqual(drained[0].records.map((r) => r.handle), [1, 2]);
  assert.equal(drained[0].recordBytes, 200);
  // The second batch lingers; nothing else is ready.
  assert.deepEqual(acc.drain(T0 + 999), []);
  assert.deepEqual(acc.drain(T0 + 1000).map((b) => b.records.length), [1]);
  assert.equal(acc.batchCount, 0);
});

Deno.test("RecordAccumulator: a record that would overflow closes the open batch", () => {
  const acc = new RecordAccumulator<number>({
    batchBytes: 300,
    lingerMs: 50,
    deliveryTimeoutMs: 60_000,
  });
  acc.append("t", 0, rec(100, 1), T0);
  assert.deepEqual(acc.append("t", 0, rec(200, 2), T0), { batchFull: false });
  const first = acc.drain(T0);
  assert.deepEqual(first.map((b) => b.records.map((r) => r.handle)), [[1]]);
  // A record larger than batch_size still gets a batch of its own.
  assert.deepEqual(acc.append("u", 0, rec(5000, 3), T0), { batchFull: true });
});

Deno.test("RecordAccumulator: the linger trigger fires lingerMs after a batch's first record", () => {
  const acc = new RecordAccumulator<number>({
    batchBytes: 16_384,
    lingerMs: 5,
    deliveryTimeoutMs: 60_000,
  });
  acc.append("t", 0, rec(50), T0);
  acc.append("t", 1, rec(50), T0 + 3);
  assert.equal(acc.nextWakeMs(), T0 + 5);
  assert.deepEqual(acc.drain(T0 + 4), []);
  assert.deepEqual(acc.drain(T0 + 5).map((b) => b.partition), [0]);
  assert.equal(acc.nextWakeMs(), T0 + 8);
  assert.deepEqual(acc.drain(T0 + 8).map((b) => b.partition), [1]);
  assert.equal(acc.nextWakeMs(), null);
});

Deno.test("RecordAccumulator: linger 0 sends at once; batch_size 0 disables batching", () => {
  const now0 = new RecordAccumulator<number>({
    batchBytes: 16_384,
    lingerMs: 0,
    deliveryTimeoutMs: 60_000,
  });
  now0.append("t", 0, rec(10), T0);
  now0.append("t", 0, rec(10), T0);
  assert.deepEqual(now0.drain(T0).map((b) => b.records.length), [2]);
  const single = new RecordAccumulator<number>({
    batchBytes: 0,
    lingerMs: 100,
    deliveryTimeoutMs: 60_000,
  });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(single.append("t", 0, rec(10, i), T0), { batchFull: true });
  }
  assert.equal(single.batchCount, 3);
  assert.deepEqual(single.drain(T0).map((b) => b.records[0].handle), [0]);
});

Deno.test("RecordAccumulator: busy partitions wait; force drains lingering heads; one batch per partition", () => {
  const acc = new RecordAccumulator<number>({
    batchBytes: 161,
    lingerMs: 1000,
    deliveryTimeoutMs: 60_000,
  });
  for (let i = 0; i < 4; i++) acc.append("t", 0, rec(100, i), T0); // four full batches
  acc.append("t", 1, rec(10, 9), T0); // lingering
  const busy = new Set(["t/0"]);
  assert.deepEqual(acc.drain(T0, { isBusy: (k) => busy.has(k) }), []);
  assert.equal(acc.nextWakeMs((k) => busy.has(k)), T0 + 1000);
  busy.clear();
  assert.deepEqual(acc.drain(T0).map((b) => b.records[0].handle), [0]);
  assert.deepEqual(acc.drain(T0, { force: true }).map((b) => b.records[0].handle), [1, 9]);
  assert.equal(acc.batchCount, 2);
});

Deno.test("RecordAccumulator.expire() removes batches past delivery_timeout_ms", () => {
  const acc = new RecordAccumulator<number>({
    batchBytes: 16_384,
    lingerMs: 10_000,
    deliveryTimeoutMs: 100,
  });
  acc.append("t", 0, rec(10, 1), T0);
  acc.append("t", 1, rec(10, 2), T0 + 50);
  assert.equal(acc.nextWakeMs(), T0 + 100);
  assert.deepEqual(acc.expire(T0 + 99), []);
  assert.deepEqual(acc.expire(T0 + 100).map((b) => b.records[0].handle), [1]);
  assert.equal(acc.batchCount, 1);
  assert.deepEqual(acc.takeAll().map((b) => b.records[0].handle), [2]);
  assert.equal(acc.batchCount, 0);
});
