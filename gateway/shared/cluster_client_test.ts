/**
 * Tests of the adapter over the client library, with a stand-in client that
 * records how it is called.
 * @module
 */
import assert from "node:assert/strict";
import { KaError } from "@kafka-analog/lib/errors";
import type {
  ConsumedMessage,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "./cluster.ts";
import {
  type ClusterAdapterOptions,
  type ClusterClient,
  type ClusterConnections,
  type ClusterGroupMember,
  type ClusterReader,
  createClusterAdapter,
  type GatewayProducerOptions,
} from "./cluster_client.ts";
import type { GroupConsumerOptions } from "@kafka-analog/clients";
import { MemoryRegistry } from "./_memory_registry.ts";

function topic(name: string): TopicDescription {
  return {
    name,
    partitions: [{ partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2], leaderEpoch: 0 }],
    configs: {},
  };
}

function message(offset: bigint): ConsumedMessage {
  return {
    topic: "t",
    partition: 0,
    offset,
    timestamp: 0,
    key: null,
    value: new Uint8Array([Number(offset)]),
    headers: [],
  };
}

/** A deferred fetch answer, so tests control when a read finishes. */
interface HeldFetch {
  reader: number;
  offset: bigint;
  release(): void;
}

class StandIn {
  log: string[] = [];
  batch: ConsumedMessage[] = [];
  fetchRequests: unknown[] = [];
  /** When true, fetches wait until released. */
  holdFetches = false;
  held: HeldFetch[] = [];
  refresh: () => Promise<void> = () => Promise.resolve();
  brokerCount = 3;
  readersMade = 0;
  registry = new MemoryRegistry();

  client(): ClusterClient {
    return {
      cluster: {
        refresh: () => this.refresh(),
        brokers: () =>
          Array.from({ length: this.brokerCount }, (_, i) => ({
            nodeId: i,
            host: "127.0.0.1",
            port: 9092 + i,
          })),
      },
      admin: {
        createTopic: (o) => Promise.resolve(topic(o.name)),
        deleteTopic: () => Promise.resolve(),
        describeTopics: () => Promise.resolve([topic("a"), topic("b")]),
        describeTopic: (name) =>
          name === "a"
            ? Promise.resolve(topic("a"))
            : Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION")),
        fetchOffsets: (groupId, partitions) => {
          this.log.push(`fetchOffsets ${groupId} ${JSON.stringify(partitions)}`);
          return Promise.resolve([
            { topic: "a", partition: 1, offset: 7n },
            { topic: "a", partition: 0, offset: null },
          ]);
        },
        commitOffsets: (groupId, offsets) => {
          this.log.push(`commitOffsets ${groupId} ${offsets.map((o) => o.offset).join(",")}`);
          return Promise.resolve();
        },
      },
      producer: (options: GatewayProducerOptions) => {
        this.log.push(
          `producer acks=${options.acks} linger=${options.lingerMs} ` +
            `delivery=${options.deliveryTimeoutMs} request=${options.requestTimeoutMs}`,
        );
        return {
          send: (t: string, messages: ProducerMessage[]): Promise<RecordMetadata[]> => {
            this.log.push(`send ${t} acks=${options?.acks} n=${messages.length}`);
            return Promise.resolve(
              messages.map((_, i) => ({ topic: t, partition: 0, offset: BigInt(i) })),
            );
          },
          close: () => {
            this.log.push(`close producer acks=${options?.acks}`);
            return Promise.resolve();
          },
        };
      },
      consumer: () => this.#reader(this.readersMade++),
      schemaRegistry: this.registry,
      close: () => {
        this.log.push("close client");
        return Promise.resolve();
      },
    };
  }

  /** Connections whose readers and members log what is done with them. */
  connections(): ClusterConnections {
    return {
      openReader: () => {
        const id = this.readersMade++;
        this.log.push(`open reader ${id}`);
        return {
          reader: this.#reader(id),
          close: () => {
            this.log.push(`close reader ${id}`);
            return Promise.resolve();
          },
        };
      },
      openGroupMember: (options: GroupConsumerOptions): ClusterGroupMember => {
        this.memberOptions.push(options);
        const log = this.log;
        return {
          rebalances: 0,
          assignment: () => [],
          subscribe: (topics) => log.push(`subscribe ${topics.join(",")}`),
          poll: () => Promise.resolve([]),
          pause: () => {},
          resume: () => {},
          seek: () => {},
          commit: (offsets) => {
            log.push(`member commit ${offsets?.length}`);
            return Promise.resolve();
          },
          close: () => {
            log.push("member close");
            return Promise.resolve();
          },
        };
      },
    };
  }

  memberOptions: GroupConsumerOptions[] = [];

  /** Adapter options with these connections. */
  options(extra: Partial<ClusterAdapterOptions> = {}): ClusterAdapterOptions {
    return { connections: this.connections(), ...extra };
  }

  #reader(id: number): ClusterReader {
    return {
      fetch: async (request) => {
        this.fetchRequests.push(request);
        if (this.holdFetches) {
          await new Promise<void>((release) => {
            this.held.push({ reader: id, offset: request.offset, release });
          });
        }
        return { messages: this.batch, highWatermark: 10n };
      },
      listOffset: (_t, _p, which) => Promise.resolve(which === "earliest" ? 3n : 9n),
    };
  }
}

Deno.test("createClusterAdapter() keeps one producer per acks level and closes them", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options({ lingerMs: 2 }));
  await cluster.produce("t", { value: "a" }, { acks: "all" });
  await cluster.produce("t", { value: "b" }, { acks: "all" });
  const metadata = await cluster.produce("t", { value: "c" }, { acks: 0 });
  assert.deepEqual(metadata, { topic: "t", partition: 0, offset: 0n });
  await cluster.close();
  assert.deepEqual(standIn.log, [
    "producer acks=all linger=2 delivery=30000 request=10000",
    "send t acks=all n=1",
    "send t acks=all n=1",
    "producer acks=0 linger=2 delivery=30000 request=10000",
    "send t acks=0 n=1",
    "close producer acks=all",
    "close producer acks=0",
    "close client",
  ]);
});

Deno.test("createClusterAdapter() passes admin calls through", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options());
  assert.deepEqual((await cluster.listTopics()).map((t) => t.name), ["a", "b"]);
  assert.equal((await cluster.describeTopic("a")).name, "a");
  await assert.rejects(
    cluster.describeTopic("zz"),
    (err) => err instanceof KaError && err.code === 3,
  );
  assert.equal((await cluster.createTopic({ name: "n" })).name, "n");
  await cluster.deleteTopic("n");
});

Deno.test("createClusterAdapter() reads from the offset on, bounded in bytes and count", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options({ fetchBytesMax: 4096 }));
  standIn.batch = [0n, 1n, 2n, 3n, 4n, 5n].map(message);
  const result = await cluster.fetch("t", 0, 2n, { maxMessages: 3, maxWaitMs: 50 });
  assert.deepEqual(result.messages.map((m) => m.offset), [2n, 3n, 4n]);
  assert.equal(result.highWatermark, 10n);
  assert.deepEqual(standIn.fetchRequests, [
    { topic: "t", partition: 0, offset: 2n, maxWaitMs: 50, maxBytes: 4096 },
  ]);
  assert.deepEqual(await cluster.listOffsets("t", 0), { earliest: 3n, latest: 9n });
  assert.equal(standIn.readersMade, 1, "an idle reader is reused");
});

Deno.test("createClusterAdapter() gives concurrent reads their own readers, bounded", async () => {
  const standIn = new StandIn();
  standIn.holdFetches = true;
  const cluster = createClusterAdapter(
    standIn.client(),
    standIn.options({ readersMax: 2, pendingReadsMax: 1 }),
  );
  const options = { maxMessages: 10, maxWaitMs: 1000 };
  const first = cluster.fetch("t", 0, 0n, options);
  const second = cluster.fetch("t", 1, 1n, options);
  const third = cluster.fetch("t", 2, 2n, options);
  await assert.rejects(cluster.fetch("t", 3, 3n, options), (err) => {
    return err instanceof KaError && err.errorName === "THROTTLING_QUOTA_EXCEEDED" &&
      err.httpStatus === 429;
  });
  for (let i = 0; i < 10 && standIn.held.length < 2; i++) await Promise.resolve();
  assert.deepEqual(standIn.held.map((h) => [h.reader, h.offset]), [[0, 0n], [1, 1n]]);
  assert.equal(standIn.readersMade, 2);

  standIn.held[1].release();
  await second;
  for (let i = 0; i < 10 && standIn.held.length < 3; i++) await Promise.resolve();
  assert.deepEqual([standIn.held[2].reader, standIn.held[2].offset], [1, 2n], "the freed reader");
  standIn.held[0].release();
  standIn.held[2].release();
  await Promise.all([first, third]);
  assert.equal(standIn.readersMade, 2);
});

Deno.test("createClusterAdapter() health refreshes the metadata, with a timeout", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options({ healthTimeoutMs: 20 }));
  assert.deepEqual(await cluster.health(), { ok: true, brokers: 3 });
  standIn.brokerCount = 0;
  assert.deepEqual(await cluster.health(), { ok: false, brokers: 0 });
  standIn.brokerCount = 3;
  standIn.refresh = () => Promise.reject(KaError.of("NETWORK_EXCEPTION"));
  assert.deepEqual(await cluster.health(), { ok: false, brokers: 3 });
  standIn.refresh = () => new Promise(() => {});
  assert.deepEqual(await cluster.health(), { ok: false, brokers: 3 });
});

Deno.test("createClusterAdapter() encodes Avro values by schema or id and decodes them", async () => {
  const standIn = new StandIn();
  const adapter = createClusterAdapter(standIn.client(), standIn.options());
  const schema = { type: "record", name: "R", fields: [{ name: "n", type: "int" }] };
  const bytes = await adapter.encodeAvro("orders", { n: 5 }, { schema });
  assert.deepEqual([...bytes.subarray(0, 5)], [0, 0, 0, 0, 1]);
  assert.deepEqual(await standIn.registry.list(), [{ subject: "orders-value", version: 1, id: 1 }]);
  const byId = await adapter.encodeAvro("orders", { n: 6 }, { schemaId: 1 });
  assert.deepEqual(structuredClone(await adapter.decodeAvro(bytes)), { n: 5 });
  assert.deepEqual(structuredClone(await adapter.decodeAvro(byId)), { n: 6 });
  await assert.rejects(
    adapter.encodeAvro("orders", { n: "x" }, { schemaId: 1 }),
    (e) => e instanceof KaError && e.errorName === "SERIALIZATION_ERROR",
  );
  await assert.rejects(
    adapter.encodeAvro("orders", { n: 1 }, { schemaId: 9 }),
    (e) => e instanceof KaError && e.errorName === "SCHEMA_NOT_FOUND",
  );
  await assert.rejects(
    adapter.encodeAvro("orders", { n: 1 }, { schema: { type: "bogus" } }),
    (e) => e instanceof KaError && e.errorName === "INVALID_SCHEMA",
  );
});

Deno.test("createClusterAdapter() produceMany() settles each message on its own, in order", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options());
  const results = await cluster.produceMany("t", [{ value: "a" }, { value: "b" }], { acks: 1 });
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled"]);
  assert.deepEqual(standIn.log.slice(1), ["send t acks=1 n=1", "send t acks=1 n=1"]);
});

Deno.test("createClusterAdapter() registers schemas once (INVALID_SCHEMA before the registry)", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options());
  const text = '{"type": "record", "name": "R", "fields": [{"name": "n", "type": "int"}]}';
  assert.deepEqual(await cluster.registerSchema("s", text), { id: 1, subject: "s", version: 1 });
  assert.deepEqual(await cluster.registerSchema("s", text.replaceAll(" ", "")), {
    id: 1,
    subject: "s",
    version: 1,
  });
  assert.equal(await cluster.schemaById(1), JSON.stringify(JSON.parse(text)));
  await assert.rejects(
    cluster.registerSchema("s", '{"type": "nope"}'),
    (e) => e instanceof KaError && e.errorName === "INVALID_SCHEMA",
  );
  assert.deepEqual(await cluster.listSchemas(), [{ id: 1, subject: "s", version: 1 }]);
});

Deno.test("createClusterAdapter() group members commit only what they are told", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options({ clientId: "gw" }));
  const member = cluster.joinGroup({ groupId: "g", topics: ["a", "b"], from: "earliest" });
  const options = standIn.memberOptions[0];
  assert.equal(options.groupId, "g");
  assert.equal(options.autoOffsetReset, "earliest");
  assert.equal(options.autoCommit, false, "the gateway commits what it delivered, not fetched");
  assert.equal(options.clientId, "gw");
  assert.equal(member.groupId, "g");
  await member.commit([]);
  await member.commit([{ topic: "a", partition: 0, offset: 3n }]);
  await member.close();
  assert.deepEqual(standIn.log, ["subscribe a,b", "member commit 1", "member close"]);
});

Deno.test("createClusterAdapter() committed offsets and standalone commits go through the admin", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options());
  assert.deepEqual(await cluster.committedOffsets("g", "a", 3), [null, 7n, null]);
  await cluster.commitOffsets("g", [{ topic: "a", partition: 0, offset: 4n }]);
  assert.deepEqual(standIn.log, [
    'fetchOffsets g [{"topic":"a","partition":0},{"topic":"a","partition":1},{"topic":"a","partition":2}]',
    "commitOffsets g 4",
  ]);
});

Deno.test("createClusterAdapter() topic readers read every partition from where they started", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), standIn.options());
  standIn.batch = [9n, 10n].map(message);
  const reader = await cluster.readTopic("a", { from: "latest" });
  assert.equal(reader.groupId, null);
  assert.deepEqual(reader.assignment(), [{ topic: "a", partition: 0 }]);
  const [batch] = await reader.poll();
  assert.deepEqual(batch.messages.map((m) => m.offset), [9n, 10n]);
  assert.deepEqual(
    standIn.fetchRequests.map((r) => (r as { offset: bigint }).offset),
    [9n],
    "from latest = the listed offset",
  );
  await reader.poll();
  assert.equal((standIn.fetchRequests[1] as { offset: bigint }).offset, 11n);
  await assert.rejects(reader.commit([]), (e) => e instanceof KaError && e.code === 42);
  await reader.close();
  assert.deepEqual(standIn.log, ["open reader 0", "close reader 0"]);
  await assert.rejects(cluster.readTopic("zz", { from: "earliest" }), (e) => e instanceof KaError);
});
