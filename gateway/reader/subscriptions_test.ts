/**
 * Tests of subscriptions, offsets and the stream route's HTTP answers,
 * through `app.request()` on the in-memory cluster (whose small consumer
 * groups deal partitions round-robin among members).
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { createReaderApp, type ReaderAppOptions } from "./app.ts";

function post(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function setup(options: ReaderAppOptions = {}) {
  const cluster = new FakeCluster();
  await cluster.createTopic({ name: "events", partitions: 4 });
  const lines: string[] = [];
  const logger = createLogger("gateway-reader", { sink: (line) => lines.push(line) });
  const reader = createReaderApp(cluster, { logger, ...options });
  return { cluster, reader, app: reader.app, lines };
}

async function produce(cluster: FakeCluster, count: number, topic = "events"): Promise<void> {
  for (let i = 0; i < count; i++) {
    await cluster.produce(topic, { value: JSON.stringify({ i }), key: `k${i}` }, { acks: 1 });
  }
}

async function subscribe(
  app: ReturnType<typeof createReaderApp>["app"],
  body: Record<string, unknown>,
): Promise<string> {
  const res = await app.request("/api/v1/subscriptions", post({ topics: ["events"], ...body }));
  assert.equal(res.status, 201, await res.clone().text());
  const view = await res.json();
  assert.equal(res.headers.get("location"), `/api/v1/subscriptions/${view.id}`);
  return view.id;
}

async function expectError(
  res: Response,
  status: number,
  expected: { name: string; field?: string },
): Promise<string> {
  assert.equal(res.status, status);
  const { error } = await res.json();
  assert.equal(error.name, expected.name);
  assert.equal(error.field, expected.field);
  return error.message;
}

type Message = { partition: number; offset: number; value: { i: number } };

/** Polls until `count` messages came back (bounded). */
async function pollAll(
  app: ReturnType<typeof createReaderApp>["app"],
  id: string,
  count: number,
): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 50 && out.length < count; i++) {
    const res = await app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=200&max=7`);
    assert.equal(res.status, 200);
    const batch = await res.json();
    assert.ok(batch.length <= 7);
    out.push(...batch);
  }
  return out;
}

Deno.test("a subscription reads every message once, from earliest, in each partition's order", async () => {
  const { app, cluster, reader } = await setup();
  try {
    await produce(cluster, 20);
    const id = await subscribe(app, { group: "g", from: "earliest" });
    const messages = await pollAll(app, id, 20);
    assert.deepEqual(messages.map((m) => m.value.i).sort((a, b) => a - b), [...Array(20).keys()]);
    for (const p of [0, 1, 2, 3]) {
      const offsets = messages.filter((m) => m.partition === p).map((m) => m.offset);
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
    }
    const first = messages[0] as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(first).sort(), [
      "headers",
      "key",
      "offset",
      "partition",
      "timestamp",
      "topic",
      "value",
    ]);
    // Nothing more: an empty array after the timeout.
    const res = await app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=50`);
    assert.deepEqual(await res.json(), []);
    const view = await (await app.request(`/api/v1/subscriptions/${id}`)).json();
    assert.equal(view.group, "g");
    assert.equal(view.assignment.length, 4);
  } finally {
    await reader.close();
  }
});

Deno.test("from latest skips what was there; binary and avro formats decode values", async () => {
  const { app, cluster, reader } = await setup();
  try {
    await produce(cluster, 3);
    const latest = await subscribe(app, { group: "late", format: "binary" });
    await app.request(`/api/v1/subscriptions/${latest}/messages?timeoutMs=20`); // joins
    await cluster.produce("events", { value: new Uint8Array([1, 2]), partition: 2 }, { acks: 1 });
    const [m] = await (await app.request(`/api/v1/subscriptions/${latest}/messages?timeoutMs=500`))
      .json();
    assert.equal(m.value, "AQI=");
    assert.equal(m.offset, 1); // partition 2 already held one message

    await cluster.createTopic({ name: "users", partitions: 1 });
    const schema = { type: "record", name: "U", fields: [{ name: "n", type: "int" }] };
    const value = await cluster.encodeAvro("users", { n: 5 }, { schema });
    await cluster.produce("users", { value }, { acks: 1 });
    await cluster.produce("users", { value: "not avro" }, { acks: 1 });
    const res = await app.request(
      "/api/v1/subscriptions",
      post({ group: "a", topics: ["users"], format: "avro", from: "earliest" }),
    );
    const { id } = await res.json();
    const got = await (await app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=500`))
      .json();
    assert.deepEqual(got[0].value, { n: 5 });
    assert.equal(got[1].value, null);
    assert.equal(got[1].error.name, "DESERIALIZATION_ERROR");
  } finally {
    await reader.close();
  }
});

Deno.test("two subscriptions of one group split the partitions", async () => {
  const { app, cluster, reader } = await setup();
  try {
    const a = await subscribe(app, { group: "split", from: "earliest" });
    await app.request(`/api/v1/subscriptions/${a}/messages?timeoutMs=20`);
    const b = await subscribe(app, { group: "split", from: "earliest" });
    await app.request(`/api/v1/subscriptions/${b}/messages?timeoutMs=20`);
    await produce(cluster, 40);
    const fromA = await pollAll(app, a, 20);
    const fromB = await pollAll(app, b, 20);
    const partitionsA = new Set(fromA.map((m) => m.partition));
    const partitionsB = new Set(fromB.map((m) => m.partition));
    assert.equal(partitionsA.size + partitionsB.size, 4);
    for (const p of partitionsA) assert.ok(!partitionsB.has(p), `partition ${p} read twice`);
    assert.equal(fromA.length + fromB.length, 40);
  } finally {
    await reader.close();
  }
});

Deno.test("commits: explicit, on demand, and automatic on the next poll; offsets show lag", async () => {
  const { app, cluster, reader } = await setup();
  try {
    await produce(cluster, 8);
    const offsets = async (group: string) =>
      (await (await app.request(`/api/v1/offsets?group=${group}&topic=events`)).json())
        .partitions as {
          partition: number;
          committed: number | null;
          end: number;
          lag: number | null;
        }[];
    // Manual: nothing is committed until asked.
    const manual = await subscribe(app, { group: "manual", from: "earliest", autoCommit: false });
    const got = await pollAll(app, manual, 8);
    assert.equal(got.length, 8);
    assert.deepEqual((await offsets("manual")).map((p) => p.committed), [null, null, null, null]);
    let res = await app.request(`/api/v1/subscriptions/${manual}/commit`, { method: "POST" });
    const { committed } = await res.json();
    assert.equal(committed.length, 4);
    const after = await offsets("manual");
    assert.deepEqual(after.map((p) => p.lag), [0, 0, 0, 0]);
    assert.deepEqual(after.map((p) => p.committed), after.map((p) => p.end));
    // Explicit offsets.
    res = await app.request(
      `/api/v1/subscriptions/${manual}/commit`,
      post({ offsets: [{ topic: "events", partition: 0, offset: 0 }] }),
    );
    assert.deepEqual(await res.json(), {
      committed: [{ topic: "events", partition: 0, offset: 0 }],
    });
    assert.equal((await offsets("manual"))[0].lag, (await offsets("manual"))[0].end);

    // Auto: what a poll returned is committed when the next poll comes.
    const auto = await subscribe(app, { group: "auto", from: "earliest" });
    const all = await pollAll(app, auto, 8);
    assert.equal(all.length, 8);
    assert.ok((await offsets("auto")).some((p) => p.lag !== 0));
    await app.request(`/api/v1/subscriptions/${auto}/messages?timeoutMs=10`);
    assert.deepEqual((await offsets("auto")).map((p) => p.lag), [0, 0, 0, 0]);
  } finally {
    await reader.close();
  }
});

Deno.test("offsets/reset moves an empty group's offsets and refuses a group with members (409)", async () => {
  const { app, cluster, reader } = await setup();
  try {
    await produce(cluster, 12);
    const reset = (to: unknown) =>
      app.request("/api/v1/offsets/reset", post({ group: "r", topic: "events", to }));
    let res = await reset("latest");
    assert.equal(res.status, 200);
    let body = await res.json();
    assert.deepEqual(body.partitions.map((p: { offset: number }) => p.offset), [3, 3, 3, 3]);
    const lags = async () =>
      (await (await app.request("/api/v1/offsets?group=r&topic=events")).json()).partitions.map(
        (p: { lag: number }) => p.lag,
      );
    assert.deepEqual(await lags(), [0, 0, 0, 0]);
    await reset("earliest");
    assert.deepEqual(await lags(), [3, 3, 3, 3]);
    res = await reset(2);
    body = await res.json();
    assert.deepEqual(await lags(), [1, 1, 1, 1]);
    // Past the end is clamped to it.
    res = await reset("99");
    assert.deepEqual((await res.json()).partitions.map((p: { offset: number }) => p.offset), [
      3,
      3,
      3,
      3,
    ]);
    const id = await subscribe(app, { group: "r" });
    await app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=20`); // joined
    const message = await expectError(await reset("earliest"), 409, { name: "NON_EMPTY_GROUP" });
    assert.match(message, /members/);
    res = await app.request(`/api/v1/subscriptions/${id}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal((await reset("earliest")).status, 200);
  } finally {
    await reader.close();
  }
});

Deno.test("subscription errors: 400 fields, 404 topic and id, 409 busy, 429 over the limit", async () => {
  const { app, reader } = await setup({ subscriptionsMax: 2 });
  try {
    const cases: [unknown, string][] = [
      [{ topics: ["events"] }, "group"],
      [{ group: "", topics: ["events"] }, "group"],
      [{ group: "g" }, "topics"],
      [{ group: "g", topics: [] }, "topics"],
      [{ group: "g", topics: ["bad name"] }, "topics[0]"],
      [{ group: "g", topics: ["events"], from: "middle" }, "from"],
      [{ group: "g", topics: ["events"], autoCommit: "yes" }, "autoCommit"],
      [{ group: "g", topics: ["events"], isolation: "serializable" }, "isolation"],
      [{ group: "g", topics: ["events"], format: "xml" }, "format"],
      [{ group: "g", topics: ["events"], extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      await expectError(await app.request("/api/v1/subscriptions", post(body)), 400, {
        name: "INVALID_REQUEST",
        field,
      });
    }
    // read_committed is accepted now that transactions exist.
    const committed = await app.request(
      "/api/v1/subscriptions",
      post({ group: "g-committed", topics: ["events"], isolation: "read_committed" }),
    );
    assert.equal(committed.status, 201);
    const { id: committedId } = await committed.json();
    const deleted = await app.request(`/api/v1/subscriptions/${committedId}`, { method: "DELETE" });
    assert.equal(deleted.status, 204);
    await deleted.body?.cancel();
    await expectError(
      await app.request("/api/v1/subscriptions", post({ group: "g", topics: ["nope"] })),
      404,
      { name: "UNKNOWN_TOPIC_OR_PARTITION" },
    );
    for (const path of ["/x", "/x/messages"]) {
      await expectError(await app.request(`/api/v1/subscriptions${path}`), 404, {
        name: "UNKNOWN_SUBSCRIPTION",
      });
    }
    await expectError(
      await app.request("/api/v1/subscriptions/x", { method: "DELETE" }),
      404,
      { name: "UNKNOWN_SUBSCRIPTION" },
    );
    const id = await subscribe(app, { group: "g", isolation: "read_uncommitted" });
    for (
      const [query, field] of [["max=0", "max"], ["max=1001", "max"], ["timeoutMs=x", "timeoutMs"]]
    ) {
      await expectError(await app.request(`/api/v1/subscriptions/${id}/messages?${query}`), 400, {
        name: "INVALID_REQUEST",
        field,
      });
    }
    const slow = app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=300`);
    await new Promise((r) => setTimeout(r, 20));
    await expectError(await app.request(`/api/v1/subscriptions/${id}/messages`), 409, {
      name: "SUBSCRIPTION_BUSY",
    });
    assert.equal((await slow).status, 200);
    await expectError(
      await app.request(
        `/api/v1/subscriptions/${id}/commit`,
        post({ offsets: [{ topic: "events" }] }),
      ),
      400,
      { name: "INVALID_REQUEST", field: "offsets[0].partition" },
    );
    await subscribe(app, { group: "g2" });
    await expectError(
      await app.request("/api/v1/subscriptions", post({ group: "g3", topics: ["events"] })),
      429,
      { name: "THROTTLING_QUOTA_EXCEEDED" },
    );
  } finally {
    await reader.close();
  }
});

Deno.test("idle subscriptions expire and leave their group", async () => {
  let nowMs = 0;
  const { app, cluster, reader } = await setup({ subscriptionIdleMs: 1000, clock: () => nowMs });
  try {
    const id = await subscribe(app, { group: "idle" });
    await app.request(`/api/v1/subscriptions/${id}/messages?timeoutMs=20`);
    assert.equal(cluster.group("idle")?.members.length, 1);
    nowMs = 900;
    assert.equal(await reader.sweep(), 0);
    assert.equal((await app.request(`/api/v1/subscriptions/${id}`)).status, 200); // touches it
    nowMs = 1800;
    assert.equal(await reader.sweep(), 0);
    nowMs = 2000;
    assert.equal(await reader.sweep(), 1);
    assert.equal(cluster.group("idle")?.members.length, 0);
    await expectError(await app.request(`/api/v1/subscriptions/${id}`), 404, {
      name: "UNKNOWN_SUBSCRIPTION",
    });
  } finally {
    await reader.close();
  }
});

Deno.test("GET /api/v1/offsets validates group and topic", async () => {
  const { app } = await setup();
  await expectError(await app.request("/api/v1/offsets?topic=events"), 400, {
    name: "INVALID_REQUEST",
    field: "group",
  });
  await expectError(await app.request("/api/v1/offsets?group=g&topic=a%20b"), 400, {
    name: "INVALID_REQUEST",
    field: "topic",
  });
  await expectError(await app.request("/api/v1/offsets?group=g&topic=nope"), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  for (const [to, field] of [["soon", "to"], [-1, "to"], [1.5, "to"]] as const) {
    await expectError(
      await app.request("/api/v1/offsets/reset", post({ group: "g", topic: "events", to })),
      400,
      { name: "INVALID_REQUEST", field },
    );
  }
  const res = await app.request("/api/v1/offsets?group=g&topic=events");
  assert.deepEqual((await res.json()).partitions[0], {
    partition: 0,
    committed: null,
    end: 0,
    lag: null,
  });
});

Deno.test("GET /api/v1/stream answers 426 without an upgrade, and validates first", async () => {
  const { app, reader } = await setup();
  const ws = {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  };
  const res = await app.request("/api/v1/stream?topic=events");
  assert.equal(res.headers.get("upgrade"), "websocket");
  await expectError(res, 426, { name: "UPGRADE_REQUIRED" });
  await expectError(await app.request("/api/v1/stream"), 400, {
    name: "INVALID_REQUEST",
    field: "topic",
  });
  await expectError(await app.request("/api/v1/stream?topic=events&from=now"), 400, {
    name: "INVALID_REQUEST",
    field: "from",
  });
  await expectError(
    await app.request("/api/v1/stream?topic=events&isolation=maybe", { headers: ws }),
    400,
    { name: "INVALID_REQUEST", field: "isolation" },
  );
  await expectError(
    await app.request("/api/v1/stream?topic=events", {
      headers: { ...ws, "sec-websocket-version": "8" },
    }),
    400,
    { name: "INVALID_REQUEST" },
  );
  await expectError(await app.request("/api/v1/stream?topic=nope", { headers: ws }), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  await expectError(await app.request("/api/v1/stream?topic=nope&group=g", { headers: ws }), 404, {
    name: "UNKNOWN_TOPIC_OR_PARTITION",
  });
  assert.equal(reader.streamCount(), 0);
});

Deno.test("with tokens, the stream route also takes ?access_token=", async () => {
  const { app } = await setup({ authTokens: ["stream-token-1"] });
  let res = await app.request("/api/v1/stream?topic=events");
  assert.equal(res.status, 401);
  await res.body?.cancel();
  res = await app.request("/api/v1/stream?topic=events&access_token=nope-nope");
  assert.equal(res.status, 403);
  await res.body?.cancel();
  res = await app.request("/api/v1/stream?topic=events&access_token=stream-token-1");
  assert.equal(res.status, 426); // authenticated; just not a WebSocket
  await res.body?.cancel();
  res = await app.request("/api/v1/offsets?group=g&topic=events&access_token=stream-token-1");
  assert.equal(res.status, 401); // only the stream route takes it
  await res.body?.cancel();
});
