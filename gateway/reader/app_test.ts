/**
 * Tests of the reader gateway through `app.request()` on an in-memory cluster.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { KaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import type { ConsumedMessage } from "../shared/cluster.ts";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { createReaderApp } from "./app.ts";

const encoder = new TextEncoder();
const NOW_MS = 1_700_000_000_000;

async function setup(cluster = new FakeCluster({ nowMs: NOW_MS })) {
  const lines: string[] = [];
  const logger = createLogger("gateway-reader", { sink: (line) => lines.push(line) });
  await cluster.createTopic({ name: "events", partitions: 2 });
  const { app } = createReaderApp(cluster, { logger });
  return { cluster, app, lines };
}

function url(query: string, topic = "events", partition: string | number = 0): string {
  return `/api/v1/topics/${topic}/partitions/${partition}/messages${query}`;
}

async function expectError(
  res: Response,
  status: number,
  expected: { name: string; field?: string },
): Promise<void> {
  assert.equal(res.status, status);
  const { error } = await res.json();
  assert.equal(error.name, expected.name);
  assert.equal(error.field, expected.field);
  if (expected.field !== undefined) {
    assert.ok(error.message.startsWith(`Invalid parameter '${expected.field}': `), error.message);
  }
}

Deno.test("messages come back decoded as JSON when they parse, else as strings", async () => {
  const { app, cluster } = await setup();
  const values: (string | Uint8Array | null)[] = [
    '{"a":1,"b":[true,null]}',
    "plain text ✓",
    "42",
    "12345678901234567890",
    "1.0",
    '"quoted"',
    null,
    new Uint8Array([0xff, 0x41]),
  ];
  for (const value of values) {
    await cluster.produce("events", { value, key: "k1", partition: 0 }, { acks: "all" });
  }
  await cluster.produce("events", {
    value: "v",
    partition: 0,
    timestamp: 5,
    headers: [{ key: "h", value: '{"x":2}' }, { key: "n", value: null }],
  }, { acks: 1 });

  const res = await app.request(url("?offset=0"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.messages.map((m: { value: unknown }) => m.value), [
    { a: 1, b: [true, null] },
    "plain text ✓",
    42,
    "12345678901234567890",
    "1.0",
    "quoted",
    null,
    "\uFFFDA",
    "v",
  ]);
  assert.deepEqual(body.messages[0], {
    offset: 0,
    timestamp: NOW_MS,
    key: "k1",
    value: { a: 1, b: [true, null] },
    headers: [],
  });
  assert.deepEqual(body.messages[8], {
    offset: 8,
    timestamp: 5,
    key: null,
    value: "v",
    headers: [{ key: "h", value: { x: 2 } }, { key: "n", value: null }],
  });
  assert.equal(body.nextOffset, 9);
  assert.equal(body.highWatermark, 9);
});

Deno.test("format=binary answers keys, values and headers in base64", async () => {
  const { app, cluster } = await setup();
  await cluster.produce("events", {
    key: new Uint8Array([0, 1]),
    value: new Uint8Array([0xff, 0x00, 0xfe]),
    headers: [{ key: "h", value: "hi" }],
    partition: 1,
  }, { acks: "all" });
  const res = await app.request(url("?offset=0&format=binary", "events", 1));
  const body = await res.json();
  assert.deepEqual(body.messages, [{
    offset: 0,
    timestamp: NOW_MS,
    key: "AAE=",
    value: "/wD+",
    headers: [{ key: "h", value: "aGk=" }],
  }]);
});

Deno.test("limit, maxWaitMs and nextOffset page through a partition", async () => {
  const { app, cluster } = await setup();
  for (let i = 0; i < 5; i++) {
    await cluster.produce("events", { value: encoder.encode(`m${i}`), partition: 0 }, {
      acks: "all",
    });
  }
  let res = await app.request(url("?offset=1&limit=2&maxWaitMs=250"));
  let body = await res.json();
  assert.deepEqual(body.messages.map((m: { value: string }) => m.value), ["m1", "m2"]);
  assert.equal(body.nextOffset, 3);
  assert.equal(body.highWatermark, 5);
  assert.deepEqual(cluster.fetchCalls.at(-1), {
    topic: "events",
    partition: 0,
    offset: 1n,
    maxMessages: 2,
    maxWaitMs: 250,
  });

  res = await app.request(url(`?offset=${body.nextOffset}`));
  body = await res.json();
  assert.deepEqual(body.messages.map((m: { value: string }) => m.value), ["m3", "m4"]);
  assert.equal(body.nextOffset, 5);
  assert.deepEqual(cluster.fetchCalls.at(-1), {
    topic: "events",
    partition: 0,
    offset: 3n,
    maxMessages: 100,
    maxWaitMs: 0,
  });

  res = await app.request(url("?offset=5"));
  assert.deepEqual(await res.json(), { messages: [], nextOffset: 5, highWatermark: 5 });
});

Deno.test("offset=earliest and offset=latest resolve through listOffsets", async () => {
  const { app, cluster } = await setup();
  for (let i = 0; i < 4; i++) {
    await cluster.produce("events", { value: `m${i}`, partition: 0 }, { acks: "all" });
  }
  cluster.truncate("events", 0, 2n);
  let body = await (await app.request(url("?offset=earliest"))).json();
  assert.deepEqual(body.messages.map((m: { offset: number }) => m.offset), [2, 3]);
  body = await (await app.request(url("?offset=latest"))).json();
  assert.deepEqual(body, { messages: [], nextOffset: 4, highWatermark: 4 });
});

Deno.test("messages before the requested offset or past the limit are dropped", async () => {
  class BatchCluster extends FakeCluster {
    override fetch(
      topic: string,
      partition: number,
      _offset: bigint,
      options: { maxMessages: number; maxWaitMs: number },
    ): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint }> {
      // Breaks the contract on purpose: everything from the batch's base offset, unlimited.
      return super.fetch(topic, partition, 0n, { ...options, maxMessages: 1000 });
    }
  }
  const { app, cluster } = await setup(new BatchCluster({ nowMs: NOW_MS }));
  for (let i = 0; i < 4; i++) {
    await cluster.produce("events", { value: `m${i}`, partition: 0 }, { acks: "all" });
  }
  const body = await (await app.request(url("?offset=2&limit=1"))).json();
  assert.deepEqual(body.messages.map((m: { offset: number }) => m.offset), [2]);
  assert.equal(body.nextOffset, 3);
});

Deno.test("invalid parameters answer 400 naming the parameter", async () => {
  const { app, cluster } = await setup();
  const cases: [string, string][] = [
    [url(""), "offset"],
    [url("?offset="), "offset"],
    [url("?offset=-1"), "offset"],
    [url("?offset=abc"), "offset"],
    [url("?offset=1.5"), "offset"],
    [url("?offset=9223372036854775808"), "offset"],
    [url("?offset=0&limit=0"), "limit"],
    [url("?offset=0&limit=1001"), "limit"],
    [url("?offset=0&limit=ten"), "limit"],
    [url("?offset=0&maxWaitMs=30001"), "maxWaitMs"],
    [url("?offset=0&maxWaitMs=-1"), "maxWaitMs"],
    [url("?offset=0&format=xml"), "format"],
    [url("?offset=0", "events", "x"), "partition"],
    [url("?offset=0", "events", "-1"), "partition"],
    [url("?offset=0", "events", "10000"), "partition"],
    [url("?offset=0", "bad%20name"), "topic"],
    ["/api/v1/topics/events/partitions/1e3/offsets", "partition"],
    ["/api/v1/topics/%24x/partitions/0/offsets", "topic"],
  ];
  for (const [path, field] of cases) {
    await expectError(await app.request(path), 400, { name: "INVALID_REQUEST", field });
  }
  assert.equal(cluster.fetchCalls.length, 0);
});

Deno.test("unknown topics and partitions are 404, offsets outside the log 416", async () => {
  const { app } = await setup();
  await expectError(await app.request(url("?offset=0", "nope")), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request(url("?offset=0", "events", 2)), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request(url("?offset=latest", "nope")), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request("/api/v1/topics/nope/partitions/0/offsets"), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request(url("?offset=7")), 416, { name: "OFFSET_OUT_OF_RANGE" });
});

Deno.test("GET .../offsets answers earliest and latest, as strings above 2^53 - 1", async () => {
  const { app, cluster } = await setup();
  await cluster.produce("events", { value: "a", partition: 1 }, { acks: "all" });
  let res = await app.request("/api/v1/topics/events/partitions/1/offsets");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { earliest: 0, latest: 1 });

  cluster.truncate("events", 0, 2n ** 60n);
  await cluster.produce("events", { value: "b", partition: 0 }, { acks: "all" });
  res = await app.request("/api/v1/topics/events/partitions/0/offsets");
  assert.deepEqual(await res.json(), {
    earliest: "1152921504606846976",
    latest: "1152921504606846977",
  });
  const body = await (await app.request(url("?offset=1152921504606846976"))).json();
  assert.equal(body.messages[0].offset, "1152921504606846976");
  assert.equal(body.nextOffset, "1152921504606846977");
  assert.equal(body.highWatermark, "1152921504606846977");
});

Deno.test("reader: health, cluster errors and request logs", async () => {
  const { app, cluster, lines } = await setup();
  let res = await app.request("/health");
  assert.deepEqual(await res.json(), { status: "ok", brokers: 3 });
  cluster.failNext(KaError.of("NOT_LEADER_OR_FOLLOWER"));
  await expectError(await app.request(url("?offset=0")), 503, { name: "NOT_LEADER_OR_FOLLOWER" });
  cluster.failNext(KaError.of("REQUEST_TIMED_OUT"));
  await expectError(await app.request("/health"), 504, { name: "REQUEST_TIMED_OUT" });
  res = await app.request("/api/v1/messages", { method: "POST" });
  await expectError(res, 404, { name: "HTTP_ROUTE_NOT_FOUND" });
  assert.equal(lines.length, 4);
  const statuses = lines.map((l) => JSON.parse(l).status);
  assert.deepEqual(statuses, [200, 503, 504, 404]);
});

Deno.test("GET messages?format=avro decodes values with their writer schema", async () => {
  const { app, cluster } = await setup();
  const schema = {
    type: "record",
    name: "R",
    fields: [{ name: "n", type: "long" }, { name: "raw", type: "bytes" }],
  };
  // avsc takes Node Buffers for Avro bytes.
  const value = await cluster.encodeAvro("events", { n: 7, raw: Buffer.from([1, 2]) }, { schema });
  await cluster.produce("events", { key: "k", value, partition: 0 }, { acks: 1 });
  await cluster.produce("events", { value: null, partition: 0 }, { acks: 1 });
  const res = await app.request(url("?offset=0&format=avro"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.messages.map((m: { key: unknown; value: unknown }) => [m.key, m.value]), [
    ["k", { n: 7, raw: "AQI=" }],
    [null, null],
  ]);
  // A value that is not Avro is answered with an error in its place, naming the offset.
  await cluster.produce("events", { value: "plain text", partition: 0 }, { acks: 1 });
  const bad = await app.request(url("?offset=2&format=avro"));
  assert.equal(bad.status, 200);
  const [message] = (await bad.json()).messages;
  assert.equal(message.value, null);
  assert.equal(message.error.name, "DESERIALIZATION_ERROR");
  assert.match(message.error.message, /events-0 at offset 2/);
});
