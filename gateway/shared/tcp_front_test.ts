/**
 * Tests of the gateways' TCP front: the HTTP exchange tracker on its own,
 * then a front before a real `Deno.serve` (admission,
 * idle and slow-head timeouts, the per-IP request count, long polls,
 * WebSockets, keep-alive).
 * @module
 */
import assert from "node:assert/strict";
import { msUntilClosed, readUntil, trickle } from "@kafka-analog/lib/test_conn";
import { HttpExchangeTracker, serveTcpFront, type TcpFrontOptions } from "./tcp_front.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("HttpExchangeTracker follows heads across chunks, answers, 100-continue and upgrades", () => {
  const t = new HttpExchangeTracker();
  assert.equal(t.partial, false);
  assert.ok(t.client(enc("GET / HTTP/1.1\r\nhost: x\r")));
  assert.equal(t.partial, true);
  assert.ok(t.client(enc("\n\r")));
  assert.equal(t.awaitingAnswer, false);
  assert.ok(t.client(enc("\n")));
  assert.equal(t.awaitingAnswer, true);
  assert.equal(t.headsCompleted, 1);
  // Body bytes while awaiting are not scanned.
  assert.ok(t.client(enc("xx\r\n\r\nyy")));
  assert.equal(t.headsCompleted, 1);
  assert.equal(t.server(enc("HTTP/1.1 100 Continue\r\n\r\n")), false, "interim");
  assert.equal(t.awaitingAnswer, true);
  assert.equal(t.server(enc("HTTP/1.1 200 OK\r\n")), true);
  assert.equal(t.server(enc("content-length: 0\r\n\r\n")), false, "same answer");
  assert.equal(t.partial, false);
  assert.ok(t.client(enc("GET /ws HTTP/1.1\r\n\r\n")));
  assert.equal(t.headsCompleted, 2);
  assert.equal(t.server(enc("HTTP/1.1 101 Switching Protocols\r\n\r\n")), true);
  assert.equal(t.tunnel, true);
  assert.ok(t.client(enc("GET \r\n\r\n")));
  assert.equal(t.headsCompleted, 2, "no heads inside a tunnel");
  assert.equal(t.partial, false);
});

Deno.test("HttpExchangeTracker refuses the HTTP/2 cleartext preface, even trickled", () => {
  assert.equal(new HttpExchangeTracker().client(enc("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), false);
  const t = new HttpExchangeTracker();
  assert.ok(t.client(enc("P")));
  assert.ok(t.client(enc("RI")));
  assert.equal(t.client(enc(" *")), false);
  const ok = new HttpExchangeTracker();
  assert.ok(ok.client(enc("PRIVATE / HTTP/1.1\r\n")), "only the exact preface");
  assert.ok(ok.client(enc("PRI ")), "checked on the connection's first bytes only");
});

interface Rig {
  port: number;
  stop(): Promise<void>;
  connections(): number;
}

/**
 * A front on an ephemeral loopback port before `Deno.serve` on another one
 * (the gateways use a Unix socket; `deno task test` allows loopback TCP only,
 * and the front does not care what `connectBackend` dials).
 */
function startRig(
  limits: TcpFrontOptions["limits"],
  extra: Partial<TcpFrontOptions> = {},
): Rig {
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen() {},
    handler: async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/ws") {
        const { socket, response } = Deno.upgradeWebSocket(request);
        socket.onmessage = (e) => socket.send(`echo ${e.data}`);
        return response;
      }
      if (url.pathname === "/slow") {
        await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms"))));
      }
      if (request.method === "POST") return new Response(`got ${(await request.text()).length}`);
      return new Response("ok");
    },
  });
  const front = serveTcpFront({
    hostname: "127.0.0.1",
    port: 0,
    connectBackend: () => Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
    limits,
    ...extra,
  });
  return {
    port: front.port,
    connections: () => front.connections,
    async stop() {
      await front.stop();
      controller.abort();
      await server.finished;
    },
  };
}

const GET = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";

Deno.test({
  name: "serveTcpFront() closes idle connections and trickled heads at their timeouts",
  async fn() {
    const rig = startRig({ idleTimeoutMs: 600, requestTimeoutMs: 400 });
    try {
      const idle = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      const used = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      const head = enc(GET);
      const slowHead = trickle(slow, head, 50);
      // A served connection idles out too, once its answer is through.
      await used.write(head);
      assert.match(await readUntil(used, "ok"), /^HTTP\/1\.1 200/);
      const [idleMs, slowMs, usedMs] = await Promise.all([
        msUntilClosed(idle, 5_000),
        msUntilClosed(slow, 5_000),
        msUntilClosed(used, 5_000),
      ]);
      slowHead.stop();
      for (const c of [idle, slow, used]) c.close();
      assert.ok(idleMs !== null && idleMs >= 550 && idleMs < 3_000, `idle ${idleMs}`);
      assert.ok(usedMs !== null && usedMs >= 500 && usedMs < 3_000, `used ${usedMs}`);
      assert.ok(slowHead.sent() < head.length, "the head never completed");
      // The deadline starts at the head's first byte (50 ms in) and does not restart per byte.
      assert.ok(slowMs !== null && slowMs >= 400 && slowMs < 3_000, `slow ${slowMs}`);
    } finally {
      await rig.stop();
    }
  },
});

Deno.test({
  name: "serveTcpFront() refuses connections past the total and per-IP maxima",
  async fn() {
    const rig = startRig({ connectionsMax: 3, connectionsPerIpMax: 2 });
    try {
      const a = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      const b = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      const c = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      assert.ok((await msUntilClosed(c, 2_000)) !== null, "the 3rd from 127.0.0.1 is closed");
      // The first two stay (no read is left pending on them: a probe would eat the answer).
      for (const conn of [a, b]) {
        await conn.write(enc(GET));
        assert.match(await readUntil(conn, "ok"), /^HTTP\/1\.1 200/);
      }
      for (const conn of [a, b, c]) conn.close();
    } finally {
      await rig.stop();
    }
    // The total: a front that takes 2 connections, whoever they come from.
    const total = startRig({ connectionsMax: 2, connectionsPerIpMax: 2 });
    try {
      const a = await Deno.connect({ hostname: "127.0.0.1", port: total.port });
      const b = await Deno.connect({ hostname: "127.0.0.1", port: total.port });
      const c = await Deno.connect({ hostname: "127.0.0.1", port: total.port });
      assert.ok((await msUntilClosed(c, 2_000)) !== null, "the 3rd overall is closed");
      a.close();
      // A slot frees when a connection ends.
      let served = "";
      for (let attempt = 0; attempt < 50 && !served.includes("ok"); attempt++) {
        const d = await Deno.connect({ hostname: "127.0.0.1", port: total.port });
        await d.write(enc(GET)).catch(() => {});
        served = await readUntil(d, "ok", 500);
        d.close();
      }
      assert.match(served, /^HTTP\/1\.1 200/);
      for (const conn of [b, c]) conn.close();
    } finally {
      await total.stop();
    }
  },
});

Deno.test({
  name: "serveTcpFront() keeps long polls, big bodies, keep-alive and WebSockets working",
  async fn() {
    const rig = startRig({ idleTimeoutMs: 300, requestTimeoutMs: 300 });
    try {
      // A long poll (the server takes 3 idle timeouts) is not idle.
      const poll = await fetch(`http://127.0.0.1:${rig.port}/slow?ms=900`);
      assert.equal(await poll.text(), "ok");
      // Keep-alive: several requests on the pooled connection.
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`http://127.0.0.1:${rig.port}/`);
        assert.equal(await r.text(), "ok");
      }
      // A 1 MiB body in many chunks.
      const body = "x".repeat(1024 * 1024);
      const posted = await fetch(`http://127.0.0.1:${rig.port}/`, { method: "POST", body });
      assert.equal(await posted.text(), `got ${body.length}`);
      // A WebSocket: messages flow; a quiet one is closed at the idle timeout.
      const ws = new WebSocket(`ws://127.0.0.1:${rig.port}/ws`);
      const received: string[] = [];
      const closed = new Promise<number>((resolve) => {
        ws.onclose = () => resolve(performance.now());
      });
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.onmessage = (e) => received.push(String(e.data));
      for (let i = 0; i < 6; i++) {
        ws.send(`m${i}`);
        await new Promise((r) => setTimeout(r, 100)); // 600 ms in all: longer than the timeouts
      }
      const quietSince = performance.now();
      const closedAt = await closed;
      assert.deepEqual(received, [0, 1, 2, 3, 4, 5].map((i) => `echo m${i}`));
      assert.ok(closedAt - quietSince < 3_000, "the quiet WebSocket was closed");
    } finally {
      await rig.stop();
    }
  },
});

Deno.test({
  name:
    "serveTcpFront() answers a request past requestsPerIpMax with the refusal, and HTTP/2 not at all",
  async fn() {
    const rig = startRig({}, {
      requestsPerIpMax: 1,
      refusal: () => enc("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n"),
    });
    try {
      const first = fetch(`http://127.0.0.1:${rig.port}/slow?ms=500`);
      await new Promise((r) => setTimeout(r, 150));
      const second = await fetch(`http://127.0.0.1:${rig.port}/`);
      assert.equal(second.status, 429);
      await second.body?.cancel();
      assert.equal((await first).status, 200);
      await (await first).body?.cancel();
      const third = await fetch(`http://127.0.0.1:${rig.port}/`);
      assert.equal(await third.text(), "ok", "the slot was freed by the answer");
      const h2 = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
      await h2.write(enc("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
      assert.ok((await msUntilClosed(h2, 2_000)) !== null, "h2c is closed");
      h2.close();
    } finally {
      await rig.stop();
    }
  },
});
