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
  followerFetchRequest,
  manualClock,
  produceRequest,
  replicatedBroker,
  within,
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

Deno.test("handleFetch() consumers see only records below the high watermark", async () => {
  const broker = replicatedBroker(); // r-0: leader 0, ISR [0, 1]
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 3), 1));
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("b", 2), 1));
  const before = onlyPartition(await handleFetch(broker, fetchRequest("r", 0, 0n)));
  assert.equal(before.errorCode, 0);
  assert.equal(before.highWatermark, 0n);
  assert.equal(before.records?.length ?? 0, 0, "nothing is committed yet");
  // Offsets between the high watermark and the log end are in range, just not readable yet.
  const above = onlyPartition(await handleFetch(broker, fetchRequest("r", 0, 4n)));
  assert.equal(above.errorCode, 0);
  assert.equal(above.records?.length ?? 0, 0);
  // The follower has the first batch: offsets 0..2 become visible, 3..4 do not.
  await handleFetch(broker, followerFetchRequest("r", 0, 3n, 1));
  const after = onlyPartition(await handleFetch(broker, fetchRequest("r", 0, 0n)));
  assert.equal(after.highWatermark, 3n);
  assert.equal(after.lastStableOffset, 3n);
  assert.deepEqual(decodeRecords(after.records!).map((r) => r.offset), [0n, 1n, 2n]);
});

Deno.test("handleFetch() from a follower reads up to the log end and reports the leader's high watermark", async () => {
  const broker = replicatedBroker();
  await handleProduce(
    broker,
    produceRequest("r", 0, concatBytes(fixtureBatch("a", 3), fixtureBatch("b", 2)), 1),
  );
  const p = onlyPartition(await handleFetch(broker, followerFetchRequest("r", 0, 0n, 1)));
  assert.equal(p.errorCode, 0);
  assert.equal(p.highWatermark, 0n);
  assert.deepEqual(splitBatches(p.records!).map((s) => s.header.baseOffset), [0n, 3n]);
  // The leader's view of follower 1 was updated by the fetch.
  const { replica } = broker.hostedPartition("r", 0);
  assert.equal(replica.followers.get(1)?.logEndOffset, 0n);
  const next = onlyPartition(await handleFetch(broker, followerFetchRequest("r", 0, 5n, 1)));
  assert.equal(next.highWatermark, 5n, "the fetch that proves the follower has 0..4 commits them");
  assert.equal(next.records?.length ?? 0, 0);
});

Deno.test("handleFetch() wakes a consumer parked at the high watermark when a follower fetch advances it", async () => {
  const broker = replicatedBroker();
  const start = performance.now();
  const parked = handleFetch(broker, fetchRequest("r", 0, 0n, { maxWaitMs: 3000 }));
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), 1));
  assert.equal(await within(parked, 30), "pending", "uncommitted data does not answer a consumer");
  await handleFetch(broker, followerFetchRequest("r", 0, 2n, 1));
  const p = await within(parked, 1000);
  assert.ok(p !== "pending", "the consumer was not woken");
  assert.ok(performance.now() - start < 1500);
  assert.deepEqual(decodeRecords(onlyPartition(p).records!).map((r) => r.offset), [0n, 1n]);
});

Deno.test("handleFetch() follower long poll wakes on a produce (before the high watermark moves)", async () => {
  const broker = replicatedBroker();
  const parked = handleFetch(broker, followerFetchRequest("r", 0, 0n, 1, { maxWaitMs: 3000 }));
  assert.equal(await within(parked, 20), "pending");
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), 1));
  const p = await within(parked, 1000);
  assert.ok(p !== "pending");
  assert.deepEqual(decodeRecords(onlyPartition(p).records!).map((r) => r.offset), [0n, 1n]);
});

Deno.test("handleFetch() fences an older leader epoch and refuses a newer one (KIP-320)", async () => {
  const broker = fixtureBroker(); // t-0 is at leader epoch 4
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a")));
  const cases: [number | undefined, number][] = [
    [undefined, 0],
    [-1, 0],
    [4, 0],
    [3, ERRORS.FENCED_LEADER_EPOCH.code],
    [0, ERRORS.FENCED_LEADER_EPOCH.code],
    [5, ERRORS.UNKNOWN_LEADER_EPOCH.code],
  ];
  for (const [currentLeaderEpoch, code] of cases) {
    for (const replicaId of [-1, 1]) {
      const request = replicaId < 0
        ? fetchRequest("t", 0, 0n, { currentLeaderEpoch, maxWaitMs: 2000 })
        : followerFetchRequest("t", 0, 0n, replicaId, { currentLeaderEpoch, maxWaitMs: 2000 });
      const p = onlyPartition(await handleFetch(broker, request));
      assert.equal(p.errorCode, code, `epoch ${currentLeaderEpoch}, replica ${replicaId}`);
      assert.equal(p.records === null, code !== 0);
    }
  }
});

Deno.test("handleFetch() from a broker that is not a replica does not change the leader's view", async () => {
  const broker = replicatedBroker();
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), 1));
  await handleFetch(broker, followerFetchRequest("r", 0, 2n, 7));
  const { replica } = broker.hostedPartition("r", 0);
  assert.equal(replica.highWatermark, 0n);
  assert.deepEqual([...replica.followers.keys()], [1]);
});

Deno.test("Broker.isrProposals() follows follower fetches: join when caught up, leave after the lag limit", async () => {
  const clock = manualClock();
  const broker = replicatedBroker({
    isr: [0],
    now: clock.now,
    settings: { maxMessageBytes: 1 << 20, fetchMaxWaitMs: 500, replicaLagTimeMaxMs: 1_000 },
  });
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2)));
  assert.deepEqual(broker.isrProposals(), []);
  await handleFetch(broker, followerFetchRequest("r", 0, 2n, 1));
  const [join] = broker.isrProposals();
  assert.equal(join.replica.topic, "r");
  assert.deepEqual(join.isr, [0, 1]);
  // The coordinator applies it; then the follower stops fetching.
  const withFollower = fixtureSnapshot(3, [
    ...fixtureTopics(),
    {
      ...broker.hostedPartition("r", 0).topic,
      partitions: [{ ...join.replica.state, isr: [0, 1] }],
    },
  ]);
  broker.applySnapshot(withFollower);
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("b"), 1));
  clock.advance(1_000);
  assert.deepEqual(broker.isrProposals(), []);
  clock.advance(1);
  assert.deepEqual(broker.isrProposals().map((p) => p.isr), [[0]]);
});

Deno.test({
  // Was a bug (fixed): broker/handlers/fetch.ts:25 — handleFetch() calls recordFollowerFetch() (:116) before
  // readOnce()'s KIP-320 epoch check, so a follower fetch answered FENCED_LEADER_EPOCH (stale
  // metadata; its log may hold another epoch's records at these offsets) still moves the
  // leader's view of it and the high watermark, and releases acks=all produces. Kafka updates follower state only
  // for partitions read without error. Fix: run checkEpoch (and the offset range check) first
  // and call onFollowerFetch only for partitions answered with errorCode 0.
  name: "handleFetch() a fenced follower fetch does not advance the high watermark",

  fn: async () => {
    const broker = replicatedBroker(); // r-0 at epoch 4, ISR [0, 1]
    await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 3), 1));
    const p = onlyPartition(
      await handleFetch(broker, followerFetchRequest("r", 0, 3n, 1, { currentLeaderEpoch: 3 })),
    );
    assert.equal(p.errorCode, ERRORS.FENCED_LEADER_EPOCH.code);
    const { replica } = broker.hostedPartition("r", 0);
    assert.equal(replica.followers.get(1)?.logEndOffset, -1n);
    assert.equal(replica.highWatermark, 0n);
  },
});

Deno.test({
  // Was a bug (fixed): broker/handlers/fetch.ts:25/:116 and broker/replication/replica.ts:125
  // (onFollowerFetch) — a follower fetch from beyond the leader's log end (a divergent, longer
  // log: e.g. the leader restarted empty, or was elected uncleanly) is answered
  // OFFSET_OUT_OF_RANGE, yet the leader records that follower as caught up with logEndOffset =
  // fetchOffset. proposedIsr() then adds it to the ISR although it holds different records, and
  // the high watermark counts it. Fix: as above, update follower state only when the read
  // succeeded (fetchOffset within logStartOffset..logEndOffset).
  name: "handleFetch() a follower fetch beyond the log end is not counted as caught up",

  fn: async () => {
    const clock = manualClock();
    const broker = replicatedBroker({ isr: [0], now: clock.now });
    await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2)));
    const p = onlyPartition(await handleFetch(broker, followerFetchRequest("r", 0, 10n, 1)));
    assert.equal(p.errorCode, ERRORS.OFFSET_OUT_OF_RANGE.code);
    assert.deepEqual(broker.isrProposals(), [], "a diverged follower must not join the ISR");
    assert.equal(broker.hostedPartition("r", 0).replica.followers.get(1)?.logEndOffset, -1n);
  },
});
