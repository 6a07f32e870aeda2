/**
 * Disk storage end to end: 100,000 messages on a 10-partition topic, a group
 * consumer commits half way, `restart all` (rolling) keeps everything and
 * the group resumes from its committed offsets; a broker SIGKILLed during
 * writes recovers its log and rejoins the ISR with nothing acknowledged lost;
 * then the whole cluster, coordinator included, stops and starts again on
 * the same directory: topics, data and committed offsets are all still there.
 * @module
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 22400;
const MESSAGES = 100_000;
const PARTITIONS = 10;

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function describe(cluster: TestCluster, topic: string): Promise<PartitionView[]> {
  return ((await cluster.console(`topic describe ${topic}`)).json as {
    partitions: PartitionView[];
  }).partitions;
}

async function fullyReplicated(
  cluster: TestCluster,
  topic: string,
  timeoutMs: number,
): Promise<boolean> {
  return await waitFor(
    async () =>
      (await describe(cluster, topic)).every((p) =>
        p.leader >= 0 && p.isr.length === p.replicas.length
      ),
    timeoutMs,
  );
}

/** Reads every partition from the start; returns the values (as numbers) in a set, and the total count. */
async function readAll(
  cluster: TestCluster,
  topic: string,
): Promise<{ values: Set<number>; count: number }> {
  const reader = cluster.client().consumer();
  const values = new Set<number>();
  let count = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const end = await reader.listOffset(topic, partition, "latest");
    let offset = await reader.listOffset(topic, partition, "earliest");
    for (let round = 0; round < 10_000 && offset < end; round++) {
      const { messages, nextOffset } = await reader.fetch({
        topic,
        partition,
        offset,
        maxWaitMs: 100,
      });
      for (const m of messages) {
        values.add(Number(new TextDecoder().decode(m.value!)));
        count++;
      }
      offset = nextOffset;
    }
  }
  return { values, count };
}

Deno.test({
  name:
    "disk storage: restart all, SIGKILL during writes, full cluster restart — nothing acknowledged is lost",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "kafka-analog-disk-" });
    let cluster = await startCluster(BASE_PORT, { storage: "disk", dir });
    try {
      const client = cluster.client();
      await client.admin.createTopic({
        name: "durable",
        partitions: PARTITIONS,
        replicationFactor: 2,
      });
      let committedHalf = 0;

      await t.step(
        `${MESSAGES.toLocaleString()} messages; a group consumer commits half`,
        async () => {
          const producer = client.producer({ acks: "all", lingerMs: 5 });
          const started = performance.now();
          for (let i = 0; i < MESSAGES; i += 1000) {
            await producer.send(
              "durable",
              Array.from({ length: 1000 }, (_, j) => ({ value: `${i + j}` })),
            );
          }
          await producer.flush();
          console.log(
            `disk, acks=all: ${MESSAGES} messages in ${
              (performance.now() - started).toFixed(0)
            } ms`,
          );
          const consumer = client.groupConsumer({
            groupId: "resumers",
            autoOffsetReset: "earliest",
            maxWaitMs: 100,
          });
          consumer.subscribe(["durable"]);
          for (let round = 0; round < 200 && committedHalf < MESSAGES / 2; round++) {
            for (const batch of await consumer.poll()) committedHalf += batch.messages.length;
          }
          await consumer.close(); // commits the positions and leaves
          assert.ok(committedHalf >= MESSAGES / 2);
        },
      );

      await t.step(
        "restart all (rolling) keeps every message; the group resumes where it committed",
        async () => {
          const restarted = await cluster.console("restart all");
          assert.equal(restarted.ok, true, restarted.text);
          assert.ok(
            await fullyReplicated(cluster, "durable", 30_000),
            "full ISR after the rolling restart",
          );
          const { values, count } = await readAll(cluster, "durable");
          assert.equal(values.size, MESSAGES);
          assert.equal(count, MESSAGES, "no duplicates in the log");
          const consumer = cluster.client().groupConsumer({
            groupId: "resumers",
            autoOffsetReset: "earliest",
            maxWaitMs: 100,
          });
          consumer.subscribe(["durable"]);
          let rest = 0;
          for (let round = 0; round < 400 && committedHalf + rest < MESSAGES; round++) {
            for (const batch of await consumer.poll()) rest += batch.messages.length;
          }
          await consumer.close();
          assert.equal(committedHalf + rest, MESSAGES, "resumed exactly at the committed offsets");
        },
      );

      await t.step(
        "a broker SIGKILLed during writes recovers and rejoins the ISR; acknowledged writes survive",
        async () => {
          const producer = cluster.client().producer({
            acks: "all",
            lingerMs: 2,
            retries: 50,
            retryBackoffMs: 50,
          });
          const status = (await cluster.console("status")).json as {
            services: { kind: string; id: number; pid: number }[];
          };
          const victim = status.services.find((s) => s.kind === "broker" && s.id === 2)!;
          const acked: number[] = [];
          const writing = (async () => {
            for (let i = 0; i < 40; i++) {
              const batch = Array.from({ length: 250 }, (_, j) => MESSAGES + i * 250 + j);
              await producer.send("durable", batch.map((n) => ({ value: `${n}` })));
              acked.push(...batch);
            }
          })();
          await new Promise((r) => setTimeout(r, 150));
          Deno.kill(victim.pid, "SIGKILL");
          await writing;
          const start = await cluster.console("broker start 2");
          assert.equal(start.ok, true, start.text);
          assert.ok(
            await fullyReplicated(cluster, "durable", 30_000),
            "broker 2 rejoined every ISR",
          );
          const { values } = await readAll(cluster, "durable");
          const lost = acked.filter((n) => !values.has(n));
          assert.deepEqual(lost.slice(0, 10), [], `lost ${lost.length} acknowledged messages`);
          const logs = await Deno.readTextFile(`${dir}/data/logs/broker-2.log`);
          console.log(
            `broker 2 after SIGKILL: ${
              logs.includes("truncat") ? "truncated a torn tail" : "no torn tail to truncate"
            }`,
          );
        },
      );

      await t.step(
        "the whole cluster stops and starts again: topics, data and offsets are still there",
        async () => {
          const before = await readAll(cluster, "durable");
          const committed = ((await cluster.console("group describe resumers")).json as {
            offsets: { partition: number; committed: number | null }[];
          }).offsets;
          await cluster.stop();
          cluster = await startCluster(BASE_PORT, { storage: "disk", dir });
          const topics =
            ((await cluster.console("topic list")).json as { topics: { name: string }[] }).topics;
          assert.deepEqual(topics.map((t) => t.name), ["durable"]);
          assert.ok(
            await fullyReplicated(cluster, "durable", 30_000),
            "every partition has a leader and full ISR",
          );
          // High watermarks are not checkpointed: after a restart each leader's catches up as
          // soon as its followers have fetched once. Wait for that before counting.
          const reader = cluster.client().consumer();
          const ends = async () => {
            let sum = 0n;
            for (let p = 0; p < PARTITIONS; p++) {
              sum += await reader.listOffset("durable", p, "latest");
            }
            return sum;
          };
          assert.ok(
            await waitFor(async () => (await ends()) === BigInt(before.count), 15_000),
            `high watermarks caught up (${await ends()} of ${before.count})`,
          );
          const after = await readAll(cluster, "durable");
          assert.equal(after.count, before.count, "every stored message came back");
          assert.equal(after.values.size, before.values.size);
          const again = ((await cluster.console("group describe resumers")).json as {
            offsets: { partition: number; committed: number | null }[];
          }).offsets;
          assert.deepEqual(
            again.map((o) => o.committed),
            committed.map((o) => o.committed),
            "committed offsets survived",
          );
        },
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
