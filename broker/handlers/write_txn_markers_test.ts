/**
 * Tests for the WriteTxnMarkers handler against an in-process broker:
 * COMMIT and ABORT control batches appended after transactional produces,
 * the last stable offset before and after, per-partition errors, and the
 * wait for the in-sync replicas.
 * @module
 */
import assert from "node:assert/strict";
import {
  CONTROL_BATCH_ATTRIBUTES,
  decodeControlBatch,
  encodeRecordBatch,
  ERRORS,
  isControlBatch,
  isTransactionalBatch,
  readBatchHeader,
  readControlRecordType,
  splitBatches,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from "@kafka-analog/lib/protocol";
import {
  FIXTURE_TS,
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  followerFetchRequest,
  produceRequest,
  replicatedBroker,
  replicatedTopic,
  within,
} from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { handleFetch } from "./fetch.ts";
import { handleProduce } from "./produce.ts";
import { handleWriteTxnMarkers } from "./write_txn_markers.ts";

const ENCODER = new TextEncoder();

// The brokers below use Date.now as main.ts does: a marker's timestamp is the broker's clock,
// and a record timestamp must be a whole number of ms (the fixture's performance.now() is not).

/** A transactional batch of `count` records of `producerId`. */
function txnBatch(
  producerId: bigint,
  options: { epoch?: number; seq?: number; count?: number; label?: string } = {},
): Uint8Array {
  const count = options.count ?? 1;
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      value: ENCODER.encode(`${options.label ?? "txn"}-${i}`),
    })),
    {
      timestamp: FIXTURE_TS,
      producerId,
      producerEpoch: options.epoch ?? 0,
      baseSequence: options.seq ?? 0,
      transactional: true,
    },
  );
}

/** Produces `records` to `topic`-`partition` with acks=1; fails the test on an error. */
async function produce(broker: Broker, topic: string, partition: number, records: Uint8Array) {
  const response = await handleProduce(broker, produceRequest(topic, partition, records, 1));
  assert.ok(response);
  const p = response.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, 0, `produce to ${topic}-${partition}`);
  return p.baseOffset;
}

/** A WriteTxnMarkers request with one marker. */
function markersRequest(
  producerId: bigint,
  commit: boolean,
  topics: { name: string; partitionIndexes: number[] }[],
  options: { epoch?: number; coordinatorEpoch?: number } = {},
): WriteTxnMarkersRequest {
  return {
    markers: [{
      producerId,
      producerEpoch: options.epoch ?? 0,
      transactionResult: commit,
      topics,
      coordinatorEpoch: options.coordinatorEpoch ?? 0,
    }],
  };
}

/** Error codes of a response as "topic-partition" → code. */
function codes(response: WriteTxnMarkersResponse): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of response.markers) {
    for (const t of m.topics) {
      for (const p of t.partitions) {
        out[`${m.producerId}:${t.name}-${p.partitionIndex}`] = p.errorCode;
      }
    }
  }
  return out;
}

/** The batches stored in `topic`-`partition`, read up to its log end. */
function storedBatches(broker: Broker, topic: string, partition: number) {
  const log = broker.leaderPartition(topic, partition).log;
  const read = log.read(log.logStartOffset, 1 << 20);
  return read.batches.map((bytes) => ({ header: readBatchHeader(bytes), bytes }));
}

Deno.test("handleWriteTxnMarkers() appends a valid COMMIT control batch and moves the LSO to the HW", async () => {
  const broker = fixtureBroker({ now: Date.now });
  const hosted = broker.leaderPartition("t", 0);
  await produce(broker, "t", 0, fixtureBatch("plain", 2)); // 0..1
  assert.equal(await produce(broker, "t", 0, txnBatch(7n, { epoch: 3, count: 3 })), 2n); // 2..4
  assert.equal(hosted.replica.highWatermark, 5n);
  assert.equal(hosted.replica.lastStableOffset(), 2n);
  const response = await handleWriteTxnMarkers(
    broker,
    markersRequest(7n, true, [{ name: "t", partitionIndexes: [0] }], {
      epoch: 3,
      coordinatorEpoch: 11,
    }),
  );
  assert.deepEqual(response, {
    markers: [{
      producerId: 7n,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    }],
  });
  // The marker is on the ISR (just broker 0 here): HW and LSO are past it.
  assert.equal(hosted.log.logEndOffset, 6n);
  assert.equal(hosted.replica.highWatermark, 6n);
  assert.equal(hosted.replica.lastStableOffset(), 6n);
  assert.equal(hosted.replica.txns.ongoing.size, 0);
  assert.deepEqual(hosted.replica.txns.abortedIn(0n, 6n), []);
  // The stored batch is a well-formed marker with the leader's offset and epoch.
  const stored = storedBatches(broker, "t", 0).at(-1)!;
  assert.equal(stored.header.baseOffset, 5n);
  assert.equal(stored.header.partitionLeaderEpoch, 4);
  assert.equal(stored.header.producerId, 7n);
  assert.equal(stored.header.producerEpoch, 3);
  assert.equal(stored.header.baseSequence, -1);
  assert.equal(stored.header.recordCount, 1);
  assert.equal(stored.header.attributes & CONTROL_BATCH_ATTRIBUTES, CONTROL_BATCH_ATTRIBUTES);
  assert.ok(isControlBatch(stored.header) && isTransactionalBatch(stored.header));
  assert.equal(readControlRecordType(stored.bytes), "commit");
  const decoded = decodeControlBatch(stored.bytes);
  assert.equal(decoded.coordinatorEpoch, 11);
  // Its CRC is valid after the leader patched offset and epoch.
  assert.equal(splitBatches(stored.bytes, { verifyCrc: true }).length, 1);
});

Deno.test("handleWriteTxnMarkers() with ABORT records the aborted range [first, marker]", async () => {
  const broker = fixtureBroker({ now: Date.now });
  const replica = broker.leaderPartition("t", 0).replica;
  await produce(broker, "t", 0, txnBatch(7n, { count: 2 })); // 0..1
  await produce(broker, "t", 0, fixtureBatch("plain", 1)); // 2
  await produce(broker, "t", 0, txnBatch(7n, { seq: 2, count: 2 })); // 3..4
  assert.equal(replica.lastStableOffset(), 0n);
  const response = await handleWriteTxnMarkers(
    broker,
    markersRequest(7n, false, [{ name: "t", partitionIndexes: [0] }]),
  );
  assert.deepEqual(codes(response), { "7:t-0": 0 });
  assert.equal(replica.lastStableOffset(), 6n);
  assert.deepEqual(replica.txns.abortedIn(0n, 6n), [
    { producerId: 7n, firstOffset: 0n, lastOffset: 5n },
  ]);
  const stored = storedBatches(broker, "t", 0).at(-1)!;
  assert.equal(stored.header.baseOffset, 5n);
  assert.equal(readControlRecordType(stored.bytes), "abort");
});

Deno.test("handleWriteTxnMarkers() handles several producers and partitions in one request", async () => {
  const broker = fixtureBroker({ now: Date.now });
  await produce(broker, "t", 0, txnBatch(1n)); // t-0: 0
  await produce(broker, "t", 0, txnBatch(2n)); // t-0: 1
  await produce(broker, "t", 2, txnBatch(1n)); // t-2: 0
  const t0 = broker.leaderPartition("t", 0).replica;
  const t2 = broker.leaderPartition("t", 2).replica;
  assert.equal(t0.lastStableOffset(), 0n);
  assert.equal(t2.lastStableOffset(), 0n);
  const response = await handleWriteTxnMarkers(broker, {
    markers: [
      ...markersRequest(1n, true, [{ name: "t", partitionIndexes: [0, 2] }]).markers,
      ...markersRequest(2n, false, [{ name: "t", partitionIndexes: [0] }]).markers,
    ],
  });
  assert.deepEqual(codes(response), { "1:t-0": 0, "1:t-2": 0, "2:t-0": 0 });
  assert.equal(t2.lastStableOffset(), 2n);
  assert.equal(t0.lastStableOffset(), t0.highWatermark);
  assert.equal(t0.highWatermark, 4n);
  // Producer 2's abort covers offset 1 and its marker (2 or 3, whichever was appended later).
  const aborted = t0.txns.abortedIn(0n, 4n);
  assert.equal(aborted.length, 1);
  assert.equal(aborted[0].producerId, 2n);
  assert.equal(aborted[0].firstOffset, 1n);
  const types = storedBatches(broker, "t", 0).slice(2).map((b) => ({
    producerId: b.header.producerId,
    type: readControlRecordType(b.bytes),
  }));
  assert.deepEqual(
    types.sort((a, b) => Number(a.producerId - b.producerId)),
    [{ producerId: 1n, type: "commit" }, { producerId: 2n, type: "abort" }],
  );
  const abortMarkerOffset = 2n + BigInt(types.findIndex((t) => t.producerId === 2n));
  assert.equal(aborted[0].lastOffset, abortMarkerOffset);
});

Deno.test("handleWriteTxnMarkers() answers per partition: not leader, not hosted, unknown", async () => {
  const broker = fixtureBroker({ now: Date.now });
  await produce(broker, "t", 0, txnBatch(5n));
  const response = await handleWriteTxnMarkers(
    broker,
    markersRequest(5n, true, [
      { name: "t", partitionIndexes: [1, 0, 9] },
      { name: "elsewhere", partitionIndexes: [0] },
      { name: "ghost", partitionIndexes: [0] },
    ]),
  );
  assert.deepEqual(codes(response), {
    "5:t-1": ERRORS.NOT_LEADER_OR_FOLLOWER.code, // led by broker 1
    "5:t-0": 0,
    "5:t-9": ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
    "5:elsewhere-0": ERRORS.NOT_LEADER_OR_FOLLOWER.code, // not hosted here
    "5:ghost-0": ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
  });
  // The partition this broker leads got its marker all the same.
  assert.equal(readControlRecordType(storedBatches(broker, "t", 0).at(-1)!.bytes), "commit");
  assert.equal(broker.leaderPartition("t", 0).replica.lastStableOffset(), 2n);
  // Nothing was written where the broker is a follower.
  const follower = broker.hostedPartition("t", 1);
  assert.equal(follower.log.logEndOffset, 0n);
});

Deno.test("handleWriteTxnMarkers() on a partition this broker no longer leads is NOT_LEADER_OR_FOLLOWER", async () => {
  const broker = fixtureBroker({ now: Date.now });
  await produce(broker, "t", 0, txnBatch(5n));
  const topics = fixtureTopics();
  topics[0].partitions[0] = { ...topics[0].partitions[0], leader: 1, leaderEpoch: 5 };
  broker.applySnapshot(fixtureSnapshot(2, topics));
  const response = await handleWriteTxnMarkers(
    broker,
    markersRequest(5n, true, [{ name: "t", partitionIndexes: [0] }]),
  );
  assert.deepEqual(codes(response), { "5:t-0": ERRORS.NOT_LEADER_OR_FOLLOWER.code });
  assert.equal(broker.hostedPartition("t", 0).log.logEndOffset, 1n);
});

Deno.test("handleWriteTxnMarkers() answers only once the marker is on every in-sync replica", async () => {
  const broker = replicatedBroker({ now: Date.now });
  const replica = broker.leaderPartition("r", 0).replica;
  await produce(broker, "r", 0, txnBatch(9n, { count: 2 })); // 0..1
  // Follower 1 catches up to the data: HW 2, the transaction is open so the LSO is 0.
  await handleFetch(broker, followerFetchRequest("r", 0, 2n, 1));
  assert.equal(replica.highWatermark, 2n);
  assert.equal(replica.lastStableOffset(), 0n);
  const pending = handleWriteTxnMarkers(
    broker,
    markersRequest(9n, true, [{ name: "r", partitionIndexes: [0] }]),
  );
  assert.equal(await within(pending, 50), "pending");
  // The marker is in the leader's log but not committed: the LSO waits for the HW.
  assert.equal(replica.log.logEndOffset, 3n);
  assert.equal(replica.lastStableOffset(), 2n);
  await handleFetch(broker, followerFetchRequest("r", 0, 3n, 1));
  assert.deepEqual(codes(await pending), { "9:r-0": 0 });
  assert.equal(replica.highWatermark, 3n);
  assert.equal(replica.lastStableOffset(), 3n);
});

Deno.test("handleWriteTxnMarkers() fails a marker waiting for the ISR when leadership moves", async () => {
  const broker = replicatedBroker({ now: Date.now });
  await produce(broker, "r", 0, txnBatch(9n));
  const pending = handleWriteTxnMarkers(
    broker,
    markersRequest(9n, false, [{ name: "r", partitionIndexes: [0] }]),
  );
  assert.equal(await within(pending, 20), "pending");
  broker.applySnapshot(
    fixtureSnapshot(3, [
      ...fixtureTopics(),
      {
        ...replicatedTopic(),
        partitions: [{ partition: 0, leader: 1, leaderEpoch: 5, replicas: [0, 1], isr: [1] }],
      },
    ]),
  );
  assert.deepEqual(codes(await pending), { "9:r-0": ERRORS.NOT_LEADER_OR_FOLLOWER.code });
});

Deno.test("the producer's sequence continues after a marker; the next transaction opens a new range", async () => {
  const broker = fixtureBroker({ now: Date.now });
  const replica = broker.leaderPartition("t", 0).replica;
  await produce(broker, "t", 0, txnBatch(4n, { count: 2 })); // 0..1, seq 0..1
  await handleWriteTxnMarkers(
    broker,
    markersRequest(4n, true, [{ name: "t", partitionIndexes: [0] }]),
  );
  // Markers are not sequenced: the next batch goes on at sequence 2.
  assert.equal(await produce(broker, "t", 0, txnBatch(4n, { seq: 2 })), 3n);
  assert.deepEqual([...replica.txns.ongoing], [[4n, 3n]]);
  assert.equal(replica.lastStableOffset(), 3n);
  // A retry of that batch is a duplicate: answered with its offset, nothing appended.
  assert.equal(await produce(broker, "t", 0, txnBatch(4n, { seq: 2 })), 3n);
  assert.equal(replica.log.logEndOffset, 4n);
  await handleWriteTxnMarkers(
    broker,
    markersRequest(4n, false, [{ name: "t", partitionIndexes: [0] }]),
  );
  assert.deepEqual(replica.txns.abortedIn(0n, 10n), [
    { producerId: 4n, firstOffset: 3n, lastOffset: 4n },
  ]);
  assert.equal(replica.lastStableOffset(), 5n);
});

// Was a bug (fixed): a marker does not raise the producer's epoch on the partition. broker/handlers/
// write_txn_markers.ts:36 appends the control batch through Replica.appendAsLeader but never
// tells hosted.replica.producers, and ProducerStateTable.record (broker/producer_state.ts,
// isIdempotent) skips control batches anyway. So after the coordinator fences producer 7 epoch 0
// by writing an ABORT marker with epoch 1, a zombie still at epoch 0 can append more
// transactional data: the partition accepts it, TransactionIndex opens a new transaction for
// producer 7 that no coordinator will ever end, and the last stable offset is stuck there for good
// (read_committed consumers stall). Kafka updates the producer's epoch on every marker
// (ProducerStateManager / ProducerAppendInfo.appendEndTxnMarker) and rejects older epochs with
// INVALID_PRODUCER_EPOCH (PRODUCER_FENCED for v8+). Fix: after appending a marker, record its
// epoch in the ProducerStateTable (a new method, e.g. `producers.recordMarker(header)`, that sets
// producerEpoch = max(current, marker epoch) and clears the cached batches when it grows), do the
// same in rebuildFrom for control batches, and refuse a marker whose epoch is below the current one.
Deno.test({
  name: "after a fencing ABORT marker the old epoch cannot write to the partition",

  fn: async () => {
    const broker = fixtureBroker({ now: Date.now });
    const replica = broker.leaderPartition("t", 0).replica;
    await produce(broker, "t", 0, txnBatch(7n, { epoch: 0, seq: 0 }));
    // The coordinator fenced epoch 0 and aborted its transaction under epoch 1.
    const response = await handleWriteTxnMarkers(
      broker,
      markersRequest(7n, false, [{ name: "t", partitionIndexes: [0] }], { epoch: 1 }),
    );
    assert.deepEqual(codes(response), { "7:t-0": 0 });
    assert.equal(replica.lastStableOffset(), 2n);
    // The zombie (epoch 0) sends its next batch.
    const zombie = await handleProduce(
      broker,
      produceRequest("t", 0, txnBatch(7n, { epoch: 0, seq: 1 }), 1),
    );
    assert.ok(zombie);
    assert.equal(
      zombie.responses[0].partitionResponses[0].errorCode,
      ERRORS.INVALID_PRODUCER_EPOCH.code,
    );
    assert.equal(replica.log.logEndOffset, 2n);
    assert.equal(replica.lastStableOffset(), 2n);
  },
});
