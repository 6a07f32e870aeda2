/**
 * Tests of the background-polled, bounded consumer buffer.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { BufferedConsumer } from "./buffered_consumer.ts";

const logger = createLogger("test", { sink: () => {} });

async function topic(messages: number): Promise<FakeCluster> {
  const c = new FakeCluster();
  await c.createTopic({ name: "t", partitions: 2 });
  for (let i = 0; i < messages; i++) {
    await c.produce("t", { value: "v".repeat(200), partition: i % 2 }, { acks: 1 });
  }
  return c;
}

Deno.test("BufferedConsumer pauses fetching at its bound and resumes as messages are taken", async () => {
  const c = await topic(1000);
  const consumer = new BufferedConsumer(await c.readTopic("t", { from: "earliest" }), {
    logger,
    bufferBytesMax: 10_000,
  });
  try {
    consumer.start();
    await new Promise((r) => setTimeout(r, 100));
    // Bound plus at most one poll (2 partitions × 50 messages of ~264 bytes).
    assert.ok(consumer.bufferedBytes >= 10_000, `${consumer.bufferedBytes}`);
    assert.ok(consumer.bufferedBytes <= 10_000 + 100 * 270, `${consumer.bufferedBytes}`);
    const before = consumer.bufferedBytes;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(consumer.bufferedBytes, before, "paused: nothing more was fetched");
    let taken = 0;
    for (let i = 0; i < 200 && taken < 1000; i++) {
      taken += (await consumer.take(100, 200, 5_000)).length;
    }
    assert.equal(taken, 1000);
    assert.deepEqual(consumer.uncommitted(), [
      { topic: "t", partition: 0, offset: 500n },
      { topic: "t", partition: 1, offset: 500n },
    ]);
  } finally {
    await consumer.close();
  }
});

Deno.test("BufferedConsumer.take() bounds count and bytes, waits for the first message, times out empty", async () => {
  const c = await topic(0);
  const consumer = new BufferedConsumer(await c.readTopic("t", { from: "earliest" }), { logger });
  try {
    consumer.start();
    const started = Date.now();
    assert.deepEqual(await consumer.take(10, 60), []);
    assert.ok(Date.now() - started >= 55);
    const waiting = consumer.take(10, 2000, 500);
    await c.produce("t", { value: "a".repeat(200), partition: 0 }, { acks: 1 });
    await c.produce("t", { value: "b".repeat(200), partition: 0 }, { acks: 1 });
    await c.produce("t", { value: "c".repeat(200), partition: 0 }, { acks: 1 });
    const first = await waiting;
    assert.ok(first.length >= 1 && first.length <= 2, `${first.length} messages`);
  } finally {
    await consumer.close();
  }
});

Deno.test("BufferedConsumer drops what it buffered of partitions a rebalance took away", async () => {
  const c = await topic(200);
  const a = new BufferedConsumer(c.joinGroup({ groupId: "g", topics: ["t"], from: "earliest" }), {
    logger,
  });
  const b = new BufferedConsumer(c.joinGroup({ groupId: "g", topics: ["t"], from: "earliest" }), {
    logger,
  });
  try {
    a.start();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.assignment().length, 2);
    await a.take(10, 100); // delivered some of partition 0
    b.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.assignment().length, 1);
    assert.equal(b.assignment().length, 1);
    const ownedByA = a.assignment()[0].partition;
    const rest = await a.take(1000, 100);
    assert.ok(rest.every((m) => m.partition === ownedByA));
    assert.ok(a.uncommitted().every((o) => o.partition === ownedByA));
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("BufferedConsumer reports a fatal poll error once the buffer is empty", async () => {
  const c = await topic(0);
  const source = await c.readTopic("t", { from: "earliest" });
  source.poll = () => Promise.reject(new Error("boom"));
  const consumer = new BufferedConsumer(source, { logger });
  try {
    consumer.start();
    await assert.rejects(consumer.take(1, 1000), /boom/);
    assert.equal(consumer.failure?.message, "boom");
  } finally {
    await consumer.close();
  }
});
