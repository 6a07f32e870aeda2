/**
 * Tests of the reading side of transactions: the aborted-transaction filter
 * (`committedBatches`, Kafka's algorithm) on synthetic logs with interleaved
 * committed and aborted producers and control batches, and the
 * PartitionReader's isolation level on the wire (Fetch isolationLevel 0/1,
 * aborted records dropped, markers skipped, nextOffset past everything).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  type AbortedTransaction,
  ApiKey,
  type BatchSlice,
  decodeRecords,
  encodeControlBatch,
  encodeRecordBatch,
  type FetchRequest,
  lastOffsetOf,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { FakeTxnBroker } from "./_txn_fake_broker.ts";
import { committedBatches } from "./consumer.ts";
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
