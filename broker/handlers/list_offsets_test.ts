/**
 * Tests for the ListOffsets handler: earliest, latest and by timestamp.
 * @module
 */
import assert from "node:assert/strict";
import { ERRORS, type ListOffsetsResponse } from "@kafka-analog/lib/protocol";
import { FIXTURE_TS, fixtureBatch, fixtureBroker, produceRequest } from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { EARLIEST_TIMESTAMP, handleListOffsets, LATEST_TIMESTAMP } from "./list_offsets.ts";
import { handleProduce } from "./produce.ts";

function listOffsets(broker: Broker, topic: string, partition: number, timestamp: bigint) {
  const response: ListOffsetsResponse = handleListOffsets(broker, {
    replicaId: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp }] }],
  });
  assert.equal(response.topics.length, 1);
  assert.equal(response.topics[0].name, topic);
  assert.equal(response.topics[0].partitions.length, 1);
  return response.topics[0].partitions[0];
}

/** Produces 3 batches: offsets 0-1 at ts+0..+1, 2-4 at ts+1000..+1002, 5 at ts+2000. */
async function fill(broker: Broker): Promise<void> {
  const batch = (label: string, count: number, ts: number) =>
    fixtureBatch(
      label,
      count,
      Array.from({ length: count }, (_, i) => ({ value: new Uint8Array([i]), timestamp: ts + i })),
    );
  for (
    const b of [
      batch("a", 2, FIXTURE_TS),
      batch("b", 3, FIXTURE_TS + 1000),
      batch("c", 1, FIXTURE_TS + 2000),
    ]
  ) {
    await handleProduce(broker, produceRequest("t", 0, b));
  }
}

Deno.test("handleListOffsets() answers earliest and latest on an empty partition", () => {
  const broker = fixtureBroker();
  const earliest = listOffsets(broker, "t", 0, EARLIEST_TIMESTAMP);
  assert.deepEqual(earliest, {
    partitionIndex: 0,
    errorCode: 0,
    timestamp: -1n,
    offset: 0n,
    leaderEpoch: 4,
  });
  assert.equal(listOffsets(broker, "t", 0, LATEST_TIMESTAMP).offset, 0n);
  assert.equal(listOffsets(broker, "t", 0, BigInt(FIXTURE_TS)).offset, -1n);
});

Deno.test("handleListOffsets() answers earliest 0 and latest = high watermark", async () => {
  const broker = fixtureBroker();
  await fill(broker);
  assert.equal(listOffsets(broker, "t", 0, EARLIEST_TIMESTAMP).offset, 0n);
  const latest = listOffsets(broker, "t", 0, LATEST_TIMESTAMP);
  assert.equal(latest.errorCode, 0);
  assert.equal(latest.offset, 6n);
  assert.equal(latest.timestamp, -1n);
});

Deno.test("handleListOffsets() by timestamp finds the first record at or after it", async () => {
  const broker = fixtureBroker();
  await fill(broker);
  // [asked, offset, that record's timestamp]
  const cases: [number, bigint, number][] = [
    [0, 0n, FIXTURE_TS],
    [FIXTURE_TS, 0n, FIXTURE_TS],
    [FIXTURE_TS + 1, 1n, FIXTURE_TS + 1],
    [FIXTURE_TS + 2, 2n, FIXTURE_TS + 1000],
    [FIXTURE_TS + 1000, 2n, FIXTURE_TS + 1000],
    [FIXTURE_TS + 1001, 3n, FIXTURE_TS + 1001],
    [FIXTURE_TS + 1500, 5n, FIXTURE_TS + 2000],
    [FIXTURE_TS + 2000, 5n, FIXTURE_TS + 2000],
    [FIXTURE_TS + 2001, -1n, -1],
  ];
  for (const [ts, offset, recordTs] of cases) {
    const p = listOffsets(broker, "t", 0, BigInt(ts));
    assert.equal(p.errorCode, 0);
    assert.equal(p.offset, offset, `timestamp ${ts}`);
    assert.equal(p.timestamp, BigInt(recordTs), `timestamp ${ts}`);
  }
});

Deno.test("handleListOffsets() answers per-partition errors", () => {
  const broker = fixtureBroker();
  const cases = [
    ["nope", 0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ["t", 7, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ["t", 1, ERRORS.NOT_LEADER_OR_FOLLOWER.code],
    ["elsewhere", 0, ERRORS.NOT_LEADER_OR_FOLLOWER.code],
  ] as const;
  for (const [topic, partition, code] of cases) {
    const p = listOffsets(broker, topic, partition, LATEST_TIMESTAMP);
    assert.deepEqual(p, {
      partitionIndex: partition,
      errorCode: code,
      timestamp: -1n,
      offset: -1n,
      leaderEpoch: -1,
    }, `${topic}-${partition}`);
  }
});
