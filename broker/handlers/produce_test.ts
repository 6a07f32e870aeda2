/**
 * Tests for the Produce handler against an in-process broker: offsets, acks,
 * and every per-partition error a producer can cause.
 * @module
 */
import assert from "node:assert/strict";
import { decodeRecords, ERRORS, readBatchHeader } from "@kafka-analog/lib/protocol";
import {
  concatBytes,
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  followerFetchRequest,
  manualClock,
  produceRequest,
  replicatedBroker,
  replicatedTopic,
  within,
} from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { handleFetch } from "./fetch.ts";
import { handleProduce } from "./produce.ts";

function onlyPartition(response: Awaited<ReturnType<typeof handleProduce>>) {
  assert.ok(response !== null);
  assert.equal(response.responses.length, 1);
  assert.equal(response.responses[0].partitionResponses.length, 1);
  return response.responses[0].partitionResponses[0];
}

function logEnd(broker: Broker, topic: string, partition: number): bigint {
  return broker.hostedPartition(topic, partition).log.logEndOffset;
}

Deno.test("handleProduce() assigns dense offsets across requests and batches", async () => {
  const broker = fixtureBroker();
  const first = onlyPartition(
    await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a", 3))),
  );
  assert.equal(first.errorCode, 0);
  assert.equal(first.baseOffset, 0n);
  assert.equal(first.index, 0);
  assert.equal(first.logStartOffset, 0n);
  // Two batches in one request: the answer is the first batch's base offset.
  const two = concatBytes(fixtureBatch("b", 2), fixtureBatch("c", 4));
  const second = onlyPartition(await handleProduce(broker, produceRequest("t", 0, two)));
  assert.equal(second.errorCode, 0);
  assert.equal(second.baseOffset, 3n);
  assert.equal(logEnd(broker, "t", 0), 9n);
  // The stored batches carry the leader's epoch (4 in the fixture) and absolute offsets.
  const stored = broker.hostedPartition("t", 0).log.read(5n, 1 << 20).batches;
  assert.equal(stored.length, 1);
  assert.equal(readBatchHeader(stored[0]).partitionLeaderEpoch, 4);
  assert.deepEqual(decodeRecords(stored[0]).map((r) => r.offset), [5n, 6n, 7n, 8n]);
});

Deno.test("handleProduce() with acks=1 and acks=-1 answers; acks=0 appends and returns null", async () => {
  const broker = fixtureBroker();
  assert.equal(
    onlyPartition(await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a"), 1)))
      .errorCode,
    0,
  );
  assert.equal(
    onlyPartition(await handleProduce(broker, produceRequest("t", 0, fixtureBatch("b"), -1)))
      .errorCode,
    0,
  );
  assert.equal(await handleProduce(broker, produceRequest("t", 0, fixtureBatch("c", 2), 0)), null);
  assert.equal(logEnd(broker, "t", 0), 4n);
});

Deno.test("handleProduce() rejects invalid acks with INVALID_REQUIRED_ACKS and appends nothing", async () => {
  const broker = fixtureBroker();
  for (const acks of [2, -2, 3]) {
    const result = onlyPartition(
      await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a"), acks)),
    );
    assert.equal(result.errorCode, ERRORS.INVALID_REQUIRED_ACKS.code, `acks ${acks}`);
    assert.equal(result.baseOffset, -1n);
  }
  assert.equal(logEnd(broker, "t", 0), 0n);
});

Deno.test("handleProduce() answers UNKNOWN_TOPIC_OR_PARTITION for an unknown topic or partition", async () => {
  const broker = fixtureBroker();
  for (const [topic, partition] of [["nope", 0], ["t", 3], ["t", -1]] as const) {
    const result = onlyPartition(
      await handleProduce(broker, produceRequest(topic, partition, fixtureBatch("a"))),
    );
    assert.equal(result.errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code, `${topic}-${partition}`);
    assert.equal(result.index, partition);
    assert.ok(result.errorMessage?.includes(topic));
  }
});

Deno.test("handleProduce() answers NOT_LEADER_OR_FOLLOWER on a follower or a non-replica", async () => {
  const broker = fixtureBroker();
  // t-1 is led by broker 1 (broker 0 is a follower); elsewhere-0 is not hosted here at all.
  for (const [topic, partition] of [["t", 1], ["elsewhere", 0]] as const) {
    const result = onlyPartition(
      await handleProduce(broker, produceRequest(topic, partition, fixtureBatch("a"))),
    );
    assert.equal(result.errorCode, ERRORS.NOT_LEADER_OR_FOLLOWER.code, `${topic}-${partition}`);
  }
  assert.equal(logEnd(broker, "t", 1), 0n);
});

Deno.test("handleProduce() answers CORRUPT_MESSAGE for a bad CRC and appends nothing", async () => {
  const broker = fixtureBroker();
  const batch = fixtureBatch("a", 2);
  batch[batch.length - 1] ^= 0xff; // a byte of the last record, inside the CRC range
  const result = onlyPartition(await handleProduce(broker, produceRequest("t", 0, batch)));
  assert.equal(result.errorCode, ERRORS.CORRUPT_MESSAGE.code);
  assert.equal(logEnd(broker, "t", 0), 0n);
});

Deno.test("handleProduce() appends none of a request's batches when a later one is corrupt", async () => {
  const broker = fixtureBroker();
  const bad = fixtureBatch("bad");
  bad[bad.length - 1] ^= 0x01;
  const result = onlyPartition(
    await handleProduce(broker, produceRequest("t", 0, concatBytes(fixtureBatch("good", 2), bad))),
  );
  assert.equal(result.errorCode, ERRORS.CORRUPT_MESSAGE.code);
  assert.equal(logEnd(broker, "t", 0), 0n);
});

Deno.test("handleProduce() answers CORRUPT_MESSAGE for null, empty, cut or garbage records", async () => {
  const broker = fixtureBroker();
  const whole = fixtureBatch("a", 2);
  const cases: [string, Uint8Array | null][] = [
    ["null", null],
    ["empty", new Uint8Array(0)],
    ["cut batch", whole.subarray(0, whole.length - 3)],
    ["header only", whole.subarray(0, 30)],
    ["garbage", new Uint8Array(100).fill(0xab)],
  ];
  for (const [what, records] of cases) {
    const result = onlyPartition(await handleProduce(broker, produceRequest("t", 0, records)));
    assert.equal(result.errorCode, ERRORS.CORRUPT_MESSAGE.code, what);
  }
  assert.equal(logEnd(broker, "t", 0), 0n);
});

Deno.test("handleProduce() answers MESSAGE_TOO_LARGE above the topic's or broker's max.message.bytes", async () => {
  const broker = fixtureBroker({ settings: { maxMessageBytes: 300, fetchMaxWaitMs: 500 } });
  const big = fixtureBatch("x", 1, [{ value: new Uint8Array(200) }]);
  assert.ok(big.length > 200 && big.length <= 300, `batch is ${big.length} bytes`);
  // "small" sets max.message.bytes 200 itself.
  const topicLimit = onlyPartition(await handleProduce(broker, produceRequest("small", 0, big)));
  assert.equal(topicLimit.errorCode, ERRORS.MESSAGE_TOO_LARGE.code);
  // "t" has no topic config, so the broker's 300 applies: this batch passes, a bigger one does not.
  assert.equal(
    onlyPartition(await handleProduce(broker, produceRequest("t", 0, big))).errorCode,
    0,
  );
  const bigger = fixtureBatch("y", 1, [{ value: new Uint8Array(400) }]);
  const brokerLimit = onlyPartition(await handleProduce(broker, produceRequest("t", 0, bigger)));
  assert.equal(brokerLimit.errorCode, ERRORS.MESSAGE_TOO_LARGE.code);
  assert.equal(logEnd(broker, "t", 0), 1n);
  assert.equal(logEnd(broker, "small", 0), 0n);
});

Deno.test("handleProduce() answers each partition on its own", async () => {
  const broker = fixtureBroker();
  const response = await handleProduce(broker, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: "t",
        partitionData: [
          { index: 0, records: fixtureBatch("a", 2) },
          { index: 1, records: fixtureBatch("b") },
          { index: 2, records: fixtureBatch("c") },
        ],
      },
      { name: "gone", partitionData: [{ index: 0, records: fixtureBatch("d") }] },
    ],
  });
  assert.ok(response !== null);
  assert.deepEqual(
    response.responses.map((
      t,
    ) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode])]),
    [
      ["t", [[0, 0], [1, ERRORS.NOT_LEADER_OR_FOLLOWER.code], [2, 0]]],
      ["gone", [[0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code]]],
    ],
  );
  assert.equal(logEnd(broker, "t", 0), 2n);
  assert.equal(logEnd(broker, "t", 2), 1n);
});

Deno.test("handleProduce() wakes a fetch parked on the partition", async () => {
  const broker = fixtureBroker();
  const parked = broker.waiters.wait(["t/0"], 10_000);
  assert.equal(broker.waiters.size, 1);
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a")));
  await parked;
  assert.equal(broker.waiters.size, 0);
});

Deno.test("handleProduce() acks=-1 answers only after the follower in the ISR fetched past the batch", async () => {
  const broker = replicatedBroker(); // r-0: leader 0, ISR [0, 1]
  const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 3), -1));
  assert.equal(logEnd(broker, "r", 0), 3n, "appended before waiting");
  assert.equal(await within(pending, 30), "pending");
  // The follower fetches from 0 (has nothing), then copies offsets 0..1 only: still not enough.
  await handleFetch(broker, followerFetchRequest("r", 0, 0n, 1));
  assert.equal(broker.hostedPartition("r", 0).replica.highWatermark, 0n);
  assert.equal(await within(pending, 20), "pending");
  // Its next fetch from offset 3 says it has everything: the high watermark reaches 3.
  await handleFetch(broker, followerFetchRequest("r", 0, 3n, 1));
  const answer = onlyPartition(await within(pending, 1000) as Awaited<typeof pending>);
  assert.equal(answer.errorCode, 0);
  assert.equal(answer.baseOffset, 0n);
  assert.equal(broker.hostedPartition("r", 0).replica.highWatermark, 3n);
});

Deno.test("handleProduce() acks=-1 also completes through Replica.onFollowerFetch()", async () => {
  const broker = replicatedBroker();
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), 1));
  const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("b", 1), -1));
  const { replica } = broker.hostedPartition("r", 0);
  replica.onFollowerFetch(1, 2n, broker.now());
  assert.equal(await within(pending, 20), "pending", "offset 2 still missing on the follower");
  replica.onFollowerFetch(1, 3n, broker.now());
  const answer = onlyPartition(await within(pending, 1000) as Awaited<typeof pending>);
  assert.deepEqual([answer.errorCode, answer.baseOffset], [0, 2n]);
});

Deno.test("handleProduce() acks=1 answers at once on a replicated partition, before the high watermark moves", async () => {
  const broker = replicatedBroker();
  const answer = onlyPartition(
    await within(
      handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), 1)),
      1000,
    ) as Awaited<ReturnType<typeof handleProduce>>,
  );
  assert.deepEqual([answer.errorCode, answer.baseOffset], [0, 0n]);
  assert.equal(broker.hostedPartition("r", 0).replica.highWatermark, 0n);
  assert.equal(
    await handleProduce(broker, produceRequest("r", 0, fixtureBatch("b"), 0)),
    null,
    "acks=0 does not wait either",
  );
  assert.equal(logEnd(broker, "r", 0), 3n);
});

Deno.test("handleProduce() acks=-1 answers REQUEST_TIMED_OUT when the ISR does not catch up in time", async () => {
  const broker = replicatedBroker();
  const start = performance.now();
  const answer = onlyPartition(
    await handleProduce(broker, {
      ...produceRequest("r", 0, fixtureBatch("a"), -1),
      timeoutMs: 40,
    }),
  );
  assert.ok(performance.now() - start >= 35);
  assert.equal(answer.errorCode, ERRORS.REQUEST_TIMED_OUT.code);
  assert.equal(answer.baseOffset, -1n);
  assert.ok(answer.errorMessage?.includes("r-0"));
  assert.equal(logEnd(broker, "r", 0), 1n, "the batch stays appended (as in Kafka)");
});

Deno.test("handleProduce() acks=-1 answers NOT_LEADER_OR_FOLLOWER when leadership moves while it waits", async () => {
  const broker = replicatedBroker();
  const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("a"), -1));
  assert.equal(await within(pending, 20), "pending");
  const moved = replicatedTopic();
  moved.partitions[0] = { ...moved.partitions[0], leader: 1, leaderEpoch: 5 };
  broker.applySnapshot(fixtureSnapshot(3, [...fixtureTopics(), moved]));
  const answer = onlyPartition(await within(pending, 1000) as Awaited<typeof pending>);
  assert.equal(answer.errorCode, ERRORS.NOT_LEADER_OR_FOLLOWER.code);
});

Deno.test("handleProduce() acks=-1 with min.insync.replicas=2 and ISR [leader] answers NOT_ENOUGH_REPLICAS", async () => {
  const broker = replicatedBroker({ isr: [0], configs: { "min.insync.replicas": "2" } });
  const refused = onlyPartition(
    await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), -1)),
  );
  assert.equal(refused.errorCode, ERRORS.NOT_ENOUGH_REPLICAS.code);
  assert.ok(refused.errorMessage?.includes("min.insync.replicas is 2"));
  assert.equal(logEnd(broker, "r", 0), 0n, "nothing appended");
  // acks=1 ignores min.insync.replicas.
  const acks1 = onlyPartition(
    await handleProduce(broker, produceRequest("r", 0, fixtureBatch("b", 2), 1)),
  );
  assert.deepEqual([acks1.errorCode, acks1.baseOffset], [0, 0n]);
});

Deno.test("handleProduce() acks=-1 with min.insync.replicas=2 and a full ISR is accepted", async () => {
  const broker = replicatedBroker({ configs: { "min.insync.replicas": "2" } });
  const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 2), -1));
  await handleFetch(broker, followerFetchRequest("r", 0, 2n, 1));
  const answer = onlyPartition(await within(pending, 1000) as Awaited<typeof pending>);
  assert.deepEqual([answer.errorCode, answer.baseOffset], [0, 0n]);
});

Deno.test({
  // Was a bug (fixed): broker/handlers/produce.ts:49 (handleProduce's waitForHighWatermark) — an acks=all
  // produce that passed the min.insync.replicas check is acknowledged when the ISR then shrinks below min.insync.replicas (the high watermark
  // advances over the smaller ISR). Kafka answers NOT_ENOUGH_REPLICAS_AFTER_APPEND here: the
  // record is on fewer replicas than the topic demands. Fix: when the wait completes, re-check
  // hosted.replica.state.isr.length against min.insync.replicas and fail the partition with
  // NOT_ENOUGH_REPLICAS_AFTER_APPEND.
  name:
    "handleProduce() acks=-1 answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below min.insync.replicas",

  fn: async () => {
    const broker = replicatedBroker({ configs: { "min.insync.replicas": "2" } });
    const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("a"), -1));
    assert.equal(await within(pending, 20), "pending");
    const shrunk = replicatedTopic({ isr: [0], configs: { "min.insync.replicas": "2" } });
    broker.applySnapshot(fixtureSnapshot(3, [...fixtureTopics(), shrunk]));
    const answer = onlyPartition(await within(pending, 1000) as Awaited<typeof pending>);
    assert.equal(answer.errorCode, ERRORS.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code);
  },
});

Deno.test("handleProduce() refuses writes with NOT_LEADER_OR_FOLLOWER once heartbeats are older than sessionTimeoutMs", async () => {
  const clock = manualClock();
  const broker = fixtureBroker({
    now: clock.now,
    settings: { maxMessageBytes: 1 << 20, fetchMaxWaitMs: 500, sessionTimeoutMs: 3_000 },
  });
  assert.equal(broker.lastHeartbeatOkMs, clock.now(), "starts as if just heard from");
  clock.advance(3_000);
  const atLimit = onlyPartition(
    await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a"))),
  );
  assert.equal(atLimit.errorCode, 0, "exactly the session timeout is still fine");
  clock.advance(1);
  const fenced = onlyPartition(
    await handleProduce(broker, produceRequest("t", 0, fixtureBatch("b"))),
  );
  assert.equal(fenced.errorCode, ERRORS.NOT_LEADER_OR_FOLLOWER.code);
  assert.match(fenced.errorMessage ?? "", /has not reached the coordinator for 3001 ms/);
  assert.equal(logEnd(broker, "t", 0), 1n);
  assert.throws(() => broker.writablePartition("t", 0), /refusing writes to t-0/);
  // Reads are still served; a fresh heartbeat lifts the fence.
  assert.equal(broker.leaderPartition("t", 0).state.leader, 0);
  broker.lastHeartbeatOkMs = clock.now();
  const again = onlyPartition(
    await handleProduce(broker, produceRequest("t", 0, fixtureBatch("c"))),
  );
  assert.deepEqual([again.errorCode, again.baseOffset], [0, 1n]);
});

Deno.test("Broker.writablePartition() never fences with sessionTimeoutMs unset or 0", async () => {
  for (const sessionTimeoutMs of [undefined, 0]) {
    const clock = manualClock();
    const broker = fixtureBroker({
      now: clock.now,
      settings: { maxMessageBytes: 1 << 20, fetchMaxWaitMs: 500, sessionTimeoutMs },
    });
    clock.advance(1_000_000);
    const answer = onlyPartition(
      await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a"))),
    );
    assert.equal(answer.errorCode, 0, `sessionTimeoutMs ${sessionTimeoutMs}`);
  }
});
