/**
 * Tests of the adapter over the client library, with a stand-in client that
 * records how it is called.
 * @module
 */
import assert from "node:assert/strict";
import { KaError } from "@kafka-analog/lib/errors";
import type {
  Acks,
  ConsumedMessage,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "./cluster.ts";
import { type ClusterClient, createClusterAdapter } from "./cluster_client.ts";

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

class StandIn {
  log: string[] = [];
  topics = new Map<string, TopicDescription>();
  /** Describe fails this many times after a create, as lagging metadata would. */
  describeLag = 0;
  createReturnsDescription = false;
  fetchRequests: unknown[] = [];
  batch: ConsumedMessage[] = [];
  listTopicsHangs = false;

  client(): ClusterClient {
    return {
      admin: {
        createTopic: (o) => {
          this.topics.set(o.name, topic(o.name));
          this.log.push(`create ${o.name}`);
          return Promise.resolve(this.createReturnsDescription ? topic(o.name) : undefined);
        },
        deleteTopic: (name) => {
          this.topics.delete(name);
          return Promise.resolve();
        },
        listTopics: () =>
          this.listTopicsHangs ? new Promise(() => {}) : Promise.resolve([...this.topics.keys()]),
        describeTopic: (name) => {
          this.log.push(`describe ${name}`);
          const found = this.topics.get(name);
          if (this.describeLag > 0) {
            this.describeLag--;
            return Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION"));
          }
          return found
            ? Promise.resolve(found)
            : Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION"));
        },
      },
      producer: (options?: { acks?: Acks; lingerMs?: number }) => {
        this.log.push(`producer acks=${options?.acks} linger=${options?.lingerMs}`);
        return {
          send: (t: string, messages: ProducerMessage[]): Promise<RecordMetadata[]> => {
            this.log.push(`send ${t} acks=${options?.acks} n=${messages.length}`);
            return Promise.resolve(
              messages.map((_, i) => ({ topic: t, partition: 0, offset: BigInt(i) })),
            );
          },
          close: () => {
            this.log.push(`close producer acks=${options?.acks}`);
          },
        };
      },
      consumer: () => {
        this.log.push("consumer");
        return {
          fetch: (request) => {
            this.fetchRequests.push(request);
            return Promise.resolve({ messages: this.batch, highWatermark: 10n });
          },
          listOffsets: (_t, _p, which) => Promise.resolve(which === "earliest" ? 3n : 9n),
        };
      },
      close: () => {
        this.log.push("close client");
      },
    };
  }
}

Deno.test("createClusterAdapter() keeps one producer per acks level", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), { lingerMs: 2 });
  await cluster.produce("t", { value: "a" }, { acks: "all" });
  await cluster.produce("t", { value: "b" }, { acks: "all" });
  const metadata = await cluster.produce("t", { value: "c" }, { acks: 0 });
  assert.deepEqual(metadata, { topic: "t", partition: 0, offset: 0n });
  await cluster.close();
  assert.deepEqual(standIn.log, [
    "producer acks=all linger=2",
    "send t acks=all n=1",
    "send t acks=all n=1",
    "producer acks=0 linger=2",
    "send t acks=0 n=1",
    "close producer acks=all",
    "close producer acks=0",
    "close client",
  ]);
});

Deno.test("createClusterAdapter() lists described topics and skips ones deleted meanwhile", async () => {
  const standIn = new StandIn();
  const client = standIn.client();
  for (let i = 0; i < 20; i++) standIn.topics.set(`t${i}`, topic(`t${i}`));
  const listTopics = client.admin.listTopics;
  client.admin.listTopics = async () => {
    const names = await listTopics();
    standIn.topics.delete("t5");
    return names;
  };
  const cluster = createClusterAdapter(client);
  const topics = await cluster.listTopics();
  assert.equal(topics.length, 19);
  assert.ok(!topics.some((t) => t.name === "t5"));
});

Deno.test("createClusterAdapter() waits for a created topic to show in the metadata", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), { describeRetryMs: 1 });
  standIn.describeLag = 2;
  assert.equal((await cluster.createTopic({ name: "new" })).name, "new");
  assert.deepEqual(standIn.log, ["create new", "describe new", "describe new", "describe new"]);

  standIn.log = [];
  standIn.createReturnsDescription = true;
  assert.equal((await cluster.createTopic({ name: "other" })).name, "other");
  assert.deepEqual(standIn.log, ["create other"]);

  const bounded = createClusterAdapter(standIn.client(), {
    describeRetryMs: 1,
    describeAttempts: 3,
  });
  standIn.createReturnsDescription = false;
  standIn.describeLag = 100;
  await assert.rejects(bounded.createTopic({ name: "slow" }), (err) => {
    return err instanceof KaError && err.errorName === "UNKNOWN_TOPIC_OR_PARTITION";
  });
  assert.equal(standIn.describeLag, 97);
});

Deno.test("createClusterAdapter() reads from the offset on, bounded in bytes and count", async () => {
  const standIn = new StandIn();
  const cluster = createClusterAdapter(standIn.client(), { fetchBytesMax: 4096 });
  standIn.batch = [0n, 1n, 2n, 3n, 4n, 5n].map(message);
  const result = await cluster.fetch("t", 0, 2n, { maxMessages: 3, maxWaitMs: 50 });
  assert.deepEqual(result.messages.map((m) => m.offset), [2n, 3n, 4n]);
  assert.equal(result.highWatermark, 10n);
  assert.deepEqual(standIn.fetchRequests, [
    { topic: "t", partition: 0, offset: 2n, maxWaitMs: 50, maxBytes: 4096 },
  ]);
  assert.deepEqual(await cluster.listOffsets("t", 0), { earliest: 3n, latest: 9n });
  assert.equal(standIn.log.filter((l) => l === "consumer").length, 1);
});

Deno.test("createClusterAdapter() health reports a probe that fails or hangs as not ok", async () => {
  const standIn = new StandIn();
  const client = standIn.client();
  const cluster = createClusterAdapter(client, { healthTimeoutMs: 20 });
  assert.deepEqual(await cluster.health(), { ok: true, brokers: -1 });
  standIn.listTopicsHangs = true;
  assert.deepEqual(await cluster.health(), { ok: false, brokers: 0 });
  client.admin.describeCluster = () =>
    Promise.resolve({
      brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: "127.0.0.1", port: 9091 + nodeId })),
    });
  assert.deepEqual(await cluster.health(), { ok: true, brokers: 3 });
  client.admin.describeCluster = () => Promise.reject(KaError.of("NETWORK_EXCEPTION"));
  assert.deepEqual(await cluster.health(), { ok: false, brokers: 0 });
});
