/**
 * Tests of the WebSocket pump with a stand-in socket: back-pressure on
 * `bufferedAmount`, closing a stalled client, and commit frames.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { BufferedConsumer } from "./buffered_consumer.ts";
import { formatMessage } from "./format.ts";
import { StreamSession, type StreamSocket } from "./stream.ts";

const logger = createLogger("test", { sink: () => {} });

/** A socket whose queue only drains when the test says so. */
class StandInSocket implements StreamSocket {
  bufferedAmount = 0;
  readyState = 1;
  frames: string[] = [];
  closed: { code?: number; reason?: string } | null = null;

  send(text: string): void {
    this.frames.push(text);
    this.bufferedAmount += text.length;
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  drain(): void {
    this.bufferedAmount = 0;
  }
}

async function cluster(messages: number, valueBytes = 1000): Promise<FakeCluster> {
  const c = new FakeCluster();
  await c.createTopic({ name: "t", partitions: 2 });
  for (let i = 0; i < messages; i++) {
    await c.produce("t", { value: "x".repeat(valueBytes), partition: i % 2 }, { acks: 1 });
  }
  return c;
}

function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const tick = () => {
      if (check()) return resolve(true);
      if (Date.now() > deadline) return resolve(false);
      setTimeout(tick, 5);
    };
    tick();
  });
}

Deno.test("StreamSession stops sending while the socket is over its bound, then closes a stalled client", async () => {
  const c = await cluster(2000);
  const socket = new StandInSocket();
  const consumer = new BufferedConsumer(await c.readTopic("t", { from: "earliest" }), {
    logger,
    bufferBytesMax: 64 * 1024,
  });
  const session = new StreamSession(consumer, socket, {
    logger,
    format: (m) => formatMessage(c, m, "json"),
    bufferedBytesMax: 32 * 1024,
    takeBytesMax: 8 * 1024,
    stallTimeoutMs: 300,
  });
  const started = Date.now();
  const end = await session.run();
  assert.equal(end, "client too slow");
  assert.deepEqual(socket.closed, { code: 1008, reason: "client too slow" });
  assert.ok(Date.now() - started >= 300);
  // Sent at most the bound plus one take; far from the 2 MB the topic holds.
  const sentBytes = socket.frames.reduce((n, f) => n + f.length, 0);
  assert.ok(sentBytes <= 32 * 1024 + 8 * 1024 + 1100, `sent ${sentBytes} bytes`);
  assert.equal(session.sent, socket.frames.length);
  // The consumer paused: its buffer stayed near its bound (one poll of 2 × 50 messages more).
  assert.ok(socket.frames.length < 100);
});

Deno.test("StreamSession delivers everything in order to a client that keeps reading", async () => {
  const c = await cluster(300, 100);
  const socket = new StandInSocket();
  const consumer = new BufferedConsumer(await c.readTopic("t", { from: "earliest" }), { logger });
  const session = new StreamSession(consumer, socket, {
    logger,
    format: (m) => formatMessage(c, m, "json"),
    bufferedBytesMax: 4 * 1024,
  });
  const drainer = setInterval(() => socket.drain(), 2);
  const running = session.run();
  assert.ok(await waitUntil(() => socket.frames.length >= 300, 5000));
  session.stop();
  assert.equal(await running, "client closed");
  clearInterval(drainer);
  const frames = socket.frames.map((f) => JSON.parse(f));
  for (const p of [0, 1]) {
    const offsets = frames.filter((f) => f.partition === p).map((f) => f.offset);
    assert.deepEqual(offsets, [...Array(150).keys()]);
  }
  assert.equal(frames[0].topic, "t");
  assert.equal(frames[0].value, "x".repeat(100));
});

Deno.test("StreamSession answers commit frames, and error frames for anything else", async () => {
  const c = await cluster(10, 10);
  const socket = new StandInSocket();
  const consumer = new BufferedConsumer(
    c.joinGroup({ groupId: "ws", topics: ["t"], from: "earliest" }),
    { logger },
  );
  const session = new StreamSession(consumer, socket, {
    logger,
    format: (m) => formatMessage(c, m, "json"),
  });
  const running = session.run();
  assert.ok(await waitUntil(() => socket.frames.length >= 10, 5000));
  const control = () => JSON.parse(socket.frames.at(-1)!);
  await session.receive('{"commit": true}');
  assert.deepEqual(control(), {
    type: "committed",
    offsets: [{ topic: "t", partition: 0, offset: 5 }, { topic: "t", partition: 1, offset: 5 }],
  });
  assert.equal(c.group("ws")?.committed.get("t/0"), 5n);
  await session.receive(JSON.stringify({ offsets: [{ topic: "t", partition: 1, offset: 2 }] }));
  assert.deepEqual(control().offsets, [{ topic: "t", partition: 1, offset: 2 }]);
  assert.equal(c.group("ws")?.committed.get("t/1"), 2n);
  for (const bad of ["nope", '{"commit": false}', '{"offsets": []}', new Uint8Array([1])]) {
    await session.receive(bad);
    const frame = control();
    assert.equal(frame.type, "error");
    assert.equal(frame.error.name, "INVALID_REQUEST");
  }
  session.stop();
  await running;
  assert.equal(c.group("ws")?.members.length, 0, "the member left the group");
});

Deno.test("StreamSession without a group refuses commits with an error frame", async () => {
  const c = await cluster(1, 10);
  const socket = new StandInSocket();
  const consumer = new BufferedConsumer(await c.readTopic("t", { from: "earliest" }), { logger });
  const session = new StreamSession(consumer, socket, {
    logger,
    format: (m) => formatMessage(c, m, "json"),
  });
  const running = session.run();
  await session.receive('{"commit": true}');
  const frame = JSON.parse(socket.frames.find((f) => f.includes('"type"'))!);
  assert.equal(frame.error.name, "INVALID_REQUEST");
  assert.match(frame.error.message, /group/);
  session.stop("gateway closing");
  assert.equal(await running, "gateway closing");
  assert.equal(socket.closed?.code, 1001);
});
