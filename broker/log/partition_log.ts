/**
 * The one interface every partition log engine implements (memory now, disk
 * segments later), and the shared conformance cases run against each.
 * @module
 */
import type { BatchHeader } from "@kafka-analog/lib/protocol";

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
}
