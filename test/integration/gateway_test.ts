/**
 * The gateways over real HTTP and WebSocket against a real cluster (the
 * coordinator's writer and reader gateway processes, plus a few gateway
 * processes this test starts itself with other flags):
 *
 * - produce single and batch in json, binary and avro, read back through a
 *   subscription and through the stream;
 * - two subscriptions of one group split a topic's partitions;
 * - commit and reset move the lag as expected;
 * - each listed error status once (400, 401, 403, 404, 409, 413, 426, 503);
 * - auth on (own processes with a token; a non-loopback bind without one
 *   refuses to start) and off (the cluster's gateways);
 * - a WebSocket client that never reads does not grow the reader gateway's
 *   RSS past a bound, and the gateway stops fetching for it;
 * - throughput: single vs batch produce over HTTP, WebSocket delivery rate.
 * @module
 */
import assert from "node:assert/strict";
import { readProc, ROOT, startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 22200;
const TOKEN = "integration-token-1";

type Json = Record<string, unknown>;
/** A response body: checked field by field, so loosely typed. */
// deno-lint-ignore no-explicit-any
type Body = any;

/** One HTTP exchange; the body is always read (no leaked resources). */
async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Body; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch { /* not JSON (metrics) */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

function expectStatus(res: { status: number; body: Body }, status: number, name?: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  if (name !== undefined) assert.equal(res.body.error.name, name, JSON.stringify(res.body));
}

/** Collects `count` frames from a stream (bounded by `timeoutMs`). */
async function streamFrames(url: string, count: number, timeoutMs: number): Promise<Json[]> {
  const ws = new WebSocket(url);
  const frames: Json[] = [];
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  const done = new Promise<void>((resolve, reject) => {
    ws.onmessage = (event) => {
      frames.push(JSON.parse(event.data as string));
      if (frames.length >= count) resolve();
    };
    ws.onerror = () => reject(new Error(`WebSocket error on ${url}`));
    setTimeout(resolve, timeoutMs);
  });
  try {
    await done;
  } finally {
    ws.close();
    await closed;
  }
  return frames;
}

/** Polls a subscription until `count` messages came (bounded). */
async function pollAll(reader: string, id: string, count: number): Promise<Json[]> {
  const out: Json[] = [];
  const deadline = Date.now() + 15_000;
  while (out.length < count && Date.now() < deadline) {
    const res = await http(reader, "GET", `/api/v1/subscriptions/${id}/messages?timeoutMs=500`);
    expectStatus(res, 200);
    out.push(...res.body);
  }
  return out;
}

async function subscribe(reader: string, body: Json): Promise<string> {
  const res = await http(reader, "POST", "/api/v1/subscriptions", body);
  expectStatus(res, 201);
  return res.body.id;
}

/** A gateway process of our own (auth on, or a dead bootstrap). */
function startGateway(kind: "writer" | "reader", args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      `${ROOT}/gateway/main_${kind}.ts`,
      ...args,
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function stopGateway(child: Deno.ChildProcess): Promise<void> {
  await child.stdin.close().catch(() => {}); // EOF on stdin: the gateway shuts down
  const stderr = child.stderr.pipeTo(new WritableStream());
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await child.status;
  clearTimeout(timer);
  await stderr.catch(() => {});
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`) ?? "");
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function readerPid(cluster: TestCluster): Promise<number> {
  const answer = await cluster.console("status");
  const services = (answer.json as { services: { kind: string; pid: number }[] }).services;
  const reader = services.find((s) => s.kind === "consumer");
  assert.ok(reader && reader.pid > 0, JSON.stringify(services));
  return reader.pid;
}

/** Opens a WebSocket by hand and never reads from it. */
async function stalledWebSocket(port: number, path: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(request));
  const head = new Uint8Array(256);
  const n = await conn.read(head);
  const line = new TextDecoder().decode(head.subarray(0, n ?? 0)).split("\r\n")[0];
  assert.equal(line, "HTTP/1.1 101 Switching Protocols");
  return conn;
}

function metric(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

Deno.test({
  name:
    "gateways: formats, subscriptions, groups, offsets, errors, auth, back-pressure, throughput",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const cluster = await startCluster(BASE_PORT, { brokers: 3 });
  const writer = `http://127.0.0.1:${cluster.ports.writer}`;
  const reader = `http://127.0.0.1:${cluster.ports.reader}`;
  const wsBase = `ws://127.0.0.1:${cluster.ports.reader}`;
  const own: Deno.ChildProcess[] = [];
  try {
    assert.ok(
      await waitFor(async () => (await http(writer, "GET", "/health")).status === 200, 10_000),
    );
    assert.ok(
      await waitFor(async () => (await http(reader, "GET", "/health")).status === 200, 10_000),
    );
    for (
      const [name, partitions, rf] of [
        ["gw-json", 4, 2],
        ["gw-bin", 2, 2],
        ["gw-avro", 2, 2],
        ["gw-split", 4, 2],
        ["gw-lag", 3, 2],
        ["gw-big", 2, 1],
        ["gw-rate", 4, 2],
      ] as const
    ) {
      const res = await http(writer, "POST", "/api/v1/topics", {
        name,
        partitions,
        replicationFactor: rf,
      });
      expectStatus(res, 201);
      assert.equal(res.body.partitions.length, partitions);
    }

    await t.step(
      "json, binary and avro, single and batch, read back by subscription and stream",
      async () => {
        // json
        let res = await http(writer, "POST", "/api/v1/messages", {
          topic: "gw-json",
          key: "k0",
          value: { i: 0, tag: "single" },
          headers: [{ key: "h", value: "v" }],
        });
        expectStatus(res, 201);
        assert.equal(typeof res.body.offset, "number");
        assert.equal(typeof res.body.timestamp, "number");
        res = await http(writer, "POST", "/api/v1/messages/batch", {
          topic: "gw-json",
          messages: Array.from(
            { length: 10 },
            (_, i) => ({ key: `k${i + 1}`, value: { i: i + 1 } }),
          ),
        });
        expectStatus(res, 201);
        assert.equal(res.body.results.length, 10);
        assert.equal(res.body.failed, 0);
        res = await http(writer, "POST", "/api/v1/messages?acks=0", {
          topic: "gw-json",
          value: { i: 11 },
        });
        expectStatus(res, 201);
        assert.equal(res.body.offset, null);
        // binary
        const bytes = (i: number) => btoa(String.fromCharCode(0xff, 0x00, i, 0x80));
        res = await http(writer, "POST", "/api/v1/messages?format=binary", {
          topic: "gw-bin",
          value: bytes(0),
          key: bytes(100),
        });
        expectStatus(res, 201);
        res = await http(writer, "POST", "/api/v1/messages/batch", {
          topic: "gw-bin",
          format: "binary",
          acks: 1,
          messages: Array.from({ length: 10 }, (_, i) => ({ value: bytes(i + 1) })),
        });
        expectStatus(res, 201);
        // avro: register, then by id, by schema (same id), batch
        const schema = {
          type: "record",
          name: "Reading",
          fields: [{ name: "i", type: "int" }, { name: "note", type: "string" }],
        };
        res = await http(writer, "POST", "/api/v1/schemas", {
          subject: "gw-avro-value",
          schema: JSON.stringify(schema),
        });
        expectStatus(res, 200);
        const id = res.body.id;
        res = await http(writer, "POST", "/api/v1/schemas", {
          subject: "gw-avro-value",
          schema: JSON.stringify(schema, null, 1),
        });
        assert.equal(res.body.id, id, "the same schema keeps its id");
        res = await http(writer, "GET", `/api/v1/schemas/${id}`);
        assert.deepEqual(JSON.parse(res.body.schema), schema);
        res = await http(writer, "POST", "/api/v1/messages?format=avro", {
          topic: "gw-avro",
          value: { i: 0, note: "by id" },
          schemaId: id,
        });
        expectStatus(res, 201);
        res = await http(writer, "POST", "/api/v1/messages/batch?format=avro", {
          topic: "gw-avro",
          schema,
          messages: Array.from({ length: 10 }, (_, i) => ({ value: { i: i + 1, note: "batch" } })),
        });
        expectStatus(res, 201);

        const expected = {
          "gw-json": { format: "json", values: Array.from({ length: 12 }, (_, i) => i) },
          "gw-bin": { format: "binary", values: Array.from({ length: 11 }, (_, i) => i) },
          "gw-avro": { format: "avro", values: Array.from({ length: 11 }, (_, i) => i) },
        } as const;
        const valueIndex = (format: string, value: Body): number =>
          format === "binary" ? atob(value).charCodeAt(2) : value.i;
        for (const [topic, { format, values }] of Object.entries(expected)) {
          const sub = await subscribe(reader, {
            group: `read-${topic}`,
            topics: [topic],
            from: "earliest",
            format,
          });
          const got = await pollAll(reader, sub, values.length);
          assert.deepEqual(
            got.map((m) => valueIndex(format, m.value)).sort((a, b) => a - b),
            values,
            `${topic} by subscription`,
          );
          if (format === "avro") {
            assert.deepEqual(got.find((m) => (m.value as Json).i === 0)?.value, {
              i: 0,
              note: "by id",
            });
          }
          if (format === "json") {
            const first = got.find((m) => (m.value as Json).i === 0)!;
            assert.equal(first.key, "k0");
            assert.deepEqual(first.headers, [{ key: "h", value: "v" }]);
          }
          expectStatus(await http(reader, "DELETE", `/api/v1/subscriptions/${sub}`), 204);
          const frames = await streamFrames(
            `${wsBase}/api/v1/stream?topic=${topic}&from=earliest&format=${format}`,
            values.length,
            10_000,
          );
          assert.deepEqual(
            frames.map((m) => valueIndex(format, m.value)).sort((a, b) => a - b),
            values,
            `${topic} by stream`,
          );
        }
      },
    );

    await t.step("two subscriptions of one group split the partitions", async () => {
      const a = await subscribe(reader, {
        group: "gw-split",
        topics: ["gw-split"],
        from: "earliest",
      });
      await http(reader, "GET", `/api/v1/subscriptions/${a}/messages?timeoutMs=300`);
      const b = await subscribe(reader, {
        group: "gw-split",
        topics: ["gw-split"],
        from: "earliest",
      });
      await http(reader, "GET", `/api/v1/subscriptions/${b}/messages?timeoutMs=100`);
      const assignment = async (id: string) =>
        ((await http(reader, "GET", `/api/v1/subscriptions/${id}`)).body.assignment as Json[])
          .map((tp) => tp.partition as number);
      assert.ok(
        await waitFor(async () => {
          const [pa, pb] = [await assignment(a), await assignment(b)];
          return pa.length === 2 && pb.length === 2 && pa.every((p) => !pb.includes(p));
        }, 15_000),
        "the group rebalanced to 2 + 2 partitions",
      );
      const res = await http(writer, "POST", "/api/v1/messages/batch", {
        topic: "gw-split",
        messages: Array.from({ length: 40 }, (_, i) => ({ key: `key-${i}`, value: { i } })),
      });
      expectStatus(res, 201);
      const fromA = new Set<number>();
      const fromB = new Set<number>();
      const seen: number[] = [];
      const deadline = Date.now() + 15_000;
      while (seen.length < 40 && Date.now() < deadline) {
        for (const [id, partitions] of [[a, fromA], [b, fromB]] as const) {
          const got = await http(
            reader,
            "GET",
            `/api/v1/subscriptions/${id}/messages?timeoutMs=200`,
          );
          for (const m of got.body as Json[]) {
            partitions.add(m.partition as number);
            seen.push((m.value as Json).i as number);
          }
        }
      }
      assert.deepEqual(seen.sort((x, y) => x - y), [...Array(40).keys()]);
      assert.ok(fromA.size > 0 && fromB.size > 0, "both members read");
      for (const p of fromA) assert.ok(!fromB.has(p), `partition ${p} read by both`);
      for (const id of [a, b]) {
        expectStatus(await http(reader, "DELETE", `/api/v1/subscriptions/${id}`), 204);
      }
    });

    await t.step("commit and reset change the lag as expected", async () => {
      const res = await http(writer, "POST", "/api/v1/messages/batch", {
        topic: "gw-lag",
        messages: Array.from({ length: 30 }, (_, i) => ({ value: { i } })),
      });
      expectStatus(res, 201);
      const offsets = async () =>
        (await http(reader, "GET", "/api/v1/offsets?group=gw-lag&topic=gw-lag")).body
          .partitions as {
            partition: number;
            committed: number | null;
            end: number;
            lag: number | null;
          }[];
      const lagSum = async () => (await offsets()).reduce((n, p) => n + (p.lag ?? NaN), 0);
      const sub = await subscribe(reader, {
        group: "gw-lag",
        topics: ["gw-lag"],
        from: "earliest",
        autoCommit: false,
      });
      assert.equal((await pollAll(reader, sub, 30)).length, 30);
      const before = await offsets();
      assert.deepEqual(before.map((p) => p.committed), [null, null, null]);
      assert.equal(before.reduce((n, p) => n + p.end, 0), 30);
      const committed = await http(reader, "POST", `/api/v1/subscriptions/${sub}/commit`);
      expectStatus(committed, 200);
      assert.equal(await lagSum(), 0);
      // Explicit offsets move one partition back.
      await http(reader, "POST", `/api/v1/subscriptions/${sub}/commit`, {
        offsets: [{ topic: "gw-lag", partition: 0, offset: 0 }],
      });
      assert.equal((await offsets())[0].lag, before[0].end);
      // A group with a member cannot be reset.
      expectStatus(
        await http(reader, "POST", "/api/v1/offsets/reset", {
          group: "gw-lag",
          topic: "gw-lag",
          to: "earliest",
        }),
        409,
        "NON_EMPTY_GROUP",
      );
      expectStatus(await http(reader, "DELETE", `/api/v1/subscriptions/${sub}`), 204);
      const reset = (to: unknown) =>
        http(reader, "POST", "/api/v1/offsets/reset", { group: "gw-lag", topic: "gw-lag", to });
      expectStatus(await reset("earliest"), 200);
      assert.equal(await lagSum(), 30);
      expectStatus(await reset("latest"), 200);
      assert.equal(await lagSum(), 0);
      expectStatus(await reset(2), 200);
      assert.equal(await lagSum(), 30 - 2 * 3);
      // A new member of the group starts where the reset put it.
      const again = await subscribe(reader, {
        group: "gw-lag",
        topics: ["gw-lag"],
        autoCommit: false,
      });
      assert.equal((await pollAll(reader, again, 24)).length, 24);
      expectStatus(await http(reader, "DELETE", `/api/v1/subscriptions/${again}`), 204);
    });

    await t.step("each listed error status, once", async () => {
      expectStatus(
        await http(writer, "POST", "/api/v1/messages", { topic: "gw-json" }),
        400,
        "INVALID_REQUEST",
      );
      expectStatus(await http(writer, "POST", "/api/v1/messages", "{nope"), 400, "INVALID_REQUEST");
      expectStatus(
        await http(writer, "POST", "/api/v1/messages", { topic: "gw-none", value: 1 }),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      expectStatus(
        await http(reader, "GET", "/api/v1/subscriptions/nope/messages"),
        404,
        "UNKNOWN_SUBSCRIPTION",
      );
      expectStatus(
        await http(writer, "POST", "/api/v1/topics", { name: "gw-json" }),
        409,
        "TOPIC_ALREADY_EXISTS",
      );
      const many = {
        topic: "gw-json",
        messages: Array.from({ length: 1001 }, () => ({ value: 1 })),
      };
      expectStatus(
        await http(writer, "POST", "/api/v1/messages/batch", many),
        413,
        "MESSAGE_TOO_LARGE",
      );
      const huge = { topic: "gw-json", value: "x".repeat(2 * 1024 * 1024 + 1) };
      expectStatus(await http(writer, "POST", "/api/v1/messages", huge), 413, "MESSAGE_TOO_LARGE");
      expectStatus(
        await http(reader, "GET", "/api/v1/stream?topic=gw-json"),
        426,
        "UPGRADE_REQUIRED",
      );
      // read_committed is served now that transactions exist.
      const committedSub = await http(reader, "POST", "/api/v1/subscriptions", {
        group: "g-committed",
        topics: ["gw-json"],
        isolation: "read_committed",
      });
      if (committedSub.status !== 201) {
        throw new Error(`read_committed subscription: ${committedSub.status}`);
      }
      // Busy: a second poll while one waits.
      const sub = await subscribe(reader, { group: "gw-busy", topics: ["gw-json"] });
      const waiting = http(reader, "GET", `/api/v1/subscriptions/${sub}/messages?timeoutMs=1500`);
      await new Promise((r) => setTimeout(r, 200));
      expectStatus(
        await http(reader, "GET", `/api/v1/subscriptions/${sub}/messages`),
        409,
        "SUBSCRIPTION_BUSY",
      );
      expectStatus(await waiting, 200);
      expectStatus(await http(reader, "DELETE", `/api/v1/subscriptions/${sub}`), 204);
      // 503: a writer whose cluster is unreachable.
      const dead = startGateway("writer", [
        "--port",
        String(BASE_PORT + 32),
        "--bootstrap",
        "127.0.0.1:1",
      ]);
      own.push(dead);
      const deadBase = `http://127.0.0.1:${BASE_PORT + 32}`;
      assert.ok(
        await waitFor(async () => {
          try {
            return (await http(deadBase, "GET", "/health")).status === 503;
          } catch {
            return false;
          }
        }, 10_000),
      );
      const unavailable = await http(deadBase, "POST", "/api/v1/messages", {
        topic: "t",
        value: 1,
      });
      expectStatus(unavailable, 503);
      assert.equal(unavailable.headers.get("retry-after"), "1");
      assert.equal(unavailable.body.error.retriable, true);
    });

    await t.step(
      "auth: off on the cluster's gateways, on (401/403) on gateways given a token",
      async () => {
        expectStatus(await http(writer, "GET", "/api/v1/topics"), 200);
        const bootstrap = cluster.brokerAddresses.join(",");
        const authWriter = startGateway("writer", [
          "--port",
          String(BASE_PORT + 30),
          "--bootstrap",
          bootstrap,
          "--auth-token",
          TOKEN,
        ]);
        const authReader = startGateway("reader", [
          "--port",
          String(BASE_PORT + 31),
          "--bootstrap",
          bootstrap,
          "--auth-token",
          TOKEN,
        ]);
        own.push(authWriter, authReader);
        const w = `http://127.0.0.1:${BASE_PORT + 30}`;
        const r = `http://127.0.0.1:${BASE_PORT + 31}`;
        for (const base of [w, r]) {
          assert.ok(
            await waitFor(async () => {
              try {
                return (await http(base, "GET", "/health")).status === 200;
              } catch {
                return false;
              }
            }, 10_000),
          );
        }
        const bearer = { authorization: `Bearer ${TOKEN}` };
        const noToken = await http(w, "POST", "/api/v1/messages", { topic: "gw-json", value: 1 });
        expectStatus(noToken, 401, "UNAUTHENTICATED");
        assert.match(noToken.headers.get("www-authenticate") ?? "", /^Bearer/);
        expectStatus(
          await http(w, "POST", "/api/v1/messages", { topic: "gw-json", value: 1 }, {
            authorization: "Bearer wrong-token",
          }),
          403,
          "FORBIDDEN",
        );
        expectStatus(
          await http(w, "POST", "/api/v1/messages", { topic: "gw-json", value: { i: 99 } }, bearer),
          201,
        );
        expectStatus(
          await http(r, "GET", "/api/v1/offsets?group=x&topic=gw-json"),
          401,
          "UNAUTHENTICATED",
        );
        expectStatus(
          await http(r, "GET", "/api/v1/offsets?group=x&topic=gw-json", undefined, bearer),
          200,
        );
        expectStatus(await http(r, "GET", "/metrics"), 200);
        const frames = await streamFrames(
          `ws://127.0.0.1:${
            BASE_PORT + 31
          }/api/v1/stream?topic=gw-json&from=earliest&access_token=${TOKEN}`,
          1,
          5_000,
        );
        assert.ok(frames.length >= 1, "the stream authenticated with ?access_token=");
        // Without a token, a gateway refuses to bind a non-loopback address.
        const open = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--quiet",
            "--no-prompt",
            "--allow-net=127.0.0.1",
            `${ROOT}/gateway/main_writer.ts`,
            "--host",
            "0.0.0.0",
            "--ignore-stdin",
          ],
          stdout: "null",
          stderr: "piped",
        });
        const refused = await open.output();
        assert.equal(refused.code, 2);
        assert.match(
          new TextDecoder().decode(refused.stderr),
          /Refusing to listen on '0.0.0.0' without authentication/,
        );
      },
    );

    await t.step(
      "a WebSocket client that never reads does not grow the reader's memory",
      async () => {
        // 48 MiB in the topic: far more than the gateway may hold for one stream.
        const client = cluster.client();
        const producer = client.producer({ acks: 1, lingerMs: 5 });
        const value = "v".repeat(16 * 1024);
        for (let sent = 0; sent < 3072; sent += 256) {
          await producer.send("gw-big", Array.from({ length: 256 }, () => ({ value })));
        }
        await producer.close();
        const pid = await readerPid(cluster);
        const baselineKb = rssKb(pid);
        const stalled = await stalledWebSocket(
          cluster.ports.reader,
          "/api/v1/stream?topic=gw-big&from=earliest",
        );
        let peakKb = baselineKb;
        const started = Date.now();
        while (Date.now() - started < 4_000) {
          await new Promise((r) => setTimeout(r, 250));
          peakKb = Math.max(peakKb, rssKb(pid));
        }
        const metrics = (await http(reader, "GET", "/metrics")).body as string;
        const streamed = metric(metrics, /gateway_messages_consumed_total\{path="stream"\} (\d+)/);
        const growthMb = (peakKb - baselineKb) / 1024;
        console.log(
          `stalled WebSocket: reader RSS ${Math.round(baselineKb / 1024)} MiB -> peak ${
            Math.round(peakKb / 1024)
          } MiB ` +
            `(+${growthMb.toFixed(1)} MiB) while 48 MiB waited in the topic`,
        );
        assert.ok(growthMb < 40, `the reader grew by ${growthMb.toFixed(1)} MiB`);
        // All stream messages so far, across this test: the stalled one got a bounded part of gw-big.
        assert.ok(streamed < 40 + 1000, `the gateway sent ${streamed} frames to streams`);
        stalled.close();
        assert.ok(
          await waitFor(async () => {
            const text = (await http(reader, "GET", "/metrics")).body as string;
            return metric(text, /gateway_streams (\d+)/) === 0;
          }, 10_000),
          "the stalled stream ended once its client went away",
        );
        expectStatus(await http(reader, "GET", "/health"), 200);
      },
    );

    await t.step("throughput: single vs batch produce over HTTP, WebSocket delivery", async () => {
      const runFor = async (ms: number, workers: number, work: () => Promise<number>) => {
        const deadline = Date.now() + ms;
        let count = 0;
        const started = performance.now();
        await Promise.all(Array.from({ length: workers }, async () => {
          while (Date.now() < deadline) {
            const done = await work(); // not `count += await work()`: that reads count before the await
            count += done;
          }
        }));
        return count / ((performance.now() - started) / 1000);
      };
      const single = await runFor(2_000, 8, async () => {
        const res = await http(writer, "POST", "/api/v1/messages", {
          topic: "gw-rate",
          value: { n: 1 },
        });
        expectStatus(res, 201);
        return 1;
      });
      const batch = {
        topic: "gw-rate",
        messages: Array.from({ length: 100 }, (_, n) => ({ value: { n } })),
      };
      const batched = await runFor(2_000, 4, async () => {
        const res = await http(writer, "POST", "/api/v1/messages/batch", batch);
        expectStatus(res, 201);
        return 100;
      });
      const total = (await http(reader, "GET", "/api/v1/topics/gw-rate/partitions/0/offsets")).body;
      assert.ok(total.latest > 0);
      let end = 0;
      for (let p = 0; p < 4; p++) {
        end +=
          (await http(reader, "GET", `/api/v1/topics/gw-rate/partitions/${p}/offsets`)).body.latest;
      }
      const started = performance.now();
      const frames = await streamFrames(
        `${wsBase}/api/v1/stream?topic=gw-rate&from=earliest`,
        end,
        20_000,
      );
      const wsRate = frames.length / ((performance.now() - started) / 1000);
      assert.equal(frames.length, end);
      console.log(
        `HTTP produce (acks=all): single ${Math.round(single)} msg/s (8 concurrent clients); ` +
          `batch of 100 ${Math.round(batched)} msg/s (4 concurrent clients); ` +
          `WebSocket delivery ${Math.round(wsRate)} msg/s (${frames.length} messages)`,
      );
      assert.ok(batched > single, "batches are faster per message");
    });
  } finally {
    for (const child of own) await stopGateway(child);
    await cluster.stop();
  }
});
