/**
 * Tests for reading transactional data (KIP-98) from an in-process broker:
 * `read_committed` fetches (isolationLevel 1) stop at the last stable offset
 * and report aborted transactions, `read_uncommitted` ones read to the high
 * watermark, and ListOffsets latest follows the isolation level.
 * @module
 */
import assert from "node:assert/strict";
import {
  encodeRecordBatch,
  type FetchRequest,
  type FetchResponse,
  readBatchHeader,
  readControlRecordType,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import {
  fetchRequest,
  FIXTURE_TS,
  fixtureBatch,
  fixtureBroker,
  followerFetchRequest,
  produceRequest,
  replicatedBroker,
  within,
} from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { handleFetch } from "./fetch.ts";
import { handleListOffsets, LATEST_TIMESTAMP } from "./list_offsets.ts";
import { handleProduce } from "./produce.ts";
import { handleWriteTxnMarkers } from "./write_txn_markers.ts";
import { TransactionIndex } from "../replication/txn_index.ts";

const ENCODER = new TextEncoder();

// Brokers use Date.now as main.ts does: markers are stamped with the broker's clock, and a
// record timestamp must be whole milliseconds (the fixture's performance.now() is not).

/** A transactional batch of `count` records of `producerId`. */
function txnBatch(
  producerId: bigint,
  options: { seq?: number; count?: number; timestamp?: number } = {},
): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: options.count ?? 1 }, (_, i) => ({ value: ENCODER.encode(`v${i}`) })),
    {
      timestamp: options.timestamp ?? FIXTURE_TS,
      producerId,
      producerEpoch: 0,
      baseSequence: options.seq ?? 0,
      transactional: true,
    },
  );
}

async function produce(broker: Broker, topic: string, records: Uint8Array): Promise<bigint> {
  const response = await handleProduce(broker, produceRequest(topic, 0, records, 1));
  assert.ok(response);
  const p = response.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, 0);
  return p.baseOffset;
}

async function endTxn(broker: Broker, topic: string, producerId: bigint, commit: boolean) {
  const response = await handleWriteTxnMarkers(broker, {
    markers: [{
      producerId,
      producerEpoch: 0,
      transactionResult: commit,
      topics: [{ name: topic, partitionIndexes: [0] }],
      coordinatorEpoch: 0,
    }],
  });
  assert.equal(response.markers[0].topics[0].partitions[0].errorCode, 0);
}

/** A consumer Fetch of partition 0 with the isolation level given. */
function isolatedFetch(
  topic: string,
  fetchOffset: bigint,
  isolationLevel: number,
  options: { maxWaitMs?: number } = {},
): FetchRequest {
  return { ...fetchRequest(topic, 0, fetchOffset, options), isolationLevel };
}

function onlyPartition(response: FetchResponse) {
  assert.equal(response.responses.length, 1);
  assert.equal(response.responses[0].partitions.length, 1);
  return response.responses[0].partitions[0];
}

/** [baseOffset, lastOffset] of every batch returned. */
function batchRanges(records: Uint8Array | null): [bigint, bigint][] {
  if (records === null) return [];
  return splitBatches(records).map(({ header }) => [
    header.baseOffset,
    header.baseOffset + BigInt(header.lastOffsetDelta),
  ]);
}

function latest(broker: Broker, topic: string, isolationLevel: number): bigint {
  const response = handleListOffsets(broker, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: LATEST_TIMESTAMP }] }],
  });
  const p = response.topics[0].partitions[0];
  assert.equal(p.errorCode, 0);
  return p.offset;
}

/** t-0: plain 0..1, producer 7's transaction 2..4, plain 5; HW 6, transaction open. */
async function openTxnBroker(): Promise<Broker> {
  const broker = fixtureBroker({ now: Date.now });
  await produce(broker, "t", fixtureBatch("a", 2));
  await produce(broker, "t", txnBatch(7n, { count: 3 }));
  await produce(broker, "t", fixtureBatch("b", 1));
  return broker;
}

Deno.test("read_committed fetch stops at the LSO while a transaction is open", async () => {
  const broker = await openTxnBroker();
  const p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.errorCode, 0);
  assert.equal(p.highWatermark, 6n);
  assert.equal(p.lastStableOffset, 2n);
  assert.deepEqual(batchRanges(p.records), [[0n, 1n]]);
  assert.deepEqual(p.abortedTransactions, []);
  // From the LSO itself: nothing yet, and no error.
  const atLso = onlyPartition(await handleFetch(broker, isolatedFetch("t", 2n, 1)));
  assert.equal(atLso.errorCode, 0);
  assert.deepEqual(batchRanges(atLso.records), []);
  // Past the LSO but below the HW: still nothing (the plain batch waits behind the txn).
  const past = onlyPartition(await handleFetch(broker, isolatedFetch("t", 5n, 1)));
  assert.equal(past.errorCode, 0);
  assert.deepEqual(batchRanges(past.records), []);
  assert.equal(past.lastStableOffset, 2n);
});

Deno.test("read_uncommitted fetch reads to the HW with abortedTransactions null", async () => {
  const broker = await openTxnBroker();
  const p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 0)));
  assert.equal(p.errorCode, 0);
  assert.equal(p.highWatermark, 6n);
  assert.equal(p.lastStableOffset, 2n);
  assert.deepEqual(batchRanges(p.records), [[0n, 1n], [2n, 4n], [5n, 5n]]);
  assert.equal(p.abortedTransactions, null);
  await endTxn(broker, "t", 7n, false);
  const after = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 0)));
  assert.equal(after.abortedTransactions, null, "even with an aborted transaction in range");
  assert.deepEqual(batchRanges(after.records), [[0n, 1n], [2n, 4n], [5n, 5n], [6n, 6n]]);
});

Deno.test("after a COMMIT marker read_committed reads everything, the marker included", async () => {
  const broker = await openTxnBroker();
  await endTxn(broker, "t", 7n, true);
  const p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.highWatermark, 7n);
  assert.equal(p.lastStableOffset, 7n);
  assert.deepEqual(batchRanges(p.records), [[0n, 1n], [2n, 4n], [5n, 5n], [6n, 6n]]);
  assert.deepEqual(p.abortedTransactions, []);
  const batches = splitBatches(p.records!);
  assert.equal(readControlRecordType(batches[3].bytes), "commit");
});

Deno.test("after an ABORT marker read_committed gets the aborted transaction in abortedTransactions", async () => {
  const broker = await openTxnBroker();
  await endTxn(broker, "t", 7n, false);
  const p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.lastStableOffset, 7n);
  assert.deepEqual(batchRanges(p.records), [[0n, 1n], [2n, 4n], [5n, 5n], [6n, 6n]]);
  assert.deepEqual(p.abortedTransactions, [{ producerId: 7n, firstOffset: 2n }]);
  const batches = splitBatches(p.records!);
  assert.equal(readControlRecordType(batches[3].bytes), "abort");
  // From inside the aborted range it is still reported; from after the marker it is not.
  const inside = onlyPartition(await handleFetch(broker, isolatedFetch("t", 3n, 1)));
  assert.deepEqual(inside.abortedTransactions, [{ producerId: 7n, firstOffset: 2n }]);
  const after = onlyPartition(await handleFetch(broker, isolatedFetch("t", 7n, 1)));
  assert.deepEqual(after.abortedTransactions, []);
  // A read cut short by the byte limit still ends at a batch boundary below the LSO.
  const before = onlyPartition(
    await handleFetch(broker, {
      ...isolatedFetch("t", 0n, 1),
      topics: [{
        topic: "t",
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 }],
      }],
    }),
  );
  assert.deepEqual(batchRanges(before.records), [[0n, 1n]]);
  assert.equal(before.lastStableOffset, 7n);
});

Deno.test("read_committed with two transactions: the LSO follows the oldest open one", async () => {
  const broker = fixtureBroker({ now: Date.now });
  await produce(broker, "t", txnBatch(1n)); // 0
  await produce(broker, "t", txnBatch(2n)); // 1
  await produce(broker, "t", txnBatch(1n, { seq: 1 })); // 2
  let p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.lastStableOffset, 0n);
  assert.deepEqual(batchRanges(p.records), []);
  // Producer 2 commits first: producer 1 (from 0) still holds the LSO.
  await endTxn(broker, "t", 2n, true); // 3
  p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.lastStableOffset, 0n);
  // Producer 1 aborts: everything is stable; its range [0, 4] is reported, producer 2's is not.
  await endTxn(broker, "t", 1n, false); // 4
  p = onlyPartition(await handleFetch(broker, isolatedFetch("t", 0n, 1)));
  assert.equal(p.lastStableOffset, 5n);
  assert.deepEqual(p.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
  assert.equal(batchRanges(p.records).length, 5);
});

Deno.test("a parked read_committed fetch wakes when a marker moves the LSO", async () => {
  const broker = await openTxnBroker();
  const parked = handleFetch(broker, isolatedFetch("t", 2n, 1, { maxWaitMs: 5_000 }));
  assert.equal(await within(parked, 50), "pending", "nothing stable past offset 2 yet");
  await endTxn(broker, "t", 7n, true);
  const p = onlyPartition(await parked);
  assert.equal(p.lastStableOffset, 7n);
  assert.deepEqual(batchRanges(p.records), [[2n, 4n], [5n, 5n], [6n, 6n]]);
});

Deno.test("ListOffsets latest is the LSO for isolationLevel 1 and the HW for 0", async () => {
  const broker = await openTxnBroker();
  assert.equal(latest(broker, "t", 1), 2n);
  assert.equal(latest(broker, "t", 0), 6n);
  await endTxn(broker, "t", 7n, true);
  assert.equal(latest(broker, "t", 1), 7n);
  assert.equal(latest(broker, "t", 0), 7n);
  // A new transaction holds it back again.
  await produce(broker, "t", txnBatch(8n));
  assert.equal(latest(broker, "t", 1), 7n);
  assert.equal(latest(broker, "t", 0), 8n);
  await endTxn(broker, "t", 8n, false);
  assert.equal(latest(broker, "t", 1), 9n);
});

Deno.test("with a follower in the ISR the LSO never passes the HW; followers ignore isolation", async () => {
  const broker = replicatedBroker({ now: Date.now });
  const replica = broker.leaderPartition("r", 0).replica;
  await produce(broker, "r", fixtureBatch("a", 2)); // 0..1
  await produce(broker, "r", txnBatch(3n)); // 2
  // Nothing is on the follower yet: HW 0, so the LSO is 0 although the txn starts at 2.
  assert.equal(replica.highWatermark, 0n);
  assert.equal(replica.lastStableOffset(), 0n);
  assert.equal(latest(broker, "r", 1), 0n);
  // A follower reads to the log end whatever isolation level it sends.
  const follower = onlyPartition(
    await handleFetch(broker, { ...followerFetchRequest("r", 0, 0n, 1), isolationLevel: 1 }),
  );
  assert.deepEqual(batchRanges(follower.records), [[0n, 1n], [2n, 2n]]);
  assert.equal(follower.abortedTransactions, null);
  // The follower has it all now: HW 3, the LSO stops at the open transaction.
  await handleFetch(broker, followerFetchRequest("r", 0, 3n, 1));
  assert.equal(replica.highWatermark, 3n);
  assert.equal(replica.lastStableOffset(), 2n);
  const consumer = onlyPartition(await handleFetch(broker, isolatedFetch("r", 0n, 1)));
  assert.deepEqual(batchRanges(consumer.records), [[0n, 1n]]);
  assert.equal(consumer.lastStableOffset, 2n);
  assert.equal(consumer.highWatermark, 3n);
});

Deno.test("the follower's copy of the log yields the same transaction index", async () => {
  const broker = await openTxnBroker();
  await endTxn(broker, "t", 7n, false);
  await produce(broker, "t", txnBatch(9n)); // 7, open
  const leader = broker.leaderPartition("t", 0).replica;
  // What a follower fetches is what its TransactionIndex is fed (fetcher.ts): same result.
  const fetched = onlyPartition(await handleFetch(broker, followerFetchRequest("t", 0, 0n, 1)));
  const copy = new TransactionIndex();
  for (const { header, bytes } of splitBatches(fetched.records!)) copy.onBatch(header, bytes);
  assert.deepEqual([...copy.ongoing], [...leader.txns.ongoing]);
  assert.deepEqual(copy.abortedIn(0n, 100n), leader.txns.abortedIn(0n, 100n));
  assert.equal(copy.lastStableOffset(8n), leader.lastStableOffset());
  assert.equal(readBatchHeader(fetched.records!).baseOffset, 0n);
});

// BUG (minor): broker/handlers/list_offsets.ts:42 bounds a ListOffsets-by-timestamp answer by the
// high watermark for every isolation level. Kafka (Partition.fetchOffsetForTimestamp) bounds it by
// the last stable offset for read_committed, so a read_committed consumer is never pointed inside
// a transaction that is still open. Fix: use `request.isolationLevel === 1 ?
// hosted.replica.lastStableOffset() : hw` as the bound (as the LATEST branch does).
Deno.test({
  name: "ListOffsets by timestamp with isolationLevel 1 does not point past the LSO",

  fn: async () => {
    const broker = fixtureBroker({ now: Date.now });
    await produce(broker, "t", fixtureBatch("a", 1)); // 0 at FIXTURE_TS
    await produce(broker, "t", txnBatch(7n, { timestamp: FIXTURE_TS + 1_000 })); // 1, open
    const response = handleListOffsets(broker, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{
        name: "t",
        partitions: [{ partitionIndex: 0, timestamp: BigInt(FIXTURE_TS + 1_000) }],
      }],
    });
    const p = response.topics[0].partitions[0];
    assert.equal(p.errorCode, 0);
    assert.equal(p.offset, -1n, "offset 1 is in an open transaction (LSO 1)");
  },
});
