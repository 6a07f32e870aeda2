/**
 * Bad input never answers 500: a batch of malformed requests against both
 * apps (bad percent-encoding, odd JSON, prototype keys, deep nesting, wrong
 * methods, huge numbers) gets 4xx answers with the JSON error shape.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { FakeCluster } from "./_fake_cluster.ts";
import { createReaderApp } from "../reader/app.ts";
import { createWriterApp } from "../writer/app.ts";

function body(text: string): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: text };
}

Deno.test("malformed requests never get a 5xx; refusals carry the JSON error shape", async () => {
  const cluster = new FakeCluster();
  await cluster.createTopic({ name: "t", partitions: 2 });
  const lines: string[] = [];
  const logger = createLogger("test", { sink: (l) => lines.push(l) });
  const writer = createWriterApp(cluster, { logger });
  const reader = createReaderApp(cluster, { logger });
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const cases: [typeof writer, string, RequestInit?][] = [
    [writer, "/api/v1/topics/%E0%A4%A"],
    [writer, "/api/v1/topics/%00"],
    [writer, "/api/v1/messages", body('{"topic": "t", "value": 1, "partition": 1e400}')],
    [writer, "/api/v1/messages", body('{"topic": "t", "value": 1, "timestamp": 1e300}')],
    [writer, "/api/v1/messages", body(deep)],
    [writer, "/api/v1/messages", body("null")],
    [writer, "/api/v1/messages", body('"string"')],
    [writer, "/api/v1/messages?format=binary", body('{"topic": "t", "value": "===="}')],
    [writer, "/api/v1/messages?acks=%ZZ", body('{"topic": "t", "value": 1}')],
    [writer, "/api/v1/messages/batch", body('{"topic": "t", "messages": [null]}')],
    [writer, "/api/v1/messages/batch", body('{"topic": "t", "messages": {"length": 5000}}')],
    [writer, "/api/v1/schemas", body('{"subject": "s", "schema": "{\\"type\\": [] }"}')],
    [writer, "/api/v1/schemas/99999999999999999999"],
    [writer, "/api/v1/topics", { method: "PATCH" }],
    [reader.app, "/api/v1/offsets?group=%E0%A4%A&topic=t"],
    [reader.app, "/api/v1/offsets?group=g&topic=t&topic=u"],
    [
      reader.app,
      "/api/v1/offsets/reset",
      body('{"group": "g", "topic": "t", "to": "99999999999999999999"}'),
    ],
    [reader.app, "/api/v1/subscriptions", body(`{"group": "g", "topics": ${deep}}`)],
    [reader.app, "/api/v1/subscriptions/%E0%A4%A/messages"],
    [reader.app, "/api/v1/subscriptions/x/commit", body("[1]")],
    [reader.app, "/api/v1/topics/t/partitions/99999999999999999999/messages?offset=0"],
    [reader.app, "/api/v1/topics/t/partitions/0/messages?offset=0&limit=1e3"],
    [reader.app, "/api/v1/stream?topic=t&group="],
  ];
  let refused = 0;
  for (const [app, path, init] of cases) {
    const res = await app.request(path, init);
    const text = await res.text();
    // Odd but valid input (a group named "%E0%A4%A") may succeed; nothing may fail with a 5xx.
    assert.ok(res.status < 500, `${path}: ${res.status} ${text}`);
    if (res.status >= 400) {
      const parsed = JSON.parse(text);
      assert.equal(typeof parsed.error.code, "number", path);
      assert.equal(typeof parsed.error.message, "string", path);
      refused++;
    }
  }
  assert.ok(refused >= cases.length - 2, `${refused} of ${cases.length} refused`);
  // A "__proto__" key is ignored (JSON.parse makes it an own property; nothing is polluted).
  const res = await writer.request(
    "/api/v1/messages",
    body('{"__proto__": {"polluted": 1}, "topic": "t", "value": 1}'),
  );
  assert.ok(res.status < 500);
  await res.body?.cancel();
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(!lines.some((l) => l.includes('"unexpected error"')), lines.join("\n"));
  await reader.close();
});
