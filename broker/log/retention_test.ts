/**
 * Tests for retention: topic configs over broker defaults, one pass over
 * several logs of both engines, and the periodic upkeep task (flush.ms and
 * retention) driven by an injected clock and sleep.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import { DiskLog } from "./disk_log.ts";
import { MemoryLog } from "./memory_log.ts";
import type { PartitionLog } from "./partition_log.ts";
import {
  applyRetentionAll,
  type MaintainedLog,
  retentionPolicyOf,
  runLogMaintenance,
} from "./retention.ts";

const BASE_TS = 1_700_000_000_000;
const DEFAULTS = { retentionMs: 604_800_000, retentionBytes: -1 };

/** Appends `count` one-record batches, batch i timestamped BASE_TS + i * 1000; returns a batch's size. */
function fill(log: PartitionLog, count: number): number {
  let size = 0;
  for (let i = 0; i < count; i++) {
    const bytes = encodeRecordBatch([{ value: new TextEncoder().encode(`v${i % 10}`) }], {
      timestamp: BASE_TS + i * 1000,
    });
    size = bytes.length;
    log.append(bytes, readBatchHeader(bytes), 0);
  }
  return size;
}

Deno.test("retentionPolicyOf() takes topic configs over broker defaults; -1 is unlimited", () => {
  const at = { nowMs: 5, maxOffset: 7n };
  assert.deepEqual(retentionPolicyOf({}, DEFAULTS, at), {
    nowMs: 5,
    retentionMs: 604_800_000,
    retentionBytes: -1,
    maxOffset: 7n,
  });
  assert.deepEqual(
    retentionPolicyOf({ "retention.ms": "-1", "retention.bytes": "1000" }, DEFAULTS, at),
    { nowMs: 5, retentionMs: -1, retentionBytes: 1000, maxOffset: 7n },
  );
  // Values the coordinator would have refused fall back to the defaults.
  assert.deepEqual(
    retentionPolicyOf({ "retention.ms": "abc", "retention.bytes": "-5" }, DEFAULTS, at),
    { nowMs: 5, retentionMs: 604_800_000, retentionBytes: -1, maxOffset: 7n },
  );
});

Deno.test("applyRetentionAll() applies each topic's policy to memory and disk logs, below the high watermark", () => {
  const dir = Deno.makeTempDirSync({ prefix: "retention_test_" });
  try {
    const lines: string[] = [];
    const logger = createLogger("t", { sink: (l) => lines.push(l) });
    const memory = new MemoryLog();
    const size = fill(memory, 10);
    const disk = DiskLog.open(dir, { segmentBytes: 2 * size, logger });
    fill(disk, 10);
    const kept = new MemoryLog();
    fill(kept, 10);
    const targets: MaintainedLog[] = [
      { name: "time-0", log: memory, configs: { "retention.ms": "3500" }, highWatermark: 10n },
      {
        name: "size-0",
        log: disk,
        configs: { "retention.bytes": String(5 * size) },
        highWatermark: 10n,
      },
      { name: "kept-0", log: kept, configs: { "retention.ms": "1" }, highWatermark: 0n },
    ];
    const deleted = applyRetentionAll(targets, {
      defaults: DEFAULTS,
      nowMs: BASE_TS + 9000,
      logger,
    });
    // Memory: batches 0..5 are more than 3500 ms older than BASE_TS + 9000.
    assert.equal(memory.logStartOffset, 6n);
    // Disk: segments of 2 batches; deleting 2 segments leaves 6 batches ≥ 5, a third would leave 4.
    assert.equal(disk.logStartOffset, 4n);
    assert.equal(kept.logStartOffset, 0n, "nothing is committed: nothing goes");
    assert.equal(deleted, 6 * size + 4 * size);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) =>
      l.msg === "retention deleted old data"
    );
    assert.deepEqual(logged.map((l) => [l.partition, l.deletedUnits, l.logStartOffset]), [
      ["time-0", 6, "6"],
      ["size-0", 2, "4"],
    ]);
    disk.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("applyRetentionAll() logs a failing log and goes on with the others", () => {
  const dir = Deno.makeTempDirSync({ prefix: "retention_test_" });
  try {
    const lines: string[] = [];
    const logger = createLogger("t", { sink: (l) => lines.push(l) });
    const closed = DiskLog.open(dir, { segmentBytes: 1024, logger });
    closed.close();
    const memory = new MemoryLog();
    fill(memory, 3);
    applyRetentionAll([
      { name: "closed-0", log: closed, configs: { "retention.ms": "1" }, highWatermark: 3n },
      { name: "mem-0", log: memory, configs: { "retention.ms": "1" }, highWatermark: 3n },
    ], { defaults: DEFAULTS, nowMs: BASE_TS + 1e9, logger });
    assert.equal(memory.logStartOffset, 3n);
    assert.ok(lines.some((l) => JSON.parse(l).msg === "retention failed"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("runLogMaintenance() checks flush.ms every tick and applies retention every retentionIntervalMs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "retention_test_" });
  try {
    let now = BASE_TS;
    const logger = createLogger("t", { sink: () => {} });
    const disk = DiskLog.open(dir, {
      segmentBytes: 1 << 20,
      flushMs: 2500,
      now: () => now,
      logger,
    });
    const memory = new MemoryLog();
    fill(memory, 20); // timestamps BASE_TS .. BASE_TS + 19000
    const controller = new AbortController();
    const seen: { now: number; unflushed: number; start: bigint }[] = [];
    let ticks = 0;
    await runLogMaintenance({
      targets: (): MaintainedLog[] => [
        { name: "d-0", log: disk, configs: {}, highWatermark: 0n },
        { name: "m-0", log: memory, configs: { "retention.ms": "2000" }, highWatermark: 20n },
      ],
      defaults: DEFAULTS,
      logger,
      signal: controller.signal,
      now: () => now,
      tickMs: 1000,
      retentionIntervalMs: 5000,
      sleep: (ms) => {
        seen.push({ now, unflushed: disk.unflushedRecords, start: memory.logStartOffset });
        if (++ticks === 8) controller.abort();
        // Between ticks a record arrives and the clock moves on.
        fill(disk, 1);
        now += ms;
        return Promise.resolve();
      },
    });
    // Retention ran at ticks 0 and 5: at BASE_TS + 5000, batches 0-2 were over 2000 ms old.
    assert.deepEqual(seen.map((s) => s.start), [0n, 0n, 0n, 0n, 0n, 3n, 3n, 3n]);
    // flush.ms 2500: the ticks at +3000 and +6000 found a flush due.
    assert.deepEqual(seen.map((s) => s.unflushed), [0, 1, 2, 0, 1, 2, 0, 1]);
    disk.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
