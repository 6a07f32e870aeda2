/**
 * Tests for the idempotence table: new, duplicate, out of order, fencing,
 * unknown producers, the 5-batch window, wrap-around, eviction and rebuild.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import {
  lastSequenceOf,
  type ProducerBatchHeader,
  ProducerStateTable,
  sequenceAfter,
} from "./producer_state.ts";

function header(
  producerId: bigint,
  producerEpoch: number,
  baseSequence: number,
  recordCount = 1,
  baseOffset = 0n,
): ProducerBatchHeader {
  return {
    producerId,
    producerEpoch,
    baseSequence,
    recordCount,
    lastOffsetDelta: recordCount - 1,
    attributes: 0,
    baseOffset,
  };
}

/** Appends like a leader would: check, then record at the next offset. */
function append(table: ProducerStateTable, h: ProducerBatchHeader, logEnd: { offset: bigint }) {
  const result = table.check(h);
  if (result.kind === "duplicate") return result;
  table.record(h, logEnd.offset);
  const base = logEnd.offset;
  logEnd.offset += BigInt(h.recordCount);
  return { kind: "new" as const, baseOffset: base };
}

Deno.test("ProducerStateTable.check() treats non-idempotent and control batches as new", () => {
  const table = new ProducerStateTable();
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(table.check(header(-1n, -1, -1)), { kind: "new" });
    table.record(header(-1n, -1, -1), BigInt(i));
  }
  assert.equal(table.size, 0);
  const control = { ...header(7n, 0, 5), attributes: 0x20 };
  assert.deepEqual(table.check(control), { kind: "new" });
});

Deno.test("ProducerStateTable answers a retried batch with its original base offset", () => {
  const table = new ProducerStateTable();
  const end = { offset: 0n };
  assert.deepEqual(append(table, header(1n, 0, 0, 3), end), { kind: "new", baseOffset: 0n });
  assert.deepEqual(append(table, header(1n, 0, 3, 2), end), { kind: "new", baseOffset: 3n });
  assert.deepEqual(table.check(header(1n, 0, 0, 3)), {
    kind: "duplicate",
    baseOffset: 0n,
    lastOffset: 2n,
  });
  assert.deepEqual(table.check(header(1n, 0, 3, 2)), {
    kind: "duplicate",
    baseOffset: 3n,
    lastOffset: 4n,
  });
  assert.deepEqual(append(table, header(1n, 0, 5, 1), end), { kind: "new", baseOffset: 5n });
  assert.equal(end.offset, 6n);
});

Deno.test("ProducerStateTable rejects a gap and a partial overlap with OUT_OF_ORDER_SEQUENCE_NUMBER", () => {
  const table = new ProducerStateTable();
  const end = { offset: 0n };
  append(table, header(1n, 0, 0, 3), end);
  assert.throws(
    () => table.check(header(1n, 0, 4)),
    (e) =>
      isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER") &&
      /must be 3: current value is 4/.test(e.message),
  );
  assert.throws(
    () => table.check(header(1n, 0, 1, 2)),
    (e) => isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER"),
  );
  assert.throws(
    () => table.check(header(1n, 0, 0, 2)),
    (e) => isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER"),
  );
});

Deno.test("ProducerStateTable keeps only the last 5 batches: an older retry is out of order", () => {
  const table = new ProducerStateTable();
  const end = { offset: 0n };
  for (let seq = 0; seq < 6; seq++) append(table, header(9n, 0, seq), end);
  assert.equal(table.entry(9n)!.batches.length, 5);
  assert.deepEqual(table.check(header(9n, 0, 1)), {
    kind: "duplicate",
    baseOffset: 1n,
    lastOffset: 1n,
  });
  assert.throws(
    () => table.check(header(9n, 0, 0)),
    (e) => isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER"),
  );
});

Deno.test("ProducerStateTable fences an older epoch and lets a newer one start at 0", () => {
  const table = new ProducerStateTable();
  const end = { offset: 0n };
  append(table, header(4n, 2, 0, 2), end);
  assert.throws(() => table.check(header(4n, 1, 2)), (e) => isKaError(e, "INVALID_PRODUCER_EPOCH"));
  assert.throws(
    () => table.check(header(4n, 3, 2)),
    (e) => isKaError(e, "OUT_OF_ORDER_SEQUENCE_NUMBER"),
  );
  assert.deepEqual(append(table, header(4n, 3, 0), end), { kind: "new", baseOffset: 2n });
  assert.equal(table.entry(4n)!.producerEpoch, 3);
  assert.throws(() => table.check(header(4n, 2, 2)), (e) => isKaError(e, "INVALID_PRODUCER_EPOCH"));
});

Deno.test("ProducerStateTable: an unknown producer must start at sequence 0", () => {
  const table = new ProducerStateTable();
  assert.throws(
    () => table.check(header(5n, 0, 7)),
    (e) => isKaError(e, "UNKNOWN_PRODUCER_ID") && /must be 0/.test(e.message),
  );
  assert.deepEqual(table.check(header(5n, 0, 0)), { kind: "new" });
  assert.throws(() => table.check(header(5n, 0, -1)), (e) => isKaError(e, "INVALID_REQUEST"));
  assert.throws(() => table.check(header(5n, -1, 0)), (e) => isKaError(e, "INVALID_REQUEST"));
});

Deno.test("ProducerStateTable: sequences wrap from 2^31-1 to 0", () => {
  assert.equal(sequenceAfter(0x7fffffff, 1), 0);
  assert.equal(sequenceAfter(0x7ffffffe, 3), 1);
  assert.equal(lastSequenceOf(0x7ffffffe, 3), 0);
  const table = new ProducerStateTable();
  const end = { offset: 0n };
  append(table, header(2n, 0, 0), end);
  // Jump near the top through a fresh epoch, then wrap.
  append(table, header(2n, 1, 0, 1), end);
  table.record(header(2n, 1, 1, 0x7fffffff), end.offset); // sequences 1..2^31-1
  assert.deepEqual(table.check(header(2n, 1, 0, 2)), { kind: "new" });
});

Deno.test("ProducerStateTable forgets the least recently written producer beyond its bound", () => {
  const table = new ProducerStateTable({ producersMax: 3 });
  const end = { offset: 0n };
  for (const id of [1n, 2n, 3n]) append(table, header(id, 0, 0), end);
  append(table, header(1n, 0, 1), end); // 1 is now the most recent
  append(table, header(4n, 0, 0), end); // evicts 2
  assert.equal(table.size, 3);
  assert.equal(table.entry(2n), undefined);
  assert.throws(() => table.check(header(2n, 0, 1)), (e) => isKaError(e, "UNKNOWN_PRODUCER_ID"));
  assert.deepEqual(table.check(header(1n, 0, 2)), { kind: "new" });
});

Deno.test("ProducerStateTable.rebuildFrom() recovers duplicates from real log batches", () => {
  const leader = new ProducerStateTable();
  const log: ProducerBatchHeader[] = [];
  let offset = 0n;
  const records = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ value: new Uint8Array([i]) }));
  for (const [seq, count] of [[0, 2], [2, 3], [5, 1]] as const) {
    const bytes = encodeRecordBatch(records(count), {
      timestamp: 1,
      producerId: 77n,
      producerEpoch: 0,
      baseSequence: seq,
      baseOffset: offset,
    });
    const h = readBatchHeader(bytes);
    assert.deepEqual(leader.check(h), { kind: "new" });
    leader.record(h, offset);
    log.push(h);
    offset += BigInt(count);
  }
  // Another producer's and a non-idempotent batch in between.
  log.push({ ...header(-1n, -1, -1, 4), baseOffset: offset });
  offset += 4n;
  const follower = new ProducerStateTable();
  follower.rebuildFrom(log);
  assert.deepEqual(follower.entry(77n), leader.entry(77n));
  assert.deepEqual(follower.check(header(77n, 0, 2, 3)), {
    kind: "duplicate",
    baseOffset: 2n,
    lastOffset: 4n,
  });
  assert.deepEqual(follower.check(header(77n, 0, 6)), { kind: "new" });
  // Rebuilding from a truncated log forgets what was cut.
  follower.rebuildFrom(log.slice(0, 2));
  assert.deepEqual(follower.check(header(77n, 0, 5)), { kind: "new" });
});
