/**
 * The one interface every partition log engine implements: the memory log
 * (`memory_log.ts`) and the segmented disk log (`disk_log.ts`). Both are
 * held to it by the shared conformance cases in `_log_cases.ts`.
 * @module
 */
import { type BatchHeader, lastOffsetOf, readBatchHeader } from "@kafka-analog/lib/protocol";
import { isKaError, type KaError } from "@kafka-analog/lib/errors";

/** Where an appended batch landed. */
export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
}

/** Batches read from a log: whole stored batches, as received (offsets patched). */
export interface ReadResult {
  batches: Uint8Array[];
  bytes: number;
}

/** What retention may delete, and the clock it judges age by. */
export interface RetentionPolicy {
  /** Now, in ms since the epoch. */
  nowMs: number;
  /** Data whose newest timestamp is older than this (ms) goes; −1: no time limit. */
  retentionMs: number;
  /** The oldest data goes while the log stays at least this big; −1: no size limit. */
  retentionBytes: number;
  /** Only data entirely below this offset may go (the high watermark: never uncommitted data). */
  maxOffset: bigint;
}

/** What {@linkcode PartitionLog.applyRetention} deleted. */
export interface RetentionResult {
  deletedBytes: number;
  /** Whole segments (disk) or whole batches (memory) deleted. */
  deletedUnits: number;
  /** The log start offset afterwards. */
  logStartOffset: bigint;
}

/** An append-only log of RecordBatch v2 batches for one partition. */
export interface PartitionLog {
  /** First offset still stored. */
  readonly logStartOffset: bigint;
  /** Offset the next appended record gets. */
  readonly logEndOffset: bigint;
  /** Bytes stored. */
  readonly sizeBytes: number;
  /**
   * Appends a validated batch, assigning its base offset (patched into the
   * bytes, outside the CRC) and partition leader epoch.
   */
  append(batch: Uint8Array, header: BatchHeader, leaderEpoch: number): AppendResult;
  /**
   * Appends a batch a follower fetched from its leader, keeping the leader's
   * offsets: its base offset must be the log end offset.
   */
  appendReplica(batch: Uint8Array, header: BatchHeader): AppendResult;
  /**
   * Removes every batch at or after `offset`; a batch that holds `offset`
   * goes too (truncation points are batch boundaries in practice). Returns
   * the new log end offset.
   */
  truncateTo(offset: bigint): bigint;
  /**
   * Returns the batch holding `offset` and those after it, up to `maxBytes`
   * (always at least one batch when any exists at or after `offset`, so a
   * batch larger than `maxBytes` can still be consumed, as KIP-74 says).
   * Stops before `endOffset` (exclusive) when given.
   */
  read(offset: bigint, maxBytes: number, endOffset?: bigint): ReadResult;
  /** Offset of the first record whose batch's max timestamp is ≥ `timestamp`, or null. */
  offsetForTimestamp(timestamp: number): bigint | null;
  /**
   * Deletes the oldest data by age and size, advancing the log start offset:
   * whole closed segments on disk (never the active one), whole batches in
   * memory. Fetches below the new start get OFFSET_OUT_OF_RANGE.
   */
  applyRetention(policy: RetentionPolicy): RetentionResult;
  /**
   * Drops everything and restarts the log empty at `offset` (log start and
   * end): for a follower whose log ends below the leader's log start.
   */
  truncateFullyAndStartAt(offset: bigint): void;
  /**
   * Forces appended data to stable storage (a no-op in memory). With
   * `nowMs`, only when the log's `flush.ms` policy says a flush is due.
   */
  flush(nowMs?: number): void;
  /** Flushes and releases the log's resources; it must not be used after. */
  close(): void;
  /**
   * The high watermark saved by {@linkcode writeHighWatermark} (disk logs),
   * so a restarted leader does not serve less than was committed; null when
   * none was saved or the engine keeps none (memory).
   */
  readHighWatermark?(): bigint | null;
  /** Saves the high watermark beside the log (best effort; a stale value only delays consumers). */
  writeHighWatermark?(highWatermark: bigint): void;
  /** Releases the log and removes its stored data for good (the partition left this broker). */
  delete(): void;
}

/** Bytes {@linkcode batchHeaders} reads at a time. */
const HEADER_SCAN_BYTES = 1024 * 1024;

/**
 * The header of every batch in `log` from `fromOffset` (default: the log
 * start) to the log end, read a chunk at a time so a large disk log is never
 * held in memory at once. Used to rebuild state kept beside the log
 * (producer state, a lost leader epoch checkpoint). Corrupt data ends the
 * iteration: with `onCorrupt` it is handed the error, else the error is
 * thrown.
 */
export function* batchHeaders(
  log: PartitionLog,
  options: { fromOffset?: bigint; onCorrupt?: (err: KaError) => void } = {},
): Generator<BatchHeader> {
  for (const { header } of storedBatches(log, options)) yield header;
}

/** As {@linkcode batchHeaders}, with each batch's bytes too (transaction markers need them). */
export function* storedBatches(
  log: PartitionLog,
  options: { fromOffset?: bigint; onCorrupt?: (err: KaError) => void } = {},
): Generator<{ header: BatchHeader; bytes: Uint8Array }> {
  let offset = options.fromOffset ?? log.logStartOffset;
  while (offset < log.logEndOffset) {
    let batches: Uint8Array[];
    try {
      batches = log.read(offset, HEADER_SCAN_BYTES).batches;
    } catch (err) {
      if (!isKaError(err) || !options.onCorrupt) throw err;
      options.onCorrupt(err);
      return;
    }
    if (batches.length === 0) return;
    for (const batch of batches) {
      const header = readBatchHeader(batch);
      if (lastOffsetOf(header) < offset) continue;
      yield { header, bytes: batch };
      offset = lastOffsetOf(header) + 1n;
    }
  }
}
