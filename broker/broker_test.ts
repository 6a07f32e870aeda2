/**
 * Tests for the broker's state: snapshot adoption, hosted logs and lookups.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { ERRORS } from "@kafka-analog/lib/protocol";
import type { TopicState } from "@kafka-analog/lib/cluster";
import {
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  produceRequest,
  replicatedBroker,
  within,
} from "./_fixtures.ts";
import { Broker } from "./broker.ts";
import { createLogger } from "@kafka-analog/lib/log";
import { handleProduce } from "./handlers/produce.ts";
import { MemoryLog } from "./log/memory_log.ts";

function without(name: string): TopicState[] {
  return fixtureTopics().filter((t) => t.name !== name);
}

Deno.test("Broker starts with no snapshot and version -1", () => {
  const broker = new Broker({
    id: 0,
    settings: { maxMessageBytes: 1000, fetchMaxWaitMs: 500 },
    logger: createLogger("t", { sink: () => {} }),
    now: () => 0,
  });
  assert.equal(broker.snapshot, null);
  assert.equal(broker.metadataVersion, -1);
  assert.throws(
    () => broker.leaderPartition("t", 0),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
});

Deno.test("Broker.applySnapshot() opens a log for every partition it hosts, leader or follower", () => {
  const made: string[] = [];
  const broker = fixtureBroker({
    makeLog: (topic, partition) => {
      made.push(`${topic}/${partition}`);
      return new MemoryLog();
    },
  });
  assert.deepEqual(made.sort(), ["small/0", "t/0", "t/1", "t/2"]);
  assert.equal(broker.metadataVersion, 1);
  assert.equal(broker.hostedPartition("t", 1).state.leader, 1);
  assert.throws(
    () => broker.leaderPartition("t", 1),
    (e) => isKaError(e, "NOT_LEADER_OR_FOLLOWER"),
  );
  assert.throws(
    () => broker.hostedPartition("elsewhere", 0),
    (e) => isKaError(e, "NOT_LEADER_OR_FOLLOWER"),
  );
});

Deno.test("Broker.applySnapshot() ignores older and equal versions", () => {
  const broker = fixtureBroker();
  broker.applySnapshot(fixtureSnapshot(5));
  broker.applySnapshot(fixtureSnapshot(4, without("t")));
  broker.applySnapshot(fixtureSnapshot(5, without("t")));
  assert.equal(broker.metadataVersion, 5);
  assert.ok(broker.snapshot?.topics.some((t) => t.name === "t"));
  assert.equal(broker.leaderPartition("t", 0).state.partition, 0);
});

Deno.test("Broker.applySnapshot() keeps logs across versions and drops those of deleted topics", async () => {
  const broker = fixtureBroker();
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("a", 3)));
  broker.applySnapshot(fixtureSnapshot(2));
  assert.equal(broker.leaderPartition("t", 0).log.logEndOffset, 3n, "a newer snapshot keeps data");
  broker.applySnapshot(fixtureSnapshot(3, without("t")));
  assert.throws(
    () => broker.leaderPartition("t", 0),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
  const result = await handleProduce(broker, produceRequest("t", 0, fixtureBatch("b")));
  assert.equal(result?.responses[0].partitionResponses[0].errorCode, 3);
  // Re-created under the same name, the topic starts from an empty log.
  broker.applySnapshot(fixtureSnapshot(4));
  assert.equal(broker.leaderPartition("t", 0).log.logEndOffset, 0n);
});

Deno.test("Broker.applySnapshot() drops a partition reassigned away and follows leadership moves", async () => {
  const broker = fixtureBroker();
  await handleProduce(broker, produceRequest("t", 2, fixtureBatch("a")));
  const topics = fixtureTopics();
  topics[0].partitions[2] = { partition: 2, leader: 1, leaderEpoch: 1, replicas: [1], isr: [1] };
  topics[0].partitions[1] = { partition: 1, leader: 0, leaderEpoch: 3, replicas: [1, 0], isr: [0] };
  broker.applySnapshot(fixtureSnapshot(2, topics));
  assert.throws(
    () => broker.hostedPartition("t", 2),
    (e) => isKaError(e, "NOT_LEADER_OR_FOLLOWER"),
  );
  assert.equal(broker.leaderPartition("t", 1).state.leaderEpoch, 3);
});

Deno.test("Broker.applySnapshot() wakes fetches parked on a dropped partition", async () => {
  const broker = fixtureBroker();
  const parked = broker.waiters.wait(["t/0"], 10_000);
  broker.applySnapshot(fixtureSnapshot(2, without("t")));
  await parked;
  assert.equal(broker.waiters.size, 0);
});

Deno.test("Broker.maxMessageBytes() prefers the topic config over the broker setting", () => {
  const broker = fixtureBroker({ settings: { maxMessageBytes: 4096, fetchMaxWaitMs: 500 } });
  assert.equal(broker.maxMessageBytes(broker.leaderPartition("small", 0).topic), 200);
  assert.equal(broker.maxMessageBytes(broker.leaderPartition("t", 0).topic), 4096);
});

Deno.test("Broker.applySnapshot() hands leadership changes to the replica and wakes parked fetches", async () => {
  const broker = fixtureBroker();
  // t-1 is led by broker 1 at epoch 2; broker 0 follows it.
  const follower = broker.hostedPartition("t", 1).replica;
  assert.equal(follower.isLeader, false);
  assert.equal(follower.needsTruncation, true, "a new follower checks its tail before fetching");
  const parked = broker.waiters.wait(["t/1"], 10_000);
  const topics = fixtureTopics();
  topics[0].partitions[1] = { partition: 1, leader: 0, leaderEpoch: 3, replicas: [1, 0], isr: [0] };
  broker.applySnapshot(fixtureSnapshot(2, topics));
  assert.equal(await within(parked, 1000), undefined, "the parked fetch was woken");
  const leader = broker.leaderPartition("t", 1).replica;
  assert.equal(leader, follower, "the same replica object, now leading");
  assert.ok(leader.isLeader);
  assert.deepEqual(leader.epochCache.entries(), [{ epoch: 3, startOffset: 0n }]);
  assert.equal(leader.needsTruncation, false);
});

Deno.test("Broker.applySnapshot() calls onMetadata listeners for adopted snapshots only", () => {
  const broker = fixtureBroker();
  let calls = 0;
  broker.onMetadata(() => calls++);
  broker.applySnapshot(fixtureSnapshot(2));
  broker.applySnapshot(fixtureSnapshot(2));
  broker.applySnapshot(fixtureSnapshot(1));
  assert.equal(calls, 1);
  broker.applySnapshot(fixtureSnapshot(1), { force: true });
  assert.equal(calls, 2, "a forced snapshot (re-registration) is adopted even if older");
  assert.equal(broker.metadataVersion, 1);
});

Deno.test("Broker.applySnapshot() fails acks=all produces of a partition that is dropped", async () => {
  const broker = replicatedBroker();
  const pending = handleProduce(broker, produceRequest("r", 0, fixtureBatch("a"), -1));
  assert.equal(await within(pending, 20), "pending");
  broker.applySnapshot(fixtureSnapshot(3));
  const answer = await within(pending, 1000);
  assert.ok(answer !== "pending" && answer !== null);
  assert.equal(
    answer.responses[0].partitionResponses[0].errorCode,
    ERRORS.NOT_LEADER_OR_FOLLOWER.code,
  );
});

Deno.test("Broker.highWatermark() is the replica's, below the log end until the ISR has the records", async () => {
  const broker = replicatedBroker();
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 4), 1));
  const hosted = broker.leaderPartition("r", 0);
  assert.equal(hosted.log.logEndOffset, 4n);
  assert.equal(broker.highWatermark(hosted), 0n);
  hosted.replica.onFollowerFetch(1, 4n, broker.now());
  assert.equal(broker.highWatermark(hosted), 4n);
  // On the single-ISR fixture partition it is the log end at once.
  await handleProduce(broker, produceRequest("t", 0, fixtureBatch("b", 2)));
  assert.equal(broker.highWatermark(broker.leaderPartition("t", 0)), 2n);
});
