/**
 * Tests of the dashboard's routes through `app.request()` on the writer app,
 * with an in-memory cluster and a console transport that records the lines
 * it is sent and answers like the coordinator console.
 * @module
 */
import assert from "node:assert/strict";
import { KaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import type { ConsoleResponsePayload } from "@kafka-analog/lib/console";
import { FakeCluster } from "../shared/_fake_cluster.ts";
import { createWriterApp } from "../writer/app.ts";
import type { ConsoleTransport } from "./console_source.ts";
import { createDashboard, type DashboardOptions } from "./routes.ts";

const LOGGER = createLogger("test", { sink: () => {} });
const TOKEN = "dashboard-token-1";

function answer(json: unknown): ConsoleResponsePayload {
  return { ok: true, text: "", json };
}

/** A console that knows topic `t` (2 partitions) and group `g`; records every line. */
function fakeConsole(lines: string[]): ConsoleTransport {
  return (line) => {
    lines.push(line);
    if (line === "status") {
      return Promise.resolve(answer({
        services: [
          { kind: "coordinator", id: 0, pid: 10, port: 8080, state: "alive", uptimeMs: 5000 },
          { kind: "broker", id: 0, pid: 11, port: 9092, state: "alive", uptimeMs: 4000 },
        ],
      }));
    }
    if (line === "broker list") {
      return Promise.resolve(answer({
        brokers: [{
          id: 0,
          port: 9092,
          state: "alive",
          pid: 11,
          partitionsLed: 2,
          partitionsReplicated: 2,
          underReplicated: 0,
        }],
      }));
    }
    if (line === "topic list") {
      return Promise.resolve(
        answer({ topics: [{ name: "t", partitions: 2, replicationFactor: 1 }] }),
      );
    }
    if (line === "topic describe t") {
      return Promise.resolve(answer({
        name: "t",
        configs: { "retention.ms": "1000" },
        partitions: [0, 1].map((p) => ({
          partition: p,
          leader: 0,
          replicas: [0],
          isr: [0],
          leaderEpoch: 3,
        })),
      }));
    }
    if (line === "topic describe missing") {
      const err = KaError.of("UNKNOWN_TOPIC_OR_PARTITION", "Unknown topic 'missing'");
      return Promise.resolve({
        ok: false,
        text: "error",
        json: null,
        error: { code: err.code, error: err.errorName, message: err.message },
      });
    }
    if (line.startsWith("topic create ")) {
      return Promise.resolve(answer({
        ok: true,
        topic: { name: "new", partitions: [], configs: {} },
      }));
    }
    if (line === "group list") {
      return Promise.resolve(answer({ groups: [{ group: "g", state: "Stable", members: 1 }] }));
    }
    if (line === "group describe g") {
      return Promise.resolve(answer({
        group: "g",
        state: "Stable",
        generation: 2,
        protocol: "range",
        members: [],
        offsets: [{ topic: "t", partition: 0, committed: 1, end: 3, lag: 2 }],
      }));
    }
    return Promise.resolve(answer({ ok: true, line }));
  };
}

function setup(options: Partial<DashboardOptions> & { authTokens?: string[] } = {}) {
  const cluster = new FakeCluster({ brokers: 1 });
  const lines: string[] = [];
  const dashboard = createDashboard(cluster, {
    console: fakeConsole(lines),
    logger: LOGGER,
    ...options,
  });
  const app = createWriterApp(cluster, {
    logger: LOGGER,
    dashboard,
    authTokens: options.authTokens ?? [],
  });
  return { cluster, app, lines, dashboard };
}

Deno.test("GET /ui serves the page, its script and style with a strict CSP", async () => {
  const { app, dashboard } = setup();
  const page = await app.request("/ui");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script src="\/ui\/app.js" defer><\/script>/);
  const js = await app.request("/ui/app.js");
  assert.match(js.headers.get("content-type") ?? "", /javascript/);
  assert.match(await js.text(), /function renderCluster\(\)/);
  const css = await app.request("/ui/style.css");
  assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  assert.match(await css.text(), /:focus-visible/);
  dashboard.close();
});

Deno.test("dashboard data routes need the bearer token when auth is on; the page does not", async () => {
  const { app, dashboard } = setup({ authTokens: [TOKEN] });
  assert.equal((await app.request("/ui")).status, 200);
  const denied = await app.request("/api/v1/dashboard/cluster");
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const wrong = await app.request("/api/v1/dashboard/cluster", {
    headers: { authorization: "Bearer not-the-token" },
  });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const ok = await app.request("/api/v1/dashboard/cluster", {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  dashboard.close();
});

Deno.test("GET /api/v1/dashboard/cluster answers the console's status and broker list", async () => {
  const { app, lines, dashboard } = setup();
  const res = await app.request("/api/v1/dashboard/cluster");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.services.length, 2);
  assert.equal(body.brokers[0].partitionsLed, 2);
  assert.deepEqual([...lines].sort(), ["broker list", "status"]);
  dashboard.close();
});

Deno.test("service actions run the console's stop/start/restart lines; bad ones are 400", async () => {
  const { app, lines, dashboard } = setup();
  for (
    const [path, line] of [
      ["broker-2/stop", "broker stop 2"],
      ["broker-0/restart", "broker restart 0"],
      ["producer/start", "producer start"],
      ["consumer/restart", "consumer restart"],
    ]
  ) {
    const res = await app.request(`/api/v1/dashboard/services/${path}`, { method: "POST" });
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
    assert.equal(lines.at(-1), line);
  }
  for (const [path, field] of [["coordinator/stop", "service"], ["broker-1/kill", "action"]]) {
    const res = await app.request(`/api/v1/dashboard/services/${path}`, { method: "POST" });
    assert.equal(res.status, 400, path);
    assert.equal((await res.json()).error.field, field);
  }
  dashboard.close();
});

Deno.test("topic create/delete become console lines; a console error keeps its status", async () => {
  const { app, lines, dashboard } = setup();
  const created = await app.request("/api/v1/dashboard/topics", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "new", partitions: 3, replicationFactor: 2, retentionMs: 60000 }),
  });
  assert.equal(created.status, 201);
  await created.body?.cancel();
  assert.equal(
    lines.at(-1),
    "topic create new --partitions 3 --replication-factor 2 --config retention.ms=60000",
  );
  const bad = await app.request("/api/v1/dashboard/topics", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "new", partitions: 0 }),
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.field, "partitions");
  const deleted = await app.request("/api/v1/dashboard/topics/new", { method: "DELETE" });
  assert.equal(deleted.status, 204);
  assert.equal(lines.at(-1), "topic delete new");
  const missing = await app.request("/api/v1/dashboard/topics/missing");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.name, "UNKNOWN_TOPIC_OR_PARTITION");
  dashboard.close();
});

Deno.test("GET .../topics/:name adds each partition's log start and end offsets", async () => {
  const { app, cluster, dashboard } = setup();
  await cluster.createTopic({ name: "t", partitions: 2, replicationFactor: 1, configs: {} });
  for (let i = 0; i < 3; i++) {
    await cluster.produce("t", { value: new TextEncoder().encode(`m${i}`), partition: 1 }, {
      acks: "all",
    });
  }
  const res = await app.request("/api/v1/dashboard/topics/t");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.configs, { "retention.ms": "1000" });
  assert.deepEqual(
    body.partitions.map((p: { logStartOffset: number; logEndOffset: number }) => [
      p.logStartOffset,
      p.logEndOffset,
    ]),
    [[0, 0], [0, 3]],
  );
  assert.equal(body.partitions[1].leaderEpoch, 3);
  dashboard.close();
});

Deno.test("GET .../messages shows the latest messages newest first, as JSON, text or hex", async () => {
  const { app, cluster, dashboard } = setup();
  await cluster.createTopic({ name: "t", partitions: 1, replicationFactor: 1, configs: {} });
  const values = [
    new TextEncoder().encode('{"n":1}'),
    new TextEncoder().encode("plain text"),
    new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  ];
  for (const value of values) {
    await cluster.produce("t", { value, key: new TextEncoder().encode("k"), partition: 0 }, {
      acks: "all",
    });
  }
  const res = await app.request("/api/v1/dashboard/topics/t/partitions/0/messages?limit=2");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.logEndOffset, 3);
  assert.deepEqual(body.messages.map((m: { offset: number }) => m.offset), [2, 1]);
  assert.equal(body.messages[0].value.kind, "binary");
  assert.match(body.messages[0].value.hex, /de ad be ef/);
  assert.deepEqual(body.messages[1].value, {
    kind: "text",
    text: "plain text",
    bytes: 10,
    truncated: false,
  });
  const all = await (await app.request("/api/v1/dashboard/topics/t/partitions/0/messages")).json();
  assert.equal(all.messages.length, 3);
  assert.equal(all.messages[2].value.kind, "json");
  const bad = await app.request("/api/v1/dashboard/topics/t/partitions/0/messages?limit=101");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  dashboard.close();
});

Deno.test("without a console the data routes answer 503 COORDINATOR_NOT_AVAILABLE", async () => {
  const cluster = new FakeCluster({ brokers: 1 });
  const app = createWriterApp(cluster, { logger: LOGGER });
  const res = await app.request("/api/v1/dashboard/groups");
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.name, "COORDINATOR_NOT_AVAILABLE");
  assert.equal((await app.request("/ui")).status, 200);
});

Deno.test("GET /api/v1/dashboard/stream sends the history, then a sample per tick", async () => {
  let now = 1_000;
  const timers: (() => void)[] = [];
  const { app, cluster, dashboard } = setup({
    clock: () => now,
    schedule: (fn) => {
      timers.push(fn);
      return () => {};
    },
  });
  await cluster.createTopic({ name: "t", partitions: 2, replicationFactor: 1, configs: {} });
  const res = await app.request("/api/v1/dashboard/stream");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const readEvent = async () => {
    const { value } = await reader.read();
    return decoder.decode(value);
  };
  assert.match(
    await readEvent(),
    /^event: history\ndata: \{"intervalMs":2000,"points":\[\]\}\n\n$/,
  );
  assert.equal(dashboard.streamCount, 1);
  // First sample (nothing to compare to), then 4 messages over 2 s: 2 msgs/s.
  await dashboard.sampler.tick();
  for (let i = 0; i < 4; i++) {
    await cluster.produce("t", { value: new Uint8Array([i]), partition: i % 2 }, { acks: "all" });
  }
  now += 2_000;
  const next = readEvent();
  await dashboard.sampler.tick();
  const event = await next;
  assert.match(event, /^event: sample\n/);
  const point = JSON.parse(event.split("data: ")[1]);
  assert.deepEqual(point, {
    atMs: 3_000,
    topics: [{ topic: "t", producedPerSec: 2, consumedPerSec: 0 }],
    groups: [{ group: "g", lag: 2 }],
  });
  await reader.cancel();
  assert.equal(dashboard.streamCount, 0);
  assert.equal(dashboard.sampler.listenerCount, 0);
  dashboard.close();
  assert.ok(timers.length >= 1);
});

Deno.test("the stream refuses more than streamsMax clients with 429", async () => {
  const { app, dashboard } = setup({ streamsMax: 1, schedule: () => () => {} });
  const first = await app.request("/api/v1/dashboard/stream");
  assert.equal(first.status, 200);
  const second = await app.request("/api/v1/dashboard/stream");
  assert.equal(second.status, 429);
  await second.body?.cancel();
  const reader = first.body!.getReader();
  assert.equal((await reader.read()).done, false); // the history event
  dashboard.close(); // ends the open stream
  assert.equal(dashboard.streamCount, 0);
  assert.equal((await reader.read()).done, true);
});

Deno.test("after dashboard.close() the stream answers 503 COORDINATOR_NOT_AVAILABLE", async () => {
  const { app, dashboard } = setup({ schedule: () => () => {} });
  dashboard.close();
  const res = await app.request("/api/v1/dashboard/stream");
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.name, "COORDINATOR_NOT_AVAILABLE");
  assert.equal(dashboard.streamCount, 0);
  assert.equal(dashboard.sampler.listenerCount, 0);
});
