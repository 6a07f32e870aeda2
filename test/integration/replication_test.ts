/**
 * Replication through real processes: acks=all data survives the leader's
 * SIGKILL, min.insync.replicas refuses acks=all writes with a clear error
 * while acks=1 still works, and a paused follower leaves the ISR and comes
 * back.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 21500;

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
}

async function describe(cluster: TestCluster, topic: string): Promise<PartitionView[]> {
  return ((await cluster.console(`topic describe ${topic}`)).json as {
    partitions: PartitionView[];
  }).partitions;
}

async function pidOf(cluster: TestCluster, brokerId: number): Promise<number> {
  const services = ((await cluster.console("status")).json as {
    services: { kind: string; id: number; pid: number }[];
  })
    .services;
  return services.find((s) => s.kind === "broker" && s.id === brokerId)!.pid;
}

async function readAll(
  cluster: TestCluster,
  topic: string,
  partition: number,
  expected: number,
): Promise<string[]> {
  const reader = cluster.client().consumer();
  const values: string[] = [];
  let offset = 0n;
  for (let round = 0; round < 200 && values.length < expected; round++) {
    const { messages, nextOffset } = await reader.fetch({
      topic,
      partition,
      offset,
      maxWaitMs: 100,
    });
    for (const m of messages) values.push(new TextDecoder().decode(m.value!));
    offset = nextOffset;
  }
  return values;
}

Deno.test({
  name:
    "replication: acks=all survives leader SIGKILL; min.insync.replicas; paused follower leaves and rejoins the ISR",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await startCluster(BASE_PORT);
    const paused: number[] = [];
    try {
      const client = cluster.client();
      await t.step("acknowledged acks=all writes survive the leader's SIGKILL", async () => {
        await client.admin.createTopic({ name: "durable", partitions: 3, replicationFactor: 2 });
        const producer = client.producer({ acks: "all", lingerMs: 2 });
        const values = Array.from({ length: 2000 }, (_, i) => `m-${i}`);
        await producer.send("durable", values.map((value) => ({ partition: 0, value })));
        const before = (await describe(cluster, "durable"))[0];
        assert.deepEqual(before.isr.length, 2);
        Deno.kill(await pidOf(cluster, before.leader), "SIGKILL");
        const started = performance.now();
        const moved = await waitFor(
          async () => (await describe(cluster, "durable"))[0].leader !== before.leader,
          5_000,
        );
        assert.ok(moved, "a new leader was elected");
        const after = (await describe(cluster, "durable"))[0];
        console.log(
          `failover: new leader ${after.leader} (epoch ${after.leaderEpoch}) after ${
            (performance.now() - started).toFixed(0)
          } ms`,
        );
        assert.equal(after.leaderEpoch, before.leaderEpoch + 1);
        assert.deepEqual(after.isr, [after.leader]);
        assert.deepEqual(await readAll(cluster, "durable", 0, values.length), values);
        // The dead broker comes back empty (memory storage), copies the partition and rejoins the ISR.
        const start = await cluster.console(`broker start ${before.leader}`);
        assert.equal(start.ok, true, start.text);
        const rejoined = await waitFor(
          async () => (await describe(cluster, "durable"))[0].isr.length === 2,
          15_000,
        );
        assert.ok(rejoined, "the restarted broker rejoined the ISR");
      });

      await t.step(
        "min.insync.replicas=2 with a replica down: acks=all fails clearly, acks=1 works",
        async () => {
          await client.admin.createTopic({
            name: "strict",
            partitions: 1,
            replicationFactor: 2,
            configs: { "min.insync.replicas": "2" },
          });
          const p = (await describe(cluster, "strict"))[0];
          const follower = p.replicas.find((id) => id !== p.leader)!;
          const stop = await cluster.console(`broker stop ${follower}`);
          assert.equal(stop.ok, true, stop.text);
          const shrunk = await waitFor(
            async () => (await describe(cluster, "strict"))[0].isr.length === 1,
            5_000,
          );
          assert.ok(shrunk, "the stopped follower left the ISR");
          const strict = client.producer({ acks: "all", retries: 0 });
          await assert.rejects(
            strict.send("strict", [{ value: "needs two" }]),
            (err) =>
              isKaError(err, "NOT_ENOUGH_REPLICAS") && /min.insync.replicas is 2/.test(err.message),
          );
          const [meta] = await client.producer({ acks: 1 }).send("strict", [{
            value: "one is enough",
          }]);
          assert.equal(meta.offset, 0n);
          assert.equal((await cluster.console(`broker start ${follower}`)).ok, true);
          assert.ok(
            await waitFor(
              async () => (await describe(cluster, "strict"))[0].isr.length === 2,
              15_000,
            ),
          );
          const [again] = await strict.send("strict", [{ value: "two again" }]);
          assert.equal(again.offset, 1n);
        },
      );

      await t.step("a SIGSTOPped follower leaves the ISR; after SIGCONT it rejoins", async () => {
        // Brokers restarted by the steps above must first be back in this partition's ISR.
        assert.ok(
          await waitFor(
            async () => (await describe(cluster, "durable"))[1].isr.length === 2,
            15_000,
          ),
        );
        const p = (await describe(cluster, "durable"))[1];
        const follower = p.replicas.find((id) => id !== p.leader)!;
        const pid = await pidOf(cluster, follower);
        Deno.kill(pid, "SIGSTOP");
        paused.push(pid);
        const pausedAt = performance.now();
        const left = await waitFor(
          async () => !(await describe(cluster, "durable"))[1].isr.includes(follower),
          15_000,
        );
        assert.ok(left, "paused follower left the ISR");
        console.log(
          `paused follower ${follower} left the ISR after ${
            (performance.now() - pausedAt).toFixed(0)
          } ms`,
        );
        // Writes go on while it is out.
        await client.cluster.refresh(); // this client's cache predates the step's leadership moves
        const sendAt = performance.now();
        await client.producer({ acks: "all" }).send("durable", [{
          partition: 1,
          value: "while paused",
        }]);
        console.log(
          `acks=all write while paused took ${(performance.now() - sendAt).toFixed(0)} ms`,
        );
        Deno.kill(pid, "SIGCONT");
        paused.pop();
        const resumedAt = performance.now();
        const back = await waitFor(
          async () => (await describe(cluster, "durable"))[1].isr.includes(follower),
          15_000,
        );
        assert.ok(back, "resumed follower rejoined the ISR");
        console.log(
          `resumed follower rejoined the ISR after ${
            (performance.now() - resumedAt).toFixed(0)
          } ms`,
        );
      });
    } finally {
      for (const pid of paused) Deno.kill(pid, "SIGCONT");
      await cluster.stop();
    }
  },
});
