/**
 * Idempotent-producer state of one partition: for each producer id, its
 * current epoch and the sequence ranges and offsets of its last
 * {@linkcode PRODUCER_BATCHES_CACHED} (5) batches, as Kafka's
 * `ProducerStateManager` keeps them. The leader asks {@linkcode
 * ProducerStateTable.check} before appending a batch:
 *
 * - a batch without a producer id (-1), or a control batch, is always new;
 * - a batch whose first and last sequence equal a cached batch's is a
 *   duplicate (a retry of something already written): the leader answers with
 *   the original base offset and appends nothing;
 * - an older epoch is fenced: INVALID_PRODUCER_EPOCH;
 * - a newer epoch must start at sequence 0 (else OUT_OF_ORDER_SEQUENCE_NUMBER);
 * - an unknown producer id must start at sequence 0, else
 *   UNKNOWN_PRODUCER_ID (its state was forgotten or never written);
 * - otherwise the first sequence must be the last one + 1 (wrapping after
 *   2^31 − 1 to 0, as Kafka does), else OUT_OF_ORDER_SEQUENCE_NUMBER.
 *
 * After a successful append the leader calls {@linkcode
 * ProducerStateTable.record} with the batch's base offset. A new leader
 * rebuilds the table from its log with {@linkcode
 * ProducerStateTable.rebuildFrom}, so duplicates are still caught after a
 * failover. At most {@linkcode PRODUCER_STATES_PER_PARTITION_MAX} producers are
 * remembered; the least recently written is forgotten first (and would then
 * get UNKNOWN_PRODUCER_ID for a sequence other than 0).
 *
 * Pure: no I/O, no clock. One table per partition.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import {
  PRODUCER_BATCHES_CACHED,
  PRODUCER_STATES_PER_PARTITION_MAX,
} from "@kafka-analog/lib/limits";
import { type BatchHeader, isControlBatch, isTransactionalBatch } from "@kafka-analog/lib/protocol";

/**
 * What {@linkcode ProducerStateTable.check} decides about a batch. A
 * duplicate carries the original batch's offsets: answer with `baseOffset`,
 * and for acks=all wait until the high watermark passes `lastOffset`.
 */
export type SequenceCheck =
  | { kind: "new" }
  | { kind: "duplicate"; baseOffset: bigint; lastOffset: bigint };

/** One cached batch of a producer. */
export interface CachedBatch {
  firstSequence: number;
  lastSequence: number;
  baseOffset: bigint;
  lastOffset: bigint;
}

/** What the table knows about one producer id. */
export interface ProducerEntry {
  producerId: bigint;
  producerEpoch: number;
  /** Oldest first; at most PRODUCER_BATCHES_CACHED. */
  batches: CachedBatch[];
}

/** The header fields the table reads (a whole {@linkcode BatchHeader} fits). */
export type ProducerBatchHeader = Pick<
  BatchHeader,
  | "producerId"
  | "producerEpoch"
  | "baseSequence"
  | "recordCount"
  | "lastOffsetDelta"
  | "attributes"
  | "baseOffset"
>;

/** Options for {@linkcode ProducerStateTable}. */
export interface ProducerStateOptions {
  /** Producers remembered at most (default PRODUCER_STATES_PER_PARTITION_MAX). */
  producersMax?: number;
}

const NEW: SequenceCheck = Object.freeze({ kind: "new" });
const SEQUENCE_MAX = 0x7fffffff;

/** The sequence after `sequence` + `count` − 1, wrapping as Kafka does. */
export function sequenceAfter(sequence: number, count: number): number {
  const next = sequence + count;
  return next > SEQUENCE_MAX ? next - SEQUENCE_MAX - 1 : next;
}

/** The last sequence of a batch starting at `first` with `recordCount` records. */
export function lastSequenceOf(first: number, recordCount: number): number {
  return recordCount <= 0 ? first : sequenceAfter(first, recordCount - 1);
}

function isIdempotent(header: ProducerBatchHeader): boolean {
  return header.producerId >= 0n && !isControlBatch(header as BatchHeader);
}

/** The idempotence table of one partition. */
export class ProducerStateTable {
  #producers = new Map<bigint, ProducerEntry>();
  #producersMax: number;

  constructor(options: ProducerStateOptions = {}) {
    this.#producersMax = options.producersMax ?? PRODUCER_STATES_PER_PARTITION_MAX;
  }

  /** Producer ids remembered now. */
  get size(): number {
    return this.#producers.size;
  }

  /** A copy of what the table knows about `producerId`, or undefined. */
  entry(producerId: bigint): ProducerEntry | undefined {
    const e = this.#producers.get(producerId);
    return e && { ...e, batches: e.batches.map((b) => ({ ...b })) };
  }

  /**
   * Decides whether `header`'s batch is new or a duplicate; throws KaError
   * OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID
   * or INVALID_REQUEST (an idempotent batch with a negative sequence or
   * epoch). Changes nothing.
   */
  check(header: ProducerBatchHeader): SequenceCheck {
    if (!isIdempotent(header)) return NEW;
    const { producerId, producerEpoch, baseSequence, recordCount } = header;
    if (baseSequence < 0 || producerEpoch < 0) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot append batch of producer ${producerId} as 'baseSequence' and 'producerEpoch' must not be negative: current values are ${baseSequence} and ${producerEpoch}`,
      );
    }
    const entry = this.#producers.get(producerId);
    if (entry === undefined) {
      if (baseSequence === 0) return NEW;
      throw KaError.of(
        "UNKNOWN_PRODUCER_ID",
        `Cannot append batch of producer ${producerId} as 'baseSequence' must be 0 for a producer this partition does not know: current value is ${baseSequence}`,
      );
    }
    if (producerEpoch < entry.producerEpoch) {
      throw KaError.of(
        "INVALID_PRODUCER_EPOCH",
        `Cannot append batch of producer ${producerId} as 'producerEpoch' must be at least ${entry.producerEpoch}: current value is ${producerEpoch}`,
      );
    }
    if (producerEpoch > entry.producerEpoch) {
      if (baseSequence === 0) return NEW;
      throw KaError.of(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `Cannot append batch of producer ${producerId} as 'baseSequence' must be 0 for its new epoch ${producerEpoch}: current value is ${baseSequence}`,
      );
    }
    const lastSequence = lastSequenceOf(baseSequence, recordCount);
    for (const cached of entry.batches) {
      if (cached.firstSequence === baseSequence && cached.lastSequence === lastSequence) {
        return { kind: "duplicate", baseOffset: cached.baseOffset, lastOffset: cached.lastOffset };
      }
    }
    const latest = entry.batches.at(-1);
    const expected = latest === undefined ? 0 : sequenceAfter(latest.lastSequence, 1);
    if (baseSequence !== expected) {
      throw KaError.of(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `Cannot append batch of producer ${producerId} epoch ${producerEpoch} as 'baseSequence' must be ${expected}: current value is ${baseSequence}`,
      );
    }
    return NEW;
  }

  /**
   * A transaction marker written for `producerId` at `producerEpoch`: older
   * epochs of that producer are fenced on this partition from now on (a
   * zombie cannot reopen an aborted transaction). The next batch of the
   * marker's epoch may start a new sequence.
   */
  recordMarker(producerId: bigint, producerEpoch: number): void {
    if (producerId < 0n) return;
    const entry = this.#producers.get(producerId);
    if (entry !== undefined && producerEpoch < entry.producerEpoch) return;
    if (entry !== undefined && producerEpoch === entry.producerEpoch) return;
    this.#producers.delete(producerId);
    this.#producers.set(producerId, { producerId, producerEpoch, batches: [] });
  }

  /** Remembers a batch appended at `baseOffset` (call only after `check` said new). */
  record(header: ProducerBatchHeader, baseOffset: bigint): void {
    if (isControlBatch(header as BatchHeader) && isTransactionalBatch(header as BatchHeader)) {
      this.recordMarker(header.producerId, header.producerEpoch);
      return;
    }
    if (!isIdempotent(header) || header.baseSequence < 0) return;
    const { producerId, producerEpoch } = header;
    let entry = this.#producers.get(producerId);
    if (entry === undefined || producerEpoch > entry.producerEpoch) {
      entry = { producerId, producerEpoch, batches: [] };
    } else if (producerEpoch < entry.producerEpoch) {
      return; // an older epoch's batch can only come from a log being replayed out of order
    }
    entry.batches.push({
      firstSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header.baseSequence, header.recordCount),
      baseOffset,
      lastOffset: baseOffset + BigInt(header.lastOffsetDelta),
    });
    if (entry.batches.length > PRODUCER_BATCHES_CACHED) entry.batches.shift();
    // Re-insert so the Map's order is least recently written first.
    this.#producers.delete(producerId);
    this.#producers.set(producerId, entry);
    while (this.#producers.size > this.#producersMax) {
      const oldest = this.#producers.keys().next().value as bigint;
      this.#producers.delete(oldest);
    }
  }

  /**
   * Forgets everything and replays `headers` (the log's batches, oldest
   * first, with their stored base offsets): what a new leader does.
   */
  rebuildFrom(headers: Iterable<ProducerBatchHeader>): void {
    this.#producers.clear();
    for (const header of headers) this.record(header, header.baseOffset);
  }

  /** Forgets every producer (a follower that stops leading may drop its table). */
  clear(): void {
    this.#producers.clear();
  }
}
