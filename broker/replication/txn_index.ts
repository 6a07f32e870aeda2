/**
 * A partition's transaction bookkeeping (KIP-98): which producers have an
 * open transaction and from which offset, and which transactions were
 * aborted (first and last offset). From it come the last stable offset (LSO)
 * — nothing at or above the first offset of an open transaction is visible
 * to `read_committed` consumers — and the aborted ranges a fetch reports so
 * the consumer can drop aborted records.
 * @module
 */
import {
  type BatchHeader,
  isControlBatch,
  isTransactionalBatch,
  readControlRecordType,
} from "@kafka-analog/lib/protocol";
import { isKaError } from "@kafka-analog/lib/errors";

/** An aborted transaction's range in the log. */
export interface AbortedRange {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
}

/** Aborted ranges remembered per partition at most; older ones go first (with retention they fall below the log start anyway). */
const ABORTED_RANGES_MAX = 100_000;

/** Open transactions and aborted ranges of one partition. */
export class TransactionIndex {
  #ongoing = new Map<bigint, bigint>();
  #aborted: AbortedRange[] = [];

  /** Open transactions: producer id → first offset. */
  get ongoing(): ReadonlyMap<bigint, bigint> {
    return this.#ongoing;
  }

  /** Takes note of a batch appended to the log (leader or follower), in offset order. */
  onBatch(header: BatchHeader, bytes: Uint8Array): void {
    if (!isTransactionalBatch(header)) return;
    const producerId = header.producerId;
    if (isControlBatch(header)) {
      let type: "commit" | "abort";
      try {
        type = readControlRecordType(bytes);
      } catch (err) {
        if (isKaError(err)) return; // not a transaction marker (unknown control type)
        throw err;
      }
      const first = this.#ongoing.get(producerId);
      this.#ongoing.delete(producerId);
      if (type === "abort" && first !== undefined) {
        this.#aborted.push({ producerId, firstOffset: first, lastOffset: header.baseOffset });
        if (this.#aborted.length > ABORTED_RANGES_MAX) this.#aborted.shift();
      }
      return;
    }
    if (!this.#ongoing.has(producerId)) this.#ongoing.set(producerId, header.baseOffset);
  }

  /** The last stable offset: the high watermark, or the first offset of the oldest open transaction below it. */
  lastStableOffset(highWatermark: bigint): bigint {
    let lso = highWatermark;
    for (const first of this.#ongoing.values()) if (first < lso) lso = first;
    return lso;
  }

  /** Aborted transactions whose range overlaps [from, to). */
  abortedIn(from: bigint, to: bigint): AbortedRange[] {
    return this.#aborted.filter((a) => a.lastOffset >= from && a.firstOffset < to);
  }

  /** Forgets everything (the log is being rebuilt). */
  clear(): void {
    this.#ongoing.clear();
    this.#aborted = [];
  }
}
