/**
 * The in-memory partition log: batches kept as the bytes the producer sent,
 * found by binary search over their base offsets. Retention deletes whole
 * batches, oldest first.
 * @module
 */
import {
  type BatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from "@kafka-analog/lib/protocol";
import { assert } from "@kafka-analog/lib/assert";
import { KaError } from "@kafka-analog/lib/errors";
import type {
  AppendResult,
  PartitionLog,
  ReadResult,
  RetentionPolicy,
  RetentionResult,
} from "./partition_log.ts";

/** A partition log held in memory; lost when the process exits. */
export class MemoryLog implements PartitionLog {
  #batches: Uint8Array[] = [];
  #baseOffsets: bigint[] = [];
  #lastOffsets: bigint[] = [];
  #maxTimestamps: number[] = [];
  #logStartOffset = 0n;
  #logEndOffset = 0n;
  #sizeBytes = 0;

  get logStartOffset(): bigint {
    return this.#logStartOffset;
  }

  get logEndOffset(): bigint {
    return this.#logEndOffset;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  append(batch: Uint8Array, header: BatchHeader, leaderEpoch: number): AppendResult {
    const baseOffset = this.#logEndOffset;
    const lastOffset = baseOffset + BigInt(header.lastOffsetDelta);
    setBaseOffset(batch, baseOffset);
    setPartitionLeaderEpoch(batch, leaderEpoch);
    this.#push(batch, baseOffset, lastOffset, header.maxTimestamp);
    assert(this.#logEndOffset > baseOffset, "log end offset only grows");
    return { baseOffset, lastOffset };
  }

  appendReplica(batch: Uint8Array, header: BatchHeader): AppendResult {
    if (header.baseOffset !== this.#logEndOffset) {
      throw KaError.of(
        "CORRUPT_MESSAGE",
        `Cannot append replicated batch as 'baseOffset' must be ${this.#logEndOffset}: current value is ${header.baseOffset}`,
      );
    }
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    this.#push(batch, header.baseOffset, lastOffset, header.maxTimestamp);
    return { baseOffset: header.baseOffset, lastOffset };
  }

  truncateTo(offset: bigint): bigint {
    while (this.#batches.length > 0 && this.#lastOffsets[this.#lastOffsets.length - 1] >= offset) {
      this.#sizeBytes -= this.#batches.pop()!.length;
      this.#baseOffsets.pop();
      this.#lastOffsets.pop();
      this.#maxTimestamps.pop();
    }
    this.#logEndOffset = this.#lastOffsets.length > 0
      ? this.#lastOffsets[this.#lastOffsets.length - 1] + 1n
      : this.#logStartOffset;
    return this.#logEndOffset;
  }

  #push(batch: Uint8Array, baseOffset: bigint, lastOffset: bigint, maxTimestamp: number): void {
    this.#batches.push(batch);
    this.#baseOffsets.push(baseOffset);
    this.#lastOffsets.push(lastOffset);
    this.#maxTimestamps.push(maxTimestamp);
    this.#sizeBytes += batch.length;
    this.#logEndOffset = lastOffset + 1n;
  }

  read(offset: bigint, maxBytes: number, endOffset = this.#logEndOffset): ReadResult {
    const batches: Uint8Array[] = [];
    let bytes = 0;
    for (let i = this.#indexOf(offset); i >= 0 && i < this.#batches.length; i++) {
      if (this.#baseOffsets[i] >= endOffset) break;
      const batch = this.#batches[i];
      if (batches.length > 0 && bytes + batch.length > maxBytes) break;
      batches.push(batch);
      bytes += batch.length;
    }
    return { batches, bytes };
  }

  offsetForTimestamp(timestamp: number): bigint | null {
    for (let i = 0; i < this.#batches.length; i++) {
      if (this.#maxTimestamps[i] >= timestamp) return this.#baseOffsets[i];
    }
    return null;
  }

  applyRetention(policy: RetentionPolicy): RetentionResult {
    let count = 0;
    let deletedBytes = 0;
    while (count < this.#batches.length) {
      // Never uncommitted data: the whole batch must lie below maxOffset.
      if (this.#lastOffsets[count] >= policy.maxOffset) break;
      const bytes = this.#batches[count].length;
      const expired = policy.retentionMs >= 0 &&
        policy.nowMs - this.#maxTimestamps[count] > policy.retentionMs;
      const oversize = policy.retentionBytes >= 0 &&
        this.#sizeBytes - deletedBytes - bytes >= policy.retentionBytes;
      if (!expired && !oversize) break;
      deletedBytes += bytes;
      count++;
    }
    if (count > 0) {
      this.#batches.splice(0, count);
      this.#baseOffsets.splice(0, count);
      this.#lastOffsets.splice(0, count);
      this.#maxTimestamps.splice(0, count);
      this.#sizeBytes -= deletedBytes;
      this.#logStartOffset = this.#baseOffsets[0] ?? this.#logEndOffset;
    }
    return { deletedBytes, deletedUnits: count, logStartOffset: this.#logStartOffset };
  }

  truncateFullyAndStartAt(offset: bigint): void {
    this.#clear();
    this.#logStartOffset = offset;
    this.#logEndOffset = offset;
  }

  flush(_nowMs?: number): void {
    // Nothing to make durable: memory logs are lost with the process by design.
  }

  close(): void {
    // Nothing to release beyond the memory, which goes with the log object.
  }

  delete(): void {
    this.#clear();
  }

  #clear(): void {
    this.#batches = [];
    this.#baseOffsets = [];
    this.#lastOffsets = [];
    this.#maxTimestamps = [];
    this.#sizeBytes = 0;
  }

  /** Index of the batch containing `offset`, or of the first after it; −1 past the end. */
  #indexOf(offset: bigint): number {
    let lo = 0;
    let hi = this.#lastOffsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#lastOffsets[mid] >= offset) {
        found = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return found;
  }
}
