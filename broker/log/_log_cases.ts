/**
 * The conformance suite every {@linkcode PartitionLog} engine must pass. Each
 * engine's test file calls {@linkcode runLogCases} with a factory, so the
 * memory log and the disk log are held to the same contract (as Hono's
 * `common.case.test.ts` does for its routers).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  type BatchHeader,
  decodeRecords,
  encodeRecordBatch,
  readBatchHeader,
  splitBatches,
  verifyBatchCrc,
} from "@kafka-analog/lib/protocol";
import type { PartitionLog } from "./partition_log.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const BASE_TS = 1_700_000_000_000;

/** A fresh batch of `count` records valued `${label}-${i}`, timestamped `timestamp + i`. */
function makeBatch(
  label: string,
  count: number,
  timestamp = BASE_TS,
): { bytes: Uint8Array; header: BatchHeader } {
  const records = Array.from({ length: count }, (_, i) => ({
    key: ENCODER.encode(`k${i}`),
    value: ENCODER.encode(`${label}-${i}`),
    timestamp: timestamp + i,
  }));
  const bytes = encodeRecordBatch(records, { timestamp });
  return { bytes, header: readBatchHeader(bytes) };
}

/** Appends batches of the given sizes; returns the byte length of each as appended. */
function appendAll(log: PartitionLog, counts: number[], epoch = 0): number[] {
  return counts.map((count, i) => {
    const { bytes, header } = makeBatch(`b${i}`, count, BASE_TS + i * 1000);
    log.append(bytes, header, epoch);
    return bytes.length;
  });
}

/** A batch as a leader stored it: base offset and leader epoch already set. */
function leaderBatch(
  label: string,
  count: number,
  baseOffset: bigint,
  epoch: number,
): { bytes: Uint8Array; header: BatchHeader } {
  const records = Array.from({ length: count }, (_, i) => ({
    value: ENCODER.encode(`${label}-${i}`),
    timestamp: BASE_TS + Number(baseOffset) + i,
  }));
  const bytes = encodeRecordBatch(records, {
    timestamp: BASE_TS + Number(baseOffset),
    baseOffset,
    partitionLeaderEpoch: epoch,
  });
  return { bytes, header: readBatchHeader(bytes) };
}

function values(batches: Uint8Array[]): string[] {
  return batches.flatMap((b) => decodeRecords(b).map((r) => DECODER.decode(r.value!)));
}

function baseOffsets(batches: Uint8Array[]): bigint[] {
  return batches.map((b) => readBatchHeader(b).baseOffset);
}

/** Options for {@linkcode runLogCases}. */
export interface LogCaseOptions {
  /**
   * Closes `log` and opens it again from its storage (a restart). Engines
   * that persist pass it, and the cases that check what survives a restart
   * run too.
   */
  reopen?: (log: PartitionLog) => PartitionLog;
}

/**
 * Registers the shared PartitionLog cases as Deno tests named `${name}: …`.
 * `makeLog` must return a new, empty log on every call. Every log a case
 * opens is deleted when the case ends, pass or fail (disk logs remove their
 * directories).
 */
export function runLogCases(
  name: string,
  makeLog: () => PartitionLog,
  options: LogCaseOptions = {},
): void {
  const opened: PartitionLog[] = [];
  function make(): PartitionLog {
    const log = makeLog();
    opened.push(log);
    return log;
  }
  function test(title: string, body: () => void): void {
    Deno.test(`${name}: ${title}`, () => {
      try {
        body();
      } finally {
        for (const log of opened.splice(0)) log.delete();
      }
    });
  }
  const reopenLog = options.reopen;
  function reopen(log: PartitionLog): PartitionLog {
    assert.ok(reopenLog);
    const again = reopenLog(log);
    opened.push(again);
    return again;
  }

  test(`an empty log starts at offset 0 and reads nothing`, () => {
    const log = make();
    assert.equal(log.logStartOffset, 0n);
    assert.equal(log.logEndOffset, 0n);
    assert.equal(log.sizeBytes, 0);
    assert.deepEqual(log.read(0n, 1024), { batches: [], bytes: 0 });
    assert.equal(log.offsetForTimestamp(0), null);
  });

  test(`append() assigns dense, increasing offsets across multi-record batches`, () => {
    const log = make();
    const results = [3, 1, 5, 2].map((count, i) => {
      const { bytes, header } = makeBatch(`b${i}`, count);
      return log.append(bytes, header, 0);
    });
    assert.deepEqual(results, [
      { baseOffset: 0n, lastOffset: 2n },
      { baseOffset: 3n, lastOffset: 3n },
      { baseOffset: 4n, lastOffset: 8n },
      { baseOffset: 9n, lastOffset: 10n },
    ]);
    assert.equal(log.logEndOffset, 11n);
    assert.equal(log.logStartOffset, 0n);
    // Each batch starts right after the previous one's last offset.
    for (let i = 1; i < results.length; i++) {
      assert.equal(results[i].baseOffset, results[i - 1].lastOffset + 1n);
    }
  });

  test(`append() ignores the producer's base offset`, () => {
    const log = make();
    appendAll(log, [2]);
    const records = [{ value: ENCODER.encode("x") }];
    const bytes = encodeRecordBatch(records, { timestamp: BASE_TS, baseOffset: 777n });
    const result = log.append(bytes, readBatchHeader(bytes), 0);
    assert.deepEqual(result, { baseOffset: 2n, lastOffset: 2n });
    assert.deepEqual(baseOffsets(log.read(2n, 1 << 20).batches), [2n]);
  });

  test(`sizeBytes counts every appended byte`, () => {
    const log = make();
    const sizes = appendAll(log, [1, 4, 2]);
    assert.equal(log.sizeBytes, sizes.reduce((a, b) => a + b, 0));
  });

  test(`stored batches carry the base offset and leader epoch, CRC still valid`, () => {
    const log = make();
    appendAll(log, [2], 3);
    const { bytes, header } = makeBatch("patched", 3);
    log.append(bytes, header, 7);
    const read = log.read(2n, 1 << 20);
    assert.equal(read.batches.length, 1);
    const stored = read.batches[0];
    const h = readBatchHeader(stored);
    assert.equal(h.baseOffset, 2n);
    assert.equal(h.partitionLeaderEpoch, 7);
    assert.equal(h.recordCount, 3);
    assert.ok(verifyBatchCrc(stored, 0, h), "the CRC must survive the patch");
    const records = decodeRecords(stored);
    assert.deepEqual(records.map((r) => r.offset), [2n, 3n, 4n]);
    assert.deepEqual(records.map((r) => DECODER.decode(r.value!)), [
      "patched-0",
      "patched-1",
      "patched-2",
    ]);
    assert.deepEqual(records.map((r) => r.timestamp), [BASE_TS, BASE_TS + 1, BASE_TS + 2]);
    // The first batch kept its own epoch.
    assert.equal(readBatchHeader(log.read(0n, 1).batches[0]).partitionLeaderEpoch, 3);
  });

  test(`read() returns the whole stored batches, which split and verify`, () => {
    const log = make();
    const sizes = appendAll(log, [2, 3, 1]);
    const read = log.read(0n, 1 << 20);
    assert.equal(read.batches.length, 3);
    assert.equal(read.bytes, sizes.reduce((a, b) => a + b, 0));
    assert.deepEqual(read.batches.map((b) => b.length), sizes);
    const joined = new Uint8Array(read.bytes);
    let at = 0;
    for (const b of read.batches) {
      joined.set(b, at);
      at += b.length;
    }
    const slices = splitBatches(joined, { verifyCrc: true });
    assert.deepEqual(slices.map((s) => s.header.baseOffset), [0n, 2n, 5n]);
    const offsets = slices.flatMap((s) => decodeRecords(s.bytes).map((r) => r.offset));
    assert.deepEqual(offsets, [0n, 1n, 2n, 3n, 4n, 5n]);
  });

  test(`read() from the middle of a batch returns that whole batch`, () => {
    const log = make();
    appendAll(log, [3, 4, 2]); // offsets 0-2, 3-6, 7-8
    const cases: [bigint, bigint[]][] = [[1n, [0n, 3n, 7n]], [4n, [3n, 7n]], [6n, [3n, 7n]], [
      8n,
      [7n],
    ]];
    for (const [offset, expected] of cases) {
      assert.deepEqual(
        baseOffsets(log.read(offset, 1 << 20).batches),
        expected,
        `offset ${offset}`,
      );
    }
  });

  test(`read() respects maxBytes but returns at least one batch`, () => {
    const log = make();
    const [first, second] = appendAll(log, [3, 3, 3]);
    assert.deepEqual(baseOffsets(log.read(0n, 0).batches), [0n], "maxBytes 0 still gives one");
    assert.deepEqual(baseOffsets(log.read(0n, 1).batches), [0n], "smaller than one batch");
    assert.deepEqual(baseOffsets(log.read(0n, first).batches), [0n]);
    assert.deepEqual(baseOffsets(log.read(0n, first + second - 1).batches), [0n]);
    const two = log.read(0n, first + second);
    assert.deepEqual(baseOffsets(two.batches), [0n, 3n]);
    assert.equal(two.bytes, first + second);
    assert.deepEqual(baseOffsets(log.read(3n, 1).batches), [3n]);
  });

  test(`read() stops before endOffset`, () => {
    const log = make();
    appendAll(log, [3, 2, 4]); // offsets 0-2, 3-4, 5-8
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20, 9n).batches), [0n, 3n, 5n]);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20, 5n).batches), [0n, 3n]);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20, 3n).batches), [0n]);
    assert.deepEqual(log.read(0n, 1 << 20, 0n), { batches: [], bytes: 0 });
    assert.deepEqual(log.read(3n, 1 << 20, 3n), { batches: [], bytes: 0 });
    assert.deepEqual(log.read(5n, 1 << 20, 5n), { batches: [], bytes: 0 });
  });

  test(`read() at or past the log end is empty`, () => {
    const log = make();
    appendAll(log, [3, 2]);
    assert.equal(log.logEndOffset, 5n);
    assert.deepEqual(log.read(5n, 1 << 20), { batches: [], bytes: 0 });
    assert.deepEqual(log.read(6n, 1 << 20), { batches: [], bytes: 0 });
    assert.deepEqual(log.read(1_000_000n, 1 << 20), { batches: [], bytes: 0 });
    // And data appended later is then readable from the old end.
    appendAll(log, [1]);
    assert.deepEqual(baseOffsets(log.read(5n, 1 << 20).batches), [5n]);
  });

  test(`offsetForTimestamp() finds the first batch whose max timestamp reaches it`, () => {
    const log = make();
    // Batch i has records timestamped BASE_TS + i*1000 + (0..count-1).
    appendAll(log, [3, 2, 4]); // offsets 0-2 (ts +0..+2), 3-4 (+1000..+1001), 5-8 (+2000..+2003)
    assert.equal(log.offsetForTimestamp(0), 0n);
    assert.equal(log.offsetForTimestamp(BASE_TS), 0n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 2), 0n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 3), 3n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 1000), 3n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 1001), 3n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 1500), 5n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 2003), 5n);
    assert.equal(log.offsetForTimestamp(BASE_TS + 2004), null);
  });

  test(`appendReplica() keeps the leader's offsets, epoch and bytes`, () => {
    const log = make();
    const first = leaderBatch("a", 3, 0n, 2);
    const second = leaderBatch("b", 2, 3n, 5);
    const copies = [first.bytes.slice(), second.bytes.slice()];
    assert.deepEqual(log.appendReplica(first.bytes, first.header), {
      baseOffset: 0n,
      lastOffset: 2n,
    });
    assert.deepEqual(log.appendReplica(second.bytes, second.header), {
      baseOffset: 3n,
      lastOffset: 4n,
    });
    assert.equal(log.logEndOffset, 5n);
    assert.equal(log.sizeBytes, copies[0].length + copies[1].length);
    const read = log.read(0n, 1 << 20);
    assert.deepEqual(read.batches, copies, "stored exactly as the leader sent them");
    assert.deepEqual(read.batches.map((b) => readBatchHeader(b).partitionLeaderEpoch), [2, 5]);
    // A leader append after replicated batches continues at the log end.
    const { bytes, header } = makeBatch("c", 1);
    assert.deepEqual(log.append(bytes, header, 6), { baseOffset: 5n, lastOffset: 5n });
  });

  test(`appendReplica() refuses a base offset other than the log end`, () => {
    const log = make();
    const first = leaderBatch("a", 3, 0n, 0);
    log.appendReplica(first.bytes, first.header);
    const size = log.sizeBytes;
    for (const baseOffset of [0n, 2n, 4n, 100n]) {
      const { bytes, header } = leaderBatch("x", 1, baseOffset, 0);
      assert.throws(
        () => log.appendReplica(bytes, header),
        (e) => isKaError(e) && e.message.includes("3"),
        `base offset ${baseOffset}`,
      );
    }
    assert.equal(log.logEndOffset, 3n, "nothing was appended");
    assert.equal(log.sizeBytes, size);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [0n]);
  });

  test(`truncateTo() at a batch boundary drops that batch and all after it`, () => {
    const log = make();
    const sizes = appendAll(log, [3, 2, 4]); // offsets 0-2, 3-4, 5-8
    assert.equal(log.truncateTo(5n), 5n);
    assert.equal(log.logEndOffset, 5n);
    assert.equal(log.sizeBytes, sizes[0] + sizes[1]);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [0n, 3n]);
    assert.deepEqual(log.read(5n, 1 << 20), { batches: [], bytes: 0 });
    // Batch 2's timestamps are gone with it.
    assert.equal(log.offsetForTimestamp(BASE_TS + 2000), null);
    assert.equal(log.offsetForTimestamp(BASE_TS + 1000), 3n);
    // Appends continue at the new end.
    const { bytes, header } = makeBatch("after", 2);
    assert.deepEqual(log.append(bytes, header, 1), { baseOffset: 5n, lastOffset: 6n });
    assert.deepEqual(values(log.read(5n, 1 << 20).batches), ["after-0", "after-1"]);
  });

  test(`truncateTo() inside a batch drops the whole batch`, () => {
    const log = make();
    const sizes = appendAll(log, [3, 4]); // offsets 0-2, 3-6
    assert.equal(log.truncateTo(5n), 3n, "offsets 3-6 share one batch: all of it goes");
    assert.equal(log.logEndOffset, 3n);
    assert.equal(log.sizeBytes, sizes[0]);
    assert.equal(log.truncateTo(1n), 0n);
    assert.equal(log.logEndOffset, 0n);
    assert.equal(log.sizeBytes, 0);
    assert.deepEqual(log.read(0n, 1 << 20), { batches: [], bytes: 0 });
  });

  test(`truncateTo() at or past the log end changes nothing`, () => {
    const log = make();
    const sizes = appendAll(log, [2, 2]);
    assert.equal(log.truncateTo(4n), 4n);
    assert.equal(log.truncateTo(99n), 4n);
    assert.equal(log.logEndOffset, 4n);
    assert.equal(log.sizeBytes, sizes[0] + sizes[1]);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [0n, 2n]);
    const empty = make();
    assert.equal(empty.truncateTo(0n), 0n);
    assert.equal(empty.truncateTo(10n), 0n);
  });

  test(`truncateTo() then appendReplica() takes the new leader's batches`, () => {
    const log = make();
    const old = [leaderBatch("old", 5, 0n, 0), leaderBatch("tail", 2, 5n, 0)];
    for (const b of old) log.appendReplica(b.bytes, b.header);
    assert.equal(log.truncateTo(5n), 5n);
    const fresh = leaderBatch("new", 3, 5n, 1);
    const copy = fresh.bytes.slice();
    log.appendReplica(fresh.bytes, fresh.header);
    assert.equal(log.logEndOffset, 8n);
    const read = log.read(5n, 1 << 20);
    assert.deepEqual(read.batches, [copy]);
    assert.deepEqual(values(read.batches), ["new-0", "new-1", "new-2"]);
  });

  test(`applyRetention() with no limits deletes nothing`, () => {
    const log = make();
    const sizes = appendAll(log, [3, 2, 4]);
    const result = log.applyRetention({
      nowMs: BASE_TS + 1e12,
      retentionMs: -1,
      retentionBytes: -1,
      maxOffset: log.logEndOffset,
    });
    assert.deepEqual(result, { deletedBytes: 0, deletedUnits: 0, logStartOffset: 0n });
    assert.equal(log.sizeBytes, sizes.reduce((a, b) => a + b, 0));
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [0n, 3n, 5n]);
  });

  test(`applyRetention() never deletes data at or above maxOffset (uncommitted)`, () => {
    const log = make();
    appendAll(log, [3, 2, 4]);
    const size = log.sizeBytes;
    for (const maxOffset of [0n, 1n, 2n]) {
      const result = log.applyRetention({
        nowMs: BASE_TS + 1e12,
        retentionMs: 1,
        retentionBytes: 1,
        maxOffset,
      });
      assert.equal(result.deletedBytes, 0, `maxOffset ${maxOffset}`);
    }
    assert.equal(log.logStartOffset, 0n);
    assert.equal(log.sizeBytes, size);
  });

  test(`applyRetention() moves the log start to a batch boundary, oldest data first`, () => {
    const log = make();
    const sizes = appendAll(log, Array.from({ length: 30 }, () => 2)); // offsets 0..59
    const total = sizes.reduce((a, b) => a + b, 0);
    const result = log.applyRetention({
      nowMs: BASE_TS + 1e12,
      retentionMs: 1,
      retentionBytes: -1,
      maxOffset: log.logEndOffset,
    });
    const start = log.logStartOffset;
    assert.equal(result.logStartOffset, start);
    assert.equal(start % 2n, 0n, "a batch boundary");
    assert.ok(start <= log.logEndOffset);
    assert.equal(log.logEndOffset, 60n, "the log end never moves");
    assert.equal(log.sizeBytes, total - result.deletedBytes);
    if (start < log.logEndOffset) {
      // What is left reads from the new start; reads below it start there too.
      assert.equal(baseOffsets(log.read(start, 1).batches)[0], start);
      assert.equal(baseOffsets(log.read(0n, 1).batches)[0], start);
      assert.equal(log.offsetForTimestamp(0), start);
    } else {
      assert.deepEqual(log.read(0n, 1 << 20), { batches: [], bytes: 0 });
    }
    // Appends continue at the log end.
    const { bytes, header } = makeBatch("later", 1);
    assert.deepEqual(log.append(bytes, header, 0), { baseOffset: 60n, lastOffset: 60n });
  });

  test(`applyRetention() by size keeps at least retentionBytes`, () => {
    const log = make();
    const sizes = appendAll(log, Array.from({ length: 30 }, () => 1));
    const keep = sizes[0] * 5;
    const result = log.applyRetention({
      nowMs: 0,
      retentionMs: -1,
      retentionBytes: keep,
      maxOffset: log.logEndOffset,
    });
    assert.ok(log.sizeBytes >= keep, `${log.sizeBytes} >= ${keep}`);
    assert.equal(result.deletedBytes + log.sizeBytes, sizes.reduce((a, b) => a + b, 0));
    assert.equal(result.deletedUnits > 0, log.logStartOffset > 0n);
  });

  test(`truncateFullyAndStartAt() empties the log and restarts it at the offset`, () => {
    const log = make();
    appendAll(log, [3, 2]);
    log.truncateFullyAndStartAt(100n);
    assert.equal(log.logStartOffset, 100n);
    assert.equal(log.logEndOffset, 100n);
    assert.equal(log.sizeBytes, 0);
    assert.deepEqual(log.read(0n, 1 << 20), { batches: [], bytes: 0 });
    assert.equal(log.offsetForTimestamp(0), null);
    const replica = leaderBatch("r", 2, 100n, 3);
    log.appendReplica(replica.bytes, replica.header);
    const { bytes, header } = makeBatch("x", 1);
    assert.deepEqual(log.append(bytes, header, 3), { baseOffset: 102n, lastOffset: 102n });
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [100n, 102n]);
    assert.equal(log.truncateTo(50n), 100n, "truncating below the start empties the log");
    assert.equal(log.logStartOffset, 100n);
  });

  test(`flush() keeps everything readable`, () => {
    const log = make();
    appendAll(log, [2, 2]);
    log.flush();
    log.flush(Number.MAX_SAFE_INTEGER);
    assert.deepEqual(baseOffsets(log.read(0n, 1 << 20).batches), [0n, 2n]);
  });

  if (!options.reopen) return;

  test(`a reopened log keeps its batches, offsets and size`, () => {
    const log = make();
    const sizes = appendAll(log, [3, 1, 5, 2], 4);
    const before = log.read(0n, 1 << 20).batches.map((b) => b.slice());
    const again = reopen(log);
    assert.equal(again.logStartOffset, 0n);
    assert.equal(again.logEndOffset, 11n);
    assert.equal(again.sizeBytes, sizes.reduce((a, b) => a + b, 0));
    assert.deepEqual(again.read(0n, 1 << 20).batches, before);
    assert.equal(again.offsetForTimestamp(BASE_TS + 2000), 4n);
    const { bytes, header } = makeBatch("after", 2);
    assert.deepEqual(again.append(bytes, header, 5), { baseOffset: 11n, lastOffset: 12n });
    assert.deepEqual(values(reopen(again).read(11n, 1 << 20).batches), ["after-0", "after-1"]);
  });

  test(`a reopened log keeps a truncation and the log start after retention`, () => {
    const log = make();
    appendAll(log, Array.from({ length: 40 }, () => 2)); // offsets 0..79
    assert.equal(log.truncateTo(71n), 70n); // batches 70-71 and after go
    log.applyRetention({
      nowMs: 0,
      retentionMs: -1,
      retentionBytes: Math.floor(log.sizeBytes / 2),
      maxOffset: log.logEndOffset,
    });
    const start = log.logStartOffset;
    const again = reopen(log);
    assert.equal(again.logStartOffset, start);
    assert.equal(again.logEndOffset, 70n);
    const empty = make();
    empty.truncateFullyAndStartAt(500n);
    const restarted = reopen(empty);
    assert.equal(restarted.logStartOffset, 500n);
    assert.equal(restarted.logEndOffset, 500n);
  });
}
