/**
 * Tests of the listener limits in `net.ts` over real loopback sockets
 * (port 0): idle and request timeouts, a declared-huge frame trickled a byte
 * at a time, connections per IP, queued answer bytes, and the rate-limited
 * close log.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { type FrameServer, GuardedConnection, ListenerGuard, serveFrames } from "./net.ts";
import type { ListenerLimits } from "./limits.ts";

const HOST = "127.0.0.1";

function start(
  limits: Partial<ListenerLimits>,
  answerBytes = 16,
): { server: FrameServer; logLines: string[] } {
  const logLines: string[] = [];
  const server = serveFrames((frame) => {
    // Echo the first 4 bytes (a fake correlation id) with `answerBytes` of padding.
    const out = new Uint8Array(4 + 4 + answerBytes);
    new DataView(out.buffer).setInt32(0, 4 + answerBytes);
    out.set(frame.subarray(0, 4), 4);
    return out;
  }, {
    hostname: HOST,
    port: 0,
    limits,
    logger: createLogger("limits-test", { sink: (line) => logLines.push(line) }),
  });
  return { server, logLines };
}

async function stop(server: FrameServer): Promise<void> {
  server.close();
  await server.closed;
  await new Promise((r) => setTimeout(r, 20));
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Milliseconds until the server closes `conn` (reads and drops answers), or null by `timeoutMs`. */
async function msUntilClosed(conn: Deno.TcpConn, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  const buf = new Uint8Array(64 * 1024);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"wait">((r) => setTimeout(() => r("wait"), deadline - Date.now())),
    ]);
    if (n === null) return performance.now() - started;
  }
  return null;
}

Deno.test("an idle connection is closed after idleTimeoutMs; a busy one stays", async () => {
  const { server, logLines } = start({ idleTimeoutMs: 300, requestTimeoutMs: 5_000 });
  const idle = await Deno.connect({ hostname: HOST, port: server.port });
  const busy = await Deno.connect({ hostname: HOST, port: server.port });
  const keepBusy = (async () => {
    for (let i = 0; i < 8; i++) {
      await busy.write(frame(new Uint8Array([0, 0, 0, i])));
      await busy.read(new Uint8Array(64));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const ms = await msUntilClosed(idle, 3_000);
  assert.ok(ms !== null && ms >= 250, `idle closed after ${ms} ms`);
  await keepBusy; // 8 answers over ~800 ms: never idle for 300 ms
  busy.close();
  idle.close();
  assert.ok(logLines.some((l) => l.includes("idle for 300 ms")), logLines.join("\n"));
  await stop(server);
});

Deno.test("a 100 MB frame trickled a byte at a time is dropped at requestTimeoutMs, holding kilobytes", async () => {
  const { server, logLines } = start({ idleTimeoutMs: 60_000, requestTimeoutMs: 400 });
  const conn = await Deno.connect({ hostname: HOST, port: server.port });
  const header = new Uint8Array(4);
  new DataView(header.buffer).setInt32(0, 100 * 1024 * 1024);
  await conn.write(header);
  let sent = 0;
  const trickle = (async () => {
    for (let i = 0; i < 40; i++) {
      try {
        await conn.write(new Uint8Array([i]));
        sent++;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const ms = await msUntilClosed(conn, 5_000);
  assert.ok(ms !== null && ms >= 350 && ms < 2_000, `closed after ${ms} ms`);
  await trickle;
  assert.ok(sent < 40, "the trickle was cut off");
  conn.close();
  assert.ok(
    logLines.some((l) => l.includes("was not received whole within 400 ms")),
    logLines.join("\n"),
  );
  await stop(server);
});

Deno.test("connections beyond connectionsPerIpMax are refused, with one log line", async () => {
  const { server, logLines } = start({ connectionsPerIpMax: 3, connectionsMax: 10 });
  const conns = await Promise.all(
    Array.from({ length: 6 }, () => Deno.connect({ hostname: HOST, port: server.port })),
  );
  // Ask each for an answer: three get one, three are closed.
  const results = await Promise.all(conns.map(async (c, i) => {
    try {
      await c.write(frame(new Uint8Array([0, 0, 0, i])));
      const n = await c.read(new Uint8Array(64));
      return n === null ? "closed" : "answered";
    } catch {
      return "closed";
    }
  }));
  assert.equal(results.filter((r) => r === "answered").length, 3, results.join());
  assert.equal(server.connections, 3);
  for (const c of conns) c.close();
  const refusals = logLines.filter((l) => l.includes("refusing connections"));
  assert.equal(refusals.length, 1, "one line per second, not one per connection");
  assert.match(refusals[0], /connectionsPerIpMax 3/);
  await stop(server);
});

Deno.test("a peer that never reads its answers is dropped within requestTimeoutMs", async () => {
  // 256 KiB answers: the socket buffers fill after a few, then writes stall.
  const { server, logLines } = start({ requestTimeoutMs: 300, idleTimeoutMs: 60_000 }, 256 * 1024);
  const conn = await Deno.connect({ hostname: HOST, port: server.port });
  const requests = new Uint8Array(200 * 8);
  for (let i = 0; i < 200; i++) requests.set(frame(new Uint8Array([0, 0, 0, i])), i * 8);
  await conn.write(requests);
  await new Promise((r) => setTimeout(r, 1_500));
  const closed = logLines.some((l) => l.includes("an answer was not read for 300 ms"));
  assert.ok(closed, logLines.join("\n"));
  conn.close();
  await stop(server);
});

Deno.test("GuardedConnection: queued bytes beyond the maximum are refused unless the queue is empty", () => {
  const fakeConn = {
    remoteAddr: { transport: "tcp", hostname: "10.0.0.1", port: 5 },
    close() {},
  } as unknown as Deno.Conn;
  const g = new GuardedConnection(fakeConn, () => 0);
  assert.equal(g.ip, "10.0.0.1");
  assert.ok(g.enqueue(5_000, 1_000), "one answer alone always fits");
  assert.ok(!g.enqueue(1, 1_000));
  g.wrote(5_000, 100);
  assert.equal(g.queuedBytes, 0);
  assert.ok(g.enqueue(600, 1_000));
  assert.ok(!g.enqueue(600, 1_000));
});

Deno.test("ListenerGuard logs at most 20 closes a second and counts the rest", () => {
  const lines: string[] = [];
  let now = 0;
  const guard = new ListenerGuard({}, {
    logger: createLogger("t", { sink: (l) => lines.push(l) }),
    now: () => now,
  });
  for (let i = 0; i < 100; i++) guard.logClose(`p${i}`, "bad frame");
  assert.equal(lines.length, 20);
  now = 1_000;
  guard.logClose("late", "bad frame");
  assert.match(lines[20], /"suppressed":80/);
  assert.throws(() => new ListenerGuard({ idleTimeoutMs: 0 }), RangeError);
  guard.stop();
});
