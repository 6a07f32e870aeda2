/**
 * Tests for the Produce handler against an in-process broker: offsets, acks,
 * and every per-partition error a producer can cause.
 * @module
 */
import assert from "node:assert/strict";
import { decodeRecords, ERRORS, readBatchHeader } from "@kafka-analog/lib/protocol";
import { concatBytes, fixtureBatch, fixtureBroker, produceRequest } from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
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
