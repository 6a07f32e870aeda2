/**
 * The segmented disk log of one partition (the top layer: store → index →
 * segment → log). A partition directory `<data_dir>/broker-N/<topic>-<p>/`
 * holds segments named by their base offset (`%020d.log`, `.index`,
 * `.timeindex`) and the `leader-epoch-checkpoint`.
 *
 * - **Append** writes the batch bytes exactly as received (offsets and
 *   leader epoch patched, CRC checked once more) to the active segment, in
 *   the page cache. The log rolls to a new segment when the active one would
 *   pass `segment.bytes`, is older than `segment.ms`, or its offsets would
 *   not fit a 32-bit relative offset.
 * - **Flush** (fsync) follows `flush.messages` / `flush.ms`; by default
 *   neither is set and durability comes from replication, as in Kafka. A
 *   rolled segment is fsynced in the background. See `docs/storage.md`.
 * - **Read** finds the segment by binary search over base offsets and the
 *   position through the segment's sparse offset index.
 * - **Open** recovers: sealed segments are opened as they are (indexes
 *   loaded or rebuilt), the active one is scanned and its torn or corrupt
 *   tail cut off, with a log line saying what was cut.
 * - **Retention** deletes whole sealed segments, oldest first; the active
 *   segment is never deleted, so the log start offset is always the first
 *   segment's base offset and survives a restart without a checkpoint.
 * @module
 */
import {
  batchBytesTotal,
  type BatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  verifyBatchCrc,
} from "@kafka-analog/lib/protocol";
import { assert } from "@kafka-analog/lib/assert";
import { KaError } from "@kafka-analog/lib/errors";
import { LOG_READ_BYTES_MAX } from "@kafka-analog/lib/limits";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import type {
  AppendResult,
  PartitionLog,
  ReadResult,
  RetentionPolicy,
  RetentionResult,
} from "./partition_log.ts";
import { removeIfExists, storageCall } from "./store.ts";
import {
  type BatchPlacement,
  INDEX_INTERVAL_BYTES,
  parseSegmentFileName,
  Segment,
  type SegmentOptions,
} from "./segment.ts";

/** Kafka's default `segment.ms`: roll at least weekly, so time retention can act on quiet topics. */
export const SEGMENT_MS_DEFAULT = 7 * 24 * 60 * 60 * 1000;
/** Largest offset span of one segment: relative offsets in the indexes are 32-bit. */
const SEGMENT_OFFSET_SPAN_MAX = 0x7fff_ffffn;

/** How a disk log rolls and flushes (topic configs over broker defaults). */
export interface DiskLogSettings {
  /** Roll when the active segment would pass this size. */
  segmentBytes: number;
  /** Roll when the active segment is older than this (ms since created or opened); ≤ 0 never. */
  segmentMs: number;
  /** fsync after this many records; −1 never (by count). */
  flushMessages: number;
  /** fsync when the last one is this old (ms); −1 never (by time). */
  flushMs: number;
}

/** Options for {@linkcode DiskLog.open}. */
export interface DiskLogOptions extends Partial<DiskLogSettings> {
  segmentBytes: number;
  /** Log bytes between two offset index entries; default 4096. */
  indexIntervalBytes?: number;
  logger?: Logger;
  /** Clock for `segment.ms` and `flush.ms`; default `Date.now`. */
  now?: () => number;
}

/**
 * The settings of a topic's logs: its `segment.bytes`, `segment.ms`,
 * `flush.messages` and `flush.ms` configs, else the broker's defaults.
 * Values that are not integers fall back to the default.
 */
export function diskLogSettings(
  configs: Record<string, string>,
  defaults: { segmentBytes: number },
): DiskLogSettings {
  return {
    segmentBytes: intConfig(configs["segment.bytes"], defaults.segmentBytes, 1),
    segmentMs: intConfig(configs["segment.ms"], SEGMENT_MS_DEFAULT, 1),
    flushMessages: intConfig(configs["flush.messages"], -1, 1),
    flushMs: intConfig(configs["flush.ms"], -1, 0),
  };
}

function intConfig(value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && (n === -1 || n >= min) ? n : fallback;
}

/** One segment as {@linkcode DiskLog.segmentInfo} describes it. */
export interface SegmentInfo {
  baseOffset: bigint;
  nextOffset: bigint;
  sizeBytes: number;
  sealed: boolean;
  indexEntries: number;
}

/** A partition log kept in segment files under one directory. */
export class DiskLog implements PartitionLog {
  /** The partition directory. */
  readonly dir: string;
  readonly #settings: DiskLogSettings;
  readonly #indexIntervalBytes: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  #segments: Segment[] = [];
  #sizeBytes = 0;
  #unflushedRecords = 0;
  #lastFlushMs: number;
  /** Sealed segments holding records not yet fsynced (synced on the next flush). */
  #unsyncedSealed: Segment[] = [];
  #closed = false;

  private constructor(dir: string, options: DiskLogOptions) {
    this.dir = dir;
    this.#settings = {
      segmentBytes: options.segmentBytes,
      segmentMs: options.segmentMs ?? SEGMENT_MS_DEFAULT,
      flushMessages: options.flushMessages ?? -1,
      flushMs: options.flushMs ?? -1,
    };
    assert(this.#settings.segmentBytes > 0, "segmentBytes must be positive");
    this.#indexIntervalBytes = options.indexIntervalBytes ?? INDEX_INTERVAL_BYTES;
    this.#logger = options.logger ?? createLogger("disk-log");
    this.#now = options.now ?? Date.now;
    this.#lastFlushMs = this.#now();
  }

  /**
   * Opens the log in `dir`, creating the directory and a first segment when
   * there is none, and recovers what a crash may have left: leftover
   * temporary and orphaned index files are removed, sealed segments' indexes
   * checked (rebuilt when missing or stale), and the active segment scanned,
   * its torn or corrupt tail cut off.
   */
  static open(dir: string, options: DiskLogOptions): DiskLog {
    const log = new DiskLog(dir, options);
    storageCall(`create ${dir}`, () => Deno.mkdirSync(dir, { recursive: true }));
    const names = storageCall(
      `list ${dir}`,
      () => [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name),
    );
    const bases = new Set<bigint>();
    for (const name of names) {
      const parsed = parseSegmentFileName(name);
      if (parsed?.kind === "log") bases.add(parsed.baseOffset);
    }
    for (const name of names) {
      const parsed = parseSegmentFileName(name);
      const orphan = parsed !== null && !bases.has(parsed.baseOffset);
      // A crash can leave a half-written temporary file, or the index of a segment being deleted.
      if (name.endsWith(".tmp") || orphan) removeIfExists(`${dir}/${name}`);
    }
    const sorted = [...bases].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const segmentOptions = log.#segmentOptions();
    if (sorted.length === 0) {
      log.#segments.push(Segment.create(dir, 0n, segmentOptions));
      return log;
    }
    for (let i = 0; i < sorted.length - 1; i++) {
      log.#segments.push(Segment.openSealed(dir, sorted[i], sorted[i + 1], segmentOptions));
    }
    const { segment, report } = Segment.recover(dir, sorted[sorted.length - 1], segmentOptions);
    log.#segments.push(segment);
    if (report.truncatedBytes > 0) {
      log.#logger.warn("recovered log: cut off a torn or corrupt tail", {
        path: segment.path("log"),
        truncatedBytes: report.truncatedBytes,
        reason: report.reason,
        logEndOffset: segment.nextOffset,
      });
    }
    log.#sizeBytes = log.#segments.reduce((sum, s) => sum + s.sizeBytes, 0);
    return log;
  }

  get logStartOffset(): bigint {
    return this.#segments[0].baseOffset;
  }

  get logEndOffset(): bigint {
    return this.#active.nextOffset;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Records appended since the last fsync. */
  get unflushedRecords(): number {
    return this.#unflushedRecords;
  }

  /** The segments, oldest first (tests and the console). */
  segmentInfo(): SegmentInfo[] {
    return this.#segments.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      sizeBytes: s.sizeBytes,
      sealed: s.isSealed,
      indexEntries: s.indexEntryCount,
    }));
  }

  append(batch: Uint8Array, header: BatchHeader, leaderEpoch: number): AppendResult {
    this.#check();
    const baseOffset = this.logEndOffset;
    const lastOffset = baseOffset + BigInt(header.lastOffsetDelta);
    setBaseOffset(batch, baseOffset);
    setPartitionLeaderEpoch(batch, leaderEpoch);
    this.#write(batch, header, { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp });
    return { baseOffset, lastOffset };
  }

  appendReplica(batch: Uint8Array, header: BatchHeader): AppendResult {
    this.#check();
    if (header.baseOffset !== this.logEndOffset) {
      throw KaError.of(
        "CORRUPT_MESSAGE",
        `Cannot append replicated batch as 'baseOffset' must be ${this.logEndOffset}: current value is ${header.baseOffset}`,
      );
    }
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    this.#write(batch, header, {
      baseOffset: header.baseOffset,
      lastOffset,
      maxTimestamp: header.maxTimestamp,
    });
    return { baseOffset: header.baseOffset, lastOffset };
  }

  #write(batch: Uint8Array, header: BatchHeader, placement: BatchPlacement): void {
    assert(batch.length === batchBytesTotal(header), "append takes exactly one whole batch");
    // The second of the paired CRC checks: on arrival, and here, just before the write.
    if (!verifyBatchCrc(batch, 0, header)) {
      throw KaError.of(
        "CORRUPT_MESSAGE",
        `Cannot append batch ${placement.baseOffset} to ${this.dir}: its CRC-32C no longer matches`,
      );
    }
    this.#maybeRoll(batch.length, placement.lastOffset);
    this.#active.append(batch, placement);
    this.#sizeBytes += batch.length;
    this.#unflushedRecords += Number(placement.lastOffset - placement.baseOffset) + 1;
    const { flushMessages, flushMs } = this.#settings;
    if (
      (flushMessages > 0 && this.#unflushedRecords >= flushMessages) ||
      (flushMs >= 0 && this.#now() - this.#lastFlushMs >= flushMs)
    ) {
      this.flush();
    }
  }

  #maybeRoll(batchBytes: number, lastOffset: bigint): void {
    const active = this.#active;
    if (active.sizeBytes === 0) return;
    const { segmentBytes, segmentMs } = this.#settings;
    const full = active.sizeBytes + batchBytes > segmentBytes;
    const old = segmentMs > 0 && this.#now() - active.createdMs >= segmentMs;
    const span = lastOffset - active.baseOffset > SEGMENT_OFFSET_SPAN_MAX;
    if (!full && !old && !span) return;
    active.seal();
    if (this.#unflushedRecords > 0) this.#unsyncedSealed.push(active);
    this.#segments.push(Segment.create(this.dir, active.nextOffset, this.#segmentOptions()));
  }

  read(offset: bigint, maxBytes: number, endOffset: bigint = this.logEndOffset): ReadResult {
    this.#check();
    const end = endOffset < this.logEndOffset ? endOffset : this.logEndOffset;
    const batches: Uint8Array[] = [];
    let bytes = 0;
    if (offset >= end) return { batches, bytes };
    const limit = Math.min(maxBytes, LOG_READ_BYTES_MAX);
    for (let i = this.#segmentIndexOf(offset); i < this.#segments.length; i++) {
      const segment = this.#segments[i];
      if (segment.baseOffset >= end) break;
      const first = batches.length === 0;
      const read = segment.read(offset, first ? limit : limit - bytes, end, first);
      for (const b of read.batches) batches.push(b);
      bytes += read.bytes;
      if (read.error) {
        // Serve what came before the damage; a read that starts at it gets the error.
        if (batches.length === 0) throw read.error;
        break;
      }
      if (!read.complete || bytes >= limit) break;
    }
    return { batches, bytes };
  }

  offsetForTimestamp(timestamp: number): bigint | null {
    this.#check();
    for (const segment of this.#segments) {
      const found = segment.offsetForTimestamp(timestamp);
      if (found !== null) return found;
    }
    return null;
  }

  truncateTo(offset: bigint): bigint {
    this.#check();
    if (offset >= this.logEndOffset) return this.logEndOffset;
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
      const dropped = this.#segments.pop()!;
      this.#sizeBytes -= dropped.sizeBytes;
      this.#forgetUnsynced(dropped);
      dropped.delete();
    }
    const active = this.#active;
    this.#forgetUnsynced(active);
    this.#sizeBytes -= active.sizeBytes;
    active.truncateTo(offset);
    this.#sizeBytes += active.sizeBytes;
    return this.logEndOffset;
  }

  applyRetention(policy: RetentionPolicy): RetentionResult {
    this.#check();
    let deletedBytes = 0;
    let deletedUnits = 0;
    while (this.#segments.length > 1) {
      const [oldest, next] = this.#segments;
      // Never uncommitted data: every offset of the segment must lie below maxOffset.
      if (next.baseOffset > policy.maxOffset) break;
      const expired = policy.retentionMs >= 0 &&
        policy.nowMs - oldest.maxTimestamp > policy.retentionMs;
      const oversize = policy.retentionBytes >= 0 &&
        this.#sizeBytes - oldest.sizeBytes >= policy.retentionBytes;
      if (!expired && !oversize) break;
      this.#segments.shift();
      this.#sizeBytes -= oldest.sizeBytes;
      deletedBytes += oldest.sizeBytes;
      deletedUnits++;
      this.#forgetUnsynced(oldest);
      oldest.delete();
    }
    return { deletedBytes, deletedUnits, logStartOffset: this.logStartOffset };
  }

  truncateFullyAndStartAt(offset: bigint): void {
    this.#check();
    assert(offset >= 0n, "log offsets are not negative");
    while (this.#segments.length > 0) this.#segments.pop()!.delete();
    this.#unsyncedSealed = [];
    this.#sizeBytes = 0;
    this.#unflushedRecords = 0;
    this.#segments.push(Segment.create(this.dir, offset, this.#segmentOptions()));
  }

  flush(nowMs?: number): void {
    if (this.#closed || this.#unflushedRecords === 0) return;
    if (nowMs !== undefined) {
      const { flushMs } = this.#settings;
      if (flushMs < 0 || nowMs - this.#lastFlushMs < flushMs) return;
    }
    for (const segment of this.#unsyncedSealed) segment.flush();
    this.#unsyncedSealed = [];
    this.#active.flush();
    this.#unflushedRecords = 0;
    this.#lastFlushMs = nowMs ?? this.#now();
  }

  readHighWatermark(): bigint | null {
    try {
      const text = Deno.readTextFileSync(`${this.dir}/high-watermark`).trim();
      return /^\d+$/.test(text) ? BigInt(text) : null;
    } catch {
      return null; // missing or unreadable: the followers' fetches will bring it back
    }
  }

  writeHighWatermark(highWatermark: bigint): void {
    const path = `${this.dir}/high-watermark`;
    storageCall(`write ${path}`, () => {
      Deno.writeTextFileSync(`${path}.tmp`, `${highWatermark}\n`);
      Deno.renameSync(`${path}.tmp`, path);
    });
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      for (const segment of this.#segments) segment.close();
    }
  }

  delete(): void {
    this.#closed = true;
    for (const segment of this.#segments) segment.close();
    removeIfExists(this.dir, { recursive: true });
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1];
  }

  #segmentOptions(): SegmentOptions {
    return {
      indexIntervalBytes: this.#indexIntervalBytes,
      logger: this.#logger,
      nowMs: this.#now(),
    };
  }

  #forgetUnsynced(segment: Segment): void {
    this.#unsyncedSealed = this.#unsyncedSealed.filter((s) => s !== segment);
  }

  /** Index of the last segment whose base offset is ≤ `offset` (0 when `offset` is below all). */
  #segmentIndexOf(offset: bigint): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  #check(): void {
    if (this.#closed) throw KaError.of("KAFKA_STORAGE_ERROR", `The log in ${this.dir} is closed`);
  }
}
