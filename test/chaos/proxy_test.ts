/**
 * The fault proxy against a loopback echo server: pass, delay, drop, sever,
 * and classification by Kafka client id. Ports 23900-23909.
 * @module
 */
import assert from "node:assert/strict";
import { clientIdOf, startFaultProxy } from "./proxy.ts";

const ECHO_PORT = 23900;

function echoServer(): { close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: ECHO_PORT });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for (;;) {
      const conn = await listener.accept().catch(() => null);
      if (!conn) return;
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(1024);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          await conn.write(buf.subarray(0, n)).catch(() => {});
        }
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })();
  return {
    async close() {
      listener.close();
      await loop;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** A Kafka-style request header with `clientId`, padded with `tail`. */
function frame(clientId: string, tail = "x"): Uint8Array {
  const id = new TextEncoder().encode(clientId);
  const rest = new TextEncoder().encode(tail);
  const out = new Uint8Array(14 + id.length + rest.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, out.length - 4);
  view.setInt16(4, 18);
  view.setInt16(12, id.length);
  out.set(id, 14);
  out.set(rest, 14 + id.length);
  return out;
}

async function readWithin(conn: Deno.Conn, ms: number): Promise<number | null | "timeout"> {
  const buf = new Uint8Array(1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    conn.read(buf).catch(() => null),
    new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms)),
  ]);
  clearTimeout(timer);
  return result;
}

Deno.test("clientIdOf parses a request header's client id", () => {
  assert.equal(clientIdOf(frame("replica-2")), "replica-2");
  assert.equal(clientIdOf(frame("replica-2").subarray(0, 16)), undefined);
  assert.equal(clientIdOf(new Uint8Array(5)), undefined);
});

Deno.test({
  name: "fault proxy: pass, delay, drop and sever by client id",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const echo = echoServer();
    const proxy = startFaultProxy({
      port: ECHO_PORT + 1,
      target: { hostname: "127.0.0.1", port: ECHO_PORT },
    });
    const conns: Deno.Conn[] = [];
    const dial = async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      conns.push(c);
      return c;
    };
    try {
      const a = await dial();
      const ra = frame("replica-1");
      await a.write(ra);
      assert.equal(await readWithin(a, 2_000), ra.length, "pass echoes");

      proxy.setRule((c) => ({ kind: "delay", delayMs: c.clientId === "replica-1" ? 300 : 0 }));
      const t0 = performance.now();
      await a.write(ra);
      assert.equal(await readWithin(a, 3_000), ra.length);
      assert.ok(performance.now() - t0 >= 250, "delayed");

      const b = await dial();
      const rb = frame("client-1");
      proxy.setRule((c) => ({ kind: c.clientId === "replica-1" ? "drop" : "pass" }));
      await b.write(rb);
      assert.equal(await readWithin(b, 2_000), rb.length, "other clients still pass");
      await a.write(ra);
      assert.equal(await readWithin(a, 400), "timeout", "dropped: no answer");

      proxy.setRule((c) => ({ kind: c.clientId === "replica-1" ? "sever" : "pass" }));
      assert.equal(await readWithin(a, 2_000), null, "severed: closed");
      await b.write(rb);
      assert.equal(await readWithin(b, 2_000), rb.length, "the other survives");

      assert.equal(proxy.sever((c) => c.clientId === "client-1"), 1);
      assert.equal(await readWithin(b, 2_000), null);
      assert.ok(proxy.connections() >= 2);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await proxy.close();
      await echo.close();
    }
  },
});
