/**
 * Tests of the writer gateway through `app.request()` on an in-memory cluster.
 * @module
 */
import assert from "node:assert/strict";
import { KaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { createWriterApp, type WriterAppOptions } from "./app.ts";

const decoder = new TextDecoder();
const NOW_MS = 1_700_000_000_000;

function setup(options: WriterAppOptions & { brokers?: number } = {}) {
  const cluster = new FakeCluster({ brokers: options.brokers ?? 3 });
  const lines: string[] = [];
  const logger = createLogger("gateway-writer", { sink: (line) => lines.push(line) });
  const app = createWriterApp(cluster, { logger, clock: () => NOW_MS, ...options });
  return { cluster, app, lines };
}

function post(body: unknown): RequestInit & { method: string } {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function createTopic(app: ReturnType<typeof setup>["app"], name: string, partitions = 1) {
  const res = await app.request("/api/v1/topics", post({ name, partitions }));
  assert.equal(res.status, 201);
}

async function expectError(
  res: Response,
  status: number,
  expected: { name: string; field?: string; code?: number; retriable?: boolean },
): Promise<{ code: number; name: string; message: string; retriable: boolean; field?: string }> {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const { error } = await res.json();
  assert.equal(error.name, expected.name);
  assert.equal(error.field, expected.field);
  if (expected.code !== undefined) assert.equal(error.code, expected.code);
  if (expected.retriable !== undefined) assert.equal(error.retriable, expected.retriable);
  assert.equal(typeof error.message, "string");
  return error;
}

Deno.test("GET /health answers 200 with the broker count, 503 when the cluster is down", async () => {
  const { app, cluster } = setup({ brokers: 5 });
  let res = await app.request("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok", brokers: 5 });
  cluster.setHealthy(false);
  res = await app.request("/health");
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: "unavailable", brokers: 5 });
});

Deno.test("POST /api/v1/topics creates a topic and answers 201 with its description", async () => {
  const { app } = setup();
  const res = await app.request(
    "/api/v1/topics",
    post({
      name: "orders",
      partitions: 3,
      replicationFactor: 2,
      configs: { "retention.ms": 1000 },
    }),
  );
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), "/api/v1/topics/orders");
  const body = await res.json();
  assert.equal(body.name, "orders");
  assert.equal(body.partitions.length, 3);
  assert.equal(body.replicationFactor, 2);
  assert.deepEqual(body.configs, { "retention.ms": "1000" });
  assert.deepEqual(Object.keys(body.partitions[0]).sort(), [
    "isr",
    "leader",
    "leaderEpoch",
    "partition",
    "replicas",
  ]);
});

Deno.test("POST /api/v1/topics answers 409 for an existing topic and 400 for a bad factor", async () => {
  const { app } = setup({ brokers: 3 });
  await createTopic(app, "orders");
  await expectError(await app.request("/api/v1/topics", post({ name: "orders" })), 409, {
    name: "TOPIC_ALREADY_EXISTS",
    code: 36,
  });
  await expectError(
    await app.request("/api/v1/topics", post({ name: "wide", replicationFactor: 4 })),
    400,
    { name: "INVALID_REPLICATION_FACTOR" },
  );
});

Deno.test("POST /api/v1/topics names the invalid field in a 400", async () => {
  const { app } = setup();
  const cases: [unknown, string][] = [
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "bad name" }, "name"],
    [{ name: "x".repeat(250) }, "name"],
    [{ name: 5 }, "name"],
    [{ name: "ok", partitions: 0 }, "partitions"],
    [{ name: "ok", partitions: 1.5 }, "partitions"],
    [{ name: "ok", partitions: "3" }, "partitions"],
    [{ name: "ok", partitions: 10_001 }, "partitions"],
    [{ name: "ok", replicationFactor: 0 }, "replicationFactor"],
    [{ name: "ok", configs: [] }, "configs"],
    [{ name: "ok", configs: { a: { b: 1 } } }, "configs.a"],
    [{ name: "ok", partiton: 3 }, "partiton"],
    [[1, 2], "body"],
  ];
  for (const [body, field] of cases) {
    const error = await expectError(await app.request("/api/v1/topics", post(body)), 400, {
      name: "INVALID_REQUEST",
      code: 42,
      field,
    });
    assert.ok(error.message.startsWith(`Invalid field '${field}': `), error.message);
  }
});

Deno.test("GET /api/v1/topics lists names, partition counts and replication factors", async () => {
  const { app } = setup();
  let res = await app.request("/api/v1/topics");
  assert.deepEqual(await res.json(), { topics: [] });
  await app.request("/api/v1/topics", post({ name: "zeta", partitions: 2, replicationFactor: 3 }));
  await app.request("/api/v1/topics", post({ name: "alpha" }));
  res = await app.request("/api/v1/topics");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    topics: [
      { name: "alpha", partitions: 1, replicationFactor: 1 },
      { name: "zeta", partitions: 2, replicationFactor: 3 },
    ],
  });
});

Deno.test("GET and DELETE /api/v1/topics/:name: 200, 204, then 404", async () => {
  const { app } = setup();
  await createTopic(app, "orders", 2);
  let res = await app.request("/api/v1/topics/orders");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.name, "orders");
  assert.equal(body.partitions.length, 2);

  res = await app.request("/api/v1/topics/orders", { method: "DELETE" });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");

  const error = await expectError(await app.request("/api/v1/topics/orders"), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
    code: 3,
    retriable: true,
  });
  assert.match(error.message, /orders/);
  await expectError(await app.request("/api/v1/topics/orders", { method: "DELETE" }), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request("/api/v1/topics/bad*name"), 400, {
    name: "INVALID_REQUEST",
    field: "name",
  });
});

Deno.test("POST /api/v1/messages stores json-format values by the documented rule", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events", 1);
  const bodies = [
    { topic: "events", value: { a: 1, b: [true, null] }, key: "user-1" },
    { topic: "events", value: "plain text ✓", key: 7 },
    { topic: "events", value: null, key: "user-1" },
    { topic: "events", value: 42, headers: [{ key: "h", value: "v" }, { key: "h", value: null }] },
    { topic: "events", value: "x", headers: { trace: { id: 1 } }, timestamp: 123 },
  ];
  for (const [i, body] of bodies.entries()) {
    const res = await app.request("/api/v1/messages", post(body));
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), {
      topic: "events",
      partition: 0,
      offset: i,
      timestamp: i === 4 ? 123 : NOW_MS,
    });
  }
  const calls = cluster.produceCalls;
  const text = (b: unknown) => b === null ? null : decoder.decode(b as Uint8Array);
  assert.equal(text(calls[0].message.value), '{"a":1,"b":[true,null]}');
  assert.equal(text(calls[0].message.key), "user-1");
  assert.equal(text(calls[1].message.value), "plain text ✓");
  assert.equal(text(calls[1].message.key), "7");
  assert.equal(calls[2].message.value, null);
  assert.equal(text(calls[3].message.value), "42");
  assert.equal(calls[3].message.key, undefined);
  assert.deepEqual(
    calls[3].message.headers?.map((h) => [h.key, text(h.value)]),
    [["h", "v"], ["h", null]],
  );
  assert.deepEqual(calls[4].message.headers?.map((h) => [h.key, text(h.value)]), [
    ["trace", '{"id":1}'],
  ]);
  assert.equal(calls[4].message.timestamp, 123);
});

Deno.test("POST /api/v1/messages passes acks through and defaults to all", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events");
  const cases: [string, 0 | 1 | "all"][] = [
    ["", "all"],
    ["?acks=all", "all"],
    [
      "?acks=-1",
      "all",
    ],
    ["?acks=1", 1],
    ["?acks=0", 0],
  ];
  for (const [query, acks] of cases) {
    const res = await app.request(`/api/v1/messages${query}`, post({ topic: "events", value: 1 }));
    assert.equal(res.status, 201);
    const body = await res.json();
    assert.equal(cluster.produceCalls.at(-1)?.acks, acks);
    if (acks === 0) assert.equal(body.offset, null);
    else assert.equal(typeof body.offset, "number");
  }
  for (const acks of ["2", "none", "ALL"]) {
    await expectError(
      await app.request(`/api/v1/messages?acks=${acks}`, post({ topic: "events", value: 1 })),
      400,
      { name: "INVALID_REQUEST", field: "acks" },
    );
  }
  assert.equal(cluster.produceCalls.length, 5);
});

Deno.test("POST /api/v1/messages?format=binary decodes base64 and names bad fields", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "bin");
  const res = await app.request(
    "/api/v1/messages?format=binary",
    post({ topic: "bin", key: "AAE=", value: "/wD+", headers: [{ key: "k", value: "aGk=" }] }),
  );
  assert.equal(res.status, 201);
  const message = cluster.produceCalls[0].message;
  assert.deepEqual(message.key, new Uint8Array([0, 1]));
  assert.deepEqual(message.value, new Uint8Array([0xff, 0x00, 0xfe]));
  assert.deepEqual(message.headers, [{ key: "k", value: new Uint8Array([0x68, 0x69]) }]);

  const cases: [unknown, string][] = [
    [{ topic: "bin", value: "not base64!" }, "value"],
    [{ topic: "bin", value: "AAE" }, "value"],
    [{ topic: "bin", value: { a: 1 } }, "value"],
    [{ topic: "bin", value: "AA==", key: "A===" }, "key"],
    [{ topic: "bin", value: "AA==", headers: [{ key: "k", value: "%%%%" }] }, "headers[0].value"],
    [{ topic: "bin", value: "AA==", headers: { k: 5 } }, "headers.k"],
  ];
  for (const [body, field] of cases) {
    await expectError(await app.request("/api/v1/messages?format=binary", post(body)), 400, {
      name: "INVALID_REQUEST",
      field,
    });
  }
  await expectError(
    await app.request("/api/v1/messages?format=xml", post({ topic: "bin", value: "x" })),
    400,
    { name: "INVALID_REQUEST", field: "format" },
  );
  assert.equal(cluster.produceCalls.length, 1);
});

Deno.test("POST /api/v1/messages answers 400 naming the field for invalid bodies", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events");
  const cases: [unknown, string][] = [
    [{ value: 1 }, "topic"],
    [{ topic: "", value: 1 }, "topic"],
    [{ topic: ["events"], value: 1 }, "topic"],
    [{ topic: "events" }, "value"],
    [{ topic: "events", value: 1, partition: -1 }, "partition"],
    [{ topic: "events", value: 1, partition: 0.5 }, "partition"],
    [{ topic: "events", value: 1, partition: "0" }, "partition"],
    [{ topic: "events", value: 1, timestamp: -5 }, "timestamp"],
    [{ topic: "events", value: 1, headers: "x" }, "headers"],
    [{ topic: "events", value: 1, headers: [{ key: 1, value: "v" }] }, "headers[0].key"],
    [{ topic: "events", value: 1, headers: [{ key: "k" }] }, "headers[0].value"],
    [{ topic: "events", value: 1, extra: true }, "extra"],
    ["[]", "body"],
    ["42", "body"],
  ];
  for (const [body, field] of cases) {
    const error = await expectError(await app.request("/api/v1/messages", post(body)), 400, {
      name: "INVALID_REQUEST",
      code: 42,
      field,
      retriable: false,
    });
    assert.ok(error.message.startsWith(`Invalid field '${field}': `), error.message);
  }
  assert.equal(cluster.produceCalls.length, 0);
});

Deno.test("POST /api/v1/messages answers 400 for malformed JSON, without a field", async () => {
  const { app } = setup();
  for (const body of ['{"topic": "events", "value": ', "", "   ", "{'a': 1}"]) {
    const error = await expectError(await app.request("/api/v1/messages", post(body)), 400, {
      name: "INVALID_REQUEST",
    });
    assert.match(error.message, /^Malformed JSON body/);
  }
  const res = await app.request("/api/v1/messages", {
    method: "POST",
    body: new Uint8Array([0x7b, 0xff, 0x7d]),
  });
  await expectError(res, 400, { name: "INVALID_REQUEST" });
  await expectError(await app.request("/api/v1/messages", { method: "POST" }), 400, {
    name: "INVALID_REQUEST",
  });
});

Deno.test("POST /api/v1/messages answers 404 for an unknown topic or partition", async () => {
  const { app } = setup();
  await createTopic(app, "events", 2);
  await expectError(
    await app.request("/api/v1/messages", post({ topic: "nope", value: 1 })),
    404,
    { name: "UNKNOWN_TOPIC_OR_PARTITION", code: 3 },
  );
  await expectError(
    await app.request("/api/v1/messages", post({ topic: "events", value: 1, partition: 2 })),
    404,
    { name: "UNKNOWN_TOPIC_OR_PARTITION" },
  );
  const res = await app.request(
    "/api/v1/messages",
    post({ topic: "events", value: 1, partition: 1 }),
  );
  assert.deepEqual(await res.json(), {
    topic: "events",
    partition: 1,
    offset: 0,
    timestamp: NOW_MS,
  });
});

Deno.test("request bodies over the limit get 413, with or without a Content-Length", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events");
  const big = JSON.stringify({ topic: "events", value: "x".repeat(2 * 1024 * 1024) });
  const error = await expectError(await app.request("/api/v1/messages", post(big)), 413, {
    name: "MESSAGE_TOO_LARGE",
    code: 10,
  });
  assert.match(error.message, /2097152 bytes/);
  // A declared length over the limit is refused before anything is read.
  const declared = await app.request("/api/v1/messages", {
    method: "POST",
    headers: { "content-length": String(3 * 1024 * 1024) },
    body: new ReadableStream<Uint8Array>({
      pull() {
        throw new Error("the body must not be read");
      },
    }),
    duplex: "half",
  } as RequestInit);
  await expectError(declared, 413, { name: "MESSAGE_TOO_LARGE" });

  const small = setup({ bodyBytesMax: 1024 });
  await createTopic(small.app, "events");
  const chunk = new TextEncoder().encode(" ".repeat(600));
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      if (pulls > 100) controller.close(); // bounded even if the limit were ignored
      else controller.enqueue(chunk);
    },
  });
  const res = await small.app.request("/api/v1/messages", {
    method: "POST",
    body: stream,
    duplex: "half",
  } as RequestInit);
  await expectError(res, 413, { name: "MESSAGE_TOO_LARGE" });
  assert.ok(pulls < 10, `read ${pulls} chunks before refusing`);
  await expectError(
    await small.app.request("/api/v1/topics", post({ name: "t".repeat(2000) })),
    413,
    {
      name: "MESSAGE_TOO_LARGE",
    },
  );
  assert.equal(cluster.produceCalls.length + small.cluster.produceCalls.length, 0);
});

Deno.test("offsets above 2^53 - 1 are answered as decimal strings", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "huge");
  cluster.truncate("huge", 0, 2n ** 60n);
  const res = await app.request("/api/v1/messages", post({ topic: "huge", value: 1 }));
  assert.deepEqual(await res.json(), {
    topic: "huge",
    partition: 0,
    offset: "1152921504606846976",
    timestamp: NOW_MS,
  });
});

Deno.test("cluster errors map to the error table's HTTP status", async () => {
  const { app, cluster, lines } = setup();
  await createTopic(app, "events");
  const cases: [KaError, number, string, boolean][] = [
    [KaError.of("NOT_ENOUGH_REPLICAS"), 503, "NOT_ENOUGH_REPLICAS", true],
    [KaError.of("REQUEST_TIMED_OUT"), 504, "REQUEST_TIMED_OUT", true],
    [KaError.of("MESSAGE_TOO_LARGE"), 413, "MESSAGE_TOO_LARGE", false],
    [KaError.of("NETWORK_EXCEPTION"), 503, "NETWORK_EXCEPTION", true],
  ];
  for (const [err, status, name, retriable] of cases) {
    cluster.failNext(err);
    const res = await app.request("/api/v1/messages", post({ topic: "events", value: 1 }));
    await expectError(res, status, { name, code: err.code, retriable });
  }
  cluster.failNext(new TypeError("secret internals"));
  const error = await expectError(await app.request("/api/v1/topics"), 500, {
    name: "UNKNOWN_SERVER_ERROR",
    code: -1,
  });
  assert.doesNotMatch(error.message, /secret/);
  assert.ok(lines.some((l) => l.includes('"unexpected error"') && l.includes("secret internals")));
});

Deno.test("unknown routes answer a JSON 404", async () => {
  const { app } = setup();
  await expectError(await app.request("/api/v2/messages"), 404, { name: "HTTP_ROUTE_NOT_FOUND" });
  await expectError(await app.request("/api/v1/messages"), 404, { name: "HTTP_ROUTE_NOT_FOUND" });
});

Deno.test("each request is logged as one structured line", async () => {
  const { app, lines } = setup();
  await app.request("/health");
  await app.request("/api/v1/topics/nope");
  assert.equal(lines.length, 2);
  const [first, second] = lines.map((l) => JSON.parse(l));
  assert.equal(first.msg, "request");
  assert.equal(first.component, "gateway-writer");
  assert.equal(first.method, "GET");
  assert.equal(first.path, "/health");
  assert.equal(first.route, "/health");
  assert.equal(first.status, 200);
  assert.equal(typeof first.durationMs, "number");
  assert.equal(second.status, 404);
  assert.equal(second.route, "/api/v1/topics/:name");
  assert.equal(second.error, "UNKNOWN_TOPIC_OR_PARTITION");
});

Deno.test("POST /api/v1/messages?format=avro registers the schema and stores Avro wire bytes", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "users");
  const schema = {
    type: "record",
    name: "User",
    fields: [{ name: "name", type: "string" }, { name: "age", type: "int" }],
  };
  let res = await app.request(
    "/api/v1/messages?format=avro",
    post({ topic: "users", key: "u1", value: { name: "ada", age: 36 }, schema }),
  );
  assert.equal(res.status, 201);
  const bytes = cluster.produceCalls[0].message.value as Uint8Array;
  assert.deepEqual([...bytes.subarray(0, 5)], [0, 0, 0, 0, 1]); // magic 0, schema id 1
  assert.equal(decoder.decode(cluster.produceCalls[0].message.key as Uint8Array), "u1");
  assert.deepEqual(await cluster.registry.list(), [{ subject: "users-value", version: 1, id: 1 }]);
  assert.deepEqual(structuredClone(await cluster.decodeAvro(bytes)), { name: "ada", age: 36 });
  // By id, and under an explicit subject; a null value stays a tombstone.
  res = await app.request(
    "/api/v1/messages?format=avro",
    post({ topic: "users", value: { name: "bob", age: 1 }, schemaId: 1 }),
  );
  assert.equal(res.status, 201);
  res = await app.request(
    "/api/v1/messages?format=avro",
    post({ topic: "users", value: null, schema, subject: "people" }),
  );
  assert.equal(res.status, 201);
  assert.equal(cluster.produceCalls[2].message.value, null);
});

Deno.test("POST /api/v1/messages?format=avro names what is wrong", async () => {
  const { app } = setup();
  await createTopic(app, "users");
  const schema = { type: "record", name: "U", fields: [{ name: "n", type: "int" }] };
  const cases: [unknown, number, string, string | undefined][] = [
    [{ topic: "users", value: { n: 1 } }, 400, "INVALID_REQUEST", "schemaId"],
    [{ topic: "users", value: { n: 1 }, schema, schemaId: 1 }, 400, "INVALID_REQUEST", "schema"],
    [{ topic: "users", value: { n: 1 }, schemaId: 0 }, 400, "INVALID_REQUEST", "schemaId"],
    [{ topic: "users", value: { n: 1 }, schema: 5 }, 400, "INVALID_REQUEST", "schema"],
    [{ topic: "users", value: { n: 1 }, schema, subject: "" }, 400, "INVALID_REQUEST", "subject"],
    [{ topic: "users", value: { n: "x" }, schema }, 400, "SERIALIZATION_ERROR", undefined],
    [
      { topic: "users", value: { n: 1 }, schema: { type: "nope" } },
      400,
      "INVALID_SCHEMA",
      undefined,
    ],
    [{ topic: "users", value: { n: 1 }, schemaId: 42 }, 404, "SCHEMA_NOT_FOUND", undefined],
  ];
  for (const [body, status, name, field] of cases) {
    await expectError(await app.request("/api/v1/messages?format=avro", post(body)), status, {
      name,
      field,
    });
  }
  // schema fields belong to format=avro only.
  await expectError(
    await app.request("/api/v1/messages", post({ topic: "users", value: 1, schemaId: 1 })),
    400,
    { name: "INVALID_REQUEST", field: "schemaId" },
  );
});

Deno.test("POST /api/v1/messages takes acks and format from the body too (the body wins)", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events");
  let res = await app.request(
    "/api/v1/messages?acks=1",
    post({ topic: "events", value: "AQI=", acks: 0, format: "binary" }),
  );
  assert.equal(res.status, 201);
  assert.equal((await res.json()).offset, null);
  assert.equal(cluster.produceCalls[0].acks, 0);
  assert.deepEqual(cluster.produceCalls[0].message.value, new Uint8Array([1, 2]));
  res = await app.request("/api/v1/messages", post({ topic: "events", value: 1, acks: "all" }));
  assert.equal(cluster.produceCalls[1].acks, "all");
  for (const [field, value] of [["acks", 2], ["acks", "none"], ["format", "xml"]] as const) {
    await expectError(
      await app.request("/api/v1/messages", post({ topic: "events", value: 1, [field]: value })),
      400,
      { name: "INVALID_REQUEST", field },
    );
  }
});

Deno.test("POST /api/v1/messages/batch writes every message in order and answers each result", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events", 2);
  const res = await app.request(
    "/api/v1/messages/batch",
    post({
      topic: "events",
      messages: [
        { value: { n: 1 }, partition: 0 },
        { key: "k", value: "two", partition: 1, headers: { h: "v" } },
        { value: null, partition: 0, timestamp: 5 },
      ],
    }),
  );
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), {
    topic: "events",
    failed: 0,
    results: [
      { partition: 0, offset: 0, timestamp: NOW_MS },
      { partition: 1, offset: 0, timestamp: NOW_MS },
      { partition: 0, offset: 1, timestamp: 5 },
    ],
  });
  assert.deepEqual(cluster.produceCalls.map((c) => c.acks), ["all", "all", "all"]);
  assert.equal(decoder.decode(cluster.produceCalls[0].message.value as Uint8Array), '{"n":1}');
});

Deno.test("POST /api/v1/messages/batch in binary and avro, with acks=0", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "bin");
  await createTopic(app, "users");
  let res = await app.request(
    "/api/v1/messages/batch?format=binary&acks=0",
    post({ topic: "bin", messages: [{ value: "AAE=", key: "Ag==" }, { value: "/w==" }] }),
  );
  assert.equal(res.status, 201);
  const bin = await res.json();
  assert.deepEqual(bin.results.map((r: { offset: unknown }) => r.offset), [null, null]);
  assert.deepEqual(cluster.produceCalls[0].message.value, new Uint8Array([0, 1]));
  assert.deepEqual(cluster.produceCalls[0].message.key, new Uint8Array([2]));
  const schema = { type: "record", name: "U", fields: [{ name: "n", type: "int" }] };
  res = await app.request(
    "/api/v1/messages/batch",
    post({
      topic: "users",
      format: "avro",
      schema,
      messages: [{ value: { n: 1 } }, { value: { n: 2 } }],
    }),
  );
  assert.equal(res.status, 201);
  const avro = cluster.produceCalls.slice(2).map((c) => c.message.value as Uint8Array);
  assert.deepEqual(
    await Promise.all(avro.map(async (b) => structuredClone(await cluster.decodeAvro(b)))),
    [{ n: 1 }, { n: 2 }],
  );
});

Deno.test("POST /api/v1/messages/batch: 207 names the failed messages, one shared cause keeps its status", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events", 2);
  const schema = { type: "record", name: "U", fields: [{ name: "n", type: "int" }] };
  let res = await app.request(
    "/api/v1/messages/batch",
    post({
      topic: "events",
      format: "avro",
      schema,
      messages: [{ value: { n: 1 } }, { value: { n: "x" } }, { value: { n: 3 }, partition: 7 }],
    }),
  );
  assert.equal(res.status, 207);
  const body = await res.json();
  assert.equal(body.failed, 2);
  assert.equal(body.results[0].partition !== undefined, true);
  assert.equal(body.results[1].error.name, "SERIALIZATION_ERROR");
  assert.equal(body.results[2].error.name, "UNKNOWN_TOPIC_OR_PARTITION");
  assert.equal(cluster.produceCalls.length, 2); // the one that could not be encoded never reached it

  res = await app.request(
    "/api/v1/messages/batch",
    post({ topic: "nope", messages: [{ value: 1 }, { value: 2 }] }),
  );
  const error = await expectError(res, 404, { name: "UNKNOWN_TOPIC_OR_PARTITION" });
  assert.ok(error);
});

Deno.test("POST /api/v1/messages/batch refuses bad input before writing anything", async () => {
  const { app, cluster } = setup({ batchMessagesMax: 3 });
  await createTopic(app, "events");
  const cases: [unknown, string, string][] = [
    [{ topic: "events", messages: [] }, "?", "messages"],
    [{ topic: "events", messages: [{ value: 1 }, { key: 1 }] }, "?", "messages[1].value"],
    [{ topic: "events", messages: [{ value: 1, extra: 1 }] }, "?", "messages[0].extra"],
    [
      { topic: "events", messages: [{ value: "AA==" }, { value: "**" }] },
      "?format=binary",
      "messages[1].value",
    ],
    [
      { topic: "events", messages: [{ value: "AA==", headers: [{ key: "k", value: 1 }] }] },
      "?format=binary",
      "messages[0].headers[0].value",
    ],
    [{ topic: "events", messages: "x" }, "?", "messages"],
    [{ messages: [{ value: 1 }] }, "?", "topic"],
  ];
  for (const [body, query, field] of cases) {
    await expectError(await app.request(`/api/v1/messages/batch${query}`, post(body)), 400, {
      name: "INVALID_REQUEST",
      field,
    });
  }
  const many = { topic: "events", messages: Array.from({ length: 4 }, (_, i) => ({ value: i })) };
  const error = await expectError(await app.request("/api/v1/messages/batch", post(many)), 413, {
    name: "MESSAGE_TOO_LARGE",
  });
  assert.match(error.message, /at most 3 messages: got 4/);
  assert.equal(cluster.produceCalls.length, 0);
});

Deno.test("POST /api/v1/schemas registers once per schema; GET answers it by id", async () => {
  const { app } = setup();
  const schema = JSON.stringify({
    type: "record",
    name: "U",
    fields: [{ name: "n", type: "int" }],
  });
  let res = await app.request("/api/v1/schemas", post({ subject: "users-value", schema }));
  assert.equal(res.status, 200);
  const first = await res.json();
  assert.deepEqual(first, { id: 1, subject: "users-value", version: 1 });
  // The same schema (even spaced differently) keeps its id.
  res = await app.request(
    "/api/v1/schemas",
    post({ subject: "users-value", schema: JSON.stringify(JSON.parse(schema), null, 2) }),
  );
  assert.equal((await res.json()).id, 1);
  res = await app.request("/api/v1/schemas/1");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { id: 1, schema });
  res = await app.request("/api/v1/schemas?subject=users-value");
  assert.deepEqual(await res.json(), { schemas: [{ id: 1, subject: "users-value", version: 1 }] });
  await expectError(await app.request("/api/v1/schemas/9"), 404, { name: "SCHEMA_NOT_FOUND" });
  await expectError(await app.request("/api/v1/schemas/x"), 400, {
    name: "INVALID_REQUEST",
    field: "id",
  });
  await expectError(
    await app.request("/api/v1/schemas", post({ subject: "s", schema: '{"type":"nope"}' })),
    400,
    { name: "INVALID_SCHEMA" },
  );
  for (
    const [body, field] of [
      [{ schema }, "subject"],
      [{ subject: "s", schema: { type: "int" } }, "schema"],
      [{ subject: "", schema }, "subject"],
      [{ subject: "s", schema, x: 1 }, "x"],
    ] as const
  ) {
    await expectError(await app.request("/api/v1/schemas", post(body)), 400, {
      name: "INVALID_REQUEST",
      field,
    });
  }
});

Deno.test("with tokens, /api/* needs a bearer token (401 without, 403 wrong); /health and /metrics stay open", async () => {
  const { app } = setup({ authTokens: ["s3cret-token", "other-token"] });
  let res = await app.request("/api/v1/topics");
  const missing = await expectError(res, 401, { name: "UNAUTHENTICATED", code: 1101 });
  assert.match(missing.message, /Bearer/);
  res = await app.request("/api/v1/topics", { headers: { authorization: "Basic abc" } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="kafka-analog"');
  await res.body?.cancel();
  res = await app.request("/api/v1/topics", { headers: { authorization: "Bearer wrong-token" } });
  await expectError(res, 403, { name: "FORBIDDEN", code: 1102 });
  for (const token of ["s3cret-token", "other-token"]) {
    res = await app.request("/api/v1/topics", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  assert.equal((await app.request("/health")).status, 200);
  assert.equal((await app.request("/metrics")).status, 200);
  // Auth runs before validation: a bad body without a token is still a 401.
  res = await app.request("/api/v1/messages", post("{"));
  assert.equal(res.status, 401);
  await res.body?.cancel();
});

Deno.test("GET /metrics counts requests, latencies, produced messages and errors", async () => {
  const { app } = setup();
  await createTopic(app, "events");
  await app.request("/api/v1/messages", post({ topic: "events", value: 1 }));
  await app.request(
    "/api/v1/messages/batch",
    post({ topic: "events", messages: [{ value: 1 }, { value: 2 }] }),
  );
  await app.request("/api/v1/messages", post({ topic: "nope", value: 1 }));
  await app.request("/no/such/route");
  const res = await app.request("/metrics");
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /# TYPE gateway_http_requests_total counter/);
  assert.match(
    text,
    /gateway_http_requests_total\{method="POST",route="\/api\/v1\/messages",status="201"\} 1/,
  );
  assert.match(
    text,
    /gateway_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/,
  );
  assert.match(text, /gateway_messages_produced_total\{acks="all",format="json"\} 3/);
  assert.match(text, /gateway_produce_errors_total\{error="UNKNOWN_TOPIC_OR_PARTITION"\} 1/);
  assert.match(text, /gateway_http_errors_total\{error="HTTP_ROUTE_NOT_FOUND"\} 1/);
  assert.match(
    text,
    /gateway_http_request_duration_seconds_bucket\{method="POST",route="\/api\/v1\/messages",le="\+Inf"\} 2/,
  );
  assert.match(text, /gateway_process_resident_memory_bytes \d+/);
});

Deno.test("503 answers carry Retry-After", async () => {
  const { app, cluster } = setup();
  await createTopic(app, "events");
  cluster.failNext(KaError.of("LEADER_NOT_AVAILABLE"));
  const res = await app.request("/api/v1/messages", post({ topic: "events", value: 1 }));
  assert.equal(res.headers.get("retry-after"), "1");
  await expectError(res, 503, { name: "LEADER_NOT_AVAILABLE" });
  cluster.setHealthy(false);
  const health = await app.request("/health");
  assert.equal(health.headers.get("retry-after"), "1");
  await health.body?.cancel();
});
