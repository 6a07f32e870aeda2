/**
 * The client's idempotent producer against the broker's real idempotence
 * table (`broker/producer_state.ts`), the coordinator's real producer-id
 * allocator and schema registry handlers, all behind the scripted loopback
 * broker: connections cut mid-send yield no duplicate and no gap with
 * idempotence on, and duplicates (reported) with it off; Avro values go
 * through the registry over the wire. No cluster processes are started.
 * @module
 */
import assert from "node:assert/strict";
import { decodeRecords } from "@kafka-analog/lib/protocol";
import { avroSerde, createClient, keyPartition } from "@kafka-analog/clients";
import { MockBroker } from "@kafka-analog/clients/testing";
import { ProducerStateTable } from "../broker/producer_state.ts";
import { handleInitProducerId, ProducerIdManager } from "../coordinator/producer_ids.ts";
import { handleSchemaRegistryRequest, SchemaRegistry } from "../coordinator/schema_registry.ts";
import { cuttingConnector } from "./_cut_connector.ts";

const MESSAGES = 3000;
const PARTITIONS = 4;
const dec = new TextDecoder();
const enc = new TextEncoder();

function startBroker(): MockBroker {
  const ids = new ProducerIdManager();
  const registry = new SchemaRegistry();
  return MockBroker.start({
    topics: { events: PARTITIONS },
    producerState: () => new ProducerStateTable(),
    onInitProducerId: (request) => handleInitProducerId(ids, request),
    onSchemaRegistry: (payload) => handleSchemaRegistryRequest(registry, payload),
  });
}

/** Sends MESSAGES keyed messages in chunks; returns how many sends failed. */
async function produceAll(
  broker: MockBroker,
  options: { idempotence: boolean },
): Promise<{ cuts: number; failed: number }> {
  const cutter = cuttingConnector({ cutEveryBytes: 6000, closeAfterMs: 20 });
  const client = createClient({ bootstrap: [broker.address], connect: cutter.connect });
  try {
    const producer = options.idempotence
      ? client.producer({
        acks: "all",
        idempotence: true,
        lingerMs: 2,
        retryBackoffMs: 5,
        retries: 50,
      })
      : client.producer({ acks: 1, lingerMs: 2, retryBackoffMs: 5, retries: 50 });
    let failed = 0;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < MESSAGES; i += 100) {
      const chunk = Array.from(
        { length: 100 },
        (_, j) => ({ key: `k${(i + j) % 13}`, value: `m${i + j}` }),
      );
      sends.push(producer.send("events", chunk).catch(() => failed++));
      if (sends.length >= 4) await sends.shift();
    }
    await Promise.all(sends);
    await producer.close();
    return { cuts: cutter.cuts(), failed };
  } finally {
    await client.close();
  }
}

/** Values per partition, in offset order. */
function partitionValues(broker: MockBroker): string[][] {
  return Array.from(
    { length: PARTITIONS },
    (_, p) =>
      (broker.logs.get(`events/${p}`) ?? []).flatMap((b) =>
        decodeRecords(b).map((r) => dec.decode(r.value!))
      ),
  );
}

function expectedValues(): string[][] {
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < MESSAGES; i++) {
    out[keyPartition(enc.encode(`k${i % 13}`), PARTITIONS)].push(`m${i}`);
  }
  return out;
}

Deno.test({
  name: "idempotent producer: connections cut mid-send yield no duplicate and no gap",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = startBroker();
    try {
      const { cuts, failed } = await produceAll(broker, { idempotence: true });
      assert.ok(cuts >= 5, `only ${cuts} cuts`);
      assert.equal(failed, 0);
      const got = partitionValues(broker);
      assert.equal(got.flat().length, MESSAGES);
      assert.deepEqual(got, expectedValues()); // count and per-partition order
      console.log(`idempotence on: ${cuts} connection cuts, ${MESSAGES} messages, 0 duplicates`);
    } finally {
      await broker.close();
    }
  },
});

Deno.test({
  name: "non-idempotent producer: the same cuts write duplicates (reported), never gaps",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = startBroker();
    try {
      const { cuts, failed } = await produceAll(broker, { idempotence: false });
      assert.equal(failed, 0);
      const got = partitionValues(broker);
      const unique = new Set(got.flat());
      assert.equal(unique.size, MESSAGES, "every message arrived");
      const duplicates = got.flat().length - MESSAGES;
      console.log(
        `idempotence off: ${cuts} connection cuts, ${got.flat().length} records stored for ${MESSAGES} messages: ${duplicates} duplicates`,
      );
      assert.ok(
        duplicates > 0,
        "cut connections after an append must duplicate without idempotence",
      );
    } finally {
      await broker.close();
    }
  },
});

Deno.test({
  name: "Avro values through the schema registry over the wire, two schema versions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = startBroker();
    const client = createClient({ bootstrap: [broker.address] });
    try {
      const v1 = { type: "record", name: "Ev", fields: [{ name: "id", type: "int" }] };
      const v2 = {
        type: "record",
        name: "Ev",
        fields: [{ name: "id", type: "int" }, { name: "tag", type: "string", default: "none" }],
      };
      const p1 = client.producer({
        lingerMs: 0,
        valueSerializer: avroSerde({ registry: client.schemaRegistry, schema: v1 }),
      });
      const p2 = client.producer({
        lingerMs: 0,
        valueSerializer: avroSerde({ registry: client.schemaRegistry, schema: v2 }),
      });
      await p1.send("events", [{ partition: 0, value: { id: 1 } }]);
      await p2.send("events", [{ partition: 0, value: { id: 2, tag: "new" } }]);
      const entries = await client.schemaRegistry.list("events-value");
      assert.deepEqual(entries.map((e) => [e.version, e.id]), [[1, 1], [2, 2]]);
      const reader = client.consumer({
        valueDeserializer: avroSerde({ registry: client.schemaRegistry, readerSchema: v2 }),
      });
      const { messages } = await reader.fetch({ topic: "events", partition: 0, offset: 0n });
      assert.deepEqual(messages.map((m) => structuredClone(m.value)), [
        { id: 1, tag: "none" },
        { id: 2, tag: "new" },
      ]);
    } finally {
      await client.close();
      await broker.close();
    }
  },
});
