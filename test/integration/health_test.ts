/**
 * Health: a service that dies is shown dead within 3 s (the supervisor sees
 * a process exit at once; a hung broker misses heartbeats for the 3 s session
 * timeout), and a hung broker that resumes is alive again.
 * @module
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 21300;

interface Service {
  kind: string;
  id: number;
  pid: number;
  state: string;
}

async function service(cluster: TestCluster, kind: string, id: number): Promise<Service> {
  const answer = await cluster.console("status");
  return (answer.json as { services: Service[] }).services.find((s) =>
    s.kind === kind && s.id === id
  )!;
}

/** Milliseconds until `kind id` shows `state`, or null if not within `timeoutMs`. */
async function timeUntil(
  cluster: TestCluster,
  kind: string,
  id: number,
  state: string,
  timeoutMs: number,
) {
  const started = performance.now();
  const ok = await waitFor(
    async () => (await service(cluster, kind, id)).state === state,
    timeoutMs,
  );
  return ok ? performance.now() - started : null;
}

Deno.test({
  name:
    "health: SIGKILLed broker and gateway are dead within 3 s; a SIGSTOPped broker too, and alive after SIGCONT",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await startCluster(BASE_PORT);
    const stopped: number[] = [];
    try {
      const broker4 = await service(cluster, "broker", 4);
      Deno.kill(broker4.pid, "SIGKILL");
      const killedMs = await timeUntil(cluster, "broker", 4, "dead", 3_000);
      assert.ok(killedMs !== null, "SIGKILLed broker not shown dead within 3 s");
      console.log(`SIGKILLed broker shown dead after ${killedMs.toFixed(0)} ms`);

      const writer = await service(cluster, "producer", 0);
      Deno.kill(writer.pid, "SIGKILL");
      const gatewayMs = await timeUntil(cluster, "producer", 0, "dead", 3_000);
      assert.ok(gatewayMs !== null, "SIGKILLed gateway not shown dead within 3 s");

      const broker1 = await service(cluster, "broker", 1);
      Deno.kill(broker1.pid, "SIGSTOP");
      stopped.push(broker1.pid);
      const hungMs = await timeUntil(cluster, "broker", 1, "dead", 3_000);
      assert.ok(hungMs !== null, "SIGSTOPped broker not shown dead within 3 s");
      console.log(`SIGSTOPped broker shown dead after ${hungMs.toFixed(0)} ms`);
      Deno.kill(broker1.pid, "SIGCONT");
      stopped.pop();
      const backMs = await timeUntil(cluster, "broker", 1, "alive", 5_000);
      assert.ok(backMs !== null, "resumed broker not alive again within 5 s");

      // A dead service can be started again from the console.
      const start = await cluster.console("broker start 4");
      assert.equal(start.ok, true, start.text);
      assert.equal((await service(cluster, "broker", 4)).state, "alive");
      const startGateway = await cluster.console("producer start");
      assert.equal(startGateway.ok, true, startGateway.text);
      const health = await fetch(`http://127.0.0.1:${cluster.ports.writer}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      for (const pid of stopped) Deno.kill(pid, "SIGCONT");
      await cluster.stop();
    }
  },
});
