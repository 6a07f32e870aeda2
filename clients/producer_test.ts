/**
 * Tests of the producer against a scripted loopback broker: partitioning,
 * one request per broker, acks 0, retries with backoff timing (injected
 * clock and random), non-retriable errors, delivery timeout, idempotence
 * (producer id, sequences, rollback, reset, fencing, fallback), buffer
 * back-pressure, gzip, and deserializer errors on the reading side.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  ApiKey,
  compressionOf,
  decodeRecords,
  ERRORS,
  readBatchHeader,
} from "@kafka-analog/lib/protocol";
import { MockBroker, type MockBrokerOptions } from "./_mock_broker.ts";
import { type Client, createClient } from "./mod.ts";
import { keyPartition } from "./partitioner.ts";
import { DeserializationError, jsonSerde, stringSerde } from "./serde.ts";
import type { ProducerClock } from "./retry.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

async function withBroker(
  options: Partial<MockBrokerOptions>,
  fn: (broker: MockBroker, client: Client) => Promise<void>,
): Promise<void> {
  const broker = MockBroker.start({ topics: { t: 4 }, ...options });
  const client = createClient({ bootstrap: [broker.address], clientId: "producer-test" });
  try {
    await fn(broker, client);
  } finally {
    await client.close();
    await broker.close();
  }
}

/** Values stored in a partition, in offset order. */
function stored(broker: MockBroker, topic: string, partition: number): string[] {
  return (broker.logs.get(`${topic}/${partition}`) ?? []).flatMap((b) =>
    decodeRecords(b).map((r) => dec.decode(r.value!))
  );
}

function headers(broker: MockBroker, topic: string, partition: number) {
  return (broker.logs.get(`${topic}/${partition}`) ?? []).map((b) => readBatchHeader(b));
}

/** A clock whose sleeps return at once and move time forward. */
function fakeClock(): ProducerClock & { sleeps: number[] } {
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const TEST = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...TEST,
  name: "Producer: keys go to their murmur2 partition, order and offsets per partition",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = client.producer({ acks: 1, lingerMs: 2 });
      const messages = Array.from(
        { length: 200 },
        (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }),
      );
      const metas = await producer.send("t", messages);
      for (const [i, meta] of metas.entries()) {
        assert.equal(meta.partition, keyPartition(enc.encode(`k${i % 7}`), 4));
      }
      for (let p = 0; p < 4; p++) {
        const expected = messages.filter((m) => keyPartition(enc.encode(m.key), 4) === p).map((m) =>
          m.value
        );
        assert.deepEqual(stored(broker, "t", p), expected);
        const offsets = metas.filter((m) => m.partition === p).map((m) => m.offset);
        assert.deepEqual(offsets, offsets.map((_, i) => BigInt(i)));
      }
      assert.equal(producer.idempotent, false); // acks 1: no idempotence by default
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: one Produce request per broker carries the batches of all ready partitions",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = client.producer({ acks: 1, lingerMs: 30 });
      await producer.send("t", [0, 1, 2, 3].map((p) => ({ partition: p, value: `p${p}` })));
      assert.equal(broker.requestCounts.get(ApiKey.Produce), 1);
      for (let p = 0; p < 4; p++) assert.deepEqual(stored(broker, "t", p), [`p${p}`]);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: a custom partition selector is honoured; bad choices get clear errors",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const seen: number[] = [];
      const producer = client.producer<string, string>({
        acks: 1,
        lingerMs: 0,
        keySerializer: stringSerde as never,
        valueSerializer: stringSerde as never,
        partitionSelector: (message, count, metadata) => {
          seen.push(count);
          assert.equal(metadata.name, "t");
          return message.value.startsWith("red") ? 3 : 1;
        },
      });
      const metas = await producer.send("t", [{ value: "red-1" }, { value: "blue" }, {
        value: "red-2",
      }]);
      assert.deepEqual(metas.map((m) => m.partition), [3, 1, 3]);
      assert.deepEqual(seen, [4, 4, 4]);
      assert.deepEqual(stored(broker, "t", 3), ["red-1", "red-2"]);
      // An explicit partition wins over the selector.
      assert.equal((await producer.send("t", [{ value: "red", partition: 0 }]))[0].partition, 0);

      const bad = client.producer({ acks: 1, partitionSelector: () => 9 });
      await assert.rejects(
        bad.send("t", [{ value: "x" }]),
        (e) => isKaError(e, "INVALID_PARTITIONS") && /selector chose partition 9/.test(e.message),
      );
      await assert.rejects(
        producer.send("t", [{ value: "x", partition: 4 }]),
        (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION") && /0\.\.3/.test(e.message),
      );
      await assert.rejects(
        producer.send("nope", [{ value: "x" }]),
        (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
      );
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: acks=0 resolves once written (offset -1) and the messages arrive",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = client.producer({ acks: 0, lingerMs: 0 });
      const metas = await producer.send("t", [{ partition: 2, value: "a" }, {
        partition: 2,
        value: "b",
      }]);
      assert.deepEqual(metas.map((m) => m.offset), [-1n, -1n]);
      for (let i = 0; i < 100 && stored(broker, "t", 2).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(stored(broker, "t", 2), ["a", "b"]);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: retriable errors are retried after a metadata refresh with exponential backoff",
  fn: () =>
    withBroker({
      onProduce: (e) => e.requestNumber <= 3 ? ERRORS.NOT_LEADER_OR_FOLLOWER.code : undefined,
    }, async (broker, client) => {
      const clock = fakeClock();
      const producer = client.producer({
        acks: 1,
        lingerMs: 0,
        retries: 5,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 300,
        random: () => 0.5,
        clock,
      });
      const metadataBefore = broker.requestCounts.get(ApiKey.Metadata) ?? 0;
      const [meta] = await producer.send("t", [{ partition: 1, value: "x" }]);
      assert.equal(meta.offset, 0n);
      assert.deepEqual(clock.sleeps, [100, 200, 300]); // doubling, capped at the max
      assert.equal(broker.requestCounts.get(ApiKey.Produce), 4);
      assert.ok((broker.requestCounts.get(ApiKey.Metadata) ?? 0) >= metadataBefore + 3);
      assert.deepEqual(stored(broker, "t", 1), ["x"]);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: jitter comes from the injected random source",
  fn: () =>
    withBroker({
      onProduce: (e) => e.requestNumber <= 2 ? ERRORS.LEADER_NOT_AVAILABLE.code : undefined,
    }, async (_broker, client) => {
      const clock = fakeClock();
      const producer = client.producer({
        acks: 1,
        lingerMs: 0,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 10_000,
        random: () => 0,
        clock,
      });
      await producer.send("t", [{ partition: 0, value: "x" }]);
      assert.deepEqual(clock.sleeps, [80, 160]);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: non-retriable errors (too large, corrupt) fail at once; retries run out",
  fn: () =>
    withBroker({
      onProduce: (e) =>
        e.partition === 0
          ? ERRORS.MESSAGE_TOO_LARGE.code
          : e.partition === 1
          ? ERRORS.CORRUPT_MESSAGE.code
          : ERRORS.NOT_ENOUGH_REPLICAS.code,
    }, async (broker, client) => {
      const clock = fakeClock();
      const producer = client.producer({
        acks: 1,
        lingerMs: 0,
        retries: 2,
        clock,
        random: () => 0.5,
      });
      await assert.rejects(producer.send("t", [{ partition: 0, value: "x" }]), (e) =>
        isKaError(e, "MESSAGE_TOO_LARGE"));
      await assert.rejects(producer.send("t", [{ partition: 1, value: "x" }]), (e) =>
        isKaError(e, "CORRUPT_MESSAGE"));
      assert.deepEqual(clock.sleeps, []);
      await assert.rejects(producer.send("t", [{ partition: 2, value: "x" }]), (e) =>
        isKaError(e, "NOT_ENOUGH_REPLICAS"));
      assert.deepEqual(clock.sleeps, [100, 200]);
      assert.equal(broker.requestCounts.get(ApiKey.Produce), 5);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: retries stop at delivery_timeout_ms with DELIVERY_TIMEOUT naming the last error",
  fn: () =>
    withBroker({ onProduce: () => ERRORS.NOT_LEADER_OR_FOLLOWER.code }, async (_broker, client) => {
      const clock = fakeClock();
      const producer = client.producer({
        acks: 1,
        lingerMs: 0,
        retries: 100,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 100,
        requestTimeoutMs: 500,
        deliveryTimeoutMs: 1000,
        random: () => 0.5,
        clock,
      });
      await assert.rejects(
        producer.send("t", [{ partition: 0, value: "x" }]),
        (e) => isKaError(e, "DELIVERY_TIMEOUT") && /last error: injected error 6/.test(e.message),
      );
      assert.equal(clock.sleeps.length, 9); // 9 × 100 ms fit before the 1000 ms deadline
      assert.throws(
        () => client.producer({ lingerMs: 10, requestTimeoutMs: 100, deliveryTimeoutMs: 50 }),
        (e) => isKaError(e, "INVALID_CONFIG") && /deliveryTimeoutMs/.test(e.message),
      );
    }),
});

Deno.test({
  ...TEST,
  name: "Producer (idempotent): producer id, epoch and per-partition sequences on every batch",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = client.producer({ lingerMs: 0 }); // acks all: idempotent by default
      await producer.send("t", [{ partition: 0, value: "a" }, { partition: 0, value: "b" }]);
      await producer.send("t", [{ partition: 0, value: "c" }, { partition: 1, value: "d" }]);
      await producer.send("t", [{ partition: 0, value: "e" }]);
      assert.equal(producer.idempotent, true);
      assert.deepEqual(producer.producerId, { producerId: 1000n, producerEpoch: 0 });
      assert.deepEqual(
        headers(broker, "t", 0).map((h) => [h.producerId, h.producerEpoch, h.baseSequence]),
        [[1000n, 0, 0], [1000n, 0, 2], [1000n, 0, 3]],
      );
      assert.deepEqual(headers(broker, "t", 1).map((h) => h.baseSequence), [0]);
      assert.equal(broker.requestCounts.get(ApiKey.InitProducerId), 1);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer (idempotent): a retry after a cut connection resends the same sequence",
  fn: () =>
    withBroker({
      onProduce: (e) => e.requestNumber === 1 ? "drop-after-append" : undefined,
    }, async (broker, client) => {
      const producer = client.producer({ lingerMs: 0, retryBackoffMs: 1 });
      await producer.send("t", [{ partition: 0, value: "a" }]);
      // The mock has no idempotence table, so it stored the retry again — with the same
      // sequence, which a real broker recognises as a duplicate.
      const hs = headers(broker, "t", 0);
      assert.equal(hs.length, 2);
      assert.deepEqual(hs.map((h) => [h.producerId, h.baseSequence]), [[1000n, 0], [1000n, 0]]);
    }),
});

Deno.test({
  ...TEST,
  name:
    "Producer (idempotent): a surely-unwritten failure rolls the sequence back; OUT_OF_ORDER takes a new id",
  fn: () =>
    withBroker({
      onProduce: (e) =>
        e.requestNumber === 2
          ? ERRORS.MESSAGE_TOO_LARGE.code
          : e.requestNumber === 4
          ? ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER.code
          : undefined,
    }, async (broker, client) => {
      const producer = client.producer({ lingerMs: 0 });
      await producer.send("t", [{ partition: 0, value: "a" }]);
      await assert.rejects(producer.send("t", [{ partition: 0, value: "big" }]), (e) =>
        isKaError(e, "MESSAGE_TOO_LARGE"));
      await producer.send("t", [{ partition: 0, value: "b" }]); // reuses sequence 1
      await assert.rejects(producer.send("t", [{ partition: 0, value: "c" }]), (e) =>
        isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER"));
      await producer.send("t", [{ partition: 0, value: "d" }]); // new producer id, sequence 0
      assert.deepEqual(
        headers(broker, "t", 0).map((h) => [h.producerId, h.baseSequence]),
        [[1000n, 0], [1000n, 1], [1001n, 0]],
      );
      assert.deepEqual(stored(broker, "t", 0), ["a", "b", "d"]);
    }),
});

Deno.test({
  ...TEST,
  name: "Producer (idempotent): a fenced producer (INVALID_PRODUCER_EPOCH) fails for good",
  fn: () =>
    withBroker({
      onProduce: () => ERRORS.INVALID_PRODUCER_EPOCH.code,
    }, async (_broker, client) => {
      const producer = client.producer({ lingerMs: 0 });
      await assert.rejects(producer.send("t", [{ value: "a" }]), (e) =>
        isKaError(e, "INVALID_PRODUCER_EPOCH"));
      await assert.rejects(producer.send("t", [{ value: "b" }]), (e) =>
        isKaError(e, "INVALID_PRODUCER_EPOCH") && /fenced/.test(e.message));
    }),
});

Deno.test({
  ...TEST,
  name: "Producer: idempotence falls back when the cluster lacks InitProducerId, unless required",
  fn: () =>
    withBroker({ initProducerId: false }, async (broker, client) => {
      const auto = client.producer({ lingerMs: 0 });
      await auto.send("t", [{ partition: 0, value: "a" }]);
      assert.equal(auto.idempotent, false);
      assert.equal(headers(broker, "t", 0)[0].producerId, -1n);
      const required = client.producer({ lingerMs: 0, idempotence: true });
      await assert.rejects(required.send("t", [{ value: "b" }]), (e) =>
        isKaError(e, "UNSUPPORTED_VERSION") && /InitProducerId/.test(e.message));
      assert.throws(() =>
        client.producer({ acks: 1, idempotence: true }), (e) =>
        isKaError(e, "INVALID_CONFIG") && /acks/.test(e.message));
    }),
});

Deno.test({
  ...TEST,
  name:
    "Producer: a full buffer makes send wait, then fail with BUFFER_EXHAUSTED after max_block_ms",
  fn: async () => {
    await withBroker({ produceDelayMs: 300 }, async (broker, client) => {
      const producer = client.producer({
        acks: 1,
        lingerMs: 0,
        bufferBytes: 2000,
        maxBlockMs: 100,
      });
      const first = producer.send("t", [{ partition: 0, value: "x".repeat(1500) }]);
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(producer.bufferedBytes > 1500);
      const started = Date.now();
      await assert.rejects(
        producer.send("t", [{ partition: 1, value: "y".repeat(1000) }]),
        (e) => isKaError(e, "BUFFER_EXHAUSTED") && /max_block_ms 100/.test(e.message),
      );
      assert.ok(Date.now() - started >= 90);
      await first;
      assert.equal(producer.bufferedBytes, 0);
      // With a longer max_block_ms the second send waits for room and succeeds.
      const patient = client.producer({
        acks: 1,
        lingerMs: 0,
        bufferBytes: 2000,
        maxBlockMs: 5000,
      });
      const a = patient.send("t", [{ partition: 0, value: "x".repeat(1500) }]);
      const b = patient.send("t", [{ partition: 1, value: "y".repeat(1000) }]);
      const [[ma], [mb]] = await Promise.all([a, b]);
      assert.equal(ma.offset, 1n);
      assert.equal(mb.offset, 0n);
      assert.ok(patient.bufferedBytes === 0);
      // A message larger than the buffer can never fit.
      await assert.rejects(
        patient.send("t", [{ value: "z".repeat(3000) }]),
        (e) => isKaError(e, "MESSAGE_TOO_LARGE"),
      );
      assert.deepEqual(stored(broker, "t", 1), ["y".repeat(1000)]);
    });
  },
});

Deno.test({
  ...TEST,
  name: "Producer: gzip batches are stored compressed and read back by the partition reader",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = client.producer({ lingerMs: 5, compression: "gzip" });
      const values = Array.from({ length: 300 }, (_, i) => ({ n: i, text: "hello ".repeat(20) }));
      await producer.send(
        "t",
        values.map((v) => ({
          partition: 3,
          value: JSON.stringify(v),
          headers: [{ key: "h", value: "1" }],
        })),
      );
      const batches = broker.logs.get("t/3")!;
      assert.ok(batches.every((b) => compressionOf(readBatchHeader(b)) === 1));
      const rawBytes = values.reduce((n, v) => n + JSON.stringify(v).length, 0);
      assert.ok(batches.reduce((n, b) => n + b.length, 0) < rawBytes / 5);
      const reader = client.consumer({ valueDeserializer: jsonSerde() });
      const { messages, highWatermark } = await reader.fetch({
        topic: "t",
        partition: 3,
        offset: 0n,
      });
      assert.equal(highWatermark, 300n);
      assert.deepEqual(messages.map((m) => m.value), values);
      assert.deepEqual(messages.map((m) => m.offset), values.map((_, i) => BigInt(i)));
      assert.equal(dec.decode(messages[5].headers[0].value!), "1");
    }),
});

Deno.test({
  ...TEST,
  name:
    "PartitionReader: bytes a deserializer cannot read give a DeserializationError naming the offset",
  fn: () =>
    withBroker({}, async (_broker, client) => {
      const producer = client.producer({ acks: 1, lingerMs: 0 });
      await producer.send("t", [{ partition: 2, value: '{"ok":1}' }, {
        partition: 2,
        value: "not json",
      }]);
      const reader = client.consumer({ valueDeserializer: jsonSerde() });
      await assert.rejects(reader.fetch({ topic: "t", partition: 2, offset: 0n }), (e) => {
        assert.ok(e instanceof DeserializationError);
        assert.deepEqual([e.topic, e.partition, e.offset, e.part], ["t", 2, 1n, "value"]);
        return /t-2 at offset 1/.test(e.message);
      });
      const text = client.consumer({ valueDeserializer: stringSerde });
      const { messages } = await text.fetch({ topic: "t", partition: 2, offset: 0n });
      assert.deepEqual(messages.map((m) => m.value), ['{"ok":1}', "not json"]);
    }),
});

Deno.test("producerOptionsFromConfig() maps the config's producer section", async () => {
  const { DEFAULT_CONFIG, parseConfig } = await import("@kafka-analog/lib/config");
  const { producerOptionsFromConfig } = await import("./producer.ts");
  assert.deepEqual(producerOptionsFromConfig(DEFAULT_CONFIG.producer), {
    acks: "all",
    lingerMs: 5,
    batchBytes: 16384,
    bufferBytes: 33554432,
    maxBlockMs: 60000,
    retries: 5,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    requestTimeoutMs: 30000,
    deliveryTimeoutMs: 120000,
    idempotence: true,
    compression: "none",
  });
  const custom = parseConfig("producer: {acks: 1, idempotence: false, compression: gzip}");
  const options = producerOptionsFromConfig(custom.producer);
  assert.deepEqual([options.acks, options.idempotence, options.compression], [1, false, "gzip"]);
});
