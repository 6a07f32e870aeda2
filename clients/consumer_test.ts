/**
 * Tests of PartitionReader.fetchMany (one Fetch per leader, per-partition
 * results and errors, leader moves) and of the reading side of transactions: the aborted-transaction filter
 * (`committedBatches`, Kafka's algorithm) on synthetic logs with interleaved
 * committed and aborted producers and control batches, and the
 * PartitionReader's isolation level on the wire (Fetch isolationLevel 0/1,
 * aborted records dropped, markers skipped, nextOffset past everything).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  type AbortedTransaction,
  ApiKey,
  type BatchSlice,
  decodeRecords,
  encodeControlBatch,
  encodeRecordBatch,
  ERRORS,
  type FetchPartitionData,
  type FetchRequest,
  lastOffsetOf,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { FakeTxnBroker } from "./_txn_fake_broker.ts";
import { MockBroker } from "./_mock_broker.ts";
import { ClusterView } from "./cluster.ts";
import { committedBatches, PartitionReader } from "./consumer.ts";
import { createClient } from "./mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Entry =
  | { kind: "data"; values: string[]; producerId?: bigint; transactional?: boolean }
  | { kind: "marker"; producerId: bigint; commit: boolean };

/** Encodes entries back to back from offset 0, as a broker would store them. */
function log(entries: Entry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0n;
  for (const e of entries) {
    const bytes = e.kind === "data"
      ? encodeRecordBatch(e.values.map((v) => ({ value: enc.encode(v) })), {
        baseOffset: offset,
        timestamp: 1_700_000_000_000,
        producerId: e.producerId ?? -1n,
        producerEpoch: e.producerId === undefined ? -1 : 0,
        baseSequence: e.producerId === undefined ? -1 : 0,
        transactional: e.transactional ?? false,
      })
      : encodeControlBatch({
        producerId: e.producerId,
        producerEpoch: 0,
        commit: e.commit,
        coordinatorEpoch: 0,
        timestamp: 1_700_000_000_000,
        baseOffset: offset,
      });
    parts.push(bytes);
    offset = lastOffsetOf(splitBatches(bytes)[0].header) + 1n;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function values(batches: BatchSlice[]): string[] {
  return batches.flatMap((b) => decodeRecords(b.bytes).map((r) => dec.decode(r.value!)));
}

const A = 1n;
const B = 2n;

/**
 * offset: 0 n0 | 1-2 A a1 a2 (aborted) | 3 B b3 | 4 A a4 (aborted) | 5 B COMMIT | 6 A ABORT |
 * 7 A a7 | 8 B b8 (aborted) | 9 A COMMIT | 10 B ABORT | 11 B i11 (idempotent, not transactional)
 */
const INTERLEAVED: Entry[] = [
  { kind: "data", values: ["n0"] },
  { kind: "data", values: ["a1", "a2"], producerId: A, transactional: true },
  { kind: "data", values: ["b3"], producerId: B, transactional: true },
  { kind: "data", values: ["a4"], producerId: A, transactional: true },
  { kind: "marker", producerId: B, commit: true },
  { kind: "marker", producerId: A, commit: false },
  { kind: "data", values: ["a7"], producerId: A, transactional: true },
  { kind: "data", values: ["b8"], producerId: B, transactional: true },
  { kind: "marker", producerId: A, commit: true },
  { kind: "marker", producerId: B, commit: false },
  { kind: "data", values: ["i11"], producerId: B },
];
const INTERLEAVED_ABORTED: AbortedTransaction[] = [
  // Out of order on purpose: the filter sorts by firstOffset.
  { producerId: B, firstOffset: 8n },
  { producerId: A, firstOffset: 1n },
];

Deno.test("committedBatches() drops aborted transactions of interleaved producers and every marker", () => {
  const batches = splitBatches(log(INTERLEAVED));
  assert.deepEqual(values(committedBatches(batches, INTERLEAVED_ABORTED)), [
    "n0",
    "b3",
    "a7",
    "i11",
  ]);
});

Deno.test("committedBatches() with no aborted list (read_uncommitted) only drops markers", () => {
  const batches = splitBatches(log(INTERLEAVED));
  assert.deepEqual(values(committedBatches(batches, null)), [
    "n0",
    "a1",
    "a2",
    "b3",
    "a4",
    "a7",
    "b8",
    "i11",
  ]);
  // read_committed with nothing aborted: everything but the markers.
  assert.deepEqual(values(committedBatches(batches, [])), values(committedBatches(batches, null)));
});

Deno.test("committedBatches() keeps a producer's batches before its aborted transaction's firstOffset", () => {
  const batches = splitBatches(log([
    { kind: "data", values: ["c0", "c1"], producerId: A, transactional: true },
    { kind: "marker", producerId: A, commit: true },
    { kind: "data", values: ["x3"], producerId: A, transactional: true },
    { kind: "data", values: ["x4"], producerId: A, transactional: true },
    { kind: "marker", producerId: A, commit: false },
    { kind: "data", values: ["c6"], producerId: A, transactional: true },
  ]));
  assert.deepEqual(
    values(committedBatches(batches, [{ producerId: A, firstOffset: 3n }])),
    ["c0", "c1", "c6"],
    "the committed transaction before and the open one after the aborted one are kept",
  );
});

Deno.test("committedBatches() ignores other producers' batches and a fetch that starts mid-transaction", () => {
  // The fetch starts at offset 2, inside A's aborted transaction that began at 0.
  const full = splitBatches(log([
    { kind: "data", values: ["x0"], producerId: A, transactional: true },
    { kind: "data", values: ["x1"], producerId: A, transactional: true },
    { kind: "data", values: ["x2"], producerId: A, transactional: true },
    { kind: "data", values: ["b3"], producerId: B, transactional: true },
    { kind: "marker", producerId: A, commit: false },
    { kind: "marker", producerId: B, commit: true },
  ]));
  assert.deepEqual(
    values(committedBatches(full.slice(2), [{ producerId: A, firstOffset: 0n }])),
    ["b3"],
  );
});

Deno.test("committedBatches() refuses a malformed marker with CORRUPT_MESSAGE", () => {
  const bad = encodeRecordBatch([{ key: new Uint8Array([0, 0, 0, 9]), value: null }], {
    baseOffset: 0n,
    timestamp: 0,
    producerId: A,
    producerEpoch: 0,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
  assert.throws(
    () => committedBatches(splitBatches(bad), [{ producerId: A, firstOffset: 0n }]),
    (e) => isKaError(e, "CORRUPT_MESSAGE"),
  );
});

Deno.test({
  name: "PartitionReader: isolationLevel goes on the wire; read_committed drops aborted records",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const seen: number[] = [];
    const records = log(INTERLEAVED);
    const broker = FakeTxnBroker.start({
      topics: { t: 1 },
      onFetch: (request: FetchRequest, _topic, partition) => {
        seen.push(request.isolationLevel);
        const committed = request.isolationLevel === 1;
        return {
          partitionIndex: partition,
          errorCode: 0,
          highWatermark: 14n,
          lastStableOffset: 12n,
          logStartOffset: 0n,
          abortedTransactions: committed ? INTERLEAVED_ABORTED : null,
          preferredReadReplica: -1,
          records,
        };
      },
    });
    const client = createClient({ bootstrap: [broker.address] });
    try {
      const plain = client.consumer();
      const all = await plain.fetch({ topic: "t", partition: 0, offset: 0n });
      assert.deepEqual(all.messages.map((m) => dec.decode(m.value!)), [
        "n0",
        "a1",
        "a2",
        "b3",
        "a4",
        "a7",
        "b8",
        "i11",
      ]);
      assert.equal(all.nextOffset, 12n, "past the last batch");
      assert.equal(all.lastStableOffset, 12n);
      assert.equal(all.highWatermark, 14n);

      const committed = client.consumer({ isolationLevel: "read_committed" });
      assert.equal(committed.isolationLevel, "read_committed");
      const some = await committed.fetch({ topic: "t", partition: 0, offset: 0n });
      assert.deepEqual(some.messages.map((m) => dec.decode(m.value!)), ["n0", "b3", "a7", "i11"]);
      assert.deepEqual(some.messages.map((m) => m.offset), [0n, 3n, 7n, 11n]);
      assert.equal(some.nextOffset, 12n, "skipped batches and markers still move nextOffset");

      // A per-fetch override wins over the reader's default.
      const overridden = await plain.fetch({
        topic: "t",
        partition: 0,
        offset: 0n,
        isolationLevel: "read_committed",
      });
      assert.equal(overridden.messages.length, 4);
      assert.deepEqual(seen, [0, 1, 1]);
      assert.equal(broker.requestsOf(ApiKey.Fetch).length, 3);

      assert.throws(
        () => client.consumer({ isolationLevel: "serializable" as never }),
        (e) => isKaError(e, "INVALID_CONFIG") && /isolationLevel/.test(e.message),
      );
    } finally {
      await client.close();
      await broker.close();
    }
  },
});

Deno.test({
  name: "PartitionReader: a fetch of only markers and aborted batches returns nothing but moves on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const records = log([
      { kind: "data", values: ["x0", "x1"], producerId: A, transactional: true },
      { kind: "marker", producerId: A, commit: false },
    ]);
    const broker = FakeTxnBroker.start({
      topics: { t: 1 },
      onFetch: (_request, _topic, partition) => ({
        partitionIndex: partition,
        errorCode: 0,
        highWatermark: 3n,
        lastStableOffset: 3n,
        logStartOffset: 0n,
        abortedTransactions: [{ producerId: A, firstOffset: 0n }],
        preferredReadReplica: -1,
        records,
      }),
    });
    const client = createClient({ bootstrap: [broker.address] });
    try {
      const reader = client.consumer({ isolationLevel: "read_committed" });
      const result = await reader.fetch({ topic: "t", partition: 0, offset: 0n });
      assert.deepEqual(result.messages, []);
      assert.equal(result.nextOffset, 3n);
    } finally {
      await client.close();
      await broker.close();
    }
  },
});

/**
 * A cluster view whose leaders a test sets by hand: node ids index
 * `addresses` (one fake broker each); `refresh()` runs `onRefresh`.
 */
class ScriptedView extends ClusterView {
  readonly leaders = new Map<string, number>();
  refreshes = 0;
  onRefresh: () => void = () => {};

  constructor(readonly addresses: string[]) {
    super({ bootstrap: addresses });
  }

  override leaderOf(topic: string, partition: number): Promise<number> {
    const leader = this.leaders.get(`${topic}/${partition}`);
    if (leader === undefined) {
      return Promise.reject(
        KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown partition ${topic}-${partition}`),
      );
    }
    return Promise.resolve(leader);
  }

  override brokerConnection(nodeId: number) {
    return this.connection(this.addresses[nodeId]);
  }

  override refresh(): Promise<void> {
    this.refreshes++;
    this.onRefresh();
    return Promise.resolve();
  }
}

/** A fetched partition holding `values` from offset 0, or the error `errorCode`. */
function answer(partition: number, values: string[], errorCode = 0): FetchPartitionData {
  const entries: Entry[] = values.length === 0 ? [] : [{ kind: "data", values }];
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: errorCode === 0 ? BigInt(values.length) : -1n,
    lastStableOffset: errorCode === 0 ? BigInt(values.length) : -1n,
    logStartOffset: 0n,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: errorCode === 0 ? log(entries) : null,
  };
}

function fetchBodies(broker: FakeTxnBroker): FetchRequest[] {
  return broker.requestsOf(ApiKey.Fetch).map((r) => r.body as FetchRequest);
}

function partitionsOf(request: FetchRequest): string[] {
  return request.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}/${p.partition}`));
}

Deno.test({
  name:
    "fetchMany() sends one Fetch per leader carrying all its partitions, results in request order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const onFetch = (_r: FetchRequest, topic: string, partition: number) =>
      answer(
        partition,
        topic === "t" && partition === 3
          ? []
          : [`${topic}${partition}-0`, `${topic}${partition}-1`],
      );
    const a = FakeTxnBroker.start({ topics: { t: 4, u: 1 }, onFetch });
    const b = FakeTxnBroker.start({ topics: { t: 4, u: 1 }, onFetch });
    const view = new ScriptedView([a.address, b.address]);
    for (
      const [k, leader] of [["t/0", 0], ["t/1", 1], ["t/2", 0], ["t/3", 1], ["u/0", 0]] as const
    ) {
      view.leaders.set(k, leader);
    }
    const reader = new PartitionReader(view, {
      valueDeserializer: { deserialize: (bytes) => dec.decode(bytes!).toUpperCase() },
    });
    try {
      const results = await reader.fetchMany([
        { topic: "t", partition: 0, offset: 0n },
        { topic: "t", partition: 1, offset: 1n },
        { topic: "u", partition: 0, offset: 0n },
        { topic: "t", partition: 3, offset: 0n },
        { topic: "t", partition: 2, offset: 0n },
      ], { maxWaitMs: 123, maxBytesPerPartition: 4096 });
      assert.deepEqual(
        results.map((
          r,
        ) => [`${r.topic}/${r.partition}`, r.errorCode, r.messages.map((m) => m.value)]),
        [
          ["t/0", 0, ["T0-0", "T0-1"]],
          ["t/1", 0, ["T1-1"]], // records before the requested offset are dropped
          ["u/0", 0, ["U0-0", "U0-1"]],
          ["t/3", 0, []],
          ["t/2", 0, ["T2-0", "T2-1"]],
        ],
      );
      assert.deepEqual(results.map((r) => r.nextOffset), [2n, 2n, 2n, 0n, 2n]);
      assert.deepEqual(results.map((r) => r.highWatermark), [2n, 2n, 2n, 0n, 2n]);
      assert.deepEqual(results.map((r) => r.lastStableOffset), [2n, 2n, 2n, 0n, 2n]);
      assert.ok(results.every((r) => r.errorMessage === null));

      const [toA] = fetchBodies(a);
      const [toB] = fetchBodies(b);
      assert.equal(fetchBodies(a).length, 1, "one Fetch to broker 0");
      assert.equal(fetchBodies(b).length, 1, "one Fetch to broker 1");
      assert.deepEqual(partitionsOf(toA).sort(), ["t/0", "t/2", "u/0"]);
      assert.deepEqual(partitionsOf(toB).sort(), ["t/1", "t/3"]);
      for (const body of [toA, toB]) {
        assert.equal(body.minBytes, 1);
        assert.equal(body.maxWaitMs, 123);
        assert.equal(body.isolationLevel, 0);
        assert.ok(
          body.topics.every((t) => t.partitions.every((p) => p.partitionMaxBytes === 4096)),
        );
      }
      assert.equal(toA.maxBytes, 3 * 4096);
      assert.deepEqual(
        toB.topics[0].partitions.map((p) => [p.partition, p.fetchOffset]),
        [[1, 1n], [3, 0n]],
      );
      assert.equal(view.refreshes, 0);
    } finally {
      await view.close();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "fetchMany() asks a moved partition's new leader after one refresh, the others stay answered",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const a = FakeTxnBroker.start({
      topics: { t: 2 },
      onFetch: (_r, _t, partition) =>
        partition === 1
          ? answer(1, [], ERRORS.NOT_LEADER_OR_FOLLOWER.code)
          : answer(partition, ["a0"]),
    });
    const b = FakeTxnBroker.start({
      topics: { t: 2 },
      onFetch: (_r, _t, p) => answer(p, ["b0", "b1"]),
    });
    const view = new ScriptedView([a.address, b.address]);
    view.leaders.set("t/0", 0);
    view.leaders.set("t/1", 0);
    view.onRefresh = () => view.leaders.set("t/1", 1);
    const reader = new PartitionReader(view);
    try {
      const results = await reader.fetchMany([
        { topic: "t", partition: 0, offset: 0n },
        { topic: "t", partition: 1, offset: 0n },
      ]);
      assert.deepEqual(
        results.map((r) => [r.errorCode, r.messages.map((m) => dec.decode(m.value!))]),
        [
          [0, ["a0"]],
          [0, ["b0", "b1"]],
        ],
      );
      assert.equal(view.refreshes, 1);
      assert.deepEqual(fetchBodies(a).map(partitionsOf), [["t/0", "t/1"]]);
      assert.deepEqual(fetchBodies(b).map(partitionsOf), [["t/1"]]);
    } finally {
      await view.close();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "fetchMany() reports each partition's error in its result and keeps the others' data",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const corrupt = log([{ kind: "data", values: ["bad"] }]);
    corrupt[corrupt.length - 1] ^= 0xff; // the CRC no longer matches
    const a = FakeTxnBroker.start({
      topics: { t: 5 },
      onFetch: (_r, _t, partition) => {
        if (partition === 0) return answer(0, [], ERRORS.OFFSET_OUT_OF_RANGE.code);
        if (partition === 3) return answer(3, [], ERRORS.NOT_LEADER_OR_FOLLOWER.code);
        if (partition === 4) return { ...answer(4, ["x"]), records: corrupt };
        return answer(partition, ["ok"]);
      },
    });
    const view = new ScriptedView([a.address]);
    for (const p of [0, 2, 3, 4]) view.leaders.set(`t/${p}`, 0); // t/1 has no leader at all
    const reader = new PartitionReader(view);
    try {
      const results = await reader.fetchMany([0, 1, 2, 3, 4].map((partition) => ({
        topic: "t",
        partition,
        offset: 7n - BigInt(partition === 2 ? 7 : 0),
      })));
      assert.deepEqual(results.map((r) => r.errorCode), [
        ERRORS.OFFSET_OUT_OF_RANGE.code,
        ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
        0,
        ERRORS.NOT_LEADER_OR_FOLLOWER.code, // still stale after one refresh
        ERRORS.CORRUPT_MESSAGE.code,
      ]);
      assert.deepEqual(results[2].messages.map((m) => dec.decode(m.value!)), ["ok"]);
      for (const r of [results[0], results[1], results[3], results[4]]) {
        assert.deepEqual(r.messages, []);
        assert.equal(r.nextOffset, 7n, "a failed partition stays at the requested offset");
        assert.equal(r.highWatermark, -1n);
      }
      assert.match(results[1].errorMessage ?? "", /t-1/);
      assert.equal(view.refreshes, 1, "one refresh for every stale partition together");
      // First round: t/0, t/2, t/3, t/4; after the refresh only the stale t/3.
      assert.deepEqual(fetchBodies(a).map(partitionsOf), [["t/0", "t/2", "t/3", "t/4"], ["t/3"]]);
    } finally {
      await view.close();
      await a.close();
    }
  },
});

Deno.test({
  name:
    "fetchMany() filters aborted transactions with read_committed and refuses a partition asked twice",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const records = log(INTERLEAVED);
    const broker = FakeTxnBroker.start({
      topics: { t: 2 },
      onFetch: (request: FetchRequest, _topic, partition) => ({
        partitionIndex: partition,
        errorCode: 0,
        highWatermark: 14n,
        lastStableOffset: 12n,
        logStartOffset: 0n,
        abortedTransactions: request.isolationLevel === 1 ? INTERLEAVED_ABORTED : null,
        preferredReadReplica: -1,
        records,
      }),
    });
    const client = createClient({ bootstrap: [broker.address] });
    try {
      const reader = client.consumer({ isolationLevel: "read_committed" });
      const requests = [0, 1].map((partition) => ({ topic: "t", partition, offset: 0n }));
      const results = await reader.fetchMany(requests);
      for (const r of results) {
        assert.deepEqual(r.messages.map((m) => dec.decode(m.value!)), ["n0", "b3", "a7", "i11"]);
        assert.equal(r.nextOffset, 12n, "skipped batches and markers still move nextOffset");
        assert.equal(r.lastStableOffset, 12n);
      }
      const plain = await reader.fetchMany(requests, { isolationLevel: "read_uncommitted" });
      assert.equal(plain[0].messages.length, 8);
      assert.deepEqual(fetchBodies(broker).map((b) => b.isolationLevel), [1, 0]);

      await assert.rejects(
        reader.fetchMany([requests[0], { ...requests[0], offset: 3n }]),
        (e) => isKaError(e, "INVALID_REQUEST") && /twice/.test(e.message),
      );
      assert.deepEqual(await reader.fetchMany([]), []);
      assert.equal(fetchBodies(broker).length, 2, "neither sent a Fetch");
    } finally {
      await client.close();
      await broker.close();
    }
  },
});

Deno.test({
  name: "fetchMany() against the mock broker: what a producer wrote, one Fetch for every partition",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = MockBroker.start({ topics: { t: 4 } });
    const client = createClient({ bootstrap: [broker.address] });
    try {
      const producer = client.producer({ acks: 1 });
      for (const partition of [0, 1, 3]) {
        await producer.send(
          "t",
          Array.from(
            { length: 5 },
            (_, i) => ({ partition, value: enc.encode(`${partition}:${i}`) }),
          ),
        );
      }
      await producer.close();
      const reader = client.consumer();
      const before = broker.requestCounts.get(ApiKey.Fetch) ?? 0;
      const results = await reader.fetchMany(
        [0, 1, 2, 3].map((partition) => ({
          topic: "t",
          partition,
          offset: partition === 1 ? 3n : 0n,
        })),
        { maxWaitMs: 50, maxBytesPerPartition: 64 * 1024 },
      );
      assert.equal((broker.requestCounts.get(ApiKey.Fetch) ?? 0) - before, 1);
      assert.deepEqual(results.map((r) => r.messages.map((m) => dec.decode(m.value!))), [
        ["0:0", "0:1", "0:2", "0:3", "0:4"],
        ["1:3", "1:4"],
        [],
        ["3:0", "3:1", "3:2", "3:3", "3:4"],
      ]);
      assert.deepEqual(results.map((r) => r.nextOffset), [5n, 5n, 0n, 5n]);
      assert.deepEqual(results.map((r) => r.messages.map((m) => m.offset).at(0)), [
        0n,
        3n,
        undefined,
        0n,
      ]);
    } finally {
      await client.close();
      await broker.close();
    }
  },
});
