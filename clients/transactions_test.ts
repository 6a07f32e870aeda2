/**
 * Tests of the transactional producer against a scripted loopback broker
 * that is its own transaction and group coordinator (`_txn_fake_broker.ts`):
 * the requests and their order (FindCoordinator keyType 1, InitProducerId,
 * AddPartitionsToTxn batched before the first produce, transactional
 * batches, TxnOffsetCommit to the group coordinator, EndTxn after the
 * flush), retries of CONCURRENT_TRANSACTIONS, fencing, aborts (queued
 * records dropped, in-flight ones awaited), abortable errors, the epoch bump
 * after a sequence reset, the state machine's errors, and the
 * consume-transform-produce loop with in-memory fakes.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  ApiKey,
  ATTR_TRANSACTIONAL,
  type EndTxnRequest,
  ERRORS,
  type FindCoordinatorRequest,
  type InitProducerIdRequest,
  isControlBatch,
  type TxnOffsetCommitRequest,
} from "@kafka-analog/lib/protocol";
import { FakeTxnBroker, type FakeTxnBrokerOptions } from "./_txn_fake_broker.ts";
import { type Client, createClient } from "./mod.ts";
import type { ProducerOptions } from "./producer.ts";
import type { ProducerClock } from "./retry.ts";
import {
  type ConsumerGroupMetadata,
  consumeTransformProduce,
  type TransactionalConsumer,
  type TransactionalProducer,
  type TransactionOffset,
  type TransactionState,
} from "./transactions.ts";
import type { ConsumerBatch } from "./group_consumer.ts";
import type { ProducerMessage, RecordMetadata } from "./types.ts";

const TEST = { sanitizeOps: false, sanitizeResources: false };

async function withBroker(
  options: Partial<FakeTxnBrokerOptions>,
  fn: (broker: FakeTxnBroker, client: Client) => Promise<void>,
): Promise<void> {
  const broker = FakeTxnBroker.start({ topics: { t: 4 }, ...options });
  const client = createClient({ bootstrap: [broker.address], clientId: "txn-test" });
  try {
    await fn(broker, client);
  } finally {
    await client.close();
    await broker.close();
  }
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

function txnProducer(client: Client, options: ProducerOptions = {}) {
  return client.producer({ transactionalId: "tx-1", lingerMs: 5, ...options });
}

function isError(name: string, pattern?: RegExp): (e: unknown) => boolean {
  return (e) => isKaError(e, name as never) && (pattern === undefined || pattern.test(e.message));
}

Deno.test({
  ...TEST,
  name: "initTransactions() finds the transaction coordinator (keyType 1) and takes an epoch",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client, { transactionTimeoutMs: 12_345 });
      assert.equal(producer.transactionalId, "tx-1");
      assert.equal(producer.transactionState, "uninitialized");
      await producer.initTransactions();
      assert.equal(producer.transactionState, "ready");
      const find = broker.requestsOf(ApiKey.FindCoordinator)[0].body as FindCoordinatorRequest;
      assert.deepEqual(find, { key: "tx-1", keyType: 1 });
      const init = broker.requestsOf(ApiKey.InitProducerId)[0];
      assert.equal(init.apiVersion, 1);
      assert.deepEqual(init.body as InitProducerIdRequest, {
        transactionalId: "tx-1",
        transactionTimeoutMs: 12_345,
      });
      assert.deepEqual(broker.apiTrace(), [ApiKey.FindCoordinator, ApiKey.InitProducerId]);
      assert.deepEqual(producer.producerId, {
        producerId: broker.txns.get("tx-1")!.producerId,
        producerEpoch: 0,
      });
      assert.equal(producer.idempotent, true);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name:
    "a transaction adds its partitions in one request before the first produce, then commits after the flush",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client);
      await producer.initTransactions();
      producer.beginTransaction();
      assert.equal(producer.transactionState, "in-transaction");
      const first = producer.send("t", [0, 1, 2].map((p) => ({ partition: p, value: `v${p}` })));
      const metas = await first;
      assert.deepEqual(metas.map((m) => m.offset), [0n, 0n, 0n]);
      await producer.send("t", [{ partition: 0, value: "again" }]);
      await producer.commitTransaction();
      assert.equal(producer.transactionState, "ready");

      const adds = broker.requestsOf(ApiKey.AddPartitionsToTxn);
      assert.equal(adds.length, 1, "the three new partitions go in one AddPartitionsToTxn");
      assert.equal(adds[0].apiVersion, 2);
      const add = adds[0].body as {
        v3AndBelowTransactionalId: string;
        v3AndBelowProducerEpoch: number;
        v3AndBelowTopics: { name: string; partitions: number[] }[];
      };
      assert.equal(add.v3AndBelowTransactionalId, "tx-1");
      assert.deepEqual(add.v3AndBelowTopics.map((t) => [t.name, [...t.partitions].sort()]), [[
        "t",
        [0, 1, 2],
      ]]);
      const trace = broker.apiTrace();
      assert.ok(
        trace.indexOf(ApiKey.AddPartitionsToTxn) < trace.indexOf(ApiKey.Produce),
        "partitions are added before the first produce",
      );
      assert.equal(trace.at(-1), ApiKey.EndTxn, "EndTxn comes after every produce");
      const end = broker.requestsOf(ApiKey.EndTxn)[0].body as EndTxnRequest;
      assert.deepEqual(end, {
        transactionalId: "tx-1",
        producerId: producer.producerId!.producerId,
        producerEpoch: 0,
        committed: true,
      });
      for (const r of broker.requestsOf(ApiKey.Produce)) {
        assert.equal((r.body as { transactionalId: string | null }).transactionalId, "tx-1");
      }
      const headers = broker.headers("t", 0);
      assert.equal(headers.length, 3, "two data batches and a COMMIT marker");
      for (const h of headers.slice(0, 2)) {
        assert.ok((h.attributes & ATTR_TRANSACTIONAL) !== 0, "data batches are transactional");
        assert.equal(h.producerId, producer.producerId!.producerId);
        assert.equal(h.producerEpoch, 0);
      }
      assert.deepEqual(headers.slice(0, 2).map((h) => h.baseSequence), [0, 1]);
      assert.ok(isControlBatch(headers[2]));

      // The next transaction adds its partitions again; sequences go on.
      producer.beginTransaction();
      await producer.send("t", [{ partition: 0, value: "next" }]);
      await producer.commitTransaction();
      assert.equal(broker.requestsOf(ApiKey.AddPartitionsToTxn).length, 2);
      assert.equal(broker.headers("t", 0)[3].baseSequence, 2);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "the transaction state machine refuses calls out of order with clear errors",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client);
      await assert.rejects(
        producer.send("t", [{ value: "x" }]),
        isError("INVALID_TXN_STATE", /initTransactions\(\) first/),
      );
      assert.throws(
        () => producer.beginTransaction(),
        isError("INVALID_TXN_STATE", /must be ready: current state is uninitialized/),
      );
      await producer.initTransactions();
      await assert.rejects(
        producer.initTransactions(),
        isError("INVALID_TXN_STATE", /must be uninitialized: current state is ready/),
      );
      await assert.rejects(
        producer.send("t", [{ value: "x" }]),
        isError("INVALID_TXN_STATE", /outside a transaction.*beginTransaction\(\) first/),
      );
      await assert.rejects(producer.commitTransaction(), isError("INVALID_TXN_STATE"));
      await assert.rejects(
        producer.abortTransaction(),
        isError("INVALID_TXN_STATE", /none is open: current state is ready/),
      );
      await assert.rejects(
        producer.sendOffsetsToTransaction([{ topic: "t", partition: 0, offset: 1n }], {
          groupId: "g",
          generationId: 1,
          memberId: "m",
        }),
        isError("INVALID_TXN_STATE"),
      );
      producer.beginTransaction();
      assert.throws(
        () => producer.beginTransaction(),
        isError("INVALID_TXN_STATE", /current state is in-transaction/),
      );
      // An empty transaction commits without asking the coordinator.
      await producer.commitTransaction();
      assert.equal(broker.requestsOf(ApiKey.EndTxn).length, 0);
      await producer.close();

      const plain = client.producer({ acks: "all" });
      assert.equal(plain.transactionState, null);
      assert.throws(
        () => plain.beginTransaction(),
        isError("INVALID_TXN_STATE", /no 'transactionalId'/),
      );
      await plain.close();

      for (
        const [options, pattern] of [
          [{ transactionalId: "x", acks: 1 }, /needs acks "all"/],
          [{ transactionalId: "x", idempotence: false }, /needs idempotence/],
          [{ transactionalId: "" }, /non-empty/],
          [{ transactionalId: "x", transactionTimeoutMs: 0 }, /transactionTimeoutMs/],
        ] as [ProducerOptions, RegExp][]
      ) {
        assert.throws(() => client.producer(options), isError("INVALID_CONFIG", pattern));
      }
    }),
});

Deno.test({
  ...TEST,
  name: "CONCURRENT_TRANSACTIONS and coordinator errors are retried with backoff",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const clock = fakeClock();
      const producer = txnProducer(client, {
        clock,
        lingerMs: 0,
        random: () => 0.5,
        retryBackoffMs: 10,
        retryBackoffMaxMs: 80,
      });
      broker.inject(ApiKey.InitProducerId, ERRORS.CONCURRENT_TRANSACTIONS.code);
      await producer.initTransactions();
      broker.inject(
        ApiKey.AddPartitionsToTxn,
        ERRORS.CONCURRENT_TRANSACTIONS.code,
        ERRORS.NOT_COORDINATOR.code,
      );
      broker.inject(ApiKey.EndTxn, ERRORS.CONCURRENT_TRANSACTIONS.code);
      producer.beginTransaction();
      await producer.send("t", [{ partition: 1, value: "x" }]);
      await producer.commitTransaction();
      assert.equal(broker.requestsOf(ApiKey.InitProducerId).length, 2);
      assert.equal(broker.requestsOf(ApiKey.AddPartitionsToTxn).length, 3);
      assert.equal(broker.requestsOf(ApiKey.EndTxn).length, 2);
      // NOT_COORDINATOR looks the coordinator up again.
      assert.equal(broker.requestsOf(ApiKey.FindCoordinator).length, 2);
      assert.deepEqual(clock.sleeps, [10, 10, 20, 10], "exponential backoff per call");
      assert.equal(broker.txns.get("tx-1")!.open, false, "committed");
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "retries of a transactional call stop at max_block_ms",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const clock = fakeClock();
      const producer = txnProducer(client, {
        clock,
        lingerMs: 0,
        random: () => 0.5,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 100,
        maxBlockMs: 350,
      });
      broker.inject(ApiKey.InitProducerId, ...Array(10).fill(ERRORS.CONCURRENT_TRANSACTIONS.code));
      await assert.rejects(
        producer.initTransactions(),
        isError(
          "CONCURRENT_TRANSACTIONS",
          /InitProducerId did not succeed within max_block_ms 350/,
        ),
      );
      assert.equal(producer.transactionState, "uninitialized", "a timeout may be retried");
      await producer.close();
    }),
});

for (const fencedCode of [ERRORS.INVALID_PRODUCER_EPOCH.code, ERRORS.PRODUCER_FENCED.code]) {
  const name = new KaError(fencedCode).errorName;
  Deno.test({
    ...TEST,
    name: `a newer instance fences the older one (${name}): every later call fails`,
    fn: () =>
      withBroker({ fencedCode }, async (broker, client) => {
        const zombie = txnProducer(client);
        await zombie.initTransactions();
        zombie.beginTransaction();
        await zombie.send("t", [{ partition: 0, value: "zombie-0" }]);

        const fresh = txnProducer(client);
        await fresh.initTransactions();
        assert.equal(fresh.producerId!.producerEpoch, 1);
        assert.equal(broker.txns.get("tx-1")!.open, false, "the zombie's transaction was aborted");

        // A new partition needs AddPartitionsToTxn: the coordinator fences it.
        await assert.rejects(
          zombie.send("t", [{ partition: 1, value: "zombie-1" }]),
          isError(name, /fenced by a newer instance/),
        );
        assert.equal(zombie.transactionState, "fatal-error");
        await assert.rejects(zombie.commitTransaction(), isError(name, /fenced/));
        await assert.rejects(zombie.abortTransaction(), isError(name, /fenced/));
        assert.throws(() => zombie.beginTransaction(), isError(name, /fenced/));
        await assert.rejects(zombie.send("t", [{ partition: 0, value: "x" }]), isError(name));

        fresh.beginTransaction();
        await fresh.send("t", [{ partition: 1, value: "fresh" }]);
        await fresh.commitTransaction();
        await zombie.close();
        await fresh.close();
      }),
  });
}

Deno.test({
  ...TEST,
  name: "a Produce answered INVALID_PRODUCER_EPOCH fences the producer",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const zombie = txnProducer(client);
      await zombie.initTransactions();
      zombie.beginTransaction();
      await zombie.send("t", [{ partition: 0, value: "a" }]);
      const fresh = txnProducer(client);
      await fresh.initTransactions();
      // Partition 0 is already in the zombie's (now aborted) transaction: no AddPartitions, the
      // broker refuses the old epoch.
      broker.txns.get("tx-1")!.partitions.add("t/0");
      await assert.rejects(
        zombie.send("t", [{ partition: 0, value: "b" }]),
        isError("INVALID_PRODUCER_EPOCH", /fenced/),
      );
      assert.equal(zombie.transactionState, "fatal-error");
      await assert.rejects(zombie.commitTransaction(), isError("INVALID_PRODUCER_EPOCH"));
      await zombie.close();
      await fresh.close();
    }),
});

Deno.test({
  ...TEST,
  name: "abortTransaction() drops queued records without asking the coordinator",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client, { lingerMs: 60_000 });
      await producer.initTransactions();
      // A send still waiting for metadata when the abort comes.
      producer.beginTransaction();
      const waiting = producer.send("t", [{ partition: 0, value: "never" }]).then(
        () => "sent",
        (e) => e,
      );
      await producer.abortTransaction();
      const early = await waiting;
      assert.ok(isKaError(early, "TRANSACTION_ABORTED"), String(early));
      // Records buffered (lingering) when the abort comes.
      await client.cluster.topic("t");
      producer.beginTransaction();
      const queued = producer.send("t", [{ partition: 0, value: "never" }]).then(
        () => "sent",
        (e) => e,
      );
      assert.ok(producer.bufferedBytes > 0, "the record is buffered");
      await producer.abortTransaction();
      const err = await queued;
      assert.ok(isKaError(err, "TRANSACTION_ABORTED"), String(err));
      assert.match(String(err), /aborted before these records were sent/);
      assert.equal(producer.transactionState, "ready");
      assert.equal(broker.requestsOf(ApiKey.Produce).length, 0);
      assert.equal(broker.requestsOf(ApiKey.AddPartitionsToTxn).length, 0);
      assert.equal(broker.requestsOf(ApiKey.EndTxn).length, 0, "nothing reached the coordinator");
      assert.equal(producer.bufferedBytes, 0);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "abortTransaction() waits for sends in flight, then EndTxn committed=false",
  fn: async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    await withBroker({
      beforeProduce: async () => {
        held++;
        await gate;
      },
    }, async (broker, client) => {
      const producer = txnProducer(client);
      await producer.initTransactions();
      producer.beginTransaction();
      const sent = producer.send("t", [{ partition: 2, value: "in flight" }]);
      while (held === 0) await new Promise((r) => setTimeout(r, 5));
      let aborted = false;
      const abort = producer.abortTransaction().then(() => (aborted = true));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(aborted, false, "the abort waits for the answer of the send in flight");
      assert.equal(broker.requestsOf(ApiKey.EndTxn).length, 0);
      release();
      await sent;
      await abort;
      const end = broker.requestsOf(ApiKey.EndTxn);
      assert.equal(end.length, 1);
      assert.equal((end[0].body as EndTxnRequest).committed, false);
      const headers = broker.headers("t", 2);
      assert.equal(headers.length, 2, "the data batch and an ABORT marker");
      assert.ok(isControlBatch(headers[1]));
      await producer.close();
    });
  },
});

Deno.test({
  ...TEST,
  name:
    "sendOffsetsToTransaction() adds the group, then commits offsets at the group coordinator (keyType 0)",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client);
      await producer.initTransactions();
      const group: ConsumerGroupMetadata = { groupId: "copier", generationId: 3, memberId: "m-1" };
      producer.beginTransaction();
      await producer.send("t", [{ partition: 0, value: "copy" }]);
      await producer.sendOffsetsToTransaction([
        { topic: "in", partition: 0, offset: 42n },
        { topic: "in", partition: 1, offset: 7n, metadata: "m" },
      ], group);
      assert.equal(broker.committed.size, 0, "not visible before the commit");
      await producer.commitTransaction();
      assert.equal(broker.committed.get("copier/in/0"), 42n);
      assert.equal(broker.committed.get("copier/in/1"), 7n);

      const trace = broker.apiTrace();
      const addOffsets = trace.indexOf(ApiKey.AddOffsetsToTxn);
      const txnCommit = trace.indexOf(ApiKey.TxnOffsetCommit);
      assert.ok(
        addOffsets >= 0 && addOffsets < txnCommit && txnCommit < trace.lastIndexOf(ApiKey.EndTxn),
      );
      assert.deepEqual(broker.requestsOf(ApiKey.AddOffsetsToTxn)[0].body, {
        transactionalId: "tx-1",
        producerId: producer.producerId!.producerId,
        producerEpoch: 0,
        groupId: "copier",
      });
      const finds = broker.requestsOf(ApiKey.FindCoordinator).map((r) =>
        r.body as FindCoordinatorRequest
      );
      assert.deepEqual(finds, [{ key: "tx-1", keyType: 1 }, { key: "copier", keyType: 0 }]);
      const commit = broker.requestsOf(ApiKey.TxnOffsetCommit)[0];
      assert.equal(commit.apiVersion, 2);
      const body = commit.body as TxnOffsetCommitRequest;
      assert.equal(body.groupId, "copier");
      assert.equal(body.producerId, producer.producerId!.producerId);
      assert.deepEqual(body.topics, [{
        name: "in",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 42n,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
          {
            partitionIndex: 1,
            committedOffset: 7n,
            committedLeaderEpoch: -1,
            committedMetadata: "m",
          },
        ],
      }]);

      // Offsets of an aborted transaction are never committed.
      producer.beginTransaction();
      await producer.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: 99n }], group);
      await producer.abortTransaction();
      assert.equal(broker.committed.get("copier/in/0"), 42n);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "a failed send makes the transaction abortable: commit refuses, abort recovers",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client);
      await producer.initTransactions();
      producer.beginTransaction();
      await producer.send("t", [{ partition: 0, value: "ok" }]);
      broker.inject(ApiKey.Produce, ERRORS.CORRUPT_MESSAGE.code);
      await assert.rejects(
        producer.send("t", [{ partition: 0, value: "bad" }]),
        isError("CORRUPT_MESSAGE"),
      );
      assert.equal(producer.transactionState, "abortable-error");
      await assert.rejects(
        producer.send("t", [{ partition: 1, value: "more" }]),
        isError("CORRUPT_MESSAGE", /must be aborted/),
      );
      await assert.rejects(
        producer.commitTransaction(),
        isError("CORRUPT_MESSAGE", /must be aborted/),
      );
      assert.throws(() => producer.beginTransaction(), isError("INVALID_TXN_STATE"));
      await producer.abortTransaction();
      assert.equal(producer.transactionState, "ready");
      assert.equal((broker.requestsOf(ApiKey.EndTxn)[0].body as EndTxnRequest).committed, false);
      assert.equal(broker.requestsOf(ApiKey.InitProducerId).length, 1, "no new epoch needed");

      producer.beginTransaction();
      await producer.send("t", [{ partition: 0, value: "after" }]);
      await producer.commitTransaction();
      assert.equal((broker.requestsOf(ApiKey.EndTxn)[1].body as EndTxnRequest).committed, true);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "after a sequence reset the abort takes a new epoch and sequences restart at 0",
  fn: () =>
    withBroker({}, async (broker, client) => {
      const producer = txnProducer(client);
      await producer.initTransactions();
      producer.beginTransaction();
      await producer.send("t", [{ partition: 3, value: "one" }]);
      broker.inject(ApiKey.Produce, ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
      await assert.rejects(
        producer.send("t", [{ partition: 3, value: "two" }]),
        isError("OUT_OF_ORDER_SEQUENCE_NUMBER"),
      );
      assert.equal(producer.transactionState, "abortable-error");
      await producer.abortTransaction();
      assert.equal(broker.requestsOf(ApiKey.InitProducerId).length, 2, "a new epoch");
      assert.equal(producer.producerId!.producerEpoch, 1);
      producer.beginTransaction();
      await producer.send("t", [{ partition: 3, value: "three" }]);
      await producer.commitTransaction();
      const last = broker.headers("t", 3).filter((h) => !isControlBatch(h)).at(-1)!;
      assert.equal(last.producerEpoch, 1);
      assert.equal(last.baseSequence, 0);
      await producer.close();
    }),
});

Deno.test({
  ...TEST,
  name: "initTransactions() fails with UNSUPPORTED_VERSION when the cluster has no transactions",
  fn: () =>
    withBroker({ withoutApis: [ApiKey.AddPartitionsToTxn] }, async (_broker, client) => {
      const producer = txnProducer(client);
      await assert.rejects(
        producer.initTransactions(),
        isError("UNSUPPORTED_VERSION", /AddPartitionsToTxn v2/),
      );
      assert.equal(producer.transactionState, "fatal-error");
      await producer.close();
    }),
});

// --- consumeTransformProduce with in-memory fakes ---------------------------

class FakeConsumer implements TransactionalConsumer {
  readonly log: number[] = [];
  committed = 0;
  position_ = 0;
  seeks = 0;
  constructor(readonly total: number, readonly batchSize: number) {}
  poll(): Promise<ConsumerBatch[]> {
    const from = this.position_;
    const to = Math.min(this.total, from + this.batchSize);
    this.position_ = to;
    if (from === to) return Promise.resolve([]);
    return Promise.resolve([{
      topic: "in",
      partition: 0,
      highWatermark: BigInt(this.total),
      messages: Array.from({ length: to - from }, (_, i) => ({
        topic: "in",
        partition: 0,
        offset: BigInt(from + i),
        timestamp: 0,
        key: null,
        value: new TextEncoder().encode(String(from + i)),
        headers: [],
      })),
    }]);
  }
  position(): bigint {
    return BigInt(this.position_);
  }
  groupMetadata(): ConsumerGroupMetadata {
    return { groupId: "g", generationId: 1, memberId: "m" };
  }
  seekToCommitted(): Promise<void> {
    this.seeks++;
    this.position_ = this.committed;
    return Promise.resolve();
  }
}

class FakeProducer implements TransactionalProducer<string, string> {
  transactionState: TransactionState = "uninitialized";
  readonly calls: string[] = [];
  readonly output: string[] = [];
  #pending: string[] = [];
  #offset = 0n;
  failSendsAt = new Set<number>();
  fatalAt = -1;
  #sends = 0;
  constructor(readonly consumer: FakeConsumer) {}
  initTransactions(): Promise<void> {
    this.calls.push("init");
    this.transactionState = "ready";
    return Promise.resolve();
  }
  beginTransaction(): void {
    this.calls.push("begin");
    this.transactionState = "in-transaction";
    this.#pending = [];
  }
  send(topic: string, messages: ProducerMessage<string, string>[]): Promise<RecordMetadata[]> {
    const n = this.#sends++;
    this.calls.push(`send:${topic}:${messages.length}`);
    if (n === this.fatalAt) {
      this.transactionState = "fatal-error";
      return Promise.reject(KaError.of("PRODUCER_FENCED", "fenced"));
    }
    if (this.failSendsAt.has(n)) {
      this.transactionState = "abortable-error";
      return Promise.reject(KaError.of("NOT_ENOUGH_REPLICAS", "injected"));
    }
    this.#pending.push(...messages.map((m) => m.value));
    return Promise.resolve(messages.map(() => ({ topic, partition: 0, offset: this.#offset++ })));
  }
  sendOffsetsToTransaction(
    offsets: TransactionOffset[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    this.calls.push(`offsets:${group.groupId}:${offsets.map((o) => o.offset).join(",")}`);
    this.#committing = Number(offsets[0].offset);
    return Promise.resolve();
  }
  #committing = 0;
  commitTransaction(): Promise<void> {
    this.calls.push("commit");
    this.output.push(...this.#pending);
    this.consumer.committed = this.#committing;
    this.transactionState = "ready";
    return Promise.resolve();
  }
  abortTransaction(): Promise<void> {
    this.calls.push("abort");
    this.transactionState = "ready";
    return Promise.resolve();
  }
}

Deno.test("consumeTransformProduce() copies exactly once across an aborted transaction", async () => {
  const consumer = new FakeConsumer(10, 4);
  const producer = new FakeProducer(consumer);
  producer.failSendsAt.add(1);
  const controller = new AbortController();
  const outcomes: boolean[] = [];
  const stats = await consumeTransformProduce({
    consumer,
    producer,
    transform: (m) => {
      const n = Number(new TextDecoder().decode(m.value!));
      return n % 5 === 4 ? null : { topic: "out", value: `copy-${n}` };
    },
    signal: controller.signal,
    retryDelayMs: 0,
    onTransaction: (o) => {
      outcomes.push(o.committed);
      if (consumer.committed === 10) controller.abort();
    },
  });
  assert.deepEqual(outcomes, [true, false, true, true]);
  assert.deepEqual(stats, { committed: 3, aborted: 1, inputCount: 10, outputCount: 8 });
  assert.equal(consumer.seeks, 1, "rewound once, to the committed offset");
  assert.deepEqual(
    producer.output,
    [0, 1, 2, 3, 5, 6, 7, 8].map((n) => `copy-${n}`),
    "every output exactly once, in order",
  );
  assert.deepEqual(producer.calls.slice(0, 6), [
    "init",
    "begin",
    "send:out:4",
    "offsets:g:4",
    "commit",
    "begin",
  ]);
  assert.ok(producer.calls.includes("abort"));
});

Deno.test("consumeTransformProduce() throws when the producer is fenced", async () => {
  const consumer = new FakeConsumer(10, 4);
  const producer = new FakeProducer(consumer);
  producer.fatalAt = 0;
  await assert.rejects(
    consumeTransformProduce({
      consumer,
      producer,
      transform: (m) => ({ topic: "out", value: String(m.offset) }),
    }),
    isError("PRODUCER_FENCED"),
  );
  assert.ok(!producer.calls.includes("abort"), "a fenced producer cannot abort");
});

Deno.test("consumeTransformProduce() aborts and rethrows a transform's bug", async () => {
  const consumer = new FakeConsumer(10, 4);
  const producer = new FakeProducer(consumer);
  await assert.rejects(
    consumeTransformProduce({
      consumer,
      producer,
      transform: () => {
        throw new TypeError("bug");
      },
    }),
    TypeError,
  );
  assert.deepEqual(producer.calls, ["init", "begin", "abort"]);
  assert.equal(consumer.seeks, 1);
  assert.deepEqual(producer.output, []);
});
