/**
 * Tests for the disk log: the shared conformance cases (with one segment,
 * and with tiny segments and a dense index so every case crosses segment
 * boundaries), then what only a disk log does — rolling, index lookups,
 * recovery of torn and corrupt tails, corrupt sealed segments, retention of
 * whole segments, and reopening.
 * @module
 */
import { createLogger } from "@kafka-analog/lib/log";
import { runLogCases } from "./_log_cases.ts";
import { DiskLog, type DiskLogOptions } from "./disk_log.ts";
import type { PartitionLog } from "./partition_log.ts";

const QUIET = createLogger("disk-log-test", { sink: () => {} });

function conformance(name: string, options: Omit<DiskLogOptions, "logger">): void {
  runLogCases(
    name,
    () =>
      DiskLog.open(Deno.makeTempDirSync({ prefix: "disk_log_test_" }), {
        ...options,
        logger: QUIET,
      }),
    {
      reopen: (log: PartitionLog) => {
        const dir = (log as DiskLog).dir;
        log.close();
        return DiskLog.open(dir, { ...options, logger: QUIET });
      },
    },
  );
}

conformance("DiskLog", { segmentBytes: 1 << 20 });
conformance("DiskLog (tiny segments)", { segmentBytes: 200, indexIntervalBytes: 1 });

// ---------------------------------------------------------------------------
// What only the disk log does.

import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  type BatchHeader,
  decodeRecords,
  encodeRecordBatch,
  readBatchHeader,
} from "@kafka-analog/lib/protocol";
import { segmentFileName } from "./segment.ts";

const BASE_TS = 1_700_000_000_000;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** A producer batch of `count` records of `valueBytes` bytes each, timestamped `ts`. */
function batch(
  label: string,
  count = 1,
  options: { ts?: number; valueBytes?: number } = {},
): { bytes: Uint8Array; header: BatchHeader } {
  const ts = options.ts ?? BASE_TS;
  const records = Array.from({ length: count }, (_, i) => ({
    value: ENCODER.encode(`${label}-${i}`.padEnd(options.valueBytes ?? 0, ".")),
    timestamp: ts + i,
  }));
  const bytes = encodeRecordBatch(records, { timestamp: ts });
  return { bytes, header: readBatchHeader(bytes) };
}

function append(log: DiskLog, label: string, count = 1, options = {}): void {
  const b = batch(label, count, options);
  log.append(b.bytes, b.header, 0);
}

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "disk_log_test_" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Opens a log whose log lines go to `lines`. */
function open(dir: string, options: Partial<DiskLogOptions> = {}, lines: string[] = []): DiskLog {
  return DiskLog.open(dir, {
    segmentBytes: 1 << 20,
    logger: createLogger("disk-log-test", { sink: (l) => lines.push(l) }),
    ...options,
  });
}

function firstValue(log: DiskLog, offset: bigint): string {
  const [b] = log.read(offset, 1).batches;
  const record = decodeRecords(b).find((r) => r.offset === offset);
  assert.ok(record, `offset ${offset} is in the batch read for it`);
  return DECODER.decode(record.value!);
}

function fileNames(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("DiskLog.append() rolls at segmentBytes into files named by base offset", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 3 * size });
    for (let i = 0; i < 10; i++) append(log, `b${i}`);
    assert.deepEqual(log.segmentInfo().map((s) => [s.baseOffset, s.nextOffset, s.sealed]), [
      [0n, 3n, true],
      [3n, 6n, true],
      [6n, 9n, true],
      [9n, 10n, false],
    ]);
    assert.equal(log.sizeBytes, 10 * size);
    assert.deepEqual(fileNames(dir), [
      segmentFileName(0n, "index"),
      segmentFileName(0n, "log"),
      segmentFileName(0n, "timeindex"),
      segmentFileName(3n, "index"),
      segmentFileName(3n, "log"),
      segmentFileName(3n, "timeindex"),
      segmentFileName(6n, "index"),
      segmentFileName(6n, "log"),
      segmentFileName(6n, "timeindex"),
      segmentFileName(9n, "log"), // the active segment's indexes live in memory
    ]);
    assert.equal(Deno.statSync(`${dir}/${segmentFileName(3n, "log")}`).size, 3 * size);
    // Reads cross segment boundaries like one log.
    assert.deepEqual(
      log.read(1n, 1 << 20).batches.map((b) => readBatchHeader(b).baseOffset),
      [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n],
    );
    log.close();
  });
});

Deno.test("DiskLog gives a batch larger than segmentBytes a segment of its own", () => {
  withDir((dir) => {
    const log = open(dir, { segmentBytes: 200 });
    append(log, "small");
    append(log, "big", 1, { valueBytes: 500 });
    append(log, "small2");
    assert.deepEqual(log.segmentInfo().map((s) => s.baseOffset), [0n, 1n, 2n]);
    assert.equal(firstValue(log, 1n).length, 500);
    log.close();
  });
});

Deno.test("DiskLog rolls once the active segment is older than segmentMs", () => {
  withDir((dir) => {
    let now = 1_000_000;
    const log = open(dir, { segmentMs: 1000, now: () => now });
    append(log, "a");
    now += 999;
    append(log, "b");
    assert.equal(log.segmentInfo().length, 1);
    now += 1;
    append(log, "c");
    assert.deepEqual(log.segmentInfo().map((s) => s.baseOffset), [0n, 2n]);
    now += 5000;
    log.flush();
    assert.equal(log.segmentInfo().length, 2, "no roll without an append");
    log.close();
  });
});

Deno.test("DiskLog reads any offset through the sparse index, in sealed and active segments, before and after reopen", () => {
  withDir((dir) => {
    const log = open(dir, { segmentBytes: 64 * 1024 });
    let offset = 0;
    const counts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const count = 1 + (i % 4);
      append(log, `b${i}`, count, { valueBytes: 1024 / count });
      counts.push(count);
      offset += count;
    }
    const info = log.segmentInfo();
    assert.ok(info.length >= 3, `${info.length} segments`);
    assert.ok(info.every((s) => s.indexEntries >= 5), "every segment is indexed sparsely");
    const check = (l: DiskLog) => {
      let batchIndex = 0;
      let base = 0;
      for (let o = 0; o < offset; o++) {
        if (o >= base + counts[batchIndex]) base += counts[batchIndex++];
        assert.equal(
          firstValue(l, BigInt(o)),
          `b${batchIndex}-${o - base}`.padEnd(1024 / counts[batchIndex], "."),
        );
      }
    };
    check(log);
    log.close();
    const lines: string[] = [];
    const again = open(dir, { segmentBytes: 64 * 1024 }, lines);
    assert.deepEqual(lines, [], "a clean reopen rebuilds and cuts nothing");
    assert.deepEqual(again.segmentInfo(), info.map((s) => ({ ...s, sealed: s.sealed })));
    check(again);
    again.close();
  });
});

Deno.test("DiskLog recovery: the last batch cut at every byte position is dropped, the rest kept, appends continue", () => {
  withDir((dir) => {
    const sizes: number[] = [];
    const log = open(dir, { segmentBytes: 600 });
    for (let i = 0; i < 9; i++) {
      const b = batch(`b${i}`, 3);
      sizes.push(b.bytes.length);
      log.append(b.bytes, b.header, 0);
    }
    const info = log.segmentInfo();
    const active = info[info.length - 1];
    assert.ok(
      info.length > 1 && active.sizeBytes > sizes[8],
      "the active segment holds more than the last batch",
    );
    const before = log.read(0n, 1 << 20).batches.slice(0, -1).map((b) => b.slice());
    const total = log.sizeBytes;
    log.close();
    const path = `${dir}/${segmentFileName(active.baseOffset, "log")}`;
    const pristine = Deno.readFileSync(path);
    const lastLength = sizes[8];
    const lastStart = pristine.length - lastLength;
    for (let cut = 0; cut < lastLength; cut++) {
      Deno.writeFileSync(path, pristine.subarray(0, lastStart + cut));
      const lines: string[] = [];
      const reopened = open(dir, { segmentBytes: 600 }, lines);
      assert.equal(reopened.logEndOffset, 24n, `cut ${cut}`);
      assert.equal(reopened.sizeBytes, total - lastLength, `cut ${cut}`);
      assert.deepEqual(
        reopened.read(0n, 1 << 20).batches,
        before,
        `cut ${cut}: all before it intact`,
      );
      assert.equal(lines.length, cut === 0 ? 0 : 1, `cut ${cut}: what was cut is logged`);
      if (cut > 0) {
        const line = JSON.parse(lines[0]);
        assert.equal(line.msg, "recovered log: cut off a torn or corrupt tail");
        assert.equal(line.truncatedBytes, cut);
      }
      assert.equal(Deno.statSync(path).size, lastStart, `cut ${cut}: the torn bytes are gone`);
      const next = batch("next", 2);
      assert.deepEqual(reopened.append(next.bytes, next.header, 1), {
        baseOffset: 24n,
        lastOffset: 25n,
      });
      reopened.close();
      assert.equal(firstValue(open(dir, { segmentBytes: 600 }), 25n), "next-1");
    }
  });
});

Deno.test("DiskLog recovery: a tail batch that fails its CRC is cut off and logged", () => {
  withDir((dir) => {
    const log = open(dir);
    for (let i = 0; i < 5; i++) append(log, `b${i}`, 2);
    const lastStart = log.sizeBytes - batch("b4", 2).bytes.length;
    log.close();
    const path = `${dir}/${segmentFileName(0n, "log")}`;
    const bytes = Deno.readFileSync(path);
    bytes[bytes.length - 3] ^= 0x01; // a bit flip inside the last record
    Deno.writeFileSync(path, bytes);
    const lines: string[] = [];
    const reopened = open(dir, {}, lines);
    assert.equal(reopened.logEndOffset, 8n);
    assert.equal(reopened.sizeBytes, lastStart);
    assert.equal(lines.length, 1);
    assert.match(JSON.parse(lines[0]).reason, /CRC-32C/);
    assert.equal(firstValue(reopened, 7n), "b3-1");
    reopened.close();
  });
});

Deno.test("DiskLog reports a corrupt batch in a sealed segment as KAFKA_STORAGE_ERROR instead of serving it", () => {
  withDir((dir) => {
    const size = batch("b00").bytes.length;
    const settings = { segmentBytes: 4 * size };
    const log = open(dir, settings);
    for (let i = 0; i < 12; i++) append(log, `b${String(i).padStart(2, "0")}`);
    assert.deepEqual(log.segmentInfo().map((s) => s.baseOffset), [0n, 4n, 8n]);
    log.close();
    // Flip one bit in the record of batch 6 (the third batch of sealed segment 4).
    const path = `${dir}/${segmentFileName(4n, "log")}`;
    const bytes = Deno.readFileSync(path);
    bytes[3 * size - 2] ^= 0x10;
    Deno.writeFileSync(path, bytes);
    const lines: string[] = [];
    const reopened = open(dir, settings, lines);
    assert.deepEqual(lines, [], "sealed segments are not scanned on open");
    assert.equal(reopened.logEndOffset, 12n, "nothing is cut from a sealed segment");
    assert.throws(
      () => reopened.read(6n, 1 << 20),
      (e) => isKaError(e, "KAFKA_STORAGE_ERROR") && e.message.includes(path),
    );
    // A read that reaches it serves what lies before and stops there.
    const upTo = reopened.read(0n, 1 << 20).batches.map((b) => readBatchHeader(b).baseOffset);
    assert.deepEqual(upTo, [0n, 1n, 2n, 3n, 4n, 5n]);
    // The rest of the log still reads.
    assert.equal(firstValue(reopened, 7n), "b07-0");
    assert.equal(firstValue(reopened, 10n), "b10-0");
    // Logged once, however often it is read.
    assert.throws(() => reopened.read(6n, 1));
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
    assert.equal(errors.length, 1);
    assert.equal(errors[0].msg, "corrupt data in a log segment");
    assert.equal(errors[0].position, 2 * size);
    reopened.close();
  });
});

Deno.test("DiskLog reports a sealed segment whose batch length is damaged", () => {
  withDir((dir) => {
    const size = batch("b00").bytes.length;
    const log = open(dir, { segmentBytes: 4 * size });
    for (let i = 0; i < 8; i++) append(log, `b${i}`);
    log.close();
    const path = `${dir}/${segmentFileName(0n, "log")}`;
    const bytes = Deno.readFileSync(path);
    new DataView(bytes.buffer).setInt32(size + 8, 1_000_000); // batch 1's batchLength
    Deno.writeFileSync(path, bytes);
    const reopened = open(dir, { segmentBytes: 4 * size });
    assert.throws(() => reopened.read(1n, 1 << 20), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    assert.deepEqual(reopened.read(0n, 1 << 20).batches.length, 1);
    assert.equal(firstValue(reopened, 5n), "b5-0");
    reopened.close();
  });
});

Deno.test("DiskLog time retention deletes whole expired sealed segments, never the active one", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 2 * size });
    // Batch i is timestamped BASE_TS + i * 1000; segments hold batches (0,1) (2,3) (4,5) (6).
    for (let i = 0; i < 7; i++) append(log, `b${i}`, 1, { ts: BASE_TS + i * 1000 });
    const policy = { retentionMs: 2500, retentionBytes: -1, maxOffset: log.logEndOffset };
    // At BASE_TS + 4000 segment (0,1) is 3000 ms old (its newest batch), (2,3) only 1000.
    assert.deepEqual(log.applyRetention({ ...policy, nowMs: BASE_TS + 4000 }), {
      deletedBytes: 2 * size,
      deletedUnits: 1,
      logStartOffset: 2n,
    });
    assert.equal(log.sizeBytes, 5 * size);
    assert.equal(
      fileNames(dir).filter((n) => n.startsWith(segmentFileName(0n, "log").slice(0, 20))).length,
      0,
    );
    // Far in the future every sealed segment is expired; the active one stays.
    const late = log.applyRetention({ ...policy, nowMs: BASE_TS + 1e9 });
    assert.equal(late.deletedUnits, 2);
    assert.equal(log.logStartOffset, 6n);
    assert.equal(log.segmentInfo().length, 1);
    assert.equal(firstValue(log, 6n), "b6-0");
    log.close();
    assert.equal(
      open(dir, { segmentBytes: 2 * size }).logStartOffset,
      6n,
      "the start survives a reopen",
    );
  });
});

Deno.test("DiskLog size retention deletes the oldest sealed segments while the rest stays above the limit", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 2 * size });
    for (let i = 0; i < 9; i++) append(log, `b${i}`); // segments of 2 batches, active holds b8
    const policy = { nowMs: 0, retentionMs: -1, maxOffset: log.logEndOffset };
    // Keep at least 5 batches' worth: deleting (0,1) and (2,3) leaves 5, deleting (4,5) would leave 3.
    const result = log.applyRetention({ ...policy, retentionBytes: 5 * size });
    assert.deepEqual(result, { deletedBytes: 4 * size, deletedUnits: 2, logStartOffset: 4n });
    assert.equal(log.sizeBytes, 5 * size);
    assert.equal(log.applyRetention({ ...policy, retentionBytes: 5 * size }).deletedUnits, 0);
    // Even a limit of 1 byte keeps the active segment.
    log.applyRetention({ ...policy, retentionBytes: 1 });
    assert.deepEqual(log.segmentInfo().map((s) => s.baseOffset), [8n]);
    log.close();
  });
});

Deno.test("DiskLog retention keeps segments that reach the high watermark (maxOffset)", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 2 * size });
    for (let i = 0; i < 7; i++) append(log, `b${i}`);
    const policy = { nowMs: BASE_TS + 1e9, retentionMs: 1, retentionBytes: -1 };
    assert.equal(
      log.applyRetention({ ...policy, maxOffset: 3n }).deletedUnits,
      1,
      "(0,1) is below 3",
    );
    assert.equal(log.logStartOffset, 2n, "(2,3) ends at 4 > 3 and stays");
    assert.equal(log.applyRetention({ ...policy, maxOffset: 4n }).logStartOffset, 4n);
    log.close();
  });
});

Deno.test("DiskLog flushes by flush.messages and flush.ms; unflushed records are counted", () => {
  withDir((dir) => {
    let now = 0;
    const log = open(dir, { flushMessages: 5, flushMs: 1000, now: () => now });
    append(log, "a", 3);
    assert.equal(log.unflushedRecords, 3);
    append(log, "b", 2);
    assert.equal(log.unflushedRecords, 0, "5 records reach flush.messages");
    append(log, "c", 1);
    log.flush(999);
    assert.equal(log.unflushedRecords, 1, "flush.ms not due yet");
    log.flush(1000);
    assert.equal(log.unflushedRecords, 0, "due");
    now = 1500;
    append(log, "d", 1);
    assert.equal(log.unflushedRecords, 1);
    now = 2000;
    append(log, "e", 1);
    assert.equal(log.unflushedRecords, 0, "an append after flush.ms flushes");
    log.close();
    const never = open(dir);
    append(never, "f", 50);
    never.flush(Number.MAX_SAFE_INTEGER);
    assert.equal(never.unflushedRecords, 50, "no flush.ms: only an explicit flush() syncs");
    never.flush();
    assert.equal(never.unflushedRecords, 0);
    never.close();
  });
});

Deno.test("DiskLog.append() checks the CRC again before writing", () => {
  withDir((dir) => {
    const log = open(dir);
    const b = batch("x", 2);
    b.bytes[b.bytes.length - 1] ^= 0xff;
    assert.throws(() => log.append(b.bytes, b.header, 0), (e) => isKaError(e, "CORRUPT_MESSAGE"));
    assert.equal(log.logEndOffset, 0n);
    assert.equal(log.sizeBytes, 0);
    log.close();
  });
});

Deno.test("DiskLog.open() removes temporary and orphaned files and takes an empty last segment", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 2 * size });
    for (let i = 0; i < 4; i++) append(log, `b${i}`);
    log.close();
    // A crash mid-roll: the next segment's empty file exists; leftovers of other work too.
    Deno.writeFileSync(`${dir}/${segmentFileName(4n, "log")}`, new Uint8Array(0));
    Deno.writeFileSync(`${dir}/${segmentFileName(2n, "index")}.tmp`, new Uint8Array(3));
    Deno.writeFileSync(`${dir}/${segmentFileName(99n, "index")}`, new Uint8Array(8));
    const reopened = open(dir, { segmentBytes: 2 * size });
    assert.equal(reopened.logEndOffset, 4n);
    assert.deepEqual(reopened.segmentInfo().map((s) => [s.baseOffset, s.sealed]), [
      [0n, true],
      [2n, true],
      [4n, false],
    ]);
    assert.ok(
      !fileNames(dir).some((n) =>
        n.endsWith(".tmp") || n.startsWith(segmentFileName(99n, "log").slice(0, 20))
      ),
    );
    append(reopened, "b4");
    assert.equal(firstValue(reopened, 4n), "b4-0");
    reopened.close();
  });
});

Deno.test("DiskLog truncateTo() across segments deletes later segments and reopens at the cut", () => {
  withDir((dir) => {
    const size = batch("b0").bytes.length;
    const log = open(dir, { segmentBytes: 2 * size });
    for (let i = 0; i < 7; i++) append(log, `b${i}`);
    assert.equal(log.truncateTo(3n), 3n);
    assert.deepEqual(log.segmentInfo().map((s) => [s.baseOffset, s.nextOffset, s.sealed]), [
      [0n, 2n, true],
      [2n, 3n, false],
    ]);
    assert.equal(log.sizeBytes, 3 * size);
    assert.ok(!fileNames(dir).includes(segmentFileName(4n, "log")));
    append(log, "again");
    log.close();
    const reopened = open(dir, { segmentBytes: 2 * size });
    assert.equal(reopened.logEndOffset, 4n);
    assert.equal(firstValue(reopened, 3n), "again-0");
    reopened.close();
  });
});

Deno.test("DiskLog after close() refuses use; delete() removes the partition directory", () => {
  const parent = Deno.makeTempDirSync({ prefix: "disk_log_test_" });
  try {
    const dir = `${parent}/t-0`;
    const log = open(dir);
    append(log, "x");
    log.close();
    log.close();
    assert.throws(() => append(log, "y"), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    assert.throws(() => log.read(0n, 1), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    const again = open(dir);
    assert.equal(again.logEndOffset, 1n);
    again.delete();
    assert.deepEqual(fileNames(parent), []);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});
