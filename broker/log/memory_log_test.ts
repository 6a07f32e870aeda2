/**
 * Runs the shared PartitionLog conformance cases against the memory log.
 * @module
 */
import { runLogCases } from "./_log_cases.ts";
import { MemoryLog } from "./memory_log.ts";

runLogCases("MemoryLog", () => new MemoryLog());

// ---------------------------------------------------------------------------
// Retention in memory: whole batches, oldest first.

import assert from "node:assert/strict";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";

const BASE_TS = 1_700_000_000_000;

/** A log of 5 one-record batches, batch i timestamped BASE_TS + i * 1000; returns it and a batch's size. */
function timedLog(): { log: MemoryLog; size: number } {
  const log = new MemoryLog();
  let size = 0;
  for (let i = 0; i < 5; i++) {
    const bytes = encodeRecordBatch([{ value: new TextEncoder().encode(`v${i}`) }], {
      timestamp: BASE_TS + i * 1000,
    });
    size = bytes.length;
    log.append(bytes, readBatchHeader(bytes), 0);
  }
  return { log, size };
}

Deno.test("MemoryLog.applyRetention() by time deletes the batches older than retentionMs", () => {
  const { log, size } = timedLog();
  const result = log.applyRetention({
    nowMs: BASE_TS + 3500,
    retentionMs: 2000,
    retentionBytes: -1,
    maxOffset: log.logEndOffset,
  });
  // Batches 0 (3500 ms old) and 1 (2500 ms) go; batch 2 is exactly 1500 ms old and stays.
  assert.deepEqual(result, { deletedBytes: 2 * size, deletedUnits: 2, logStartOffset: 2n });
  assert.equal(log.sizeBytes, 3 * size);
  assert.equal(readBatchHeader(log.read(0n, 1).batches[0]).baseOffset, 2n);
  // Everything expired: the log is empty, its start at its end.
  log.applyRetention({
    nowMs: BASE_TS + 1e9,
    retentionMs: 2000,
    retentionBytes: -1,
    maxOffset: log.logEndOffset,
  });
  assert.equal(log.logStartOffset, 5n);
  assert.equal(log.logEndOffset, 5n);
  assert.equal(log.sizeBytes, 0);
  assert.equal(log.truncateTo(0n), 5n, "an empty log ends at its start");
});

Deno.test("MemoryLog.applyRetention() by size deletes the oldest batches while retentionBytes stay", () => {
  const { log, size } = timedLog();
  const result = log.applyRetention({
    nowMs: 0,
    retentionMs: -1,
    retentionBytes: 2 * size + 1,
    maxOffset: log.logEndOffset,
  });
  assert.deepEqual(result, { deletedBytes: 2 * size, deletedUnits: 2, logStartOffset: 2n });
  assert.equal(log.sizeBytes, 3 * size, "deleting a third batch would leave less than the limit");
});

Deno.test("MemoryLog.applyRetention() stops at maxOffset (the high watermark)", () => {
  const { log } = timedLog();
  const result = log.applyRetention({
    nowMs: BASE_TS + 1e9,
    retentionMs: 1,
    retentionBytes: -1,
    maxOffset: 3n,
  });
  assert.equal(result.logStartOffset, 3n, "batches 0-2 lie below 3");
});
