/**
 * The producer's record accumulator: per partition, a queue of batches
 * bounded by `batchBytes`, each sent when it is full or has lingered
 * `lingerMs` (or at once when the producer flushes or its buffer is full).
 * Pure and synchronous: the caller passes the time in, so the size and
 * linger triggers are tested without timers.
 *
 * A batch is *closed* (full) when the next record would not fit in
 * `batchBytes`, when it reaches the record limit, or — with `batchBytes` 0,
 * which disables batching — after its first record. A record larger than
 * `batchBytes` gets a batch of its own. The estimate counts the 61-byte
 * batch header and each record's bytes as the producer estimates them.
 *
 * {@linkcode RecordAccumulator.drain} takes at most one batch per partition
 * (the head) and skips partitions the caller marks busy: the producer keeps
 * one batch in flight per partition, which is what keeps retries in order.
 * @module
 */
import { BATCH_RECORDS_MAX } from "@kafka-analog/lib/limits";
import { RECORD_BATCH_HEADER_BYTES, type RecordInput } from "@kafka-analog/lib/protocol";

/** One record waiting in a batch, with the caller's handle (its promise callbacks). */
export interface AccumulatedRecord<H> {
  record: RecordInput;
  /** Estimated encoded bytes of the record. */
  bytes: number;
  handle: H;
}

/** A batch of one partition. Fields after `closed` are the producer's, once it takes the batch. */
export interface ProducerBatch<H> {
  readonly topic: string;
  readonly partition: number;
  /** `topic/partition`. */
  readonly key: string;
  records: AccumulatedRecord<H>[];
  /** Estimated batch bytes, header included. */
  bytes: number;
  /** Sum of the records' estimated bytes (what they hold of the producer's buffer). */
  recordBytes: number;
  readonly createdMs: number;
  /** createdMs + deliveryTimeoutMs: the batch fails with DELIVERY_TIMEOUT after this. */
  readonly deadlineMs: number;
  closed: boolean;
  /** Retries made so far. */
  attempts: number;
  /** True once a request carrying it may have reached a broker. */
  sent: boolean;
  /** True once an attempt ended without knowing whether the broker appended it. */
  maybeAppended: boolean;
  /** The encoded (and compressed) batch, fixed at the first send so retries resend it as is. */
  encoded: Uint8Array | null;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/** Options for {@linkcode RecordAccumulator}. */
export interface AccumulatorOptions {
  /** `batch_size`: estimated bytes per batch; 0 disables batching. */
  batchBytes: number;
  /** `linger_ms`: longest a batch waits to fill. */
  lingerMs: number;
  /** `delivery_timeout_ms`: a batch's deadline after its creation. */
  deliveryTimeoutMs: number;
  /** Records per batch at most (default BATCH_RECORDS_MAX). */
  batchRecordsMax?: number;
}

/** What {@linkcode RecordAccumulator.drain} needs besides the time. */
export interface DrainOptions {
  /** Send every head batch now, lingering or not (flush, close, full buffer). */
  force?: boolean;
  /** Partitions (`topic/partition`) with a batch in flight: skipped. */
  isBusy?: (key: string) => boolean;
}

/** Per-partition batch queues. */
export class RecordAccumulator<H> {
  readonly options: Readonly<Required<AccumulatorOptions>>;
  #queues = new Map<string, ProducerBatch<H>[]>();
  #batchCount = 0;
  /** `topic/partition` keys by topic and partition, so append builds no string per record. */
  #keys = new Map<string, string[]>();

  constructor(options: AccumulatorOptions) {
    this.options = Object.freeze({ batchRecordsMax: BATCH_RECORDS_MAX, ...options });
  }

  /** Batches waiting (not yet taken by drain). */
  get batchCount(): number {
    return this.#batchCount;
  }

  /** Appends a record to its partition's last open batch (or a new one). */
  append(
    topic: string,
    partition: number,
    entry: AccumulatedRecord<H>,
    nowMs: number,
  ): { batchFull: boolean } {
    let keys = this.#keys.get(topic);
    if (keys === undefined) this.#keys.set(topic, keys = []);
    const key = keys[partition] ??= `${topic}/${partition}`;
    let queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, queue = []);
    let batch = queue.at(-1);
    const { batchBytes, batchRecordsMax } = this.options;
    if (batch !== undefined && !batch.closed && batch.bytes + entry.bytes > batchBytes) {
      batch.closed = true;
    }
    if (batch === undefined || batch.closed) {
      batch = {
        topic,
        partition,
        key,
        records: [],
        bytes: RECORD_BATCH_HEADER_BYTES,
        recordBytes: 0,
        createdMs: nowMs,
        deadlineMs: nowMs + this.options.deliveryTimeoutMs,
        closed: false,
        attempts: 0,
        sent: false,
        maybeAppended: false,
        encoded: null,
        producerId: -1n,
        producerEpoch: -1,
        baseSequence: -1,
      };
      queue.push(batch);
      this.#batchCount++;
    }
    batch.records.push(entry);
    batch.bytes += entry.bytes;
    batch.recordBytes += entry.bytes;
    if (batch.bytes >= batchBytes || batch.records.length >= batchRecordsMax) batch.closed = true;
    return { batchFull: batch.closed };
  }

  /**
   * Takes the head batch of every partition that is not busy and is ready:
   * closed (full), lingered `lingerMs` since it was created, or forced.
   */
  drain(nowMs: number, options: DrainOptions = {}): ProducerBatch<H>[] {
    const out: ProducerBatch<H>[] = [];
    for (const [key, queue] of this.#queues) {
      const head = queue[0];
      if (head === undefined || options.isBusy?.(key)) continue;
      if (!(head.closed || options.force || nowMs - head.createdMs >= this.options.lingerMs)) {
        continue;
      }
      head.closed = true;
      queue.shift();
      this.#batchCount--;
      if (queue.length === 0) this.#queues.delete(key);
      out.push(head);
    }
    return out;
  }

  /**
   * When the next batch turns ready by lingering or expires, whichever is
   * first (ms since the epoch), or null when nothing waits. Busy partitions'
   * heads only count by their deadlines.
   */
  nextWakeMs(isBusy?: (key: string) => boolean): number | null {
    let next: number | null = null;
    for (const [key, queue] of this.#queues) {
      const head = queue[0];
      if (head === undefined) continue;
      if (!isBusy?.(key)) {
        const ready = head.closed ? head.createdMs : head.createdMs + this.options.lingerMs;
        if (next === null || ready < next) next = ready;
      }
      for (const batch of queue) {
        if (next === null || batch.deadlineMs < next) next = batch.deadlineMs;
      }
    }
    return next;
  }

  /** Removes and returns every waiting batch whose deadline has passed. */
  expire(nowMs: number): ProducerBatch<H>[] {
    const out: ProducerBatch<H>[] = [];
    for (const [key, queue] of this.#queues) {
      const keep = queue.filter((b) => b.deadlineMs > nowMs);
      if (keep.length === queue.length) continue;
      for (const b of queue) if (b.deadlineMs <= nowMs) out.push(b);
      this.#batchCount -= queue.length - keep.length;
      if (keep.length === 0) this.#queues.delete(key);
      else this.#queues.set(key, keep);
    }
    return out;
  }

  /** Removes and returns every waiting batch (the producer failed for good). */
  takeAll(): ProducerBatch<H>[] {
    const out = [...this.#queues.values()].flat();
    this.#queues.clear();
    this.#batchCount = 0;
    return out;
  }
}
