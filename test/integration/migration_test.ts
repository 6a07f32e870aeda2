/**
 * Partition migration under load: while an idempotent acks=all producer
 * writes sequence-numbered messages and a consumer group reads, three
 * partitions are reassigned and one broker is decommissioned. Afterwards
 * every acknowledged message is present exactly once, the consumers kept
 * going, the placement matches the plan and the decommissioned broker holds
 * no replica. Also: adding partitions and the preferred-leader election.
 * @module
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 22600;
const PARTITIONS = 6;
const DECOMMISSIONED = 4;

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  adding?: number[];
}

async function describe(cluster: TestCluster, topic: string): Promise<PartitionView[]> {
  const answer = await cluster.console(`topic describe ${topic}`);
  assert.equal(answer.ok, true, answer.text);
  return (answer.json as { partitions: PartitionView[] }).partitions;
}

Deno.test({
  name:
    "migration: reassign 3 partitions and decommission a broker under acks=all load; add partitions; leader balance",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await startCluster(BASE_PORT);
    try {
      const client = cluster.client();
      await client.admin.createTopic({ name: "mig", partitions: PARTITIONS, replicationFactor: 2 });
      const producer = client.producer({
        acks: "all",
        idempotence: true,
        lingerMs: 5,
        retries: 50,
        retryBackoffMs: 50,
      });
      const consumer = client.groupConsumer({
        groupId: "movers",
        autoOffsetReset: "earliest",
        maxWaitMs: 100,
      });
      consumer.subscribe(["mig"]);
      const acked = new Set<number>();
      let consumed = 0;
      let stop = false;
      let next = 0;
      const writing = (async () => {
        for (let round = 0; round < 100_000 && !stop; round++) {
          const seqs = Array.from({ length: 60 }, () => next++);
          await producer.send(
            "mig",
            seqs.map((seq) => ({ partition: seq % PARTITIONS, value: `${seq}` })),
          );
          for (const seq of seqs) acked.add(seq);
        }
      })();
      const reading = (async () => {
        for (let round = 0; round < 100_000 && !stop; round++) {
          for (const batch of await consumer.poll()) consumed += batch.messages.length;
        }
      })();
      await waitFor(() => acked.size > 2000 && consumed > 0, 10_000);

      // The plan: three partitions move to sets without the broker that will be decommissioned.
      const before = await describe(cluster, "mig");
      const plan = new Map<number, number[]>();
      for (const p of before.slice(0, 3)) {
        const others = [0, 1, 2, 3].filter((b) => !p.replicas.includes(b));
        plan.set(p.partition, [
          others[0],
          others.length > 1 ? others[1] : p.replicas.find((b) => b !== DECOMMISSIONED)!,
        ]);
      }
      const started = performance.now();
      const consumedBefore = consumed;
      for (const [partition, target] of plan) {
        const answer = await cluster.console(
          `partition reassign mig ${partition} ${target.join(",")}`,
        );
        assert.equal(answer.ok, true, answer.text);
      }
      const drained = await cluster.console(`broker decommission ${DECOMMISSIONED}`);
      assert.equal(drained.ok, true, drained.text);
      const settled = await waitFor(async () => {
        const now = await describe(cluster, "mig");
        return now.every((p) =>
          p.adding === undefined && !p.replicas.includes(DECOMMISSIONED) && p.isr.length === 2
        );
      }, 30_000);
      const migrationMs = performance.now() - started;
      assert.ok(settled, `not settled: ${JSON.stringify(await describe(cluster, "mig"))}`);

      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await writing;
      await reading;
      await producer.flush();
      await consumer.close();
      assert.ok(consumed > consumedBefore, "the consumers kept reading during the migration");

      const after = await describe(cluster, "mig");
      for (const [partition, target] of plan) {
        assert.deepEqual(
          [...after[partition].replicas].sort(),
          [...target].sort(),
          `partition ${partition} follows the plan`,
        );
      }
      assert.ok(
        after.every((p) => !p.replicas.includes(DECOMMISSIONED)),
        "the decommissioned broker holds no replica",
      );

      // Every acknowledged message exactly once.
      const reader = client.consumer();
      const seen = new Map<number, number>();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const end = await reader.listOffset("mig", partition, "latest");
        let offset = 0n;
        for (let round = 0; round < 10_000 && offset < end; round++) {
          const { messages, nextOffset } = await reader.fetch({
            topic: "mig",
            partition,
            offset,
            maxWaitMs: 100,
          });
          for (const m of messages) {
            const seq = Number(new TextDecoder().decode(m.value!));
            seen.set(seq, (seen.get(seq) ?? 0) + 1);
          }
          offset = nextOffset;
        }
      }
      const lost = [...acked].filter((seq) => !seen.has(seq));
      const duplicated = [...seen.values()].filter((n) => n > 1).length;
      console.log(
        `migration: 3 reassignments + decommission of broker ${DECOMMISSIONED} took ${
          migrationMs.toFixed(0)
        } ms under load; ` +
          `${acked.size} acknowledged, lost ${lost.length}, duplicated ${duplicated}; consumed ${consumed}`,
      );
      assert.equal(lost.length, 0);
      assert.equal(duplicated, 0);

      // Adding partitions; leader balance.
      const grown = await cluster.console("topic alter mig --partitions 8");
      assert.equal(grown.ok, true, grown.text);
      assert.equal((await describe(cluster, "mig")).length, 8);
      const balanced = await cluster.console("leader balance");
      assert.equal(balanced.ok, true, balanced.text);
      const leaders = await describe(cluster, "mig");
      assert.ok(
        leaders.every((p) => p.leader === p.replicas[0]),
        "every leader is its preferred replica",
      );
    } finally {
      await cluster.stop();
    }
  },
});
