/**
 * A {@linkcode MessageSource} (a group member, or a reader of one topic)
 * polled in the background into a bounded buffer, from which subscriptions
 * and streams take messages at their client's pace.
 *
 * Why a background loop: a group member must keep rejoining when the group
 * rebalances, whether or not its HTTP client is asking for messages right
 * now; otherwise one idle client would hold up the whole group's rebalance.
 * The loop polls continuously, and when the buffer holds
 * `bufferBytesMax` it pauses every partition (polls then only keep the
 * membership alive), so a client that stops reading costs at most the buffer
 * plus one poll (partitions × the per-partition fetch bound).
 *
 * Offsets: the source's own position runs ahead (it includes what is
 * buffered), so commits never use it. The consumer tracks, per partition,
 * the offset after the last message handed to the client ("delivered"), and
 * `commitDelivered` commits exactly that. After a rebalance, buffered
 * messages and delivered offsets of partitions this member lost are
 * dropped: the new owner starts from the last commit (at-least-once).
 *
 * Ownership: one `take` at a time (the subscription registry and the stream
 * session each guarantee it); `close` may come at any time.
 * @module
 */
import { sleep } from "@kafka-analog/lib/async";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type {
  ConsumedMessage,
  MessageSource,
  PartitionOffset,
  TopicPartition,
} from "../shared/cluster.ts";
import { GATEWAY_CONSUMER_BUFFER_BYTES_MAX } from "../shared/limits.ts";
import { messageBytes } from "./format.ts";

/** Options of a {@linkcode BufferedConsumer}. */
export interface BufferedConsumerOptions {
  logger: Logger;
  /** Buffered bytes at which fetching pauses. Defaults to `GATEWAY_CONSUMER_BUFFER_BYTES_MAX`. */
  bufferBytesMax?: number;
  /** Pause after a retriable poll error. Default 200 ms. */
  retryDelayMs?: number;
  /** Longest `close` waits for the source to leave its group. Default 5000 ms. */
  closeTimeoutMs?: number;
}

function keyOf(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

/** A message source drained into a bounded buffer by a background loop. */
export class BufferedConsumer {
  readonly source: MessageSource;
  #logger: Logger;
  #bufferBytesMax: number;
  #retryDelayMs: number;
  #closeTimeoutMs: number;
  #buffer: ConsumedMessage[] = [];
  #bufferBytes = 0;
  #delivered = new Map<string, PartitionOffset>();
  #committed = new Map<string, bigint>();
  #rebalancesSeen = 0;
  #wake: (() => void)[] = [];
  #loop: Promise<void> | null = null;
  #closed = false;
  #failure: Error | null = null;
  #lastErrorLogMs = 0;

  constructor(source: MessageSource, options: BufferedConsumerOptions) {
    this.source = source;
    this.#logger = options.logger;
    this.#bufferBytesMax = options.bufferBytesMax ?? GATEWAY_CONSUMER_BUFFER_BYTES_MAX;
    this.#retryDelayMs = options.retryDelayMs ?? 200;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  }

  /** Starts the background loop (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Messages fetched and not yet taken. */
  get bufferedCount(): number {
    return this.#buffer.length;
  }

  /** Estimated bytes of the buffered messages. */
  get bufferedBytes(): number {
    return this.#bufferBytes;
  }

  /** The non-retriable error that stopped the loop, if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** The partitions the source owns now. */
  assignment(): TopicPartition[] {
    return this.source.assignment();
  }

  /**
   * Up to `max` buffered messages (and about `maxBytes`, at least one),
   * waiting up to `timeoutMs` for the first; [] on timeout. Throws the loop's
   * failure once the buffer is empty.
   */
  async take(max: number, timeoutMs: number, maxBytes = Infinity): Promise<ConsumedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffer.length === 0 && !this.#closed && this.#failure === null) {
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.#wake = this.#wake.filter((w) => w !== wake);
          resolve();
        }, left);
        this.#wake.push(wake);
      });
    }
    if (this.#buffer.length === 0) {
      if (this.#failure !== null) throw this.#failure;
      return [];
    }
    let count = 0;
    let bytes = 0;
    while (count < this.#buffer.length && count < max) {
      const size = messageBytes(this.#buffer[count]);
      if (count > 0 && bytes + size > maxBytes) break;
      bytes += size;
      count++;
    }
    const taken = this.#buffer.splice(0, count);
    this.#bufferBytes -= bytes;
    for (const m of taken) {
      this.#delivered.set(keyOf(m), {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset + 1n,
      });
    }
    return taken;
  }

  /** The offsets after the last delivered message of each owned partition, not yet committed. */
  uncommitted(): PartitionOffset[] {
    return [...this.#delivered.entries()]
      .filter(([key, o]) => this.#committed.get(key) !== o.offset)
      .map(([, o]) => ({ ...o }));
  }

  /** Commits what was delivered and not yet committed; returns what was committed. */
  async commitDelivered(): Promise<PartitionOffset[]> {
    const offsets = this.uncommitted();
    await this.commit(offsets);
    return offsets;
  }

  /** Commits `offsets` for the source's group (INVALID_REQUEST without a group). */
  async commit(offsets: PartitionOffset[]): Promise<void> {
    if (this.source.groupId === null) {
      throw KaError.of("INVALID_REQUEST", "Offsets can only be committed for a group");
    }
    await this.source.commit(offsets);
    for (const o of offsets) this.#committed.set(keyOf(o), o.offset);
  }

  /** Stops the loop, leaves the group (bounded wait) and drops the buffer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeAll();
    const leaving = this.source.close().catch((err) => {
      this.#logger.warn("closing a consumer failed", { error: err });
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([leaving, this.#loop ?? Promise.resolve()]),
      new Promise<void>((resolve) => timer = setTimeout(resolve, this.#closeTimeoutMs)),
    ]);
    clearTimeout(timer);
    this.#buffer = [];
    this.#bufferBytes = 0;
  }

  #wakeAll(): void {
    const waiters = this.#wake;
    this.#wake = [];
    for (const wake of waiters) wake();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const owned = this.source.assignment();
      if (this.#bufferBytes >= this.#bufferBytesMax) this.source.pause(owned);
      else this.source.resume(owned);
      let batches;
      try {
        batches = await this.source.poll();
      } catch (err) {
        if (this.#closed) break;
        if (isKaError(err) && err.retriable) {
          this.#logRetriable(err);
          await sleep(this.#retryDelayMs);
          continue;
        }
        this.#failure = err instanceof Error ? err : new Error(String(err));
        this.#logger.warn("consumer stopped", { group: this.source.groupId, error: err });
        this.#wakeAll();
        break;
      }
      if (this.#closed) break;
      if (this.source.rebalances !== this.#rebalancesSeen) {
        this.#rebalancesSeen = this.source.rebalances;
        this.#dropRevoked();
      }
      for (const batch of batches) {
        for (const m of batch.messages) {
          this.#buffer.push(m);
          this.#bufferBytes += messageBytes(m);
        }
      }
      if (this.#buffer.length > 0) this.#wakeAll();
    }
  }

  /** After a rebalance: forget buffered messages and delivered offsets of lost partitions. */
  #dropRevoked(): void {
    const owned = new Set(this.source.assignment().map(keyOf));
    const kept = this.#buffer.filter((m) => owned.has(keyOf(m)));
    if (kept.length !== this.#buffer.length) {
      this.#buffer = kept;
      this.#bufferBytes = kept.reduce((sum, m) => sum + messageBytes(m), 0);
    }
    for (const key of [...this.#delivered.keys()]) if (!owned.has(key)) this.#delivered.delete(key);
    for (const key of [...this.#committed.keys()]) if (!owned.has(key)) this.#committed.delete(key);
  }

  #logRetriable(err: KaError): void {
    const now = Date.now();
    if (now - this.#lastErrorLogMs < 5_000) return;
    this.#lastErrorLogMs = now;
    this.#logger.warn("poll failed, retrying", { group: this.source.groupId, error: err });
  }
}
