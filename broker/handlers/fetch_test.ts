/**
 * Tests for the Fetch handler against an in-process broker: stored bytes,
 * range errors, byte limits and the long poll.
 * @module
 */
import assert from "node:assert/strict";
import { PENDING_FETCHES_MAX } from "@kafka-analog/lib/limits";
import {
  decodeRecords,
  ERRORS,
  type FetchResponse,
  readBatchHeader,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import {
  concatBytes,
  fetchRequest,
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  produceRequest,
} from "../_fixtures.ts";
import { handleFetch } from "./fetch.ts";
import { handleProduce } from "./produce.ts";

function onlyPartition(response: FetchResponse) {
  assert.equal(response.responses.length, 1);
  assert.equal(response.responses[0].partitions.length, 1);
  return response.responses[0].partitions[0];
}

Deno.test("handleFetch() returns the stored batch bytes with absolute offsets", async () => {
  const broker = fixtureBroker();
  const sent = fixtureBatch("a", 3);
  const copy = sent.slice();
  await handleProduce(broker, produceRequest("t", 0, sent));
  const p = onlyPartition(await handleFetch(broker, fetchRequest("t", 0, 0n)));
  assert.equal(p.errorCode, 0);
  assert.equal(p.highWatermark, 3n);
  assert.equal(p.lastStableOffset, 3n);
  assert.equal(p.logStartOffset, 0n);
  assert.ok(p.records !== null);
  // Same bytes as sent, apart from the patched base offset (0) and leader epoch (4).
  assert.equal(p.records.length, copy.length);
  assert.deepEqual(p.records.subarray(16), copy.subarray(16));
  const header = readBatchHeader(p.records);
  assert.equal(header.baseOffset, 0n);
  assert.equal(header.partitionLeaderEpoch, 4);
  const records = decodeRecords(p.records);
  assert.deepEqual(records.map((r) => r.offset), [0n, 1n, 2n]);
  assert.deepEqual(records.map((r) => new TextDecoder().decode(r.value!)), ["a-0", "a-1", "a-2"]);
});

Deno.test("handleFetch() from the middle of a batch returns it and the batches after", async () => {
  const broker = fixtureBroker();
  await handleProduce(
    broker,
    produceRequest("t", 0, concatBytes(fixtureBatch("a", 3), fixtureBatch("b", 2))),
  );
  const p = onlyPartition(await handleFetch(broker, fetchRequest("t", 0, 1n)));
  assert.equal(p.errorCode, 0);
  const slices = splitBatches(p.records!);
  assert.deepEqual(slices.map((s) => s.header.baseOffset), [0n, 3n]);
});

Deno.test("handleFetch() at the log end with no wait returns empty records", async () => {
  const broker = fixtureBroker();
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a", 2)));
  const p = onlyPartition(await handleFetch(broker, fetchRequest("t", 0, 2n)));
  assert.equal(p.errorCode, 0);
  assert.equal(p.highWatermark, 2n);
  assert.equal(p.records?.length ?? 0, 0);
});

Deno.test("handleFetch() answers OFFSET_OUT_OF_RANGE beyond the log end or before its start", async () => {
  const broker = fixtureBroker();
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a", 2)));
  for (const offset of [3n, 100n, -1n]) {
    // A failed partition answers at once, even when asked to wait.
    const start = performance.now();
    const p = onlyPartition(
      await handleFetch(broker, fetchRequest("t", 0, offset, { maxWaitMs: 2000 })),
    );
    assert.equal(p.errorCode, ERRORS.OFFSET_OUT_OF_RANGE.code, `offset ${offset}`);
    assert.equal(p.records, null);
    assert.ok(performance.now() - start < 1000);
  }
});

Deno.test("handleFetch() answers per-partition errors for unknown and non-led partitions", async () => {
  const broker = fixtureBroker();
  const cases = [
    ["nope", 0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ["t", 9, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ["t", 1, ERRORS.NOT_LEADER_OR_FOLLOWER.code],
    ["elsewhere", 0, ERRORS.NOT_LEADER_OR_FOLLOWER.code],
  ] as const;
  for (const [topic, partition, code] of cases) {
    const p = onlyPartition(
      await handleFetch(broker, fetchRequest(topic, partition, 0n, { maxWaitMs: 2000 })),
    );
    assert.equal(p.errorCode, code, `${topic}-${partition}`);
    assert.equal(p.highWatermark, -1n);
  }
});

Deno.test("handleFetch() returns at least one batch even above partitionMaxBytes", async () => {
  const broker = fixtureBroker();
  await handleProduce(
    broker,
    produceRequest("t", 0, concatBytes(fixtureBatch("a", 3), fixtureBatch("b", 3))),
  );
  const p = onlyPartition(
    await handleFetch(broker, fetchRequest("t", 0, 0n, { partitionMaxBytes: 10 })),
  );
  assert.equal(splitBatches(p.records!).length, 1);
});

Deno.test("handleFetch() shares maxBytes across partitions, first partition always gets a batch", async () => {
  const broker = fixtureBroker();
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a", 3)));
  await handleProduce(broker, produceRequest("t", 2, fixtureBatch("b", 3)));
  const response = await handleFetch(broker, {
    ...fetchRequest("t", 0, 0n),
    maxBytes: 1,
    topics: [{
      topic: "t",
      partitions: [
        { partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 },
        { partition: 2, fetchOffset: 0n, partitionMaxBytes: 1 << 20 },
      ],
    }],
  });
  const [p0, p2] = response.responses[0].partitions;
  assert.equal(splitBatches(p0.records!).length, 1);
  assert.equal(p2.errorCode, 0);
  assert.equal(p2.records?.length ?? 0, 0, "the budget is spent");
});

Deno.test("handleFetch() long poll wakes soon after a produce to its partition", async () => {
  const broker = fixtureBroker();
  const start = performance.now();
  const pending = handleFetch(broker, fetchRequest("t", 0, 0n, { maxWaitMs: 2000 }));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(broker.waiters.size, 1, "the fetch is parked");
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("late", 2)));
  const p = onlyPartition(await pending);
  const elapsedMs = performance.now() - start;
  assert.ok(elapsedMs < 1000, `fetch answered after ${elapsedMs} ms`);
  assert.equal(p.errorCode, 0);
  assert.deepEqual(decodeRecords(p.records!).map((r) => r.offset), [0n, 1n]);
  assert.equal(broker.waiters.size, 0);
});

Deno.test("handleFetch() long poll with no produce returns empty after about maxWaitMs", async () => {
  const broker = fixtureBroker();
  const start = performance.now();
  const p = onlyPartition(await handleFetch(broker, fetchRequest("t", 0, 0n, { maxWaitMs: 50 })));
  const elapsedMs = performance.now() - start;
  assert.ok(elapsedMs >= 45, `answered after ${elapsedMs} ms, before maxWaitMs`);
  assert.ok(elapsedMs < 1000, `answered after ${elapsedMs} ms`);
  assert.equal(p.errorCode, 0);
  assert.equal(p.records?.length ?? 0, 0);
  assert.equal(broker.waiters.size, 0);
});

Deno.test("handleFetch() long poll is not woken early by a produce to another partition", async () => {
  const broker = fixtureBroker();
  const start = performance.now();
  const pending = handleFetch(broker, fetchRequest("t", 0, 0n, { maxWaitMs: 150 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await handleProduce(broker, produceRequest("t", 2, fixtureBatch("other")));
  const p = onlyPartition(await pending);
  const elapsedMs = performance.now() - start;
  assert.ok(elapsedMs >= 140, `answered after ${elapsedMs} ms`);
  assert.equal(p.records?.length ?? 0, 0);
});

Deno.test("handleFetch() long poll waits for minBytes", async () => {
  const broker = fixtureBroker();
  const first = fixtureBatch("a");
  const start = performance.now();
  const pending = handleFetch(
    broker,
    fetchRequest("t", 0, 0n, { maxWaitMs: 2000, minBytes: first.length + 1 }),
  );
  await handleProduce(broker, produceRequest("t", 0, first));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(broker.waiters.size, 1, "one small batch is below minBytes");
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("b")));
  const p = onlyPartition(await pending);
  assert.ok(performance.now() - start < 1000);
  assert.equal(splitBatches(p.records!).length, 2);
});

Deno.test("handleFetch() long poll ends when its signal aborts", async () => {
  const broker = fixtureBroker();
  const controller = new AbortController();
  const start = performance.now();
  const pending = handleFetch(
    broker,
    fetchRequest("t", 0, 0n, { maxWaitMs: 2000 }),
    controller.signal,
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  const p = onlyPartition(await pending);
  assert.ok(performance.now() - start < 1000);
  assert.equal(p.records?.length ?? 0, 0);
  assert.equal(broker.waiters.size, 0);
});

Deno.test("handleFetch() long poll answers with an error when the topic is deleted meanwhile", async () => {
  const broker = fixtureBroker();
  const start = performance.now();
  const pending = handleFetch(broker, fetchRequest("t", 0, 0n, { maxWaitMs: 2000 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  broker.applySnapshot(fixtureSnapshot(2, fixtureTopics().filter((t) => t.name !== "t")));
  const p = onlyPartition(await pending);
  assert.ok(performance.now() - start < 1000);
  assert.equal(p.errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
});

Deno.test("handleFetch() does not block the event loop when the park is full", async () => {
  const broker = fixtureBroker();
  const controller = new AbortController();
  const parked: Promise<void>[] = [];
  for (let i = 0; i < PENDING_FETCHES_MAX; i++) {
    parked.push(broker.waiters.wait([`other/${i}`], 60_000, controller.signal));
  }
  try {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const start = performance.now();
    const p = onlyPartition(
      await handleFetch(broker, fetchRequest("t", 0, 0n, { maxWaitMs: 200 })),
    );
    const elapsedMs = performance.now() - start;
    clearInterval(interval);
    assert.equal(p.errorCode, 0);
    assert.equal(p.records?.length ?? 0, 0);
    // Either it answers at once, or it lets timers run while it waits: never a busy loop.
    assert.ok(elapsedMs < 20 || ticks >= 5, `fetch took ${elapsedMs} ms with ${ticks} timer ticks`);
  } finally {
    controller.abort();
    await Promise.all(parked);
  }
});
