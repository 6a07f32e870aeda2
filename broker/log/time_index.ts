/**
 * A segment's sparse time index, for ListOffsets by timestamp
 * (`offsetForTimestamp`). Each entry `(timestamp, relativeOffset)` says:
 * every batch of this segment before `relativeOffset` has a max timestamp of
 * at most `timestamp` (the running maximum up to there). To find the first
 * batch whose max timestamp reaches `t`, start scanning at the last entry
 * with `timestamp < t`: nothing before it can qualify.
 *
 * Entries are added at the offset index's points when the running maximum
 * grew, and once more when the segment closes (the maximum over the whole
 * segment, at its end offset), which also gives time retention each closed
 * segment's newest timestamp without a scan.
 *
 * Pure, like {@linkcode OffsetIndex}: the `.timeindex` file is 12 bytes an
 * entry (i64 timestamp, u32 relative offset, big-endian).
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";

/** Bytes of one `.timeindex` entry. */
export const TIME_INDEX_ENTRY_BYTES = 12;

/** One entry: batches before `relativeOffset` have max timestamps ≤ `timestamp`. */
export interface TimeIndexEntry {
  timestamp: number;
  relativeOffset: number;
}

/** Running max timestamp → relative offset; both never decrease, offsets strictly increase. */
export class TimeIndex {
  #timestamps: number[] = [];
  #relativeOffsets: number[] = [];

  /**
   * Reads a `.timeindex` file's bytes; null when they cannot be valid for a
   * segment whose offsets end at `relativeOffsetEnd` (exclusive).
   */
  static decode(bytes: Uint8Array, limits: { relativeOffsetEnd: number }): TimeIndex | null {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const index = new TimeIndex();
    for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = Number(view.getBigInt64(at));
      const relativeOffset = view.getUint32(at + 8);
      const last = index.last;
      if (
        !Number.isSafeInteger(timestamp) || relativeOffset <= 0 ||
        relativeOffset > limits.relativeOffsetEnd ||
        (last && (relativeOffset <= last.relativeOffset || timestamp < last.timestamp))
      ) {
        return null;
      }
      index.#timestamps.push(timestamp);
      index.#relativeOffsets.push(relativeOffset);
    }
    return index;
  }

  /** Entries held. */
  get length(): number {
    return this.#timestamps.length;
  }

  /** The newest entry, or null. */
  get last(): TimeIndexEntry | null {
    const i = this.#timestamps.length - 1;
    return i < 0
      ? null
      : { timestamp: this.#timestamps[i], relativeOffset: this.#relativeOffsets[i] };
  }

  /** Adds an entry; `relativeOffset` must grow and `timestamp` must not shrink. */
  append(timestamp: number, relativeOffset: number): void {
    const last = this.last;
    assert(
      !last || (relativeOffset > last.relativeOffset && timestamp >= last.timestamp),
      "time index entries only increase",
    );
    assert(relativeOffset > 0 && relativeOffset <= 0xffff_ffff, "relative offsets fit u32");
    this.#timestamps.push(timestamp);
    this.#relativeOffsets.push(relativeOffset);
  }

  /**
   * Where to start scanning for the first batch whose max timestamp is
   * ≥ `timestamp`: the relative offset of the last entry below it, else 0.
   */
  lookup(timestamp: number): number {
    let lo = 0;
    let hi = this.#timestamps.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#timestamps[mid] < timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? 0 : this.#relativeOffsets[found];
  }

  /** Drops entries past `relativeOffset` (the log was cut there; entries at it stay true). */
  truncateToOffset(relativeOffset: number): void {
    while (
      this.#relativeOffsets.length > 0 &&
      this.#relativeOffsets[this.#relativeOffsets.length - 1] > relativeOffset
    ) {
      this.#relativeOffsets.pop();
      this.#timestamps.pop();
    }
  }

  /** The `.timeindex` file's bytes. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#timestamps.length * TIME_INDEX_ENTRY_BYTES);
    const view = new DataView(out.buffer);
    for (let i = 0; i < this.#timestamps.length; i++) {
      view.setBigInt64(i * TIME_INDEX_ENTRY_BYTES, BigInt(this.#timestamps[i]));
      view.setUint32(i * TIME_INDEX_ENTRY_BYTES + 8, this.#relativeOffsets[i]);
    }
    return out;
  }
}
