/**
 * The gateways' connection limits on a real cluster: each gateway serves
 * HTTP on a Unix socket behind a TCP front (`gateway/shared/tcp_front.ts`)
 * that takes its limits from the `limits:` section. An idle connection is
 * closed at `idle_timeout_ms`, a request head trickled a byte at a time at
 * `request_timeout_ms`, connections past `connections_per_ip_max` on accept;
 * meanwhile normal requests, a long poll longer than the idle timeout, a
 * batch produce and a WebSocket stream work through the front, and nothing
 * restarts.
 * @module
 */
import assert from "node:assert/strict";
import { cmdline, pidAlive, startCluster } from "../_cluster.ts";
import { msUntilClosed, msUntilIdleClosed, trickle } from "../../lib/_test_conn.ts";

const BASE_PORT = 22960;
const IDLE_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 1_000;
const PER_IP_MAX = 24;
const GATEWAY_CONNECTIONS_MAX = 100;

/** Sends a request head one byte every 100 ms; ms until the gateway drops it. */
async function trickledHead(port: number): Promise<{ ms: number | null; sent: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = new TextEncoder().encode(
    "GET /api/v1/topics HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
  );
  const bytes = trickle(conn, head, 100);
  try {
    return { ms: await msUntilClosed(conn, 10_000), sent: bytes.sent() };
  } finally {
    bytes.stop();
    conn.close();
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function http(base: string, method: string, path: string, body?: Json) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

Deno.test({
  name: "gateways: connection limits from config, through a TCP front, with HTTP and WebSocket",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await startCluster(BASE_PORT, {
      brokers: 2,
      stopTimeoutMs: 15_000,
      yaml: [
        "limits:",
        `  idle_timeout_ms: ${IDLE_TIMEOUT_MS}`,
        `  request_timeout_ms: ${REQUEST_TIMEOUT_MS}`,
        `  connections_per_ip_max: ${PER_IP_MAX}`,
        `  gateway_connections_max: ${GATEWAY_CONNECTIONS_MAX}`,
      ],
    });
    const writer = `http://127.0.0.1:${cluster.ports.writer}`;
    const reader = `http://127.0.0.1:${cluster.ports.reader}`;
    try {
      const services = await cluster.services();
      // The coordinator passes the limits and the socket; the socket is the only file allowed.
      for (const kind of ["producer", "consumer"]) {
        const args = cmdline(services.find((s) => s.kind === kind)!.pid);
        const arg = (flag: string) => args[args.indexOf(flag) + 1];
        assert.equal(arg("--connections-max"), String(GATEWAY_CONNECTIONS_MAX), kind);
        assert.equal(arg("--connections-per-ip-max"), String(PER_IP_MAX), kind);
        assert.equal(arg("--idle-timeout-ms"), String(IDLE_TIMEOUT_MS), kind);
        assert.equal(arg("--io-timeout-ms"), String(REQUEST_TIMEOUT_MS), kind);
        const socket = arg("--socket");
        assert.ok(args.includes(`--allow-read=${socket}`), `${kind} reads only its socket`);
        assert.ok(args.includes(`--allow-write=${socket}`), `${kind} writes only its socket`);
        assert.ok((await Deno.lstat(socket)).isSocket, `${kind} serves on ${socket}`);
      }

      for (
        const [name, port] of [["writer", cluster.ports.writer], ["reader", cluster.ports.reader]]
      ) {
        const [slow, idleMs] = await Promise.all([
          trickledHead(port as number),
          msUntilIdleClosed(port as number),
        ]);
        console.log(
          `${name}: trickled head dropped after ${slow.ms?.toFixed(0)} ms (${slow.sent} bytes), ` +
            `idle connection after ${idleMs?.toFixed(0)} ms`,
        );
        assert.ok(slow.ms !== null && slow.ms >= REQUEST_TIMEOUT_MS - 50, `${name} trickle`);
        assert.ok(slow.ms < REQUEST_TIMEOUT_MS + 3_000, `${name} trickle ${slow.ms}`);
        assert.ok(idleMs !== null && idleMs >= IDLE_TIMEOUT_MS - 50, `${name} idle`);
        assert.ok(idleMs < IDLE_TIMEOUT_MS + 3_000, `${name} idle ${idleMs}`);
      }

      // Per IP: every client here is 127.0.0.1; the connection past the limit is closed on accept.
      const held: Deno.TcpConn[] = [];
      for (let i = 0; i < PER_IP_MAX; i++) {
        held.push(await Deno.connect({ hostname: "127.0.0.1", port: cluster.ports.writer }));
      }
      const extra = await Deno.connect({ hostname: "127.0.0.1", port: cluster.ports.writer });
      const refusedMs = await msUntilClosed(extra, 1_000);
      extra.close();
      for (const c of held) c.close();
      // gateway_connections_max is 100, so this is the per-IP limit.
      assert.ok(refusedMs !== null && refusedMs < 1_000, `connection ${PER_IP_MAX + 1} refused`);

      // Normal traffic through the fronts, with keep-alive connections idling out in between.
      let created = { status: 0, body: null as Json };
      for (let attempt = 0; attempt < 50 && created.status !== 201; attempt++) {
        created = await http(writer, "POST", "/api/v1/topics", { name: "gwl", partitions: 1 });
        if (created.status !== 201) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(created.status, 201, JSON.stringify(created.body));
      let produced = { status: 0, body: null as Json };
      for (let attempt = 0; attempt < 50 && produced.status !== 201; attempt++) {
        produced = await http(writer, "POST", "/api/v1/messages", { topic: "gwl", value: "one" });
        if (produced.status !== 201) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(produced.status, 201, JSON.stringify(produced.body));
      await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS + 500));
      const batch = await http(writer, "POST", "/api/v1/messages/batch", {
        topic: "gwl",
        messages: Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` })),
      });
      assert.equal(batch.status, 201, JSON.stringify(batch.body));

      // A long poll twice the idle timeout is a request in progress, not an idle connection.
      const sub = await http(reader, "POST", "/api/v1/subscriptions", {
        group: "gwl-group",
        topics: ["gwl"],
        from: "latest",
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      let polled = { status: 0, body: [] as Json };
      let pollMs = 0;
      for (let attempt = 0; attempt < 5 && pollMs < IDLE_TIMEOUT_MS; attempt++) {
        const started = performance.now();
        polled = await http(
          reader,
          "GET",
          `/api/v1/subscriptions/${sub.body.id}/messages?timeoutMs=${2 * IDLE_TIMEOUT_MS}`,
        );
        pollMs = performance.now() - started;
        assert.equal(polled.status, 200, JSON.stringify(polled.body));
      }
      assert.ok(pollMs >= IDLE_TIMEOUT_MS, `a poll waited ${pollMs.toFixed(0)} ms and answered`);

      // A WebSocket stream through the reader's front gets every message.
      const ws = new WebSocket(
        `ws://127.0.0.1:${cluster.ports.reader}/api/v1/stream?topic=gwl&from=earliest`,
      );
      const values: string[] = [];
      const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 10_000);
        ws.onmessage = (event) => {
          values.push(JSON.parse(event.data as string).value);
          if (values.length >= 21) {
            clearTimeout(timer);
            resolve();
          }
        };
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error("WebSocket error"));
        };
      });
      ws.close();
      await closed;
      assert.deepEqual(values, ["one", ...Array.from({ length: 20 }, (_, i) => `b${i}`)]);

      const after = await cluster.services();
      assert.ok(after.every((s) => s.state === "alive" && pidAlive(s.pid)), JSON.stringify(after));
      assert.deepEqual(after.map((s) => s.pid), services.map((s) => s.pid), "nothing restarted");
    } catch (err) {
      console.log(cluster.output().slice(-3_000));
      throw err;
    } finally {
      await cluster.stop();
    }
  },
});
