/**
 * The complete producer against a real 7-process cluster (base port 21400):
 * connections cut mid-send with idempotence on leave no duplicate and no
 * gap (count and per-partition order checked); the same cuts with
 * idempotence off write duplicates, reported in the output; acks=0 sends
 * arrive; gzip batches round-trip through the brokers; Avro values go
 * through the coordinator's schema registry; a producer gets a producer id.
 *
 * Needs the broker-side idempotence table, InitProducerId and the
 * SchemaRegistry API wired into the brokers and the coordinator.
 * @module
 */
import assert from "node:assert/strict";
import {
  avroSerde,
  type Client,
  createClient,
  jsonSerde,
  keyPartition,
  type PartitionReader,
} from "@kafka-analog/clients";
import { startCluster, type TestCluster } from "../_cluster.ts";
import { cuttingConnector } from "../_cut_connector.ts";

const BASE_PORT = 21400;
const PARTITIONS = 10;
const MESSAGES = 5_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads a whole partition from offset 0 up to its high watermark. */
async function readPartition<V>(
  reader: PartitionReader<Uint8Array | null, V>,
  topic: string,
  partition: number,
): Promise<{ offset: bigint; value: V }[]> {
  const out: { offset: bigint; value: V }[] = [];
  let offset = 0n;
  for (let round = 0; round < 10_000; round++) {
    const { messages, nextOffset, highWatermark } = await reader.fetch({
      topic,
      partition,
      offset,
      maxWaitMs: 50,
    });
    for (const m of messages) out.push({ offset: m.offset, value: m.value });
    offset = nextOffset;
    if (offset >= highWatermark) break;
  }
  return out;
}

/** Produces MESSAGES keyed messages through a client whose connections get cut. */
async function produceWithCuts(
  cluster: TestCluster,
  topic: string,
  idempotence: boolean,
): Promise<{ cuts: number; elapsedMs: number }> {
  const cutter = cuttingConnector({ cutEveryBytes: 40_000, closeAfterMs: 30 });
  const client = createClient({
    bootstrap: cluster.brokerAddresses,
    clientId: `cuts-${idempotence}`,
    connect: cutter.connect,
  });
  try {
    const producer = idempotence
      ? client.producer({
        acks: "all",
        idempotence: true,
        lingerMs: 5,
        retries: 100,
        retryBackoffMs: 10,
      })
      : client.producer({
        acks: 1,
        idempotence: false,
        lingerMs: 5,
        retries: 100,
        retryBackoffMs: 10,
      });
    const started = performance.now();
    const sends: Promise<unknown>[] = [];
    let failure: unknown = null;
    for (let i = 0; i < MESSAGES && failure === null; i += 50) {
      const chunk = Array.from({ length: 50 }, (_, j) => ({
        key: `key-${(i + j) % 97}`,
        value: `${topic}-${i + j}`,
      }));
      sends.push(producer.send(topic, chunk).catch((err) => void (failure ??= err)));
      if (sends.length >= 8) await sends.shift();
    }
    await Promise.all(sends);
    await producer.close();
    if (failure !== null) throw failure;
    if (idempotence) assert.equal(producer.idempotent, true);
    return { cuts: cutter.cuts(), elapsedMs: performance.now() - started };
  } finally {
    await client.close();
  }
}

function expectedByPartition(topic: string): string[][] {
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < MESSAGES; i++) {
    out[keyPartition(enc.encode(`key-${i % 97}`), PARTITIONS)].push(`${topic}-${i}`);
  }
  return out;
}

/**
 * Every partition's values up to its high watermark, read again until at
 * least `atLeast` distinct values are there and two reads 200 ms apart agree
 * (the high watermark trails the leader's log until the followers have the
 * records), or 15 s pass.
 */
async function readAll(client: Client, topic: string, atLeast = 0): Promise<string[][]> {
  const reader = client.consumer();
  const deadline = Date.now() + 15_000;
  let previous = -1;
  while (true) {
    const out: string[][] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const rows = await readPartition(reader, topic, p);
      rows.forEach((r, i) => assert.equal(r.offset, BigInt(i), "offsets are dense"));
      out.push(rows.map((r) => dec.decode(r.value!)));
    }
    const total = out.flat().length;
    if ((new Set(out.flat()).size >= atLeast && total === previous) || Date.now() > deadline) {
      return out;
    }
    previous = total;
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name: "producer: idempotence under cut connections, acks=0, gzip, Avro, on a real cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await startCluster(BASE_PORT);
    const client = cluster.client();
    try {
      for (const name of ["idem", "plain", "fire", "packed", "typed"]) {
        await client.admin.createTopic({ name, partitions: PARTITIONS, replicationFactor: 2 });
      }

      await t.step("a producer gets a producer id from the coordinator", async () => {
        const producer = client.producer({ lingerMs: 0 });
        await producer.send("idem", [{ key: "warm-up", value: "x", partition: 0 }]);
        assert.equal(producer.idempotent, true);
        assert.ok((producer.producerId?.producerId ?? -1n) >= 0n);
        await producer.close();
      });

      await t.step("idempotence on: cut connections → no duplicate, no gap", async () => {
        const { cuts, elapsedMs } = await produceWithCuts(cluster, "idem", true);
        const got = await readAll(client, "idem", MESSAGES + 1);
        got[0] = got[0].filter((v) => v !== "x"); // the warm-up message
        console.log(
          `idempotence on: ${MESSAGES} messages, ${cuts} connection cuts, ${got.flat().length} stored, ${
            elapsedMs.toFixed(0)
          } ms`,
        );
        assert.ok(cuts >= 3, `only ${cuts} cuts happened`);
        assert.equal(got.flat().length, MESSAGES);
        assert.deepEqual(got, expectedByPartition("idem"));
      });

      await t.step(
        "idempotence off: the same cuts → duplicates, reported, and no gap",
        async () => {
          const { cuts } = await produceWithCuts(cluster, "plain", false);
          const got = await readAll(client, "plain", MESSAGES);
          const duplicates = got.flat().length - MESSAGES;
          console.log(
            `idempotence off: ${MESSAGES} messages, ${cuts} connection cuts, ${got.flat().length} stored: ${duplicates} duplicates`,
          );
          assert.equal(new Set(got.flat()).size, MESSAGES, "every message arrived");
        },
      );

      await t.step("acks=0 sends arrive", async () => {
        const producer = client.producer({ acks: 0, lingerMs: 5 });
        const metas = await producer.send(
          "fire",
          Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `fire-${i}` })),
        );
        assert.ok(metas.every((m) => m.offset === -1n));
        await producer.close();
        let got: string[] = [];
        for (let round = 0; round < 50 && got.length < 1000; round++) {
          got = (await readAll(client, "fire", 1000)).flat();
          if (got.length < 1000) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(got.length, 1000);
        assert.equal(new Set(got).size, 1000);
      });

      await t.step("gzip batches are stored as sent and read back", async () => {
        const producer = client.producer({ lingerMs: 5, compression: "gzip" });
        const values = Array.from(
          { length: 2000 },
          (_, i) => ({ i, text: "compress me ".repeat(8) }),
        );
        await producer.send(
          "packed",
          values.map((v) => ({ key: `k${v.i % 10}`, value: JSON.stringify(v) })),
        );
        await producer.close();
        const reader = client.consumer({ valueDeserializer: jsonSerde<{ i: number }>() });
        let total = 0;
        for (let p = 0; p < PARTITIONS; p++) {
          const rows = await readPartition(reader, "packed", p);
          const ids = rows.map((r) => r.value!.i);
          assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "in send order");
          total += rows.length;
        }
        assert.equal(total, 2000);
      });

      await t.step("Avro values through the coordinator's schema registry", async () => {
        const schema = { type: "record", name: "Order", fields: [{ name: "id", type: "long" }] };
        const producer = client.producer({
          lingerMs: 0,
          valueSerializer: avroSerde({ registry: client.schemaRegistry, schema }),
        });
        await producer.send("typed", [{ partition: 4, value: { id: 7 } }, {
          partition: 4,
          value: { id: 8 },
        }]);
        const entries = await client.schemaRegistry.list("typed-value");
        assert.equal(entries.length, 1);
        const reader = client.consumer({
          // Another client: the writer schema is looked up by id, not taken from a cache.
          valueDeserializer: avroSerde({ registry: cluster.client().schemaRegistry }),
        });
        const rows = await readPartition(reader, "typed", 4);
        assert.deepEqual(rows.map((r) => structuredClone(r.value)), [{ id: 7 }, { id: 8 }]);
      });
    } finally {
      await cluster.stop();
    }
  },
});
