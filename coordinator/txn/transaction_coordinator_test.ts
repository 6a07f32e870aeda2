/**
 * Tests for the transaction coordinator (KIP-98) with an injected clock,
 * fake marker writes and an in-memory journal: state transitions, fencing,
 * error codes, timeouts, retries of unwritten markers and journal replay.
 * The last tests run it inside a {@linkcode Coordinator} (MemoryJournal,
 * fake broker connections) to check marker requests and applied offsets.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import type { KafkaConnection } from "@kafka-analog/lib/net";
import {
  ApiKey,
  type CreatableTopic,
  ERRORS,
  type WriteTxnMarkersRequest,
} from "@kafka-analog/lib/protocol";
import { type ProducerIdEvent, ProducerIdManager } from "../producer_ids.ts";
import { Coordinator, type CoordinatorSettings } from "../coordinator.ts";
import { MemoryJournal, MetadataStore } from "../metadata/store.ts";
import {
  type PendingOffset,
  TransactionCoordinator,
  type TxnStateEvent,
} from "./transaction_coordinator.ts";

/** One writeMarkers call as the coordinator made it. */
interface MarkerCall {
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  partitions: { topic: string; partition: number }[];
}

interface HarnessOptions {
  events?: TxnStateEvent[];
  producerIdEvents?: ProducerIdEvent[];
  transactionTimeoutMaxMs?: number;
}

/** A coordinator whose journal, marker writes and applied offsets are recorded. */
function harness(options: HarnessOptions = {}) {
  let clock = 1_000_000;
  const events: TxnStateEvent[] = [];
  const producerIdEvents: ProducerIdEvent[] = [...(options.producerIdEvents ?? [])];
  const markerCalls: MarkerCall[] = [];
  const applied: PendingOffset[][] = [];
  const state = { markersOk: true };
  const existing = new Set(["t/0", "t/1", "u/0"]);
  const producerIds = new ProducerIdManager({
    persist: (e) => producerIdEvents.push(structuredClone(e)),
    events: options.producerIdEvents,
  });
  const tc = new TransactionCoordinator({
    producerIds,
    now: () => clock,
    persist: (e) => events.push(structuredClone(e)),
    events: options.events,
    writeMarkers: (txn) => {
      markerCalls.push(structuredClone(txn));
      return Promise.resolve(state.markersOk);
    },
    applyOffsets: (offsets) => applied.push(structuredClone(offsets)),
    partitionExists: (topic, partition) => existing.has(`${topic}/${partition}`),
    transactionTimeoutMaxMs: options.transactionTimeoutMaxMs,
  });
  return {
    tc,
    events,
    producerIdEvents,
    markerCalls,
    applied,
    state,
    advance(ms: number) {
      clock += ms;
    },
  };
}

/** Lets completions started by tick() (not awaited) finish. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const T0 = { topic: "t", partition: 0 };
const T1 = { topic: "t", partition: 1 };
const U0 = { topic: "u", partition: 0 };

Deno.test("initProducerId() starts a transactional id Empty at epoch 0 and journals it", async () => {
  const { tc, events } = harness();
  const { producerId, producerEpoch } = await tc.initProducerId("tx", 60_000);
  assert.equal(producerEpoch, 0);
  const txn = tc.get("tx");
  assert.ok(txn);
  assert.equal(txn.state, "Empty");
  assert.equal(txn.producerId, producerId);
  assert.equal(txn.timeoutMs, 60_000);
  assert.deepEqual(events, [{
    type: "txn_state",
    transactionalId: "tx",
    producerId: producerId.toString(),
    producerEpoch: 0,
    state: "Empty",
    timeoutMs: 60_000,
    partitions: [],
    groups: [],
    pendingOffsets: [],
  }]);
  assert.equal(tc.get("other"), undefined);
});

Deno.test("commit path: Empty → Ongoing → PrepareCommit → CompleteCommit with COMMIT markers", async () => {
  const { tc, events, markerCalls, applied } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T0, T1]), [
    { ...T0, errorCode: 0 },
    { ...T1, errorCode: 0 },
  ]);
  assert.equal(tc.get("tx")!.state, "Ongoing");
  // Adding a partition again (and a new one) keeps the transaction open.
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T0, U0]), [
    { ...T0, errorCode: 0 },
    { ...U0, errorCode: 0 },
  ]);
  assert.deepEqual([...tc.get("tx")!.partitions].sort(), ["t/0", "t/1", "u/0"]);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.equal(markerCalls.length, 1);
  const call = markerCalls[0];
  assert.equal(call.producerId, pid);
  assert.equal(call.producerEpoch, epoch);
  assert.equal(call.commit, true);
  assert.deepEqual(
    call.partitions.map((p) => `${p.topic}/${p.partition}`).sort(),
    ["t/0", "t/1", "u/0"],
  );
  // No offsets were sent: nothing applied.
  assert.deepEqual(applied, []);
  // Every transition was journaled, in order, and the finished one is cleared.
  assert.deepEqual(
    events.map((e) => e.state),
    ["Empty", "Ongoing", "Ongoing", "PrepareCommit", "CompleteCommit"],
  );
  assert.deepEqual(events.at(-2)!.partitions.sort(), ["t/0", "t/1", "u/0"]);
  assert.deepEqual(events.at(-1)!.partitions, []);
  const txn = tc.get("tx")!;
  assert.equal(txn.partitions.size, 0);
  assert.equal(txn.groups.size, 0);
  // The next transaction of the same producer starts from Empty again.
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T1]), [{ ...T1, errorCode: 0 }]);
  assert.equal(tc.get("tx")!.state, "Ongoing");
  assert.deepEqual([...tc.get("tx")!.partitions], ["t/1"]);
});

Deno.test("abort path: Ongoing → PrepareAbort → CompleteAbort with ABORT markers", async () => {
  const { tc, events, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
  assert.deepEqual(markerCalls, [{
    producerId: pid,
    producerEpoch: epoch,
    commit: false,
    partitions: [T0],
  }]);
  assert.deepEqual(events.map((e) => e.state), [
    "Empty",
    "Ongoing",
    "PrepareAbort",
    "CompleteAbort",
  ]);
  // The epoch is unchanged by a plain abort: the same producer goes on.
  assert.equal(tc.get("tx")!.producerEpoch, epoch);
  assert.equal(tc.addOffsets("tx", pid, epoch, "g"), 0);
  assert.equal(tc.get("tx")!.state, "Ongoing");
});

Deno.test("endTxn() on an Empty transaction is a no-op answered 0 (commit or abort)", async () => {
  const { tc, events, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "Empty");
  assert.deepEqual(markerCalls, []);
  assert.equal(events.length, 1);
});

Deno.test("a retried EndTxn after completion answers 0; the opposite outcome is INVALID_TXN_STATE", async () => {
  const { tc, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), ERRORS.INVALID_TXN_STATE.code);
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.equal(markerCalls.length, 1, "a retry writes no second set of markers");

  tc.addPartitions("tx", pid, epoch, [T0]);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), ERRORS.INVALID_TXN_STATE.code);
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
  assert.equal(markerCalls.length, 2);
});

Deno.test("endTxn(commit) while PrepareAbort is INVALID_TXN_STATE; other calls get CONCURRENT_TRANSACTIONS", async () => {
  const { tc, state, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addOffsets("tx", pid, epoch, "g");
  state.markersOk = false;
  // The outcome is durable, so EndTxn answers 0 even though the markers are not written yet.
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "PrepareAbort");
  assert.equal(await tc.endTxn("tx", pid, epoch, true), ERRORS.INVALID_TXN_STATE.code);
  assert.equal(tc.get("tx")!.state, "PrepareAbort");
  const concurrent = ERRORS.CONCURRENT_TRANSACTIONS.code;
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T1]), [{ ...T1, errorCode: concurrent }]);
  assert.equal(tc.addOffsets("tx", pid, epoch, "g2"), concurrent);
  assert.equal(
    tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 1n, metadata: null }]),
    concurrent,
  );
  // A retried abort tries the markers again and answers 0.
  const calls = markerCalls.length;
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(markerCalls.length, calls + 1);
  state.markersOk = true;
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
});

Deno.test("a second initProducerId bumps the epoch and fences the old producer everywhere", async () => {
  const { tc, markerCalls } = harness();
  const first = await tc.initProducerId("tx", 60_000);
  const second = await tc.initProducerId("tx", 60_000);
  assert.equal(second.producerId, first.producerId);
  assert.equal(second.producerEpoch, first.producerEpoch + 1);
  assert.equal(tc.get("tx")!.state, "Empty");
  // Nothing was open: no markers.
  assert.deepEqual(markerCalls, []);
  const fenced = ERRORS.INVALID_PRODUCER_EPOCH.code;
  const { producerId: pid, producerEpoch: old } = first;
  assert.deepEqual(tc.addPartitions("tx", pid, old, [T0]), [{ ...T0, errorCode: fenced }]);
  assert.equal(tc.addOffsets("tx", pid, old, "g"), fenced);
  assert.equal(
    tc.txnOffsetCommit("tx", pid, old, "g", [{ ...T0, offset: 5n, metadata: null }]),
    fenced,
  );
  assert.equal(await tc.endTxn("tx", pid, old, true), fenced);
  assert.equal(await tc.endTxn("tx", pid, old, false), fenced);
  // A newer epoch than the coordinator's is refused too.
  assert.equal(tc.addOffsets("tx", pid, second.producerEpoch + 1, "g"), fenced);
  // None of it changed the state; the new producer works.
  assert.equal(tc.get("tx")!.state, "Empty");
  assert.equal(tc.addOffsets("tx", pid, second.producerEpoch, "g"), 0);
});

Deno.test("initProducerId() aborts the old producer's Ongoing transaction under the new epoch", async () => {
  const { tc, markerCalls, applied, events } = harness();
  const first = await tc.initProducerId("tx", 60_000);
  const { producerId: pid, producerEpoch: old } = first;
  tc.addPartitions("tx", pid, old, [T0, U0]);
  tc.addOffsets("tx", pid, old, "g");
  assert.equal(tc.txnOffsetCommit("tx", pid, old, "g", [{ ...T1, offset: 9n, metadata: "m" }]), 0);
  const second = await tc.initProducerId("tx", 30_000);
  assert.equal(second.producerEpoch, old + 1);
  assert.equal(markerCalls.length, 1);
  assert.equal(markerCalls[0].commit, false);
  assert.equal(markerCalls[0].producerId, pid);
  assert.equal(markerCalls[0].producerEpoch, second.producerEpoch);
  assert.deepEqual(
    markerCalls[0].partitions.map((p) => `${p.topic}/${p.partition}`).sort(),
    ["t/0", "u/0"],
  );
  // The aborted transaction's offsets are never applied.
  assert.deepEqual(applied, []);
  const txn = tc.get("tx")!;
  assert.equal(txn.state, "Empty");
  assert.equal(txn.producerEpoch, second.producerEpoch);
  assert.equal(txn.timeoutMs, 30_000);
  assert.equal(txn.pendingOffsets.length, 0);
  assert.deepEqual(events.map((e) => e.state).slice(-3), [
    "PrepareAbort",
    "CompleteAbort",
    "Empty",
  ]);
  assert.equal(events.at(-3)!.producerEpoch, second.producerEpoch);
  // The old producer cannot finish its (now aborted) transaction.
  assert.equal(await tc.endTxn("tx", pid, old, true), ERRORS.INVALID_PRODUCER_EPOCH.code);
});

Deno.test("initProducerId() answers CONCURRENT_TRANSACTIONS while the fencing abort cannot be written, then recovers", async () => {
  const { tc, state, markerCalls } = harness();
  const first = await tc.initProducerId("tx", 60_000);
  tc.addPartitions("tx", first.producerId, first.producerEpoch, [T0]);
  state.markersOk = false;
  await assert.rejects(
    () => tc.initProducerId("tx", 60_000),
    (e) => isKaError(e, "CONCURRENT_TRANSACTIONS"),
  );
  const txn = tc.get("tx")!;
  assert.equal(txn.state, "PrepareAbort");
  assert.equal(txn.producerEpoch, first.producerEpoch + 1, "the old producer is fenced already");
  assert.equal(
    await tc.endTxn("tx", first.producerId, first.producerEpoch, false),
    ERRORS.INVALID_PRODUCER_EPOCH.code,
  );
  // While the markers still fail a retry is refused the same way (the abort is retried).
  await assert.rejects(
    () => tc.initProducerId("tx", 60_000),
    (e) => isKaError(e, "CONCURRENT_TRANSACTIONS"),
  );
  assert.equal(markerCalls.length, 2);
  state.markersOk = true;
  const third = await tc.initProducerId("tx", 60_000);
  assert.equal(third.producerId, first.producerId);
  assert.equal(third.producerEpoch, first.producerEpoch + 2);
  assert.equal(tc.get("tx")!.state, "Empty");
  assert.equal(markerCalls.length, 3);
  assert.ok(markerCalls.every((c) => !c.commit && c.producerEpoch === first.producerEpoch + 1));
});

Deno.test("initProducerId() finishes a PrepareCommit transaction before fencing (offsets applied)", async () => {
  const { tc, state, applied, markerCalls } = harness();
  const first = await tc.initProducerId("tx", 60_000);
  const { producerId: pid, producerEpoch: epoch } = first;
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T1, offset: 3n, metadata: null }]);
  state.markersOk = false;
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "PrepareCommit");
  state.markersOk = true;
  const second = await tc.initProducerId("tx", 60_000);
  assert.equal(second.producerEpoch, epoch + 1);
  // The decided commit is carried out with the old epoch, not turned into an abort.
  assert.ok(markerCalls.every((c) => c.commit && c.producerEpoch === epoch));
  assert.deepEqual(applied, [[{ group: "g", ...T1, offset: 3n, metadata: null }]]);
  assert.equal(tc.get("tx")!.state, "Empty");
});

Deno.test("a wrong producer id or unknown transactional id is INVALID_PRODUCER_ID_MAPPING", async () => {
  const { tc } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  const mapping = ERRORS.INVALID_PRODUCER_ID_MAPPING.code;
  const wrong = pid + 100n;
  assert.deepEqual(tc.addPartitions("tx", wrong, epoch, [T0, T1]), [
    { ...T0, errorCode: mapping },
    { ...T1, errorCode: mapping },
  ]);
  assert.equal(tc.addOffsets("tx", wrong, epoch, "g"), mapping);
  assert.equal(tc.txnOffsetCommit("tx", wrong, epoch, "g", []), mapping);
  assert.equal(await tc.endTxn("tx", wrong, epoch, true), mapping);
  assert.deepEqual(tc.addPartitions("nope", pid, epoch, [T0]), [{ ...T0, errorCode: mapping }]);
  assert.equal(tc.addOffsets("nope", pid, epoch, "g"), mapping);
  assert.equal(tc.txnOffsetCommit("nope", pid, epoch, "g", []), mapping);
  assert.equal(await tc.endTxn("nope", pid, epoch, false), mapping);
  assert.equal(tc.get("tx")!.state, "Empty");
  assert.equal(tc.get("nope"), undefined);
});

Deno.test("addPartitions() with an unknown partition fails it and marks the rest OPERATION_NOT_ATTEMPTED", async () => {
  const { tc, events } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  const unknown = { topic: "t", partition: 7 };
  const missingTopic = { topic: "ghost", partition: 0 };
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T0, unknown, U0, missingTopic]), [
    { ...T0, errorCode: ERRORS.OPERATION_NOT_ATTEMPTED.code },
    { ...unknown, errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code },
    { ...U0, errorCode: ERRORS.OPERATION_NOT_ATTEMPTED.code },
    { ...missingTopic, errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code },
  ]);
  // Nothing was added and no transaction was started.
  const txn = tc.get("tx")!;
  assert.equal(txn.state, "Empty");
  assert.equal(txn.partitions.size, 0);
  assert.equal(events.length, 1);
  // Inside an open transaction the failure adds nothing either.
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addPartitions("tx", pid, epoch, [T1, unknown]);
  assert.deepEqual([...tc.get("tx")!.partitions], ["t/0"]);
});

Deno.test("txnOffsetCommit() without AddOffsetsToTxn for the group is INVALID_TXN_STATE", async () => {
  const { tc } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  const offsets = [{ ...T0, offset: 4n, metadata: null }];
  const invalid = ERRORS.INVALID_TXN_STATE.code;
  // Empty: no transaction open at all.
  assert.equal(tc.txnOffsetCommit("tx", pid, epoch, "g", offsets), invalid);
  // Ongoing (partitions only), but the group was never added.
  tc.addPartitions("tx", pid, epoch, [T0]);
  assert.equal(tc.txnOffsetCommit("tx", pid, epoch, "g", offsets), invalid);
  tc.addOffsets("tx", pid, epoch, "other");
  assert.equal(tc.txnOffsetCommit("tx", pid, epoch, "g", offsets), invalid);
  assert.equal(tc.get("tx")!.pendingOffsets.length, 0);
  tc.addOffsets("tx", pid, epoch, "g");
  assert.equal(tc.txnOffsetCommit("tx", pid, epoch, "g", offsets), 0);
  assert.equal(tc.get("tx")!.pendingOffsets.length, 1);
});

Deno.test("offsets are applied on commit (latest per partition) and never on abort", async () => {
  const { tc, applied, events, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  // Abort first: nothing is applied.
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 10n, metadata: null }]);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
  assert.deepEqual(applied, []);
  assert.equal(tc.get("tx")!.pendingOffsets.length, 0);
  // Commit: the offsets sent (the newer one per group and partition) are applied once.
  tc.addPartitions("tx", pid, epoch, [T1]);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.addOffsets("tx", pid, epoch, "h");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [
    { ...T0, offset: 20n, metadata: null },
    { ...T1, offset: 30n, metadata: "a" },
  ]);
  tc.txnOffsetCommit("tx", pid, epoch, "h", [{ ...T0, offset: 5n, metadata: null }]);
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 21n, metadata: "b" }]);
  // The pending offsets are journaled (bigints as strings).
  assert.deepEqual(
    events.at(-1)!.pendingOffsets.map((o) => `${o.group}:${o.topic}/${o.partition}@${o.offset}`)
      .sort(),
    ["g:t/0@21", "g:t/1@30", "h:t/0@5"],
  );
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.equal(markerCalls.length, 2);
  assert.equal(applied.length, 1);
  const key = (o: PendingOffset) => `${o.group}:${o.topic}/${o.partition}`;
  assert.deepEqual([...applied[0]].sort((a, b) => key(a).localeCompare(key(b))), [
    { group: "g", ...T0, offset: 21n, metadata: "b" },
    { group: "g", ...T1, offset: 30n, metadata: "a" },
    { group: "h", ...T0, offset: 5n, metadata: null },
  ]);
});

Deno.test("an offsets-only transaction commits without any marker write", async () => {
  const { tc, applied, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 4n, metadata: null }]);
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.deepEqual(markerCalls, []);
  assert.deepEqual(applied, [[{ group: "g", ...T0, offset: 4n, metadata: null }]]);
});

// Was a bug (fixed): coordinator/txn/transaction_coordinator.ts:312-343 (#complete). With no partitions in the
// transaction (offsets only), `partitions.length === 0 || await ...` never awaits, so the async
// IIFE runs to its end — `finally { this.#completing.delete(id) }` included — synchronously,
// BEFORE line 342 `this.#completing.set(id, task)` stores the (already settled) task. The stale
// entry is never removed: every later #complete for that transactional id returns it (true)
// without doing anything, so the next EndTxn answers 0 but the transaction stays PrepareCommit /
// PrepareAbort for good (no markers, offsets never applied, tick() cannot help, AddPartitions gets
// CONCURRENT_TRANSACTIONS). A consume-transform-produce loop whose first transaction only commits
// offsets is wedged from then on. Fix: put the task in the map before it can finish, e.g. start
// the IIFE with `await Promise.resolve();`, or delete in `finally` only when
// `this.#completing.get(id) === task`, with the set done before the body runs.
Deno.test({
  name: "a transaction after an offsets-only one still completes",

  fn: async () => {
    const { tc, applied, markerCalls } = harness();
    const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
    tc.addOffsets("tx", pid, epoch, "g");
    tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 4n, metadata: null }]);
    assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
    assert.equal(tc.get("tx")!.state, "CompleteCommit");
    // The next transaction writes data and offsets.
    tc.addPartitions("tx", pid, epoch, [T0]);
    tc.addOffsets("tx", pid, epoch, "g");
    tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 9n, metadata: null }]);
    assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
    assert.equal(tc.get("tx")!.state, "CompleteCommit");
    assert.equal(markerCalls.length, 1);
    assert.equal(applied.length, 2);
    assert.deepEqual(applied[1], [{ group: "g", ...T0, offset: 9n, metadata: null }]);
  },
});

Deno.test("markers that fail leave PrepareCommit; tick() retries until they are written", async () => {
  const { tc, state, markerCalls, applied } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 7n, metadata: null }]);
  state.markersOk = false;
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "PrepareCommit");
  assert.deepEqual(applied, [], "offsets wait for the markers");
  for (let i = 0; i < 3; i++) {
    tc.tick();
    await settle();
  }
  assert.equal(markerCalls.length, 4);
  assert.equal(tc.get("tx")!.state, "PrepareCommit");
  assert.deepEqual(applied, []);
  state.markersOk = true;
  tc.tick();
  await settle();
  assert.equal(markerCalls.length, 5);
  assert.ok(markerCalls.every((c) => c.commit && c.producerEpoch === epoch));
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.deepEqual(applied, [[{ group: "g", ...T0, offset: 7n, metadata: null }]]);
  // Nothing left to do: another tick writes nothing.
  tc.tick();
  await settle();
  assert.equal(markerCalls.length, 5);
  assert.equal(applied.length, 1);
});

Deno.test("a marker write that throws a KaError counts as not written and is retried by tick()", async () => {
  let calls = 0;
  const tc = new TransactionCoordinator({
    producerIds: new ProducerIdManager(),
    now: () => 0,
    persist: () => {},
    writeMarkers: () => {
      calls++;
      return calls === 1
        ? Promise.reject(KaError.of("REQUEST_TIMED_OUT", "the ISR did not answer"))
        : Promise.resolve(true);
    },
    applyOffsets: () => {},
    partitionExists: () => true,
  });
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 1_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.equal(tc.get("tx")!.state, "PrepareAbort");
  tc.tick();
  await settle();
  assert.equal(calls, 2);
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
});

Deno.test("concurrent EndTxn retries share one marker write", async () => {
  const pending: ((ok: boolean) => void)[] = [];
  const shared = new TransactionCoordinator({
    producerIds: new ProducerIdManager(),
    now: () => 0,
    persist: () => {},
    writeMarkers: () => new Promise<boolean>((resolve) => pending.push(resolve)),
    applyOffsets: () => {},
    partitionExists: () => true,
  });
  const { producerId: pid, producerEpoch: epoch } = await shared.initProducerId("tx", 1_000);
  shared.addPartitions("tx", pid, epoch, [T0]);
  const a = shared.endTxn("tx", pid, epoch, true);
  const b = shared.endTxn("tx", pid, epoch, true);
  shared.tick();
  await settle();
  assert.equal(pending.length, 1, "one write in flight at a time");
  pending[0](true);
  assert.deepEqual(await Promise.all([a, b]), [0, 0]);
  assert.equal(shared.get("tx")!.state, "CompleteCommit");
});

Deno.test("tick() aborts an Ongoing transaction past its timeout and bumps the epoch", async () => {
  const { tc, advance, markerCalls, applied } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 1_000);
  tc.addPartitions("tx", pid, epoch, [T0]);
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 2n, metadata: null }]);
  // Exactly at the timeout it is still open.
  advance(1_000);
  tc.tick();
  await settle();
  assert.equal(tc.get("tx")!.state, "Ongoing");
  assert.deepEqual(markerCalls, []);
  advance(1);
  tc.tick();
  await settle();
  const txn = tc.get("tx")!;
  assert.equal(txn.state, "CompleteAbort");
  assert.equal(txn.producerId, pid);
  assert.equal(txn.producerEpoch, epoch + 1);
  assert.deepEqual(markerCalls, [{
    producerId: pid,
    producerEpoch: epoch + 1,
    commit: false,
    partitions: [T0],
  }]);
  assert.deepEqual(applied, []);
  // The producer that let it expire is fenced; re-initialising gives the next epoch.
  assert.equal(await tc.endTxn("tx", pid, epoch, true), ERRORS.INVALID_PRODUCER_EPOCH.code);
  assert.deepEqual(tc.addPartitions("tx", pid, epoch, [T0]), [
    { ...T0, errorCode: ERRORS.INVALID_PRODUCER_EPOCH.code },
  ]);
  const again = await tc.initProducerId("tx", 1_000);
  assert.equal(again.producerEpoch, epoch + 2);
});

Deno.test("tick() never times out Empty or completed transactions; the clock starts at the first add", async () => {
  const { tc, advance, markerCalls } = harness();
  const a = await tc.initProducerId("a", 1_000);
  const b = await tc.initProducerId("b", 1_000);
  tc.addPartitions("b", b.producerId, b.producerEpoch, [T0]);
  await tc.endTxn("b", b.producerId, b.producerEpoch, true);
  advance(10_000);
  tc.tick();
  await settle();
  assert.equal(tc.get("a")!.state, "Empty");
  assert.equal(tc.get("a")!.producerEpoch, a.producerEpoch);
  assert.equal(tc.get("b")!.state, "CompleteCommit");
  assert.equal(tc.get("b")!.producerEpoch, b.producerEpoch);
  assert.equal(markerCalls.length, 1);
  // A transaction begun long after initProducerId gets its whole timeout.
  tc.addPartitions("a", a.producerId, a.producerEpoch, [T1]);
  advance(999);
  tc.tick();
  await settle();
  assert.equal(tc.get("a")!.state, "Ongoing");
  assert.equal(await tc.endTxn("a", a.producerId, a.producerEpoch, true), 0);
  assert.equal(tc.get("a")!.state, "CompleteCommit");
});

Deno.test("a timed-out abort whose markers fail stays PrepareAbort until a later tick writes them", async () => {
  const { tc, advance, state, markerCalls } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 100);
  tc.addPartitions("tx", pid, epoch, [T0]);
  state.markersOk = false;
  advance(101);
  tc.tick();
  await settle();
  assert.equal(tc.get("tx")!.state, "PrepareAbort");
  assert.equal(tc.get("tx")!.producerEpoch, epoch + 1);
  // The next tick must not bump the epoch again: it only retries the markers.
  advance(1_000);
  tc.tick();
  await settle();
  assert.equal(tc.get("tx")!.producerEpoch, epoch + 1);
  state.markersOk = true;
  tc.tick();
  await settle();
  assert.equal(tc.get("tx")!.state, "CompleteAbort");
  assert.equal(markerCalls.length, 3);
  assert.ok(markerCalls.every((c) => !c.commit && c.producerEpoch === epoch + 1));
});

Deno.test("initProducerId() rejects an invalid transaction timeout with INVALID_TRANSACTION_TIMEOUT", async () => {
  const { tc, events, producerIdEvents } = harness({ transactionTimeoutMaxMs: 5_000 });
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 5_001]) {
    await assert.rejects(
      () => tc.initProducerId("tx", bad),
      (e) => isKaError(e, "INVALID_TRANSACTION_TIMEOUT"),
      `timeout ${bad}`,
    );
  }
  // Refused before anything happened: no epoch handed out, nothing journaled.
  assert.deepEqual(events, []);
  assert.deepEqual(producerIdEvents, []);
  assert.equal(tc.get("tx"), undefined);
  assert.equal((await tc.initProducerId("tx", 5_000)).producerEpoch, 0);
  assert.equal((await tc.initProducerId("tx", 1)).producerEpoch, 1);
  // The default maximum is Kafka's 15 minutes.
  const { tc: plain } = harness();
  assert.equal((await plain.initProducerId("x", 900_000)).producerEpoch, 0);
  await assert.rejects(
    () => plain.initProducerId("x", 900_001),
    (e) => isKaError(e, "INVALID_TRANSACTION_TIMEOUT"),
  );
});

Deno.test("initProducerId() refuses an empty transactional id with INVALID_REQUEST", async () => {
  const { tc } = harness();
  await assert.rejects(() => tc.initProducerId("", 1_000), (e) => isKaError(e, "INVALID_REQUEST"));
  assert.equal(tc.get(""), undefined);
});

Deno.test("journal replay restores an Ongoing transaction with a fresh timeout", async () => {
  const first = harness();
  const { producerId: pid, producerEpoch: epoch } = await first.tc.initProducerId("tx", 1_000);
  first.tc.addPartitions("tx", pid, epoch, [T0, U0]);
  first.tc.addOffsets("tx", pid, epoch, "g");
  first.tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T1, offset: 12n, metadata: "x" }]);
  first.advance(900);
  // Restart: a new coordinator from the journaled events (and producer-id events).
  const second = harness({ events: first.events, producerIdEvents: first.producerIdEvents });
  const txn = second.tc.get("tx")!;
  assert.equal(txn.state, "Ongoing");
  assert.equal(txn.producerId, pid);
  assert.equal(txn.producerEpoch, epoch);
  assert.equal(txn.timeoutMs, 1_000);
  assert.deepEqual([...txn.partitions].sort(), ["t/0", "u/0"]);
  assert.deepEqual([...txn.groups], ["g"]);
  assert.deepEqual(txn.pendingOffsets, [{ group: "g", ...T1, offset: 12n, metadata: "x" }]);
  // Its timeout starts again at the restart.
  second.advance(999);
  second.tc.tick();
  await settle();
  assert.equal(second.tc.get("tx")!.state, "Ongoing");
  // The same producer goes on and commits.
  assert.deepEqual(second.tc.addPartitions("tx", pid, epoch, [T1]), [{ ...T1, errorCode: 0 }]);
  assert.equal(await second.tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(second.markerCalls.length, 1);
  assert.deepEqual(
    second.markerCalls[0].partitions.map((p) => `${p.topic}/${p.partition}`).sort(),
    ["t/0", "t/1", "u/0"],
  );
  assert.deepEqual(second.applied, [[{ group: "g", ...T1, offset: 12n, metadata: "x" }]]);
  // And the producer-id state was replayed too: the next epoch follows on.
  assert.equal((await second.tc.initProducerId("tx", 1_000)).producerEpoch, epoch + 1);
});

Deno.test("journal replay of a PrepareCommit transaction: tick() finishes it after the restart", async () => {
  const first = harness();
  const { producerId: pid, producerEpoch: epoch } = await first.tc.initProducerId("tx", 60_000);
  first.tc.addPartitions("tx", pid, epoch, [T0]);
  first.tc.addOffsets("tx", pid, epoch, "g");
  first.tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 40n, metadata: null }]);
  first.state.markersOk = false;
  assert.equal(await first.tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(first.tc.get("tx")!.state, "PrepareCommit");
  assert.deepEqual(first.applied, []);
  // Also one that was aborting.
  const other = await first.tc.initProducerId("other", 60_000);
  first.tc.addPartitions("other", other.producerId, other.producerEpoch, [U0]);
  await first.tc.endTxn("other", other.producerId, other.producerEpoch, false);
  assert.equal(first.tc.get("other")!.state, "PrepareAbort");

  const second = harness({ events: first.events, producerIdEvents: first.producerIdEvents });
  assert.equal(second.tc.get("tx")!.state, "PrepareCommit");
  assert.equal(second.tc.get("other")!.state, "PrepareAbort");
  second.tc.tick();
  await settle();
  assert.equal(second.tc.get("tx")!.state, "CompleteCommit");
  assert.equal(second.tc.get("other")!.state, "CompleteAbort");
  const byId = new Map(second.markerCalls.map((c) => [c.producerId, c]));
  assert.deepEqual(byId.get(pid), {
    producerId: pid,
    producerEpoch: epoch,
    commit: true,
    partitions: [T0],
  });
  assert.deepEqual(byId.get(other.producerId), {
    producerId: other.producerId,
    producerEpoch: other.producerEpoch,
    commit: false,
    partitions: [U0],
  });
  assert.deepEqual(second.applied, [[{ group: "g", ...T0, offset: 40n, metadata: null }]]);
  // A retried EndTxn from the producer (it never heard back) is answered 0.
  assert.equal(await second.tc.endTxn("tx", pid, epoch, true), 0);
  // Replaying the full journal (now including the completions) gives the same end state.
  const third = harness({ events: [...first.events, ...second.events] });
  assert.equal(third.tc.get("tx")!.state, "CompleteCommit");
  assert.equal(third.tc.get("other")!.state, "CompleteAbort");
  third.tc.tick();
  await settle();
  assert.deepEqual(third.markerCalls, []);
  assert.deepEqual(third.applied, []);
});

// Was a bug (fixed): coordinator/txn/transaction_coordinator.ts:139-143 (and tick() at :253-258): when the
// transactional id's epoch is exhausted (32766), ProducerIdManager.initProducerId hands out a
// NEW producer id at epoch 0, and the old producer's Ongoing transaction is aborted with that new
// id. The brokers hold the open transaction under the OLD producer id, so the ABORT marker never
// closes it and the partitions' last stable offset is stuck for good. Fix: abort with the old
// producer id and epoch + 1 (Kafka keeps epoch 32767 for exactly this fencing abort), and only
// then hand out the new id (Kafka's "epoch exhaustion" path in TransactionCoordinator).
Deno.test({
  name: "fencing at the last epoch aborts the open transaction under the old producer id",

  fn: async () => {
    const { tc, markerCalls } = harness({
      producerIdEvents: [
        { type: "producer_id_block", end: 1000 },
        {
          type: "transactional_producer",
          transactionalId: "tx",
          producerId: 7,
          producerEpoch: 32_765,
        },
      ],
    });
    const first = await tc.initProducerId("tx", 60_000);
    assert.equal(first.producerId, 7n);
    assert.equal(first.producerEpoch, 32_766);
    tc.addPartitions("tx", first.producerId, first.producerEpoch, [T0]);
    const second = await tc.initProducerId("tx", 60_000);
    assert.notEqual(second.producerId, 7n, "the exhausted id is replaced");
    assert.equal(markerCalls.length, 1);
    assert.equal(markerCalls[0].commit, false);
    assert.equal(
      markerCalls[0].producerId,
      7n,
      "the ABORT must name the producer that wrote the data",
    );
    assert.ok(markerCalls[0].producerEpoch > 32_766, "and fence it");
  },
});

// Was a bug (fixed): same root cause as above, through tick(): a timed-out transaction of a producer at epoch
// 32766 is aborted under a fresh producer id (transaction_coordinator.ts:253-258).
Deno.test({
  name: "a timeout at the last epoch aborts under the old producer id",

  fn: async () => {
    const { tc, markerCalls, advance } = harness({
      producerIdEvents: [
        { type: "producer_id_block", end: 1000 },
        {
          type: "transactional_producer",
          transactionalId: "tx",
          producerId: 7,
          producerEpoch: 32_765,
        },
      ],
    });
    const first = await tc.initProducerId("tx", 100);
    tc.addPartitions("tx", first.producerId, first.producerEpoch, [T0]);
    advance(101);
    tc.tick();
    await settle();
    assert.equal(markerCalls.length, 1);
    assert.equal(markerCalls[0].producerId, 7n);
  },
});

// ---- inside a Coordinator ---------------------------------------------------

const SETTINGS: CoordinatorSettings = {
  port: 8080,
  brokerSessionTimeoutMs: 1000,
  defaultPartitions: 3,
  replicationFactor: 2,
  brokerIds: [0, 1, 2],
};

interface MarkerRequest {
  address: string;
  body: WriteTxnMarkersRequest;
}

/**
 * A Coordinator on a MemoryJournal whose broker connections are fakes:
 * metadata pushes succeed, WriteTxnMarkers requests are recorded and answered
 * with `markerErrorCode` for every partition.
 */
function coordinatorSetup(journal = new MemoryJournal()) {
  let clock = 1_000_000;
  const markerRequests: MarkerRequest[] = [];
  const control = { markerErrorCode: 0 };
  const connect = (address: string): Promise<KafkaConnection> => {
    const fake = {
      closed: false,
      request(apiKey: number, _version: number, body: unknown) {
        if (apiKey === ApiKey.WriteTxnMarkers) {
          const request = structuredClone(body) as WriteTxnMarkersRequest;
          markerRequests.push({ address, body: request });
          return Promise.resolve({
            markers: request.markers.map((m) => ({
              producerId: m.producerId,
              topics: m.topics.map((t) => ({
                name: t.name,
                partitions: t.partitionIndexes.map((partitionIndex) => ({
                  partitionIndex,
                  errorCode: control.markerErrorCode,
                })),
              })),
            })),
          });
        }
        const push = body as { payload: { snapshot: { version: number } } };
        return Promise.resolve({
          payload: { errorCode: 0, message: null, metadataVersion: push.payload.snapshot.version },
        });
      },
      close() {
        fake.closed = true;
      },
    };
    return Promise.resolve(fake as unknown as KafkaConnection);
  };
  const store = new MetadataStore(journal);
  const coordinator = new Coordinator({
    settings: SETTINGS,
    store,
    logger: createLogger("txn-test", { sink: () => {} }),
    now: () => clock,
    connect,
  });
  for (const id of [0, 1, 2]) {
    coordinator.register({
      brokerId: id,
      host: "127.0.0.1",
      port: 9092 + id,
      incarnation: `inc-${id}`,
    });
  }
  return {
    coordinator,
    store,
    journal,
    markerRequests,
    control,
    advance(ms: number) {
      clock += ms;
    },
  };
}

function creatable(name: string): CreatableTopic {
  return { name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] };
}

Deno.test("Coordinator: a commit sends one WriteTxnMarkers per leader and applies the offsets to the group", async () => {
  const { coordinator, store, journal, markerRequests } = coordinatorSetup();
  await coordinator.createTopics({
    topics: [creatable("t")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  await settle();
  const txns = coordinator.transactions;
  const { producerId: pid, producerEpoch: epoch } = await txns.initProducerId("tx", 60_000);
  const parts = [0, 1, 2].map((partition) => ({ topic: "t", partition }));
  assert.ok(txns.addPartitions("tx", pid, epoch, parts).every((p) => p.errorCode === 0));
  assert.deepEqual(txns.addPartitions("tx", pid, epoch, [{ topic: "t", partition: 3 }]), [
    { topic: "t", partition: 3, errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code },
  ]);
  assert.equal(txns.addOffsets("tx", pid, epoch, "g"), 0);
  assert.equal(
    txns.txnOffsetCommit("tx", pid, epoch, "g", [{
      topic: "t",
      partition: 1,
      offset: 8n,
      metadata: null,
    }]),
    0,
  );
  assert.deepEqual(
    coordinator.groups.committed("g", [{ topic: "t", partition: 1 }])[0].offset,
    -1n,
  );
  assert.equal(await txns.endTxn("tx", pid, epoch, true), 0);
  assert.equal(txns.get("tx")!.state, "CompleteCommit");
  // One request per leader, naming just the partitions it leads.
  const leaders = new Map<number, number[]>();
  for (const p of store.topic("t").partitions) {
    leaders.set(p.leader, [...(leaders.get(p.leader) ?? []), p.partition]);
  }
  assert.equal(markerRequests.length, leaders.size);
  for (const { address, body } of markerRequests) {
    const leader = Number(address.split(":").at(-1)) - 9092;
    assert.equal(body.markers.length, 1);
    const m = body.markers[0];
    assert.equal(m.producerId, pid);
    assert.equal(m.producerEpoch, epoch);
    assert.equal(m.transactionResult, true);
    assert.deepEqual(m.topics, [{ name: "t", partitionIndexes: leaders.get(leader) }]);
  }
  assert.equal(coordinator.groups.committed("g", [{ topic: "t", partition: 1 }])[0].offset, 8n);
  // A restart replays the transaction, the producer ids and the committed offsets.
  const restarted = coordinatorSetup(journal).coordinator;
  assert.equal(restarted.transactions.get("tx")!.state, "CompleteCommit");
  assert.equal(restarted.groups.committed("g", [{ topic: "t", partition: 1 }])[0].offset, 8n);
  const again = await restarted.transactions.initProducerId("tx", 60_000);
  assert.equal(again.producerId, pid);
  assert.equal(again.producerEpoch, epoch + 1);
  await settle();
});

Deno.test("Coordinator: a marker answered with an error keeps the commit prepared until a tick succeeds", async () => {
  const { coordinator, markerRequests, control } = coordinatorSetup();
  await coordinator.createTopics({
    topics: [creatable("t")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  await settle();
  const txns = coordinator.transactions;
  const { producerId: pid, producerEpoch: epoch } = await txns.initProducerId("tx", 60_000);
  txns.addPartitions("tx", pid, epoch, [{ topic: "t", partition: 0 }]);
  txns.addOffsets("tx", pid, epoch, "g");
  txns.txnOffsetCommit("tx", pid, epoch, "g", [{
    topic: "t",
    partition: 0,
    offset: 3n,
    metadata: null,
  }]);
  control.markerErrorCode = ERRORS.NOT_LEADER_OR_FOLLOWER.code;
  assert.equal(await txns.endTxn("tx", pid, epoch, true), 0);
  assert.equal(txns.get("tx")!.state, "PrepareCommit");
  assert.equal(coordinator.groups.committed("g", [{ topic: "t", partition: 0 }])[0].offset, -1n);
  control.markerErrorCode = 0;
  txns.tick();
  await settle();
  assert.equal(txns.get("tx")!.state, "CompleteCommit");
  assert.equal(markerRequests.length, 2);
  assert.equal(coordinator.groups.committed("g", [{ topic: "t", partition: 0 }])[0].offset, 3n);
});

Deno.test("Coordinator: an abort writes ABORT markers and leaves the group's offsets alone", async () => {
  const { coordinator, markerRequests } = coordinatorSetup();
  await coordinator.createTopics({
    topics: [creatable("t")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  await settle();
  const txns = coordinator.transactions;
  const { producerId: pid, producerEpoch: epoch } = await txns.initProducerId("tx", 60_000);
  txns.addPartitions("tx", pid, epoch, [{ topic: "t", partition: 2 }]);
  txns.addOffsets("tx", pid, epoch, "g");
  txns.txnOffsetCommit("tx", pid, epoch, "g", [{
    topic: "t",
    partition: 2,
    offset: 5n,
    metadata: null,
  }]);
  assert.equal(await txns.endTxn("tx", pid, epoch, false), 0);
  assert.equal(txns.get("tx")!.state, "CompleteAbort");
  assert.equal(markerRequests.length, 1);
  assert.equal(markerRequests[0].body.markers[0].transactionResult, false);
  assert.deepEqual(markerRequests[0].body.markers[0].topics, [{
    name: "t",
    partitionIndexes: [2],
  }]);
  assert.equal(coordinator.groups.committed("g", [{ topic: "t", partition: 2 }])[0].offset, -1n);
  await settle();
});
