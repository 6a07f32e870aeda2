/**
 * Tests for the OffsetForLeaderEpoch handler: answers from the leader's epoch
 * cache, per partition, with errors for partitions it does not lead.
 * @module
 */
import assert from "node:assert/strict";
import { ERRORS, type OffsetForLeaderEpochResponse } from "@kafka-analog/lib/protocol";
import {
  fixtureBatch,
  fixtureSnapshot,
  fixtureTopics,
  produceRequest,
  replicatedBroker,
  replicatedTopic,
} from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { handleOffsetForLeaderEpoch } from "./offset_for_leader_epoch.ts";
import { handleProduce } from "./produce.ts";

function ask(broker: Broker, topic: string, partition: number, leaderEpoch: number) {
  const response: OffsetForLeaderEpochResponse = handleOffsetForLeaderEpoch(broker, {
    replicaId: 1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, leaderEpoch }] }],
  });
  assert.equal(response.topics.length, 1);
  assert.equal(response.topics[0].topic, topic);
  assert.equal(response.topics[0].partitions.length, 1);
  return response.topics[0].partitions[0];
}

/** r-0 led by broker 0: offsets 0..2 in epoch 4, then (re-elected at epoch 7) 3..4 in epoch 7. */
async function twoEpochs(): Promise<Broker> {
  const broker = replicatedBroker({ isr: [0] });
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("a", 3)));
  const reElected = replicatedTopic({ isr: [0] });
  reElected.partitions[0].leaderEpoch = 7;
  broker.applySnapshot(fixtureSnapshot(3, [...fixtureTopics(), reElected]));
  await handleProduce(broker, produceRequest("r", 0, fixtureBatch("b", 2)));
  return broker;
}

Deno.test("handleOffsetForLeaderEpoch() answers where each epoch ends in the leader's log", async () => {
  const broker = await twoEpochs();
  assert.deepEqual(broker.hostedPartition("r", 0).replica.epochCache.entries(), [
    { epoch: 4, startOffset: 0n },
    { epoch: 7, startOffset: 3n },
  ]);
  assert.deepEqual(ask(broker, "r", 0, 4), {
    errorCode: 0,
    partition: 0,
    leaderEpoch: 4,
    endOffset: 3n,
  });
  assert.deepEqual(ask(broker, "r", 0, 7), {
    errorCode: 0,
    partition: 0,
    leaderEpoch: 7,
    endOffset: 5n,
  });
});

Deno.test("handleOffsetForLeaderEpoch() answers an unknown epoch with the largest known one below it", async () => {
  const broker = await twoEpochs();
  // Epochs 5 and 6 never wrote here: the common epoch is 4, ending at 3.
  assert.deepEqual(ask(broker, "r", 0, 6), {
    errorCode: 0,
    partition: 0,
    leaderEpoch: 4,
    endOffset: 3n,
  });
  // Newer than the leader's: its latest, ending at the log end.
  assert.deepEqual(ask(broker, "r", 0, 9), {
    errorCode: 0,
    partition: 0,
    leaderEpoch: 7,
    endOffset: 5n,
  });
  // Older than anything it knows: −1 / −1 (the follower then keeps only what was committed).
  assert.deepEqual(ask(broker, "r", 0, 3), {
    errorCode: 0,
    partition: 0,
    leaderEpoch: -1,
    endOffset: -1n,
  });
});

Deno.test("handleOffsetForLeaderEpoch() answers per-partition errors where it is not the leader", () => {
  const broker = replicatedBroker();
  const cases = [
    ["t", 1, ERRORS.NOT_LEADER_OR_FOLLOWER.code], // a follower here
    ["elsewhere", 0, ERRORS.NOT_LEADER_OR_FOLLOWER.code], // not hosted
    ["nope", 0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ["r", 3, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
  ] as const;
  for (const [topic, partition, code] of cases) {
    assert.deepEqual(
      ask(broker, topic, partition, 0),
      { errorCode: code, partition, leaderEpoch: -1, endOffset: -1n },
      `${topic}-${partition}`,
    );
  }
});

Deno.test("handleOffsetForLeaderEpoch() answers several topics and partitions in request order", async () => {
  const broker = await twoEpochs();
  const response = handleOffsetForLeaderEpoch(broker, {
    replicaId: 1,
    topics: [
      {
        topic: "r",
        partitions: [
          { partition: 0, currentLeaderEpoch: 7, leaderEpoch: 4 },
          { partition: 1, currentLeaderEpoch: 7, leaderEpoch: 4 },
        ],
      },
      { topic: "t", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 4 }] },
    ],
  });
  assert.deepEqual(
    response.topics.map((
      t,
    ) => [t.topic, t.partitions.map((p) => [p.partition, p.errorCode, p.endOffset])]),
    [
      ["r", [[0, 0, 3n], [1, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code, -1n]]],
      ["t", [[0, 0, 0n]]],
    ],
  );
});
