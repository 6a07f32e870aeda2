/**
 * Tests for producer-id allocation: monotonic ids, block persistence,
 * restarts, transactional epochs and the InitProducerId handler.
 * @module
 */
import assert from "node:assert/strict";
import { ERRORS } from "@kafka-analog/lib/protocol";
import {
  handleInitProducerId,
  PRODUCER_EPOCH_MAX,
  type ProducerIdEvent,
  ProducerIdManager,
} from "./producer_ids.ts";

Deno.test("ProducerIdManager hands out increasing ids with epoch 0, persisting one block at a time", () => {
  const events: ProducerIdEvent[] = [];
  const manager = new ProducerIdManager({ persist: (e) => events.push(e), blockSize: 3 });
  const ids = Array.from({ length: 7 }, () => manager.initProducerId());
  assert.deepEqual(ids.map((x) => x.producerId), [0n, 1n, 2n, 3n, 4n, 5n, 6n]);
  assert.ok(ids.every((x) => x.producerEpoch === 0));
  assert.deepEqual(events, [
    { type: "producer_id_block", end: 3 },
    { type: "producer_id_block", end: 6 },
    { type: "producer_id_block", end: 9 },
  ]);
});

Deno.test("ProducerIdManager never reuses an id after a restart", () => {
  const events: ProducerIdEvent[] = [];
  const first = new ProducerIdManager({ persist: (e) => events.push(e), blockSize: 10 });
  first.initProducerId();
  first.initProducerId();
  const second = new ProducerIdManager({ persist: (e) => events.push(e), blockSize: 10, events });
  assert.equal(second.initProducerId().producerId, 10n);
  const third = new ProducerIdManager({ events: [...events] });
  assert.ok(third.nextProducerId >= 20n);
});

Deno.test("ProducerIdManager refuses the id when persisting fails", () => {
  const manager = new ProducerIdManager({
    persist: () => {
      throw new Error("disk full");
    },
  });
  assert.throws(() => manager.initProducerId(), /disk full/);
  assert.throws(
    () => handleInitProducerId(manager, { transactionalId: null, transactionTimeoutMs: -1 }),
    /disk full/,
  );
});

Deno.test("ProducerIdManager bumps a transactional id's epoch and moves to a new id at the top", () => {
  const events: ProducerIdEvent[] = [];
  const manager = new ProducerIdManager({ persist: (e) => events.push(e) });
  const a = manager.initProducerId("txn-a");
  const b = manager.initProducerId("txn-a");
  assert.equal(b.producerId, a.producerId);
  assert.equal(b.producerEpoch, a.producerEpoch + 1);
  assert.notEqual(manager.initProducerId("txn-b").producerId, a.producerId);
  const restarted = new ProducerIdManager({ events });
  assert.deepEqual(restarted.initProducerId("txn-a"), {
    producerId: a.producerId,
    producerEpoch: 2,
  });
  // Exhausting the epoch moves to a fresh id.
  const top = new ProducerIdManager({
    events: [{
      type: "transactional_producer",
      transactionalId: "t",
      producerId: 5,
      producerEpoch: PRODUCER_EPOCH_MAX,
    }],
  });
  const next = top.initProducerId("t");
  assert.equal(next.producerEpoch, 0);
  assert.ok(next.producerId > 5n);
  assert.throws(() => top.initProducerId(""), /transactionalId/);
});

Deno.test("handleInitProducerId() answers ids and maps KaErrors to codes", () => {
  const manager = new ProducerIdManager();
  assert.deepEqual(
    handleInitProducerId(manager, { transactionalId: null, transactionTimeoutMs: -1 }),
    {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 0n,
      producerEpoch: 0,
    },
  );
  assert.deepEqual(
    handleInitProducerId(manager, { transactionalId: "", transactionTimeoutMs: 1000 }),
    {
      throttleTimeMs: 0,
      errorCode: ERRORS.INVALID_REQUEST.code,
      producerId: -1n,
      producerEpoch: -1,
    },
  );
});
