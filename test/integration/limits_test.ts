/**
 * The `limits:` section of config.yaml reaches every listener of a real
 * cluster: a broker drops a peer that declares a 100 MB frame and trickles
 * it (at `request_timeout_ms`), an idle peer (at `idle_timeout_ms`) and a
 * frame over `frame_bytes_max` (at once, however the length is trickled); the coordinator's port and the
 * console do the same; the console refuses connections beyond
 * `console_connections_max`; the gateways get their request limits as flags.
 * After all that, the cluster still serves a producer through a gateway and
 * the client library (whose idle connections were closed under it).
 * @module
 */
import assert from "node:assert/strict";
import { cmdline, pidAlive, startCluster } from "../_cluster.ts";
import { msUntilClosed, msUntilIdleClosed, trickle } from "../../lib/_test_conn.ts";

const BASE_PORT = 22930;
const IDLE_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 1_000;
const FRAME_BYTES_MAX = 100 * 1024 * 1024 + 1024;

function lengthPrefix(length: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, length);
  return bytes;
}

/** Declares a `declared`-byte frame and sends a byte every 100 ms; returns ms until dropped. */
async function slowloris(port: number, declared: number): Promise<number | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(lengthPrefix(declared));
  // A zero byte every 100 ms for the 10 s it waits.
  const zeros = trickle(conn, new Uint8Array(100), 100);
  try {
    return await msUntilClosed(conn, 10_000);
  } finally {
    zeros.stop();
    conn.close();
  }
}

async function oversized(port: number): Promise<number | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(lengthPrefix(FRAME_BYTES_MAX + 1));
    return await msUntilClosed(conn, 5_000);
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "config limits reach the broker, coordinator, console and gateways of a real cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await startCluster(BASE_PORT, {
      brokers: 2,
      stopTimeoutMs: 15_000,
      yaml: [
        "limits:",
        `  frame_bytes_max: ${FRAME_BYTES_MAX}`,
        `  idle_timeout_ms: ${IDLE_TIMEOUT_MS}`,
        `  request_timeout_ms: ${REQUEST_TIMEOUT_MS}`,
        "  console_connections_max: 3",
        "  gateway_requests_max: 77",
        "  gateway_requests_per_ip_max: 55",
        "  gateway_request_timeout_ms: 45000",
      ],
    });
    try {
      const broker = cluster.ports.brokerBase;
      const listeners = {
        broker,
        coordinator: cluster.ports.coordinator,
        console: cluster.ports.console,
      };
      for (const [name, port] of Object.entries(listeners)) {
        const [slowMs, idleMs, bigMs] = await Promise.all([
          // The console reads frames of at most 1 MiB: declare 512 KiB there.
          slowloris(port, name === "console" ? 512 * 1024 : 100 * 1024 * 1024),
          msUntilIdleClosed(port),
          name === "console" ? Promise.resolve(0) : oversized(port),
        ]);
        console.log(
          `${name}: slowloris dropped after ${slowMs?.toFixed(0)} ms, idle after ${
            idleMs?.toFixed(0)
          } ms, oversized frame after ${bigMs?.toFixed(0)} ms`,
        );
        assert.ok(slowMs !== null && slowMs >= REQUEST_TIMEOUT_MS - 50, `${name} slowloris`);
        assert.ok(slowMs < REQUEST_TIMEOUT_MS + 3_000, `${name} slowloris ${slowMs}`);
        assert.ok(idleMs !== null && idleMs >= IDLE_TIMEOUT_MS - 50, `${name} idle`);
        assert.ok(idleMs < IDLE_TIMEOUT_MS + 3_000, `${name} idle ${idleMs}`);
        assert.ok(bigMs !== null && bigMs < 1_000, `${name} oversized frame ${bigMs}`);
      }
      // The console serves 3 connections at once; the 4th is closed on accept.
      const held = await Promise.all(
        Array.from(
          { length: 3 },
          () => Deno.connect({ hostname: "127.0.0.1", port: listeners.console }),
        ),
      );
      for (const c of held) await c.write(new TextEncoder().encode("help\n"));
      await new Promise((r) => setTimeout(r, 200));
      const fourth = await Deno.connect({ hostname: "127.0.0.1", port: listeners.console });
      const refusedMs = await msUntilClosed(fourth, 1_000);
      assert.ok(refusedMs !== null, "the 4th console connection is closed");
      fourth.close();
      for (const c of held) c.close();
      // The console notices the closes on its next read: retry until a slot is free.
      let services: Awaited<ReturnType<typeof cluster.services>> = [];
      for (let attempt = 0; attempt < 50 && services.length === 0; attempt++) {
        services = await cluster.services().catch(() => []);
        if (services.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      // The gateways got their limits as flags.
      for (const kind of ["producer", "consumer"]) {
        const args = cmdline(services.find((s) => s.kind === kind)!.pid);
        assert.equal(args[args.indexOf("--requests-max") + 1], "77", kind);
        assert.equal(args[args.indexOf("--requests-per-ip-max") + 1], "55", kind);
        assert.equal(args[args.indexOf("--request-timeout-ms") + 1], "45000", kind);
      }
      // Everyone's idle connections were closed at least once by now: the cluster still works.
      await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS + 1_000));
      const created = await fetch(`http://127.0.0.1:${cluster.ports.writer}/api/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "limits", partitions: 1 }),
      });
      assert.ok(created.status === 201 || created.status === 200, String(created.status));
      await created.body?.cancel();
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 201; attempt++) {
        const produced = await fetch(`http://127.0.0.1:${cluster.ports.writer}/api/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "limits", value: "still here" }),
        });
        status = produced.status;
        await produced.body?.cancel();
        if (status !== 201) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 201, "the writer gateway produces after its connections idled out");
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
