/**
 * Real Kafka clients, written by others, against a cluster this test starts
 * (issue #11, SPEC §6a): kcat 1.7.1 (librdkafka 2.0.2, from /usr/bin/kcat)
 * and kafkajs 2.2.4 (npm), unchanged, bootstrapping at one broker.
 *
 * - kcat: `-L` lists brokers (127.0.0.1 and our ports), controller, topics,
 *   partitions, leaders; `-P` produces 10,000 keyed lines and `-C -e` reads
 *   them back identically; a fetch offset in the middle of a batch; `-Q`
 *   offsets by timestamp; two `-G` instances split a topic's partitions and
 *   together read every message once.
 * - kafkajs: admin createTopics / listTopics / createPartitions /
 *   describeConfigs / alterConfigs / deleteGroups / deleteTopics; an idempotent producer sends 10,000
 *   messages; a consumer group of 2 reads all of them and commits; a
 *   transactional producer commits one transaction and aborts another, and a
 *   read_committed consumer sees only the committed one.
 * - Interop: what our `clients/` produce, kcat and kafkajs read byte for byte
 *   (keys, values, headers, timestamps), and the reverse.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { KafkaConnection } from "@kafka-analog/lib/net";
import { ApiKey, splitBatches } from "@kafka-analog/lib/protocol";
import type { ConsumedMessage } from "@kafka-analog/clients";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";
import { kcat, KcatProcess } from "../_kcat.ts";

const BASE_PORT = 22800;
const MESSAGES = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function kafkaFor(cluster: TestCluster, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [cluster.brokerAddresses[0]],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

/** Runs a kafkajs consumer until `done()` or `timeoutMs`, then disconnects it. */
async function consumeUntil(
  consumer: Consumer,
  done: () => boolean,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitFor(done, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

Deno.test({
  name: "kafka clients: kcat (librdkafka) and kafkajs work unchanged; interop with our clients",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await startCluster(BASE_PORT, { brokers: 3 });
    const bootstrap = cluster.brokerAddresses[0];
    const background: KcatProcess[] = [];
    try {
      const kafka = kafkaFor(cluster, "kafka-clients-test");
      const admin = kafka.admin();
      await admin.connect();

      await t.step(
        "kafkajs admin: createTopics, listTopics, createPartitions, describeConfigs, deleteTopics",
        async () => {
          assert.equal(
            await admin.createTopics({
              topics: [
                { topic: "kc", numPartitions: 4, replicationFactor: 2 },
                {
                  topic: "js-admin",
                  numPartitions: 2,
                  replicationFactor: 2,
                  configEntries: [{ name: "retention.ms", value: "3600000" }],
                },
              ],
            }),
            true,
          );
          const topics = await admin.listTopics();
          assert.ok(topics.includes("kc") && topics.includes("js-admin"), topics.join(","));
          await admin.createPartitions({ topicPartitions: [{ topic: "js-admin", count: 3 }] });
          const meta = await admin.fetchTopicMetadata({ topics: ["js-admin"] });
          assert.equal(meta.topics[0].partitions.length, 3);
          await assert.rejects(
            () => admin.createPartitions({ topicPartitions: [{ topic: "js-admin", count: 2 }] }),
            /partition/i,
          );
          const described = await admin.describeConfigs({
            resources: [{ type: 2, name: "js-admin" }, { type: 4, name: "0" }],
            includeSynonyms: false,
          });
          const topicConfigs = new Map(
            described.resources[0].configEntries.map((c) => [c.configName, c]),
          );
          assert.equal(topicConfigs.get("retention.ms")?.configValue, "3600000");
          assert.equal(topicConfigs.get("retention.ms")?.isDefault, false);
          assert.equal(topicConfigs.get("cleanup.policy")?.configValue, "delete");
          assert.equal(topicConfigs.get("max.message.bytes")?.configValue, "1048576");
          const brokerConfigs = new Map(
            described.resources[1].configEntries.map((c) => [c.configName, c.configValue]),
          );
          assert.equal(brokerConfigs.get("auto.create.topics.enable"), "false");
          await admin.deleteTopics({ topics: ["js-admin"] });
          assert.ok(
            await waitFor(async () => !(await admin.listTopics()).includes("js-admin"), 10_000),
            "js-admin is gone",
          );
        },
      );

      let leaderOfKc0 = "";
      await t.step(
        "kcat -L lists brokers at 127.0.0.1, the controller, topics, partitions, leaders",
        async () => {
          const { code, stdout, stderr } = await kcat(["-b", bootstrap, "-L", "-J", "-t", "kc"]);
          assert.equal(code, 0, stderr);
          const md = JSON.parse(stdout) as {
            controllerid: number;
            brokers: { id: number; name: string }[];
            topics: {
              topic: string;
              partitions: { partition: number; leader: number; replicas: { id: number }[] }[];
            }[];
          };
          assert.deepEqual(
            md.brokers.map((b) => b.name).sort(),
            [...cluster.brokerAddresses].sort(),
          );
          assert.ok(
            md.brokers.some((b) => b.id === md.controllerid),
            `controller ${md.controllerid}`,
          );
          const kc = md.topics.find((x) => x.topic === "kc")!;
          assert.equal(kc.partitions.length, 4);
          const leader0 = kc.partitions.find((p) => p.partition === 0)!.leader;
          leaderOfKc0 = md.brokers.find((b) => b.id === leader0)!.name;
          for (const p of kc.partitions) {
            assert.equal(p.replicas.length, 2);
            assert.ok(p.replicas.some((r) => r.id === p.leader), `leader of ${p.partition}`);
          }
        },
      );

      const produced = Array.from({ length: MESSAGES }, (_, i) => `key-${i % 97}:value-${i}`);
      await t.step(
        "kcat -P (idempotent) produces 10,000 keyed lines; kcat -C -e reads them back identically",
        async () => {
          const put = await kcat(
            ["-b", bootstrap, "-P", "-t", "kc", "-K", ":", "-X", "enable.idempotence=true"],
            produced.join("\n") + "\n",
          );
          assert.equal(put.code, 0, put.stderr);
          const got = await kcat([
            "-b",
            bootstrap,
            "-C",
            "-t",
            "kc",
            "-e",
            "-q",
            "-f",
            "%p %o %k:%s\\n",
          ]);
          assert.equal(got.code, 0, got.stderr);
          const rows = lines(got.stdout).map((l) => {
            const [p, o, kv] = l.split(" ");
            return { partition: Number(p), offset: Number(o), kv };
          });
          assert.equal(rows.length, MESSAGES);
          assert.deepEqual(rows.map((r) => r.kv).sort(), [...produced].sort());
          // Same key, same partition; each partition in the order produced, offsets dense from 0.
          const partitionOfKey = new Map<string, number>();
          const byPartition = new Map<number, typeof rows>();
          for (const r of rows) {
            const key = r.kv.split(":")[0];
            assert.equal(partitionOfKey.get(key) ?? r.partition, r.partition, `key ${key}`);
            partitionOfKey.set(key, r.partition);
            byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
          }
          const order = new Map(produced.map((kv, i) => [kv, i]));
          for (const part of byPartition.values()) {
            part.forEach((r, i) => assert.equal(r.offset, i));
            for (let i = 1; i < part.length; i++) {
              assert.ok(order.get(part[i - 1].kv)! < order.get(part[i].kv)!, "per-partition order");
            }
          }
        },
      );

      await t.step(
        "a fetch at an offset inside a batch gets the whole batch; kcat starts exactly there",
        async () => {
          const conn = await KafkaConnection.open(leaderOfKc0, { clientId: "raw" });
          const firstBatchAt = async (offset: bigint) => {
            const res = await conn.request(ApiKey.Fetch, 11, {
              replicaId: -1,
              maxWaitMs: 0,
              minBytes: 1,
              maxBytes: 1 << 20,
              isolationLevel: 0,
              topics: [{
                topic: "kc",
                partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }],
              }],
            });
            const data = res.responses[0].partitions[0];
            assert.equal(data.errorCode, 0);
            const [first] = splitBatches(data.records!, { allowPartialTail: true });
            return {
              base: first.header.baseOffset,
              last: first.header.baseOffset + BigInt(first.header.lastOffsetDelta),
            };
          };
          let mid: bigint;
          try {
            // kcat batched its lines: pick an offset strictly inside the first batch.
            const batch = await firstBatchAt(0n);
            assert.ok(batch.last >= batch.base + 2n, `first batch ${batch.base}..${batch.last}`);
            mid = batch.base + 1n;
            // On the wire: a fetch at `mid` returns that batch whole, from its base offset.
            assert.deepEqual(await firstBatchAt(mid), batch);
          } finally {
            conn.close();
          }
          // The client drops the records before `mid`: kcat starts exactly there.
          const got = await kcat([
            "-b",
            bootstrap,
            "-C",
            "-t",
            "kc",
            "-p",
            "0",
            "-o",
            String(mid),
            "-c",
            "3",
            "-q",
            "-f",
            "%o\\n",
          ]);
          assert.equal(got.code, 0, got.stderr);
          assert.deepEqual(lines(got.stdout), [0n, 1n, 2n].map((d) => String(mid + d)));
        },
      );

      await t.step(
        "kcat -z gzip|snappy|lz4|zstd round-trips (librdkafka 2.0.2 compresses only zstd against Produce v3+; see compression_test.ts); ours reads kcat's batches",
        async () => {
          await admin.createTopics({
            topics: [
              { topic: "kz", numPartitions: 1, replicationFactor: 2 },
              { topic: "kzg", numPartitions: 1, replicationFactor: 2 },
            ],
          });
          const expected: string[] = [];
          for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
            const batch = Array.from({ length: 200 }, (_, i) => `${codec}-${i}`);
            expected.push(...batch);
            const put = await kcat(
              ["-b", bootstrap, "-P", "-t", "kz", "-p", "0", "-z", codec],
              batch.join("\n") + "\n",
            );
            assert.equal(put.code, 0, put.stderr);
          }
          const got = await kcat(["-b", bootstrap, "-C", "-t", "kz", "-e", "-q", "-f", "%o %s\\n"]);
          assert.equal(got.code, 0, got.stderr);
          const rows = lines(got.stdout);
          assert.deepEqual(rows.map((r) => r.split(" ")[1]), expected);
          assert.deepEqual(rows.map((r) => Number(r.split(" ")[0])), expected.map((_, i) => i));
          // Our reader decodes what kcat wrote (every codec: test/integration/compression_test.ts).
          const gz = await kcat(
            ["-b", bootstrap, "-P", "-t", "kzg", "-z", "gzip"],
            expected.slice(0, 200).join("\n") + "\n",
          );
          assert.equal(gz.code, 0, gz.stderr);
          const reader = cluster.client().consumer();
          const ours: string[] = [];
          let offset = 0n;
          const deadline = Date.now() + 10_000;
          while (ours.length < 200 && Date.now() < deadline) {
            const r = await reader.fetch({ topic: "kzg", partition: 0, offset });
            ours.push(...r.messages.map((m) => decoder.decode(m.value!)));
            offset = r.nextOffset;
          }
          assert.deepEqual(ours, expected.slice(0, 200));
        },
      );

      await t.step(
        "kcat -G: two instances split the partitions and together read every message once",
        async () => {
          await admin.createTopics({
            topics: [{ topic: "kg", numPartitions: 4, replicationFactor: 2 }],
          });
          const args = [
            "-b",
            bootstrap,
            "-G",
            "kcat-group",
            "-X",
            "auto.offset.reset=earliest",
            "-u", // unbuffered: lines arrive as they are read
            "-f",
            "%p %o %s\\n",
            "kg",
          ];
          const a = new KcatProcess(args);
          const b = new KcatProcess(args);
          background.push(a, b);
          // kcat prints its assignment after each rebalance: wait until the two hold disjoint halves.
          const assigned = (p: KcatProcess): number[] => {
            const all = [...p.stderr.matchAll(/assigned: ([^\n]*)/g)];
            const last = all.at(-1)?.[1] ?? "";
            return [...last.matchAll(/kg \[(\d+)\]/g)].map((m) => Number(m[1]));
          };
          assert.ok(
            await waitFor(() => {
              const both = [...assigned(a), ...assigned(b)].sort();
              return assigned(a).length > 0 && assigned(b).length > 0 &&
                both.join() === "0,1,2,3";
            }, 30_000),
            `both kcat members hold partitions:\n${a.stderr}\n${b.stderr}`,
          );
          // Keyed, so every partition gets some (unkeyed lines all go to one sticky partition).
          const values = Array.from({ length: MESSAGES }, (_, i) => `g-${i}`);
          const put = await kcat(
            ["-b", bootstrap, "-P", "-t", "kg", "-K", ":"],
            values.map((v, i) => `key-${i % 101}:${v}`).join("\n") + "\n",
          );
          assert.equal(put.code, 0, put.stderr);
          assert.ok(
            await waitFor(
              () => lines(a.stdout).length + lines(b.stdout).length >= MESSAGES,
              30_000,
            ),
            `read ${lines(a.stdout).length} + ${lines(b.stdout).length}`,
          );
          await Promise.all([a.stop(), b.stop()]);
          const rowsA = lines(a.stdout).map((l) => l.split(" "));
          const rowsB = lines(b.stdout).map((l) => l.split(" "));
          assert.equal(rowsA.length + rowsB.length, MESSAGES, "every message exactly once");
          assert.deepEqual(
            [...rowsA, ...rowsB].map((r) => r[2]).sort(),
            [...values].sort(),
          );
          const partsA = new Set(rowsA.map((r) => r[0]));
          const partsB = new Set(rowsB.map((r) => r[0]));
          assert.ok(partsA.size > 0 && partsB.size > 0, "both instances read");
          assert.ok([...partsA].every((p) => !partsB.has(p)), "no partition read by both");
          // The group committed what it read: kafkajs sees the same offsets.
          const committed = await admin.fetchOffsets({ groupId: "kcat-group", topics: ["kg"] });
          const ends = await admin.fetchTopicOffsets("kg");
          const endOf = new Map(ends.map((e) => [e.partition, e.offset]));
          for (const p of committed[0].partitions) {
            assert.equal(p.offset, endOf.get(p.partition), `committed offset of kg-${p.partition}`);
          }
        },
      );

      await t.step(
        "kafkajs: an idempotent producer sends 10,000; a group of 2 reads all and commits",
        async () => {
          await admin.createTopics({
            topics: [{ topic: "js", numPartitions: 4, replicationFactor: 2 }],
          });
          const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
          await producer.connect();
          for (let start = 0; start < MESSAGES; start += 1_000) {
            await producer.send({
              topic: "js",
              acks: -1,
              messages: Array.from({ length: 1_000 }, (_, i) => ({
                key: `k-${(start + i) % 50}`,
                value: `js-${start + i}`,
              })),
            });
          }
          await producer.disconnect();
          const ends = await admin.fetchTopicOffsets("js");
          assert.equal(ends.reduce((n, e) => n + Number(e.offset), 0), MESSAGES, "no duplicates");

          const seen = new Map<string, number>();
          const byMember = [new Set<number>(), new Set<number>()];
          const consumers = [0, 1].map(() =>
            kafka.consumer({ groupId: "js-group", sessionTimeout: 10_000, heartbeatInterval: 500 })
          );
          await Promise.all(consumers.map(async (c, i) => {
            await c.connect();
            await c.subscribe({ topic: "js", fromBeginning: true });
            await c.run({
              autoCommitInterval: 200,
              eachMessage: ({ partition, message }) => {
                const v = message.value!.toString();
                seen.set(v, (seen.get(v) ?? 0) + 1);
                byMember[i].add(partition);
                return Promise.resolve();
              },
            });
          }));
          const committedAll = async () => {
            const c = await admin.fetchOffsets({ groupId: "js-group", topics: ["js"] });
            const endOf = new Map(ends.map((e) => [e.partition, e.offset]));
            return c[0].partitions.every((p) => p.offset === endOf.get(p.partition));
          };
          try {
            assert.ok(await waitFor(() => seen.size >= MESSAGES, 60_000), `read ${seen.size}`);
            assert.ok(await waitFor(committedAll, 20_000), "the group committed every offset");
          } finally {
            await Promise.all(consumers.map((c) => c.disconnect()));
          }
          assert.equal(seen.size, MESSAGES);
          for (let i = 0; i < MESSAGES; i++) assert.ok(seen.has(`js-${i}`), `js-${i}`);
          const described = await admin.describeGroups(["js-group"]);
          assert.equal(described.groups[0].groupId, "js-group");
          assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === "js-group"));
          // Once both had joined the partitions were split between them.
          assert.ok(byMember[0].size > 0 && byMember[1].size > 0, "both members read");
        },
      );

      await t.step(
        "kafkajs admin: alterConfigs (describeConfigs and the console see it), deleteGroups; raw IncrementalAlterConfigs v1",
        async () => {
          await admin.createTopics({
            topics: [{
              topic: "js-alter",
              numPartitions: 1,
              replicationFactor: 2,
              configEntries: [{ name: "retention.ms", value: "3600000" }],
            }],
          });
          const alter = (configEntries: { name: string; value: string }[], validateOnly = false) =>
            admin.alterConfigs({
              validateOnly,
              resources: [{ type: 2, name: "js-alter", configEntries }],
            });
          await alter([{ name: "cleanup.policy", value: "compact" }], true); // Changes nothing.
          // AlterConfigs replaces the whole set: retention.ms, not listed, goes back to default.
          await alter([{ name: "segment.bytes", value: "1048576" }, {
            name: "flush.messages",
            value: "1000",
          }]);
          const described = await admin.describeConfigs({
            resources: [{ type: 2, name: "js-alter" }],
            includeSynonyms: false,
          });
          const configs = new Map(
            described.resources[0].configEntries.map((c) => [c.configName, c]),
          );
          assert.equal(configs.get("segment.bytes")?.configValue, "1048576");
          assert.equal(configs.get("segment.bytes")?.readOnly, false);
          assert.equal(configs.get("segment.bytes")?.isDefault, false);
          assert.equal(configs.get("flush.messages")?.configValue, "1000");
          assert.equal(configs.get("cleanup.policy")?.configValue, "delete");
          assert.notEqual(configs.get("retention.ms")?.configValue, "3600000");
          assert.equal(configs.get("retention.ms")?.readOnly, false);
          const fromConsole = (await cluster.console("topic describe js-alter")).json as {
            configs: Record<string, string>;
          };
          assert.deepEqual(fromConsole.configs, {
            "segment.bytes": "1048576",
            "flush.messages": "1000",
          });
          await assert.rejects(
            () => alter([{ name: "no.such.config", value: "1" }]),
            (e: { type?: string }) => e.type === "INVALID_CONFIG",
          );
          await assert.rejects(
            () =>
              admin.alterConfigs({
                validateOnly: false,
                resources: [{
                  type: 4,
                  name: "0",
                  configEntries: [{ name: "num.partitions", value: "3" }],
                }],
              }),
            (e: { type?: string }) => e.type === "INVALID_REQUEST",
          );

          // js-group (the step above) is empty now, with committed offsets.
          assert.deepEqual(await admin.deleteGroups(["js-group"]), [
            { groupId: "js-group", errorCode: 0 },
          ]);
          assert.ok(!(await admin.listGroups()).groups.some((g) => g.groupId === "js-group"));
          const offsets = await admin.fetchOffsets({ groupId: "js-group", topics: ["js"] });
          assert.ok(offsets[0].partitions.length > 0);
          for (const p of offsets[0].partitions) {
            assert.equal(p.offset, "-1", `partition ${p.partition}`);
          }

          // A group with a member cannot be deleted; an unknown one is not found.
          const busy = kafka.consumer({
            groupId: "js-busy",
            sessionTimeout: 10_000,
            heartbeatInterval: 500,
          });
          try {
            await busy.connect();
            await busy.subscribe({ topic: "js-alter", fromBeginning: true });
            await busy.run({ eachMessage: () => Promise.resolve() });
            assert.ok(
              await waitFor(async () => {
                const g = (await admin.describeGroups(["js-busy"])).groups[0];
                return g.state === "Stable" && g.members.length === 1;
              }, 20_000),
              "js-busy has a member",
            );
            await assert.rejects(
              () => admin.deleteGroups(["js-busy", "js-never-existed"]),
              (e: { groups?: { groupId: string; error?: { type?: string } }[] }) => {
                // kafkajs asks each group's coordinator apart and joins the answers in any order.
                assert.deepEqual(
                  (e.groups ?? []).map((g) => [g.groupId, g.error?.type]).sort(),
                  [["js-busy", "NON_EMPTY_GROUP"], ["js-never-existed", "GROUP_ID_NOT_FOUND"]],
                );
                return true;
              },
            );
          } finally {
            await busy.disconnect();
          }
          assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === "js-busy"));

          // IncrementalAlterConfigs (kafkajs does not send it): v1 is flexible, forwarded by a broker.
          const conn = await KafkaConnection.open(bootstrap, { clientId: "raw" });
          try {
            const res = await conn.request(ApiKey.IncrementalAlterConfigs, 1, {
              resources: [{
                resourceType: 2,
                resourceName: "js-alter",
                configs: [{ name: "segment.bytes", configOperation: 1, value: null }, {
                  name: "retention.ms",
                  configOperation: 0,
                  value: "600000",
                }],
              }],
              validateOnly: false,
            });
            assert.deepEqual(res.responses.map((r) => r.errorCode), [0]);
          } finally {
            conn.close();
          }
          const afterIncremental = (await cluster.console("topic describe js-alter")).json as {
            configs: Record<string, string>;
          };
          assert.deepEqual(afterIncremental.configs, {
            "flush.messages": "1000",
            "retention.ms": "600000",
          });
        },
      );

      await t.step(
        "kafkajs transactions: commit one, abort one; read_committed sees only the committed",
        async () => {
          await admin.createTopics({
            topics: [{ topic: "tx", numPartitions: 2, replicationFactor: 2 }],
          });
          const producer = kafka.producer({
            transactionalId: "kafkajs-txn",
            idempotent: true,
            maxInFlightRequests: 1,
          });
          await producer.connect();
          const committed = await producer.transaction();
          await committed.send({
            topic: "tx",
            messages: Array.from(
              { length: 20 },
              (_, i) => ({ key: `c${i}`, value: `committed-${i}` }),
            ),
          });
          await committed.commit();
          const aborted = await producer.transaction();
          await aborted.send({
            topic: "tx",
            messages: Array.from(
              { length: 20 },
              (_, i) => ({ key: `a${i}`, value: `aborted-${i}` }),
            ),
          });
          await aborted.abort();
          await producer.disconnect();
          // Plain messages after the aborted transaction mark the end of what there is to read.
          const plain = kafka.producer();
          await plain.connect();
          await plain.send({
            topic: "tx",
            messages: [{ value: "after", partition: 0 }, { value: "after", partition: 1 }],
          });
          await plain.disconnect();

          const readAll = async (groupId: string, readUncommitted: boolean) => {
            const values: string[] = [];
            const consumer = kafka.consumer({ groupId, readUncommitted });
            await consumer.connect();
            await consumer.subscribe({ topic: "tx", fromBeginning: true });
            await consumer.run({
              eachMessage: ({ message }) => {
                values.push(message.value!.toString());
                return Promise.resolve();
              },
            });
            await consumeUntil(
              consumer,
              () => values.filter((v) => v === "after").length === 2,
              30_000,
            );
            return values;
          };
          const rc = await readAll("tx-read-committed", false);
          assert.equal(rc.filter((v) => v.startsWith("committed-")).length, 20, rc.join(","));
          assert.equal(rc.filter((v) => v.startsWith("aborted-")).length, 0, rc.join(","));
          // read_uncommitted does get the aborted records, so the check above is not vacuous.
          const ru = await readAll("tx-read-uncommitted", true);
          assert.equal(ru.filter((v) => v.startsWith("aborted-")).length, 20);
        },
      );

      await t.step(
        "interop: our clients → kcat and kafkajs, byte for byte, with headers and timestamps",
        async () => {
          const client = cluster.client();
          await client.admin.createTopic({ name: "interop", partitions: 1, replicationFactor: 2 });
          const producer = client.producer({ acks: "all" });
          // Recent timestamps: older than retention.ms (7 days), records may be deleted at once.
          const baseTs = Date.now() - 3_600_000;
          const sent = Array.from({ length: 50 }, (_, i) => ({
            key: `ours-${i}`,
            value: i === 7 ? new Uint8Array([0, 255, 1, 128, 10]) : `value ${i} ✓`,
            headers: [{ key: "trace", value: `t-${i}` }, { key: "n", value: String(i) }],
            timestamp: baseTs + i * 1_000,
          }));
          await producer.send("interop", sent);
          await producer.flush();
          const asBytes = (v: string | Uint8Array) => typeof v === "string" ? encoder.encode(v) : v;

          // kcat, JSON: strings as they are (skip the binary one), headers and timestamps.
          const got = await kcat(["-b", bootstrap, "-C", "-t", "interop", "-e", "-q", "-J"]);
          assert.equal(got.code, 0, got.stderr);
          const rows = lines(got.stdout).map((l) =>
            JSON.parse(l) as {
              offset: number;
              ts: number;
              key: string;
              payload: string;
              headers: string[];
            }
          );
          assert.equal(rows.length, sent.length);
          rows.forEach((r, i) => {
            assert.equal(r.offset, i);
            assert.equal(r.key, sent[i].key);
            assert.equal(r.ts, sent[i].timestamp);
            assert.deepEqual(r.headers, ["trace", `t-${i}`, "n", String(i)]);
            if (i !== 7) assert.equal(r.payload, sent[i].value);
          });
          // kcat -Q: ListOffsets by timestamp (the first record at or after it).
          const q = await kcat(["-b", bootstrap, "-Q", "-t", `interop:0:${baseTs + 10_500}`]);
          assert.equal(q.code, 0, q.stderr);
          assert.match(q.stdout, /interop \[0\]\s+offset 11\b/);

          // kafkajs: raw bytes of everything.
          const js: { key: Buffer; value: Buffer; headers: Record<string, Buffer>; ts: string }[] =
            [];
          const consumer = kafka.consumer({ groupId: "interop-js" });
          await consumer.connect();
          await consumer.subscribe({ topic: "interop", fromBeginning: true });
          await consumer.run({
            eachMessage: ({ message }) => {
              js.push({
                key: message.key!,
                value: message.value!,
                headers: message.headers as Record<string, Buffer>,
                ts: message.timestamp,
              });
              return Promise.resolve();
            },
          });
          await consumeUntil(consumer, () => js.length >= sent.length, 30_000);
          assert.equal(js.length, sent.length);
          js.forEach((m, i) => {
            assert.deepEqual(new Uint8Array(m.key), encoder.encode(sent[i].key));
            assert.deepEqual(new Uint8Array(m.value), asBytes(sent[i].value));
            assert.equal(m.ts, String(sent[i].timestamp));
            assert.equal(m.headers.trace.toString(), `t-${i}`);
            assert.equal(m.headers.n.toString(), String(i));
          });
          const byTime = await admin.fetchTopicOffsetsByTimestamp("interop", baseTs + 20_000);
          assert.equal(byTime[0].offset, "20");
        },
      );

      await t.step("interop: kafkajs and kcat → our clients, byte for byte", async () => {
        await admin.createTopics({
          topics: [{ topic: "interop-back", numPartitions: 1, replicationFactor: 2 }],
        });
        const producer = kafka.producer();
        await producer.connect();
        const baseTs = Date.now() - 1_800_000;
        const fromJs = Array.from({ length: 20 }, (_, i) => ({
          key: Buffer.from(`js-${i}`),
          value: i === 3 ? Buffer.from([0, 1, 2, 254, 255]) : Buffer.from(`kafkajs ${i} ✓`),
          headers: { origin: Buffer.from("kafkajs"), i: Buffer.from(String(i)) },
          timestamp: String(baseTs + i),
        }));
        await producer.send({ topic: "interop-back", acks: -1, messages: fromJs });
        await producer.disconnect();
        const put = await kcat(
          ["-b", bootstrap, "-P", "-t", "interop-back", "-K", ":", "-H", "origin=kcat"],
          "kcat-key:kcat value\n",
        );
        assert.equal(put.code, 0, put.stderr);

        const client = cluster.client();
        const reader = client.consumer();
        const got: ConsumedMessage[] = [];
        let offset = 0n;
        const deadline = Date.now() + 20_000;
        while (got.length < fromJs.length + 1 && Date.now() < deadline) {
          const r = await reader.fetch({ topic: "interop-back", partition: 0, offset });
          got.push(...r.messages);
          offset = r.nextOffset;
        }
        assert.equal(got.length, fromJs.length + 1);
        fromJs.forEach((m, i) => {
          assert.deepEqual(got[i].key, new Uint8Array(m.key));
          assert.deepEqual(got[i].value, new Uint8Array(m.value));
          assert.equal(got[i].timestamp, baseTs + i);
          assert.deepEqual(
            got[i].headers.map((h) => [h.key, decoder.decode(h.value!)]),
            [["origin", "kafkajs"], ["i", String(i)]],
          );
        });
        const last = got[fromJs.length];
        assert.equal(decoder.decode(last.key!), "kcat-key");
        assert.equal(decoder.decode(last.value!), "kcat value");
        assert.deepEqual(last.headers.map((h) => [h.key, decoder.decode(h.value!)]), [[
          "origin",
          "kcat",
        ]]);
      });

      await admin.disconnect();
    } finally {
      await Promise.all(background.map((p) => p.stop()));
      await cluster.stop();
    }
  },
});
