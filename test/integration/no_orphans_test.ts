/**
 * No child outlives the coordinator, however it ends: SIGTERM (graceful) and
 * SIGKILL (children notice their stdin pipe closing and their parent pid
 * changing). Each case runs its own cluster on its own ports.
 * @module
 */
import assert from "node:assert/strict";
import { pidAlive, startCluster, waitFor } from "../_cluster.ts";

for (const [signal, basePort] of [["SIGTERM", 21100], ["SIGKILL", 21200]] as const) {
  Deno.test({
    name: `no orphans: every child exits within 10 s of the coordinator's ${signal}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const cluster = await startCluster(basePort);
      let pids: number[] = [];
      try {
        pids = await cluster.childPids();
        assert.equal(pids.length, 7, "5 brokers and 2 gateways");
        assert.ok(pids.every(pidAlive));
      } finally {
        if (signal === "SIGTERM") await cluster.stop();
        else await cluster.kill();
      }
      const started = performance.now();
      const allGone = await waitFor(() => pids.every((pid) => !pidAlive(pid)), 10_000);
      const survivors = pids.filter(pidAlive);
      // Clean up by PID if the assertion is about to fail, so the test leaves nothing behind.
      for (const pid of survivors) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      assert.ok(allGone, `still running after 10 s: ${survivors.join(", ")}`);
      console.log(
        `${signal}: all 7 children gone in ${(performance.now() - started).toFixed(0)} ms`,
      );
    },
  });
}
