/**
 * A segment's sparse offset index: every ~4 KiB of log bytes, the offset of
 * a batch (relative to the segment's base offset) and the file position it
 * starts at. A read looks up the last entry at or before its offset and
 * scans batch headers forward from there, so it touches at most one index
 * interval of headers.
 *
 * Pure: the entries live in memory; {@linkcode OffsetIndex.encode} and
 * {@linkcode OffsetIndex.decode} turn them into the `.index` file's bytes
 * (8 bytes an entry: u32 relative offset, u32 position, big-endian, as
 * Kafka's `.index`). The segment writes the file when it is closed; the
 * active segment's index is rebuilt by the recovery scan on every open.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";

/** Bytes of one `.index` entry. */
export const OFFSET_INDEX_ENTRY_BYTES = 8;

/** One entry: the batch starting at `relativeOffset` begins at `position`. */
export interface OffsetIndexEntry {
  relativeOffset: number;
  position: number;
}

/** Relative offset → position, both strictly increasing. */
export class OffsetIndex {
  #relativeOffsets: number[] = [];
  #positions: number[] = [];

  /**
   * Reads a `.index` file's bytes. Returns null when they cannot be a valid
   * index for a segment of `logBytes` bytes whose offsets stay below
   * `relativeOffsetEnd`: a length that is not a whole number of entries,
   * entries that do not increase, or a position past the log's end (a stale
   * index). The caller then rebuilds it from the log.
   */
  static decode(
    bytes: Uint8Array,
    limits: { logBytes: number; relativeOffsetEnd: number },
  ): OffsetIndex | null {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const index = new OffsetIndex();
    for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_BYTES) {
      const relativeOffset = view.getUint32(at);
      const position = view.getUint32(at + 4);
      const last = index.#relativeOffsets.length - 1;
      if (
        relativeOffset <= 0 || position <= 0 || position >= limits.logBytes ||
        relativeOffset >= limits.relativeOffsetEnd ||
        (last >= 0 &&
          (relativeOffset <= index.#relativeOffsets[last] || position <= index.#positions[last]))
      ) {
        return null;
      }
      index.#relativeOffsets.push(relativeOffset);
      index.#positions.push(position);
    }
    return index;
  }

  /** Entries held. */
  get length(): number {
    return this.#positions.length;
  }

  /** The newest entry, or null when empty (the segment start is implied). */
  get last(): OffsetIndexEntry | null {
    const i = this.#positions.length - 1;
    return i < 0
      ? null
      : { relativeOffset: this.#relativeOffsets[i], position: this.#positions[i] };
  }

  /** Adds an entry past every existing one. */
  append(relativeOffset: number, position: number): void {
    const last = this.last;
    assert(
      relativeOffset > (last?.relativeOffset ?? 0) && position > (last?.position ?? 0),
      "offset index entries only increase",
    );
    assert(relativeOffset <= 0xffff_ffff && position <= 0xffff_ffff, "index entries fit u32");
    this.#relativeOffsets.push(relativeOffset);
    this.#positions.push(position);
  }

  /**
   * The last entry at or before `relativeOffset`: a batch boundary from which
   * scanning forward reaches the batch holding that offset. The segment
   * start `{0, 0}` when no entry is that early.
   */
  lookup(relativeOffset: number): OffsetIndexEntry {
    let lo = 0;
    let hi = this.#relativeOffsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#relativeOffsets[mid] <= relativeOffset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0
      ? { relativeOffset: 0, position: 0 }
      : { relativeOffset: this.#relativeOffsets[found], position: this.#positions[found] };
  }

  /** Drops the entries at or past `position` (the log was cut there). */
  truncateToPosition(position: number): void {
    while (this.#positions.length > 0 && this.#positions[this.#positions.length - 1] >= position) {
      this.#positions.pop();
      this.#relativeOffsets.pop();
    }
  }

  /** The `.index` file's bytes. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#positions.length * OFFSET_INDEX_ENTRY_BYTES);
    const view = new DataView(out.buffer);
    for (let i = 0; i < this.#positions.length; i++) {
      view.setUint32(i * OFFSET_INDEX_ENTRY_BYTES, this.#relativeOffsets[i]);
      view.setUint32(i * OFFSET_INDEX_ENTRY_BYTES + 4, this.#positions[i]);
    }
    return out;
  }
}
