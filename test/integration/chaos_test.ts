/**
 * Chaos: an idempotent acks=all producer writes sequence-numbered messages to a
 * 6-partition, RF-2 topic while the broker that leads the most partitions is
 * SIGKILLed every ~5 s and restarted through the console. Afterwards every
 * acknowledged message must be readable exactly once (none lost, none
 * duplicated: the producer is idempotent), offsets must strictly increase,
 * and every partition must have a leader and a full ISR again within 30 s.
 *
 * CI runs a short version; the long one is
 * `CHAOS_SECONDS=120 deno task test test/integration/chaos_test.ts`.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 21600;
const PARTITIONS = 6;
const SECONDS = Number(Deno.env.get("CHAOS_SECONDS") ?? "25");
const KILL_EVERY_MS = 5_000;

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function describe(cluster: TestCluster): Promise<PartitionView[]> {
  return ((await cluster.console("topic describe chaos")).json as { partitions: PartitionView[] })
    .partitions;
}

Deno.test({
  name:
    `chaos: SIGKILL the busiest leader every 5 s for ${SECONDS} s under acks=all load; nothing acknowledged is lost`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await startCluster(BASE_PORT);
    try {
      const client = cluster.client();
      await client.admin.createTopic({
        name: "chaos",
        partitions: PARTITIONS,
        replicationFactor: 2,
      });
      const producer = client.producer({
        acks: "all",
        idempotence: true,
        lingerMs: 5,
        retries: 50,
        retryBackoffMs: 50,
      });
      const acked = new Set<number>();
      let failedSends = 0;
      let nextSeq = 0;
      const deadline = Date.now() + SECONDS * 1000;

      const produce = async (lane: number) => {
        for (let round = 0; round < 1_000_000 && Date.now() < deadline; round++) {
          const seqs = Array.from({ length: 20 }, () => nextSeq++);
          try {
            await producer.send(
              "chaos",
              seqs.map((seq) => ({ partition: seq % PARTITIONS, value: `${seq}` })),
            );
            for (const seq of seqs) acked.add(seq);
          } catch (err) {
            if (!isKaError(err)) throw err;
            failedSends++;
            if (failedSends < 5) {
              console.log(
                `lane ${lane}: send failed after retries: ${err.errorName} ${err.message}`,
              );
            }
          }
        }
      };

      const recoveries: number[] = [];
      const kills: number[] = [];
      const chaos = async () => {
        while (Date.now() + KILL_EVERY_MS < deadline) {
          await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
          const partitions = await describe(cluster);
          const led = new Map<number, number>();
          for (const p of partitions) {
            if (p.leader >= 0) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
          }
          const victim = [...led].sort((a, b) => b[1] - a[1])[0][0];
          const services = ((await cluster.console("status")).json as {
            services: { kind: string; id: number; pid: number }[];
          }).services;
          const pid = services.find((s) => s.kind === "broker" && s.id === victim)!.pid;
          const killedAt = performance.now();
          Deno.kill(pid, "SIGKILL");
          kills.push(victim);
          await waitFor(
            async () =>
              (await describe(cluster)).every((p) => p.leader >= 0 && p.leader !== victim),
            10_000,
          );
          recoveries.push(performance.now() - killedAt);
          const start = await cluster.console(`broker start ${victim}`);
          assert.equal(start.ok, true, start.text);
        }
      };

      await Promise.all([produce(0), produce(1), produce(2), chaos()]);
      await producer.flush();

      // Recovery: a leader and a full ISR everywhere.
      const healedAt = performance.now();
      const healed = await waitFor(
        async () =>
          (await describe(cluster)).every((p) =>
            p.leader >= 0 && p.isr.length === p.replicas.length
          ),
        30_000,
      );
      assert.ok(healed, `not healed within 30 s: ${JSON.stringify(await describe(cluster))}`);
      const healMs = performance.now() - healedAt;

      // Read everything back.
      await client.cluster.refresh();
      const reader = client.consumer();
      const seen = new Map<number, number>();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const end = await reader.listOffset("chaos", partition, "latest");
        let offset = 0n;
        let last = -1n;
        for (let round = 0; round < 100_000 && offset < end; round++) {
          const { messages, nextOffset } = await reader.fetch({
            topic: "chaos",
            partition,
            offset,
            maxWaitMs: 100,
          });
          for (const m of messages) {
            assert.ok(m.offset > last, `offsets strictly increase in partition ${partition}`);
            last = m.offset;
            const seq = Number(new TextDecoder().decode(m.value!));
            assert.equal(
              seq % PARTITIONS,
              partition,
              "a message is in the partition it was sent to",
            );
            seen.set(seq, (seen.get(seq) ?? 0) + 1);
          }
          offset = nextOffset;
        }
      }
      const lost = [...acked].filter((seq) => !seen.has(seq));
      const duplicates = [...seen.values()].filter((n) => n > 1).length;
      console.log(
        `chaos ${SECONDS} s: ${kills.length} kills (brokers ${
          kills.join(",")
        }), ${acked.size} acknowledged, ` +
          `${seen.size} distinct read, lost ${lost.length}, duplicated ${duplicates} (idempotent producer ${
            producer.idempotent ? "on" : "OFF"
          }), ` +
          `${failedSends} sends failed after retries; leader re-elected after ${
            recoveries.map((ms) => ms.toFixed(0)).join("/")
          } ms; ` +
          `full ISR again ${healMs.toFixed(0)} ms after the load stopped`,
      );
      assert.ok(
        kills.length >= Math.floor(SECONDS * 1000 / KILL_EVERY_MS) - 1,
        "the chaos actually happened",
      );
      assert.deepEqual(lost.slice(0, 20), [], `acknowledged messages lost: ${lost.length}`);
      assert.ok(producer.idempotent, "the producer ran with idempotence");
      assert.equal(duplicates, 0, "an idempotent producer's retries never duplicate");
    } finally {
      await cluster.stop();
    }
  },
});
