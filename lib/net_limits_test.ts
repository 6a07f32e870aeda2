/**
 * Tests of the listener limits in `net.ts` over real loopback sockets
 * (port 0): idle and request timeouts, a declared-huge frame trickled a byte
 * at a time, connections per IP, queued answer bytes, the rate-limited
 * close log, and the listener-wide buffer budget (`bufferedBytesMax`) with
 * its exact accounting.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import {
  BufferBudget,
  type FrameServer,
  GuardedConnection,
  ListenerGuard,
  serveFrames,
} from "./net.ts";
import type { ListenerLimits } from "./limits.ts";
import { msUntilClosed } from "./_test_conn.ts";

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

/** Waits (bounded) until `probe()` holds; fails with `what` and the last value otherwise. */
async function until(probe: () => boolean, what: () => string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A length prefix declaring `bodyBytes`, then the first `sentBytes` of that body (all 7s). */
function frameStart(bodyBytes: number, sentBytes: number): Uint8Array {
  const out = new Uint8Array(4 + sentBytes).fill(7);
  new DataView(out.buffer).setInt32(0, bodyBytes);
  return out;
}

/** Writes one request and reads its whole answer (from `start`: 4 + 4 + 16 bytes). */
async function roundTrip(conn: Deno.TcpConn, request: Uint8Array): Promise<number> {
  await conn.write(request);
  const buf = new Uint8Array(24);
  let have = 0;
  while (have < buf.length) {
    const n = await conn.read(buf.subarray(have));
    if (n === null) throw new Error("closed before the answer");
    have += n;
  }
  return new DataView(buf.buffer).getInt32(0);
}

Deno.test("the connection whose partial frame passes bufferedBytesMax is closed; the others go on", async () => {
  const KiB = 1024;
  const { server, logLines } = start({
    frameBytesMax: 1024 * KiB,
    queuedBytesMax: 64 * KiB,
    bufferedBytesMax: 1024 * KiB,
  });
  const [a, b, c, d] = await Promise.all(
    Array.from({ length: 4 }, () => Deno.connect({ hostname: HOST, port: server.port })),
  );
  // A and B each hold 350 KiB of a 400 KiB frame: 700 KiB of the 1 MiB budget.
  await a.write(frameStart(400 * KiB, 350 * KiB));
  await until(() => server.bufferedBytes === 350 * KiB, () => `${server.bufferedBytes}`);
  await b.write(frameStart(400 * KiB, 350 * KiB));
  await until(() => server.bufferedBytes === 2 * 350 * KiB, () => `${server.bufferedBytes}`);
  // C's 350 KiB would make 1050 KiB: C is closed, and what it held is given back.
  await c.write(frameStart(400 * KiB, 350 * KiB)).catch(() => {});
  assert.notEqual(await msUntilClosed(c, 5_000), null, "C was closed");
  await until(() => server.connections === 3, () => `${server.connections} connections`);
  assert.equal(server.bufferedBytes, 2 * 350 * KiB);
  assert.ok(
    logLines.some((l) => l.includes("listener buffer budget (buffered_bytes_max) exhausted")),
    logLines.join("\n"),
  );
  // D holds nothing and is served: small requests fit in what is left.
  assert.equal(await roundTrip(d, frame(new Uint8Array([0, 0, 0, 1]))), 20);
  // A and B finish their frames and are answered; then they are served as before.
  const rest = new Uint8Array(50 * KiB).fill(7);
  assert.equal(await roundTrip(a, rest), 20);
  assert.equal(await roundTrip(b, rest), 20);
  assert.equal(await roundTrip(a, frame(new Uint8Array([0, 0, 0, 2]))), 20);
  await until(() => server.bufferedBytes === 0, () => `${server.bufferedBytes}`);
  for (const conn of [a, b, c, d]) conn.close();
  await until(() => server.connections === 0, () => `${server.connections} connections`);
  assert.equal(server.bufferedBytes, 0);
  await stop(server);
});

Deno.test("a frame larger than the whole bufferedBytesMax is accepted while it is alone", async () => {
  const KiB = 1024;
  const { server, logLines } = start({
    frameBytesMax: 2048 * KiB,
    queuedBytesMax: 64 * KiB,
    bufferedBytesMax: 1024 * KiB,
  });
  const idle = await Deno.connect({ hostname: HOST, port: server.port });
  const big = await Deno.connect({ hostname: HOST, port: server.port });
  // Idle connections hold no bytes, so the big frame is alone.
  assert.equal(await roundTrip(big, frameStart(1536 * KiB, 1536 * KiB)), 20);
  assert.equal(await roundTrip(idle, frame(new Uint8Array([0, 0, 0, 1]))), 20);
  // With someone else holding bytes, the same frame does not fit.
  await idle.write(frameStart(100, 50));
  await until(() => server.bufferedBytes === 50, () => `${server.bufferedBytes}`);
  await big.write(frameStart(1536 * KiB, 1536 * KiB)).catch(() => {});
  assert.notEqual(await msUntilClosed(big, 5_000), null, "the big frame's connection was closed");
  await until(() => server.bufferedBytes === 50, () => `${server.bufferedBytes}`);
  assert.equal(await roundTrip(idle, new Uint8Array(50).fill(7)), 20);
  assert.ok(logLines.some((l) => l.includes("buffered_bytes_max")), logLines.join("\n"));
  idle.close();
  big.close();
  await until(() => server.connections === 0, () => `${server.connections} connections`);
  assert.equal(server.bufferedBytes, 0);
  await stop(server);
});

Deno.test("GuardedConnection accounts reads, handling, answers and release exactly in its BufferBudget", () => {
  const fakeConn = (port: number) =>
    ({
      remoteAddr: { transport: "tcp", hostname: "10.0.0.1", port },
      close() {},
    }) as unknown as Deno.Conn;
  const budget = new BufferBudget(1_000);
  const a = new GuardedConnection(fakeConn(1), () => 0, budget);
  const b = new GuardedConnection(fakeConn(2), () => 0, budget);
  // A alone may pass the budget: one frame or answer alone always fits.
  assert.equal(a.received(1_500), null);
  assert.equal(budget.bytes, 1_500);
  // B may not grow while A holds bytes; nothing is accounted for the refusal.
  assert.match(b.received(10) ?? "", /^listener buffer budget \(buffered_bytes_max\) exhausted/);
  assert.equal(budget.bytes, 1_500);
  // A's frame completes (1,500 bytes, handled later) and 300 bytes of the next arrive.
  assert.equal(a.received(300, 1_500), null);
  assert.equal(a.heldBytes, 1_800);
  a.handled(1_500);
  assert.equal(budget.bytes, 300);
  assert.equal(b.received(600), null);
  assert.equal(b.reserve(200, 10_000)?.includes("buffered_bytes_max"), true);
  assert.equal(b.reserve(100, 10_000), null);
  assert.equal(budget.bytes, 1_000);
  assert.match(b.reserve(1, 50) ?? "", /queuedBytesMax/);
  b.wrote(60, 100);
  assert.equal(b.queuedBytes, 40);
  assert.equal(budget.bytes, 940);
  // Release gives back everything, once; later reports change only the connection's counts.
  a.detach();
  b.detach();
  b.detach();
  assert.equal(budget.bytes, 0);
  b.wrote(40, 100);
  assert.equal(budget.bytes, 0);
});

Deno.test("the listener's buffered bytes return to 0 once every connection closed, whatever they were doing", async () => {
  for (const concurrent of [false, true]) {
    const logLines: string[] = [];
    const server = serveFrames(async (frame) => {
      // Answers of up to 512 KiB, so some are still queued when their peer vanishes.
      // Half-sent frames put later frames out of step: some are empty.
      await new Promise((r) => setTimeout(r, (frame[0] ?? 0) % 3));
      const bodyBytes = 4 + ((frame[1] ?? 0) % 4) * 128 * 1024;
      const out = new Uint8Array(4 + bodyBytes);
      new DataView(out.buffer).setInt32(0, bodyBytes);
      return out;
    }, {
      hostname: HOST,
      port: 0,
      concurrent,
      limits: { frameBytesMax: 512 * 1024, queuedBytesMax: 64 * 1024, bufferedBytesMax: 1 << 20 },
      logger: createLogger("limits-test", { sink: (line) => logLines.push(line) }),
    });
    const conns = await Promise.all(
      Array.from({ length: 12 }, () => Deno.connect({ hostname: HOST, port: server.port })),
    );
    await Promise.all(conns.map(async (conn, i) => {
      try {
        for (let j = 0; j < 6; j++) {
          const body = new Uint8Array(((i * 7 + j * 13) % 5) * 50 * 1024 + 4);
          body[0] = i + j;
          body[1] = i * j;
          // Some write whole frames, some half a frame; nobody reads the answers.
          const bytes = frame(body);
          await conn.write((i + j) % 4 === 0 ? bytes.subarray(0, bytes.length >> 1) : bytes);
        }
      } catch { /* closed by the server: a limit was passed */ }
    }));
    await new Promise((r) => setTimeout(r, 200));
    for (const conn of conns) conn.close();
    await until(
      () => server.connections === 0,
      () => `${server.connections} connections, concurrent: ${concurrent}`,
    );
    assert.equal(server.bufferedBytes, 0, `concurrent: ${concurrent}`);
    await stop(server);
  }
});
