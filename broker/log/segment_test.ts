/**
 * Tests for one segment: sparse indexing, reads through the index, sealing
 * (index files written, loaded again on open, rebuilt when missing or
 * stale), recovery of the active segment, and truncation.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import { type BatchPlacement, Segment, segmentFileName, type SegmentOptions } from "./segment.ts";

const BASE_TS = 1_700_000_000_000;
const ENCODER = new TextEncoder();

/** A batch of `count` records starting at `baseOffset`, timestamped `ts`. */
function batchAt(
  baseOffset: bigint,
  count: number,
  ts: number,
): { bytes: Uint8Array; placement: BatchPlacement } {
  const records = Array.from({ length: count }, (_, i) => ({
    value: ENCODER.encode(`v${baseOffset + BigInt(i)}`.padEnd(40, ".")),
    timestamp: ts + i,
  }));
  const bytes = encodeRecordBatch(records, { timestamp: ts, baseOffset });
  const header = readBatchHeader(bytes);
  return {
    bytes,
    placement: {
      baseOffset,
      lastOffset: baseOffset + BigInt(header.lastOffsetDelta),
      maxTimestamp: header.maxTimestamp,
    },
  };
}

function options(lines: string[] = [], indexIntervalBytes = 300): SegmentOptions {
  return {
    indexIntervalBytes,
    logger: createLogger("segment-test", { sink: (l) => lines.push(l) }),
    nowMs: 0,
  };
}

/** A segment at base 100 holding 40 batches of 2 records (offsets 100..179), ts growing. */
function filled(dir: string, opts = options()): Segment {
  const segment = Segment.create(dir, 100n, opts);
  for (let i = 0; i < 40; i++) {
    const { bytes, placement } = batchAt(100n + BigInt(2 * i), 2, BASE_TS + i * 10);
    segment.append(bytes, placement);
  }
  return segment;
}

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "segment_test_" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function assertReadsEveryOffset(segment: Segment): void {
  for (let offset = 100n; offset < 180n; offset++) {
    const read = segment.read(offset, 1, 1000n, true);
    assert.equal(read.batches.length, 1, `offset ${offset}`);
    const header = readBatchHeader(read.batches[0]);
    assert.equal(header.baseOffset, offset - (offset % 2n), `offset ${offset}`);
  }
}

Deno.test("segmentFileName() pads the base offset to 20 digits", () => {
  assert.equal(segmentFileName(42n, "log"), "00000000000000000042.log");
  assert.equal(segmentFileName(0n, "timeindex"), "00000000000000000000.timeindex");
});

Deno.test("Segment.append() indexes sparsely and read() finds every offset from the middle", () => {
  withDir((dir) => {
    const segment = filled(dir);
    assert.equal(segment.nextOffset, 180n);
    const batchBytes = segment.sizeBytes / 40;
    // An entry for the first batch to start at least 300 bytes after the previous entry.
    const batchesPerEntry = Math.ceil(300 / batchBytes);
    assert.equal(segment.indexEntryCount, Math.floor(39 / batchesPerEntry));
    assertReadsEveryOffset(segment);
    // A read past the segment is empty and says the next segment may follow.
    assert.deepEqual(segment.read(180n, 1000, 1000n, true), {
      batches: [],
      bytes: 0,
      complete: true,
      error: null,
    });
    // endOffset and maxBytes stop a read before the segment's end.
    const bounded = segment.read(100n, 1 << 20, 110n, true);
    assert.equal(bounded.batches.length, 5);
    assert.equal(bounded.complete, false);
    const all = segment.read(100n, 1 << 20, 1000n, true);
    assert.equal(all.batches.length, 40);
    assert.equal(all.complete, true);
    segment.close();
  });
});

Deno.test("Segment.offsetForTimestamp() uses the time index and finds the first batch reaching it", () => {
  withDir((dir) => {
    const segment = filled(dir);
    assert.equal(segment.maxTimestamp, BASE_TS + 391);
    assert.equal(segment.offsetForTimestamp(0), 100n);
    for (let i = 0; i < 40; i++) {
      // Batch i holds timestamps ts+10i and ts+10i+1.
      assert.equal(segment.offsetForTimestamp(BASE_TS + i * 10 + 1), 100n + BigInt(2 * i));
      assert.equal(
        segment.offsetForTimestamp(BASE_TS + i * 10 + 2),
        i === 39 ? null : 102n + BigInt(2 * i),
      );
    }
    segment.close();
  });
});

Deno.test("Segment.seal() writes index files that openSealed() loads without a rebuild", () => {
  withDir((dir) => {
    const segment = filled(dir);
    const entries = segment.indexEntryCount;
    segment.seal();
    assert.ok(segment.isSealed);
    assert.throws(() =>
      segment.append(batchAt(180n, 1, BASE_TS).bytes, batchAt(180n, 1, BASE_TS).placement)
    );
    segment.close();
    const lines: string[] = [];
    const opened = Segment.openSealed(dir, 100n, 180n, options(lines));
    assert.deepEqual(lines, [], "no rebuild");
    assert.equal(opened.indexEntryCount, entries);
    assert.equal(opened.maxTimestamp, BASE_TS + 391);
    assertReadsEveryOffset(opened);
    opened.close();
  });
});

Deno.test("Segment.openSealed() rebuilds a missing, stale or damaged index", () => {
  withDir((dir) => {
    const segment = filled(dir);
    segment.seal();
    const entries = segment.indexEntryCount;
    segment.close();
    const indexPath = `${dir}/${segmentFileName(100n, "index")}`;
    const good = Deno.readFileSync(indexPath);
    const damaged = new Uint8Array(good);
    new DataView(damaged.buffer).setUint32(damaged.length - 4, 7); // last entry points mid-batch
    for (
      const [what, setUp] of [
        ["missing", () => Deno.removeSync(indexPath)],
        ["stale", () => Deno.writeFileSync(indexPath, damaged)],
        ["damaged", () => Deno.writeFileSync(indexPath, good.subarray(0, good.length - 3))],
      ] as const
    ) {
      setUp();
      const lines: string[] = [];
      const opened = Segment.openSealed(dir, 100n, 180n, options(lines));
      assert.equal(lines.length, 1, what);
      assert.match(lines[0], /rebuilt segment index/);
      assert.equal(opened.indexEntryCount, entries, what);
      assert.deepEqual(
        Deno.readFileSync(indexPath),
        good,
        `${what}: the rebuilt file is rewritten`,
      );
      assertReadsEveryOffset(opened);
      opened.close();
    }
  });
});

Deno.test("Segment.openSealed() without the closing time entry finds the max timestamp by scanning", () => {
  withDir((dir) => {
    const segment = filled(dir);
    segment.seal();
    segment.close();
    const timePath = `${dir}/${segmentFileName(100n, "timeindex")}`;
    const full = Deno.readFileSync(timePath);
    Deno.writeFileSync(timePath, full.subarray(0, full.length - 12));
    const opened = Segment.openSealed(dir, 100n, 180n, options());
    assert.equal(opened.maxTimestamp, BASE_TS + 391);
    assert.deepEqual(Deno.readFileSync(timePath), full, "the closing entry is written back");
    opened.close();
  });
});

Deno.test("Segment.recover() keeps a clean segment and rebuilds its index in memory", () => {
  withDir((dir) => {
    const segment = filled(dir);
    const entries = segment.indexEntryCount;
    const size = segment.sizeBytes;
    segment.close();
    const { segment: recovered, report } = Segment.recover(dir, 100n, options());
    assert.deepEqual(report, { truncatedBytes: 0, reason: null });
    assert.equal(recovered.sizeBytes, size);
    assert.equal(recovered.nextOffset, 180n);
    assert.equal(recovered.indexEntryCount, entries);
    assert.equal(recovered.maxTimestamp, BASE_TS + 391);
    assertReadsEveryOffset(recovered);
    // It takes appends at once.
    const next = batchAt(180n, 1, BASE_TS + 500);
    recovered.append(next.bytes, next.placement);
    assert.equal(recovered.nextOffset, 181n);
    recovered.close();
  });
});

Deno.test("Segment.recover() cuts a batch whose offsets do not follow on", () => {
  withDir((dir) => {
    const segment = Segment.create(dir, 0n, options());
    const first = batchAt(0n, 2, BASE_TS);
    segment.append(first.bytes, first.placement);
    segment.close();
    // A stray batch claiming offset 7 after offsets 0-1 (valid CRC, wrong place).
    const stray = batchAt(7n, 1, BASE_TS).bytes;
    const file = Deno.openSync(segment.path("log"), { append: true });
    file.writeSync(stray);
    file.close();
    const { segment: recovered, report } = Segment.recover(dir, 0n, options());
    assert.equal(report.truncatedBytes, stray.length);
    assert.match(report.reason ?? "", /base offset is 7, expected 2/);
    assert.equal(recovered.nextOffset, 2n);
    recovered.close();
  });
});

Deno.test("Segment.truncateTo() cuts at the batch holding the offset and takes appends again", () => {
  withDir((dir) => {
    const segment = filled(dir);
    segment.seal();
    segment.truncateTo(151n); // batch 150-151 and after go
    assert.equal(segment.isSealed, false);
    assert.equal(segment.nextOffset, 150n);
    assert.equal(
      segment.maxTimestamp,
      BASE_TS + 241,
      "batch 24 (offsets 148-149) is the newest left",
    );
    assert.equal(segment.offsetForTimestamp(BASE_TS + 242), null);
    assert.equal(segment.read(150n, 1000, 1000n, true).batches.length, 0);
    const next = batchAt(150n, 3, BASE_TS + 5000);
    segment.append(next.bytes, next.placement);
    assert.equal(segment.offsetForTimestamp(BASE_TS + 242), 150n);
    assert.equal(readBatchHeader(segment.read(152n, 1, 1000n, true).batches[0]).baseOffset, 150n);
    segment.truncateTo(100n);
    assert.equal(segment.sizeBytes, 0);
    assert.equal(segment.nextOffset, 100n);
    assert.equal(segment.indexEntryCount, 0);
    assert.equal(segment.maxTimestamp, Number.NEGATIVE_INFINITY);
    assert.equal(segment.firstBatchTimestamp, null);
    segment.close();
  });
});
