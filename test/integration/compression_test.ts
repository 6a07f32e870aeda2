/**
 * Compressed record batches across clients (issue #11 follow-up): every
 * codec Kafka defines — gzip, snappy, lz4, zstd — written by one client and
 * read by another, byte for byte, against a 2-broker cluster this test starts
 * on ports 22850-22899.
 *
 * - kcat (librdkafka 2.0.2) → our consumer: `kcat -P -z <codec>`; a raw
 *   Fetch shows the batches really carry the codec, and our consumer reads
 *   back exactly the keys and values given to kcat.
 * - our producer → kcat and kafkajs: `compression: <codec>` with a batch of
 *   several hundred KiB (many lz4 blocks, many snappy chunks); kcat reads all
 *   four codecs, kafkajs (gzip is the only codec it has built in) the gzip one.
 *
 * librdkafka 2.0.2 compresses gzip, snappy and lz4 only when the broker's
 * Produce range starts at v0, which ours (like Kafka 4.0) does not; the
 * brokers are therefore reached through `_api_versions_proxy.ts`, which
 * widens that range in ApiVersions answers and passes everything else as is.
 * @module
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { KafkaConnection } from "@kafka-analog/lib/net";
import { ApiKey, compressionOf, splitBatches } from "@kafka-analog/lib/protocol";
import type { CompressionType } from "@kafka-analog/clients";
import { startCluster, waitFor } from "../_cluster.ts";
import { type ApiVersionsProxy, startApiVersionsProxy } from "../_api_versions_proxy.ts";
import { kcat } from "../_kcat.ts";

const BASE_PORT = 22850;
/** Brokers listen on BASE_PORT + 10 + N; clients reach them through proxies at PROXY_BASE + N. */
const PROXY_BASE = 22880;
const BROKERS = 2;
const CODECS: { name: Exclude<CompressionType, "none">; id: number }[] = [
  { name: "gzip", id: 1 },
  { name: "snappy", id: 2 },
  { name: "lz4", id: 3 },
  { name: "zstd", id: 4 },
];
const decoder = new TextDecoder();

/** About 100-byte JSON records, as a producer of events might send. */
function jsonValue(i: number, tag: string): string {
  return JSON.stringify({
    id: i,
    user: `user-${(i * 7919) % 1000}`,
    event: ["click", "view", "purchase"][i % 3],
    tag,
    note: "✓ ünïcödé",
    ts: 1_700_000_000_000 + i * 17,
  });
}

/**
 * The codec and record count of every batch in partition 0 of `topic`,
 * fetched raw from whichever broker leads it.
 */
async function batchesOf(
  addresses: string[],
  topic: string,
): Promise<{ codec: number; records: number }[]> {
  for (const address of addresses) {
    const conn = await KafkaConnection.open(address, { clientId: "compression-raw" });
    try {
      const res = await conn.request(ApiKey.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 8 << 20,
        isolationLevel: 0,
        topics: [{
          topic,
          partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 8 << 20 }],
        }],
      });
      const data = res.responses[0].partitions[0];
      if (data.errorCode !== 0) continue;
      return splitBatches(data.records!).map((b) => ({
        codec: compressionOf(b.header),
        records: b.header.lastOffsetDelta + 1,
      }));
    } finally {
      conn.close();
    }
  }
  throw new Error(`no broker leads ${topic}-0`);
}

Deno.test({
  name: "compression: gzip, snappy, lz4 and zstd between kcat, kafkajs and our clients",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const proxies: ApiVersionsProxy[] = Array.from(
      { length: BROKERS },
      (_, i) => startApiVersionsProxy(PROXY_BASE + i, BASE_PORT + 10 + i),
    );
    try {
      const cluster = await startCluster(BASE_PORT, {
        brokers: BROKERS,
        brokerConfig: { advertised_base_port: PROXY_BASE },
      });
      const addresses = proxies.map((_, i) => `127.0.0.1:${PROXY_BASE + i}`);
      try {
        const client = cluster.client();

        await t.step("kcat -z <codec> → our consumer, byte for byte", async () => {
          for (const codec of CODECS) {
            const topic = `from-kcat-${codec.name}`;
            await client.admin.createTopic({ name: topic, partitions: 1, replicationFactor: 2 });
            const rows = Array.from({ length: 2000 }, (_, i) => ({
              key: `k${i % 50}`,
              value: jsonValue(i, codec.name),
            }));
            const put = await kcat(
              [
                "-b",
                addresses[0],
                "-P",
                "-t",
                topic,
                "-p",
                "0",
                "-K",
                "\t",
                "-z",
                codec.name,
                "-X",
                "linger.ms=100",
              ],
              rows.map((r) => `${r.key}\t${r.value}\n`).join(""),
            );
            assert.equal(put.code, 0, put.stderr);
            const batches = await batchesOf(addresses, topic);
            assert.ok(batches.length >= 1, topic);
            assert.ok(
              batches.every((b) => b.codec === codec.id),
              JSON.stringify({ topic, batches }),
            );

            const reader = client.consumer();
            const got: { key: string; value: string }[] = [];
            let offset = 0n;
            const deadline = Date.now() + 10_000;
            while (got.length < rows.length && Date.now() < deadline) {
              const r = await reader.fetch({ topic, partition: 0, offset });
              for (const m of r.messages) {
                got.push({ key: decoder.decode(m.key!), value: decoder.decode(m.value!) });
              }
              offset = r.nextOffset;
            }
            assert.deepEqual(got, rows, topic);
          }
          assert.ok(proxies.every((p) => p.patched() > 0), "kcat's ApiVersions went through");
        });

        await t.step("our producer (compression: <codec>) → kcat and kafkajs", async () => {
          const sent = Array.from({ length: 3000 }, (_, i) => ({
            key: `ours-${i}`,
            value: jsonValue(i, "ours"),
          }));
          for (const codec of CODECS) {
            const topic = `from-ours-${codec.name}`;
            await client.admin.createTopic({ name: topic, partitions: 1, replicationFactor: 2 });
            const producer = client.producer({
              acks: "all",
              compression: codec.name,
              lingerMs: 20,
              batchBytes: 1_000_000,
            });
            try {
              await producer.send(topic, sent);
              await producer.flush();
            } finally {
              await producer.close();
            }
            const batches = await batchesOf(addresses, topic);
            assert.ok(
              batches.every((b) => b.codec === codec.id),
              JSON.stringify({ topic, batches }),
            );
            // Some batch holds over 64 KiB of records: several lz4 blocks, several snappy chunks.
            assert.ok(batches.some((b) => b.records >= 1000), JSON.stringify({ topic, batches }));

            const got = await kcat([
              "-b",
              addresses[0],
              "-C",
              "-t",
              topic,
              "-p",
              "0",
              "-o",
              "beginning",
              "-e",
              "-q",
              "-f",
              "%o\t%k\t%s\n",
            ]);
            assert.equal(got.code, 0, got.stderr);
            const lines = got.stdout.split("\n").filter((l) => l !== "");
            assert.equal(lines.length, sent.length, topic);
            lines.forEach((line, i) => {
              assert.equal(line, `${i}\t${sent[i].key}\t${sent[i].value}`, `${topic} offset ${i}`);
            });
          }

          // kafkajs has gzip built in (the other codecs need plugins it does not ship).
          const kafka = new Kafka({
            clientId: "compression-test",
            brokers: [addresses[0]],
            logLevel: logLevel.NOTHING,
            retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
          });
          const consumer = kafka.consumer({ groupId: "compression-js" });
          const js: { key: string; value: string }[] = [];
          await consumer.connect();
          try {
            await consumer.subscribe({ topic: "from-ours-gzip", fromBeginning: true });
            await consumer.run({
              eachMessage: ({ message }) => {
                js.push({ key: message.key!.toString(), value: message.value!.toString() });
                return Promise.resolve();
              },
            });
            await waitFor(() => js.length >= sent.length, 20_000);
          } finally {
            await consumer.disconnect();
          }
          assert.deepEqual(js, sent);
        });
      } finally {
        await cluster.stop();
      }
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  },
});
