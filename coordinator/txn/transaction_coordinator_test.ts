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
  const { tc, applied, events } = harness();
  const { producerId: pid, producerEpoch: epoch } = await tc.initProducerId("tx", 60_000);
  // Abort first: nothing is applied.
  tc.addOffsets("tx", pid, epoch, "g");
  tc.txnOffsetCommit("tx", pid, epoch, "g", [{ ...T0, offset: 10n, metadata: null }]);
  assert.equal(await tc.endTxn("tx", pid, epoch, false), 0);
  assert.deepEqual(applied, []);
  assert.equal(tc.get("tx")!.pendingOffsets.length, 0);
  // Commit: the offsets sent (the newer one per group and partition) are applied once.
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
  // No partitions: EndTxn commits without any marker.
  assert.equal(await tc.endTxn("tx", pid, epoch, true), 0);
  assert.equal(tc.get("tx")!.state, "CompleteCommit");
  assert.equal(applied.length, 1);
  const key = (o: PendingOffset) => `${o.group}:${o.topic}/${o.partition}`;
  assert.deepEqual([...applied[0]].sort((a, b) => key(a).localeCompare(key(b))), [
    { group: "g", ...T0, offset: 21n, metadata: "b" },
    { group: "g", ...T1, offset: 30n, metadata: "a" },
    { group: "h", ...T0, offset: 5n, metadata: null },
  ]);
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
  const { tc } = harness();
  const pending: ((ok: boolean) => void)[] = [];
  const shared = new TransactionCoordinator({
    producerIds: new ProducerIdManager(),
    now: () => 0,
    persist: () => {},
    writeMarkers: () => new Promise<boolean>((resolve) => pending.push(resolve)),
    applyOffsets: () => {},
    partitionExists: () => true,
  });
  void tc;
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
