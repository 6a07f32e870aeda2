/**
 * One segment of a disk log: a `.log` store of whole record batches, stored
 * exactly as the log received them, plus its sparse offset and time indexes
 * (`.index`, `.timeindex`). Files are named by the segment's base offset,
 * zero-padded to 20 digits, as Kafka names them.
 *
 * Index files are written when the segment is sealed (the log rolled past
 * it). The active (last) segment's indexes live in memory only: every open
 * rebuilds them with the recovery scan, which reads the active segment batch
 * by batch (length, magic, dense offsets, CRC-32C) and cuts off a torn or
 * corrupt tail. Sealed segments are not rescanned on open; their indexes
 * are loaded and sanity-checked (rebuilt from the log when missing or
 * stale), and their batches' CRCs are checked by the first read that returns
 * them — so a corrupt batch in a sealed segment is reported as
 * `KAFKA_STORAGE_ERROR`, never served.
 * @module
 */
import {
  batchBytesTotal,
  type BatchHeader,
  lastOffsetOf,
  readBatchHeader,
  RECORD_BATCH_HEADER_BYTES,
  verifyBatchCrc,
} from "@kafka-analog/lib/protocol";
import { assert } from "@kafka-analog/lib/assert";
import { KaError } from "@kafka-analog/lib/errors";
import { FRAME_BYTES_MAX, LOG_READ_BYTES_MAX } from "@kafka-analog/lib/limits";
import type { Logger } from "@kafka-analog/lib/log";
import { messageOf } from "@kafka-analog/lib/net";
import { OffsetIndex } from "./offset_index.ts";
import { readFileIfExists, removeIfExists, Store, writeFileAtomic } from "./store.ts";
import { TimeIndex } from "./time_index.ts";

/** Log bytes between two offset index entries (Kafka's `index.interval.bytes`). */
export const INDEX_INTERVAL_BYTES = 4096;
/** Bytes a scan (recovery, index rebuild, timestamp search) reads at a time. */
const SCAN_CHUNK_BYTES = 1024 * 1024;

/** The three files of a segment. */
export type SegmentFileKind = "log" | "index" | "timeindex";

/** `00000000000000000042.log` for base offset 42. */
export function segmentFileName(baseOffset: bigint, kind: SegmentFileKind): string {
  return `${baseOffset.toString().padStart(20, "0")}.${kind}`;
}

/** The base offset and kind of a segment file name, or null for any other name. */
export function parseSegmentFileName(
  name: string,
): { baseOffset: bigint; kind: SegmentFileKind } | null {
  const match = /^(\d{20})\.(log|index|timeindex)$/.exec(name);
  return match ? { baseOffset: BigInt(match[1]), kind: match[2] as SegmentFileKind } : null;
}

/** Where the log placed a batch: its offsets (already patched in) and max timestamp. */
export interface BatchPlacement {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: number;
}

/** What {@linkcode Segment.read} found. */
export interface SegmentRead {
  batches: Uint8Array[];
  bytes: number;
  /** True when the read reached the segment's end, so the next segment may follow. */
  complete: boolean;
  /** Corrupt data met after `batches` (or at once, with none). */
  error: KaError | null;
}

/** What {@linkcode Segment.recover} cut off. */
export interface RecoveryReport {
  /** Bytes removed from the tail (0 when it was clean). */
  truncatedBytes: number;
  /** Why the scan stopped before the file's end, or null. */
  reason: string | null;
}

/** Options shared by every segment of a log. */
export interface SegmentOptions {
  indexIntervalBytes: number;
  logger: Logger;
  /** Time the segment is opened or created (for `segment.ms` when it has no batch yet). */
  nowMs: number;
}

type Visit = (position: number, header: BatchHeader, bytes: Uint8Array) => string | null;

/** One segment: a store and its indexes. */
export class Segment {
  /** Offset of the segment's first batch (and its file name). */
  readonly baseOffset: bigint;
  /** Directory holding the segment's files. */
  readonly dir: string;
  /** When this segment was created or opened (ms). */
  readonly createdMs: number;
  readonly #options: SegmentOptions;
  readonly #store: Store;
  #index = new OffsetIndex();
  #timeIndex = new TimeIndex();
  #nextOffset: bigint;
  #maxTimestamp = Number.NEGATIVE_INFINITY;
  #firstBatchTimestamp: number | null = null;
  #bytesSinceIndexEntry = 0;
  /** Bytes from the start whose batch CRCs are known good (recovered, appended or read). */
  #verifiedBytes = 0;
  #sealed = false;
  /** Positions already logged as corrupt (a retried fetch must not flood the log). */
  #reported = new Set<number>();

  private constructor(dir: string, baseOffset: bigint, store: Store, options: SegmentOptions) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.#store = store;
    this.#options = options;
    this.#nextOffset = baseOffset;
    this.createdMs = options.nowMs;
  }

  /** Path of one of this segment's files. */
  path(kind: SegmentFileKind): string {
    return `${this.dir}/${segmentFileName(this.baseOffset, kind)}`;
  }

  /** Creates a new, empty segment (replacing leftover files of the same base offset). */
  static create(dir: string, baseOffset: bigint, options: SegmentOptions): Segment {
    removeIfExists(`${dir}/${segmentFileName(baseOffset, "index")}`);
    removeIfExists(`${dir}/${segmentFileName(baseOffset, "timeindex")}`);
    const store = Store.open(`${dir}/${segmentFileName(baseOffset, "log")}`, { truncate: true });
    return new Segment(dir, baseOffset, store, options);
  }

  /**
   * Opens the active (last) segment after a restart or crash: scans every
   * batch (structure, dense offsets from the base offset, CRC-32C), cuts off
   * everything from the first bad one, and rebuilds the indexes in memory.
   */
  static recover(
    dir: string,
    baseOffset: bigint,
    options: SegmentOptions,
  ): { segment: Segment; report: RecoveryReport } {
    const store = Store.open(`${dir}/${segmentFileName(baseOffset, "log")}`, { create: false });
    const segment = new Segment(dir, baseOffset, store, options);
    const { position, problem } = segment.#walk(0, store.sizeBytes, (at, header, bytes) => {
      if (header.baseOffset !== segment.#nextOffset) {
        return `its base offset is ${header.baseOffset}, expected ${segment.#nextOffset}`;
      }
      if (!verifyBatchCrc(bytes, 0, header)) {
        return `batch ${header.baseOffset} failed its CRC-32C check`;
      }
      segment.#track(at, bytes.length, placementOf(header));
      return null;
    });
    const truncatedBytes = store.sizeBytes - position;
    if (truncatedBytes > 0) store.truncate(position);
    segment.#verifiedBytes = position;
    return { segment, report: { truncatedBytes, reason: problem } };
  }

  /**
   * Opens a sealed segment whose offsets end at `nextOffset` (the next
   * segment's base offset). Its indexes are loaded from their files when
   * those are sane, else rebuilt from the log and rewritten.
   */
  static openSealed(
    dir: string,
    baseOffset: bigint,
    nextOffset: bigint,
    options: SegmentOptions,
  ): Segment {
    const store = Store.open(`${dir}/${segmentFileName(baseOffset, "log")}`, { create: false });
    const segment = new Segment(dir, baseOffset, store, options);
    segment.#sealed = true;
    segment.#nextOffset = nextOffset;
    const span = nextOffset - baseOffset;
    const relativeOffsetEnd = span > 0n && span <= 0xffff_ffffn ? Number(span) : 0;
    const indexBytes = readFileIfExists(segment.path("index"));
    const timeBytes = readFileIfExists(segment.path("timeindex"));
    const index = indexBytes && relativeOffsetEnd > 0
      ? OffsetIndex.decode(indexBytes, { logBytes: store.sizeBytes, relativeOffsetEnd })
      : null;
    const timeIndex = timeBytes && relativeOffsetEnd > 0
      ? TimeIndex.decode(timeBytes, { relativeOffsetEnd })
      : null;
    if (!index || !timeIndex || !segment.#pointsAtBatch(index)) {
      segment.#rebuildIndexes(indexBytes === null ? "missing" : "stale or damaged");
      return segment;
    }
    segment.#index = index;
    segment.#timeIndex = timeIndex;
    const last = timeIndex.last;
    if (last && last.relativeOffset === relativeOffsetEnd) {
      segment.#maxTimestamp = last.timestamp;
    } else {
      // No closing entry (a crash while sealing): finish the maximum from the last entry on.
      segment.#maxTimestamp = last?.timestamp ?? Number.NEGATIVE_INFINITY;
      const from = index.lookup(last?.relativeOffset ?? 0).position;
      segment.#walk(from, store.sizeBytes, (_at, header) => {
        segment.#maxTimestamp = Math.max(segment.#maxTimestamp, header.maxTimestamp);
        return null;
      });
      segment.#finishTimeIndex();
      segment.#writeIndexes();
    }
    return segment;
  }

  /** Bytes in the `.log` file. */
  get sizeBytes(): number {
    return this.#store.sizeBytes;
  }

  /** Offset after the segment's last batch. */
  get nextOffset(): bigint {
    return this.#nextOffset;
  }

  /** Largest batch max timestamp in the segment (−Infinity when empty). */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }

  /** Max timestamp of the first batch, or null when empty (Kafka rolls on `segment.ms` from it). */
  get firstBatchTimestamp(): number | null {
    return this.#firstBatchTimestamp;
  }

  /** True once the log rolled past this segment. */
  get isSealed(): boolean {
    return this.#sealed;
  }

  /** Offset index entries held (tests: the index is sparse). */
  get indexEntryCount(): number {
    return this.#index.length;
  }

  /** Appends a batch whose offsets the log assigned (already patched into its bytes). */
  append(batch: Uint8Array, placement: BatchPlacement): void {
    assert(!this.#sealed, "a sealed segment takes no appends");
    assert(placement.baseOffset === this.#nextOffset, "segment offsets are dense");
    const position = this.#store.append(batch);
    // The log checked this batch's CRC just before writing it.
    if (this.#verifiedBytes === position) this.#verifiedBytes += batch.length;
    this.#track(position, batch.length, placement);
  }

  /**
   * Reads the batch holding `offset` and those after it in this segment:
   * up to `maxBytes` (at least one batch when `atLeastOne`), never one whose
   * base offset is at or past `endOffset`. Corrupt data ends the read; it is
   * returned as `error` (and logged once).
   */
  read(offset: bigint, maxBytes: number, endOffset: bigint, atLeastOne: boolean): SegmentRead {
    const empty = (complete: boolean, error: KaError | null = null): SegmentRead => ({
      batches: [],
      bytes: 0,
      complete,
      error,
    });
    const size = this.#store.sizeBytes;
    if (offset >= this.#nextOffset) return empty(true);
    const relative = offset <= this.baseOffset ? 0 : Number(offset - this.baseOffset);
    let position = this.#index.lookup(relative).position;
    let first: BatchHeader;
    for (;;) {
      if (position >= size) return empty(true);
      try {
        first = this.#headerAt(position);
      } catch (err) {
        if (err instanceof KaError) return empty(false, err);
        throw err;
      }
      if (lastOffsetOf(first) >= offset) break;
      position += batchBytesTotal(first);
    }
    if (first.baseOffset >= endOffset) return empty(false);
    const firstBytes = batchBytesTotal(first);
    if (!atLeastOne && firstBytes > maxBytes) return empty(false);
    const wanted = Math.max(firstBytes, Math.min(maxBytes, LOG_READ_BYTES_MAX));
    const region = this.#store.readAt(position, Math.min(wanted, size - position));
    const batches: Uint8Array[] = [];
    let at = 0;
    let expected = first.baseOffset;
    let error: KaError | null = null;
    let stopped = false;
    while (at < region.length) {
      const where = position + at;
      if (region.length - at < RECORD_BATCH_HEADER_BYTES) {
        stopped = true; // the budget ends inside the next header
        break;
      }
      let header: BatchHeader;
      try {
        header = readBatchHeader(region, at);
      } catch (err) {
        error = this.#corrupt(where, messageOf(err));
        break;
      }
      const total = batchBytesTotal(header);
      if (header.baseOffset !== expected) {
        error = this.#corrupt(
          where,
          `its base offset is ${header.baseOffset}, expected ${expected}`,
        );
        break;
      }
      if (header.baseOffset >= endOffset) {
        stopped = true;
        break;
      }
      if (total > FRAME_BYTES_MAX || where + total > size) {
        error = this.#corrupt(where, `it claims ${total} bytes, ${size - where} remain`);
        break;
      }
      if (at + total > region.length) {
        stopped = true; // does not fit in maxBytes
        break;
      }
      const bytes = region.subarray(at, at + total);
      if (where + total > this.#verifiedBytes) {
        if (!verifyBatchCrc(bytes, 0, header)) {
          error = this.#corrupt(where, `batch ${header.baseOffset} failed its CRC-32C check`);
          break;
        }
        if (where === this.#verifiedBytes) this.#verifiedBytes = where + total;
      }
      batches.push(bytes);
      at += total;
      expected = lastOffsetOf(header) + 1n;
    }
    return {
      batches,
      bytes: at,
      complete: error === null && !stopped && position + at === size,
      error,
    };
  }

  /**
   * Base offset of the first batch whose max timestamp is ≥ `timestamp`, or
   * null when none in this segment is.
   */
  offsetForTimestamp(timestamp: number): bigint | null {
    if (this.#maxTimestamp < timestamp) return null;
    const start = this.#index.lookup(this.#timeIndex.lookup(timestamp)).position;
    let found: bigint | null = null;
    const { position, problem } = this.#walk(start, this.#store.sizeBytes, (_at, header) => {
      if (header.maxTimestamp >= timestamp) {
        found = header.baseOffset;
        return "found";
      }
      return null;
    });
    if (found !== null) return found;
    if (problem !== null) throw this.#corrupt(position, problem);
    return null;
  }

  /**
   * Removes the batch holding `offset` (or the first one after it) and
   * everything after; the segment takes appends again.
   */
  truncateTo(offset: bigint): void {
    const size = this.#store.sizeBytes;
    let cut = 0;
    let cutOffset = this.baseOffset;
    if (offset > this.baseOffset) {
      cut = this.#index.lookup(Number(offset - this.baseOffset)).position;
      cutOffset = this.#nextOffset;
      while (cut < size) {
        const header = this.#headerAt(cut);
        if (lastOffsetOf(header) >= offset) {
          cutOffset = header.baseOffset;
          break;
        }
        cut += batchBytesTotal(header);
      }
    }
    this.#sealed = false;
    if (cut < size) this.#store.truncate(cut);
    this.#nextOffset = cutOffset;
    this.#index.truncateToPosition(cut);
    this.#timeIndex.truncateToOffset(Number(cutOffset - this.baseOffset));
    this.#verifiedBytes = Math.min(this.#verifiedBytes, cut);
    const lastEntry = this.#index.last;
    this.#bytesSinceIndexEntry = cut - (lastEntry?.position ?? 0);
    // The max timestamp of what is left: the time index's last word, then the batches after it.
    const last = this.#timeIndex.last;
    this.#maxTimestamp = last?.timestamp ?? Number.NEGATIVE_INFINITY;
    const from = this.#index.lookup(last?.relativeOffset ?? 0).position;
    this.#walk(from, cut, (_at, header) => {
      this.#maxTimestamp = Math.max(this.#maxTimestamp, header.maxTimestamp);
      return null;
    });
    this.#firstBatchTimestamp = cut === 0 ? null : this.#headerAt(0).maxTimestamp;
  }

  /**
   * Seals the segment once the log rolls past it: closes its time index,
   * writes both index files, and fsyncs the log file in the background (as
   * Kafka flushes a rolled segment), so sealed segments are durable soon
   * after they close whatever the flush policy.
   */
  seal(): void {
    if (this.#sealed) return;
    this.#sealed = true;
    this.#finishTimeIndex();
    this.#writeIndexes();
    const path = this.path("log");
    void this.#store.syncInBackground().then((err) => {
      // A segment closed or deleted meanwhile (shutdown, retention) has nothing left to sync.
      if (err && this.#store.isOpen) {
        this.#options.logger.warn("cannot fsync sealed segment", { path, reason: err.message });
      }
    });
  }

  /** Forces the segment's log file to stable storage. */
  flush(): void {
    if (this.#store.isOpen) this.#store.sync();
  }

  /** Closes the segment's file. */
  close(): void {
    this.#store.close();
  }

  /** Closes and removes the segment's files (the `.log` first, so no index outlives it). */
  delete(): void {
    this.#store.close();
    for (const kind of ["log", "index", "timeindex"] as const) {
      removeIfExists(this.path(kind));
      removeIfExists(`${this.path(kind)}.tmp`);
    }
  }

  /** Index bookkeeping shared by appends and scans. */
  #track(position: number, totalBytes: number, placement: BatchPlacement): void {
    if (position > 0 && this.#bytesSinceIndexEntry >= this.#options.indexIntervalBytes) {
      const relative = Number(placement.baseOffset - this.baseOffset);
      this.#index.append(relative, position);
      const lastTimestamp = this.#timeIndex.last?.timestamp;
      if (lastTimestamp === undefined || this.#maxTimestamp > lastTimestamp) {
        this.#timeIndex.append(this.#maxTimestamp, relative);
      }
      this.#bytesSinceIndexEntry = 0;
    }
    this.#bytesSinceIndexEntry += totalBytes;
    if (placement.maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = placement.maxTimestamp;
    this.#firstBatchTimestamp ??= placement.maxTimestamp;
    this.#nextOffset = placement.lastOffset + 1n;
  }

  /** Adds the closing time index entry: the whole segment's max at its end offset. */
  #finishTimeIndex(): void {
    if (this.#nextOffset === this.baseOffset || !Number.isFinite(this.#maxTimestamp)) return;
    const relativeEnd = Number(this.#nextOffset - this.baseOffset);
    const last = this.#timeIndex.last;
    if (last && last.relativeOffset >= relativeEnd) return;
    this.#timeIndex.append(Math.max(this.#maxTimestamp, last?.timestamp ?? 0), relativeEnd);
  }

  #writeIndexes(): void {
    // Not fsynced: a short or empty index file is detected on open and rebuilt.
    writeFileAtomic(this.path("index"), this.#index.encode(), { sync: false });
    writeFileAtomic(this.path("timeindex"), this.#timeIndex.encode(), { sync: false });
  }

  /** Rebuilds a sealed segment's indexes by scanning its batch headers, and rewrites them. */
  #rebuildIndexes(why: string): void {
    const sealedNext = this.#nextOffset;
    this.#index = new OffsetIndex();
    this.#timeIndex = new TimeIndex();
    this.#maxTimestamp = Number.NEGATIVE_INFINITY;
    this.#bytesSinceIndexEntry = 0;
    this.#nextOffset = this.baseOffset;
    const { position, problem } = this.#walk(0, this.#store.sizeBytes, (at, header, bytes) => {
      if (header.baseOffset !== this.#nextOffset) {
        return `its base offset is ${header.baseOffset}, expected ${this.#nextOffset}`;
      }
      this.#track(at, bytes.length, placementOf(header));
      return null;
    });
    const reached = this.#nextOffset;
    this.#nextOffset = sealedNext;
    if (problem === null && reached === sealedNext) this.#finishTimeIndex();
    this.#writeIndexes();
    this.#options.logger.warn("rebuilt segment index", {
      path: this.path("log"),
      why,
      entries: this.#index.length,
    });
    if (problem !== null || reached !== sealedNext) {
      this.#corrupt(
        position,
        problem ?? `its batches end at offset ${reached}, the next segment starts at ${sealedNext}`,
      );
    }
  }

  /** True when the index's last entry points at a batch with the offset it claims. */
  #pointsAtBatch(index: OffsetIndex): boolean {
    const last = index.last;
    if (!last) return true;
    try {
      const header = this.#headerAt(last.position, { quiet: true });
      return header.baseOffset === this.baseOffset + BigInt(last.relativeOffset);
    } catch {
      return false;
    }
  }

  /** Reads and checks the header of the batch at `position`; throws a storage error when corrupt. */
  #headerAt(position: number, options: { quiet?: boolean } = {}): BatchHeader {
    const size = this.#store.sizeBytes;
    const fail = (reason: string) =>
      options.quiet ? new Error(reason) : this.#corrupt(position, reason);
    if (size - position < RECORD_BATCH_HEADER_BYTES) {
      throw fail(`only ${size - position} bytes remain, a batch header needs 61`);
    }
    let header: BatchHeader;
    try {
      header = readBatchHeader(this.#store.readAt(position, RECORD_BATCH_HEADER_BYTES));
    } catch (err) {
      if (err instanceof KaError && err.errorName === "KAFKA_STORAGE_ERROR") throw err;
      throw fail(messageOf(err));
    }
    const total = batchBytesTotal(header);
    if (total > FRAME_BYTES_MAX || total > size - position) {
      throw fail(`it claims ${total} bytes, ${size - position} remain`);
    }
    return header;
  }

  /**
   * Visits the batches in [`from`, `end`) in order, reading a chunk at a
   * time; stops at the first one whose structure is broken or that `visit`
   * refuses. Returns where it stopped and why (null: reached `end`).
   */
  #walk(from: number, end: number, visit: Visit): { position: number; problem: string | null } {
    let position = from;
    let chunk: Uint8Array = new Uint8Array(0);
    let chunkStart = from;
    while (position < end) {
      let at = position - chunkStart;
      if (chunk.length - at < RECORD_BATCH_HEADER_BYTES) {
        if (end - position < RECORD_BATCH_HEADER_BYTES) {
          return {
            position,
            problem: `a torn batch: ${end - position} bytes left, a header needs 61`,
          };
        }
        chunk = this.#store.readAt(position, Math.min(SCAN_CHUNK_BYTES, end - position));
        chunkStart = position;
        at = 0;
      }
      let header: BatchHeader;
      try {
        header = readBatchHeader(chunk, at);
      } catch (err) {
        return { position, problem: `a damaged batch header (${messageOf(err)})` };
      }
      const total = batchBytesTotal(header);
      if (total > FRAME_BYTES_MAX) {
        return { position, problem: `a batch claiming ${total} bytes, more than any batch` };
      }
      if (total > end - position) {
        return { position, problem: `a torn batch: ${end - position} of its ${total} bytes` };
      }
      if (at + total > chunk.length) {
        chunk = this.#store.readAt(
          position,
          Math.min(Math.max(SCAN_CHUNK_BYTES, total), end - position),
        );
        chunkStart = position;
        at = 0;
      }
      const problem = visit(position, header, chunk.subarray(at, at + total));
      if (problem !== null) return { position, problem };
      position += total;
    }
    return { position, problem: null };
  }

  /** A storage error for corrupt data at `position`, logged the first time it is met. */
  #corrupt(position: number, reason: string): KaError {
    const path = this.path("log");
    if (!this.#reported.has(position)) {
      this.#reported.add(position);
      this.#options.logger.error("corrupt data in a log segment", { path, position, reason });
    }
    return KaError.of(
      "KAFKA_STORAGE_ERROR",
      `Corrupt data in ${path} at position ${position}: ${reason}`,
    );
  }
}

function placementOf(header: BatchHeader): BatchPlacement {
  return {
    baseOffset: header.baseOffset,
    lastOffset: lastOffsetOf(header),
    maxTimestamp: header.maxTimestamp,
  };
}
