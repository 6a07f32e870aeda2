/**
 * Tests for {@linkcode TransactionIndex}: open transactions, the last stable
 * offset, aborted ranges and their overlap with a fetch range, and the
 * rebuild a {@linkcode Replica} does from its log.
 * @module
 */
import assert from "node:assert/strict";
import {
  type BatchHeader,
  encodeControlBatch,
  encodeRecordBatch,
  readBatchHeader,
} from "@kafka-analog/lib/protocol";
import {
  FIXTURE_TS,
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
} from "../_fixtures.ts";
import { TransactionIndex } from "./txn_index.ts";

const ENCODER = new TextEncoder();

/** A transactional data batch of `count` records. */
function txnBatch(producerId: bigint, count = 1, options: { epoch?: number; seq?: number } = {}) {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({ value: ENCODER.encode(`v${i}`) })),
    {
      timestamp: FIXTURE_TS,
      producerId,
      producerEpoch: options.epoch ?? 0,
      baseSequence: options.seq ?? 0,
      transactional: true,
    },
  );
}

/** A COMMIT or ABORT marker of `producerId`. */
function marker(producerId: bigint, commit: boolean, epoch = 0) {
  return encodeControlBatch({
    producerId,
    producerEpoch: epoch,
    commit,
    coordinatorEpoch: 0,
    timestamp: FIXTURE_TS,
  });
}

/** A log-like feeder: assigns offsets as a leader would and hands each batch to the index. */
function feeder(index: TransactionIndex, start = 0n) {
  let next = start;
  const stored: { header: BatchHeader; bytes: Uint8Array }[] = [];
  return {
    stored,
    /** Appends a batch; returns its base offset. */
    add(bytes: Uint8Array): bigint {
      const header = { ...readBatchHeader(bytes), baseOffset: next };
      index.onBatch(header, bytes);
      stored.push({ header, bytes });
      next += BigInt(header.lastOffsetDelta) + 1n;
      return header.baseOffset;
    },
    get end(): bigint {
      return next;
    },
  };
}

Deno.test("TransactionIndex: with nothing open the LSO is the high watermark", () => {
  const index = new TransactionIndex();
  assert.equal(index.lastStableOffset(0n), 0n);
  assert.equal(index.lastStableOffset(42n), 42n);
  // Plain and idempotent (non-transactional) batches open nothing.
  const log = feeder(index);
  log.add(fixtureBatch("a", 3));
  log.add(
    encodeRecordBatch([{ value: ENCODER.encode("i") }], {
      timestamp: FIXTURE_TS,
      producerId: 9n,
      producerEpoch: 0,
      baseSequence: 0,
    }),
  );
  assert.equal(index.ongoing.size, 0);
  assert.equal(index.lastStableOffset(log.end), log.end);
  assert.deepEqual(index.abortedIn(0n, log.end), []);
});

Deno.test("TransactionIndex: the LSO is the first offset of the oldest open transaction", () => {
  const index = new TransactionIndex();
  const log = feeder(index);
  log.add(fixtureBatch("plain", 2)); // 0..1
  const firstA = log.add(txnBatch(1n, 3)); // 2..4
  log.add(fixtureBatch("plain", 1)); // 5
  const firstB = log.add(txnBatch(2n, 2)); // 6..7
  log.add(txnBatch(1n, 1, { seq: 3 })); // 8: A again, its first offset stays 2
  assert.equal(firstA, 2n);
  assert.equal(firstB, 6n);
  assert.deepEqual([...index.ongoing], [[1n, 2n], [2n, 6n]]);
  assert.equal(index.lastStableOffset(log.end), 2n);
  // The LSO never passes the high watermark.
  assert.equal(index.lastStableOffset(1n), 1n);
  // A commits: B (from 6) is now the oldest open one.
  log.add(marker(1n, true)); // 9
  assert.deepEqual([...index.ongoing], [[2n, 6n]]);
  assert.equal(index.lastStableOffset(log.end), 6n);
  log.add(marker(2n, true)); // 10
  assert.equal(index.ongoing.size, 0);
  assert.equal(index.lastStableOffset(log.end), 11n);
});

Deno.test("TransactionIndex: a COMMIT marker closes the transaction without an aborted range", () => {
  const index = new TransactionIndex();
  const log = feeder(index);
  log.add(txnBatch(5n, 2));
  log.add(marker(5n, true));
  assert.equal(index.ongoing.size, 0);
  assert.deepEqual(index.abortedIn(0n, 100n), []);
});

Deno.test("TransactionIndex: an ABORT marker records [first offset, marker offset]", () => {
  const index = new TransactionIndex();
  const log = feeder(index, 100n);
  log.add(fixtureBatch("x", 1)); // 100
  log.add(txnBatch(5n, 2)); // 101..102
  log.add(txnBatch(6n, 1)); // 103
  log.add(txnBatch(5n, 4, { seq: 2 })); // 104..107
  const abortAt = log.add(marker(5n, false)); // 108
  assert.equal(abortAt, 108n);
  assert.deepEqual([...index.ongoing], [[6n, 103n]]);
  assert.deepEqual(index.abortedIn(0n, 1000n), [
    { producerId: 5n, firstOffset: 101n, lastOffset: 108n },
  ]);
  assert.equal(index.lastStableOffset(log.end), 103n);
  // The same producer's next transaction starts after the marker; aborting it adds a range.
  log.add(txnBatch(5n, 1, { seq: 6 })); // 109
  log.add(marker(6n, false)); // 110
  log.add(marker(5n, false)); // 111
  assert.deepEqual(index.abortedIn(0n, 1000n), [
    { producerId: 5n, firstOffset: 101n, lastOffset: 108n },
    { producerId: 6n, firstOffset: 103n, lastOffset: 110n },
    { producerId: 5n, firstOffset: 109n, lastOffset: 111n },
  ]);
  assert.equal(index.ongoing.size, 0);
  assert.equal(index.lastStableOffset(log.end), 112n);
});

Deno.test("TransactionIndex: a marker with no open transaction records nothing", () => {
  const index = new TransactionIndex();
  const log = feeder(index);
  // The coordinator writes markers to every partition of the txn, even where nothing was written.
  log.add(marker(3n, false));
  log.add(marker(3n, true));
  assert.equal(index.ongoing.size, 0);
  assert.deepEqual(index.abortedIn(0n, 10n), []);
  assert.equal(index.lastStableOffset(log.end), 2n);
});

Deno.test("TransactionIndex: a control batch of another type is ignored", () => {
  const index = new TransactionIndex();
  const log = feeder(index);
  log.add(txnBatch(4n, 1)); // 0
  const key = new Uint8Array([0, 0, 0, 5]); // version 0, type 5 (not a transaction marker)
  const unknown = encodeRecordBatch([{ key, value: new Uint8Array(6) }], {
    timestamp: FIXTURE_TS,
    producerId: 4n,
    producerEpoch: 0,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
  log.add(unknown); // 1
  // The transaction is still open; nothing aborted.
  assert.deepEqual([...index.ongoing], [[4n, 0n]]);
  assert.deepEqual(index.abortedIn(0n, 10n), []);
  assert.equal(index.lastStableOffset(log.end), 0n);
});

Deno.test("TransactionIndex.abortedIn() returns ranges overlapping [from, to)", () => {
  const index = new TransactionIndex();
  const log = feeder(index, 10n);
  log.add(txnBatch(1n, 5)); // 10..14
  log.add(marker(1n, false)); // 15 → [10, 15]
  log.add(txnBatch(2n, 4)); // 16..19
  log.add(marker(2n, false)); // 20 → [16, 20]
  const a = { producerId: 1n, firstOffset: 10n, lastOffset: 15n };
  const b = { producerId: 2n, firstOffset: 16n, lastOffset: 20n };
  const cases: [bigint, bigint, (typeof a)[]][] = [
    [0n, 10n, []], // ends right before the first range (to is exclusive)
    [0n, 11n, [a]], // touches its first offset
    [12n, 13n, [a]], // inside
    [15n, 16n, [a]], // only the marker offset
    [16n, 17n, [b]],
    [15n, 17n, [a, b]],
    [0n, 100n, [a, b]],
    [20n, 21n, [b]],
    [21n, 100n, []], // after everything
  ];
  for (const [from, to, want] of cases) {
    assert.deepEqual(index.abortedIn(from, to), want, `[${from}, ${to})`);
  }
});

Deno.test("TransactionIndex.clear() forgets everything; replaying the batches rebuilds the same state", () => {
  const index = new TransactionIndex();
  const log = feeder(index);
  log.add(txnBatch(1n, 2)); // 0..1
  log.add(txnBatch(2n, 1)); // 2
  log.add(marker(1n, false)); // 3
  log.add(txnBatch(3n, 1)); // 4
  log.add(marker(3n, true)); // 5
  const ongoing = [...index.ongoing];
  const aborted = index.abortedIn(0n, 100n);
  assert.deepEqual(ongoing, [[2n, 2n]]);
  assert.deepEqual(aborted, [{ producerId: 1n, firstOffset: 0n, lastOffset: 3n }]);
  index.clear();
  assert.equal(index.ongoing.size, 0);
  assert.deepEqual(index.abortedIn(0n, 100n), []);
  assert.equal(index.lastStableOffset(6n), 6n);
  for (const { header, bytes } of log.stored) index.onBatch(header, bytes);
  assert.deepEqual([...index.ongoing], ongoing);
  assert.deepEqual(index.abortedIn(0n, 100n), aborted);
  assert.equal(index.lastStableOffset(6n), 2n);
});

Deno.test("TransactionIndex keeps at most 100000 aborted ranges, dropping the oldest", () => {
  const index = new TransactionIndex();
  const abort = marker(1n, false);
  const abortHeader = readBatchHeader(abort);
  const data = readBatchHeader(txnBatch(1n, 1));
  const count = 100_001;
  for (let i = 0; i < count; i++) {
    const base = BigInt(i * 2);
    index.onBatch({ ...data, baseOffset: base }, new Uint8Array(0));
    index.onBatch({ ...abortHeader, baseOffset: base + 1n }, abort);
  }
  const all = index.abortedIn(0n, BigInt(count * 2));
  assert.equal(all.length, 100_000);
  assert.equal(all[0].firstOffset, 2n, "the oldest range went first");
  assert.equal(all.at(-1)!.lastOffset, BigInt(count * 2 - 1));
});

Deno.test("Replica.rebuildProducerState() rebuilds the transaction index from the log", () => {
  const broker = fixtureBroker();
  const hosted = broker.leaderPartition("t", 0);
  const replica = hosted.replica;
  for (
    const bytes of [
      txnBatch(1n, 2), // 0..1
      fixtureBatch("p", 1), // 2
      txnBatch(2n, 1), // 3
      marker(1n, false), // 4
      txnBatch(3n, 1), // 5
    ]
  ) {
    replica.appendAsLeader(bytes, readBatchHeader(bytes));
  }
  const ongoing = [...replica.txns.ongoing];
  const aborted = replica.txns.abortedIn(0n, 100n);
  assert.deepEqual(ongoing, [[2n, 3n], [3n, 5n]]);
  assert.deepEqual(aborted, [{ producerId: 1n, firstOffset: 0n, lastOffset: 4n }]);
  assert.equal(replica.highWatermark, 6n);
  assert.equal(replica.lastStableOffset(), 3n);
  replica.rebuildProducerState();
  assert.deepEqual([...replica.txns.ongoing], ongoing);
  assert.deepEqual(replica.txns.abortedIn(0n, 100n), aborted);
  assert.equal(replica.lastStableOffset(), 3n);
  // A new leader epoch (leadership re-taken) rebuilds it the same way.
  const topics = fixtureTopics();
  topics[0].partitions[0] = { ...topics[0].partitions[0], leaderEpoch: 5 };
  broker.applySnapshot(fixtureSnapshot(2, topics));
  const again = broker.leaderPartition("t", 0).replica;
  assert.deepEqual([...again.txns.ongoing], ongoing);
  assert.deepEqual(again.txns.abortedIn(0n, 100n), aborted);
});
