/**
 * ClusterView metadata refresh: a bootstrap broker that accepts connections
 * but never answers (SIGSTOPped, or cut off) does not block the refresh; the
 * next address is asked (found by the chaos harness, scenario 3).
 * @module
 */
import assert from "node:assert/strict";
import { ClusterView } from "./cluster.ts";
import { MockBroker } from "./_mock_broker.ts";

Deno.test({
  name: "ClusterView.refresh() asks the next bootstrap address when the first does not answer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Accepts and reads, never answers: like a paused process (the kernel still accepts).
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for (;;) {
        const conn = await silent.accept().catch(() => null);
        if (!conn) return;
        held.push(conn);
      }
    })();
    const broker = MockBroker.start({ topics: { t: 2 } });
    const view = new ClusterView({
      bootstrap: [`127.0.0.1:${(silent.addr as Deno.NetAddr).port}`, broker.address],
      clientId: "cluster-test",
    });
    try {
      const started = performance.now();
      await view.refresh();
      assert.equal((await view.topic("t")).partitions.length, 2);
      assert.ok(performance.now() - started < 15_000, "within the failover timeout");
    } finally {
      for (const c of view.options.bootstrap) (await view.connection(c).catch(() => null))?.close();
      silent.close();
      await accepting;
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await broker.close();
    }
  },
});
