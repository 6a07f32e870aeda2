/**
 * The producer. For each message it serializes key and value, picks a
 * partition (explicit, a custom selector, or the partitioner), reserves room
 * in a bounded buffer and appends the record to its partition's batch in the
 * {@linkcode RecordAccumulator}. A sender drains batches that are full or
 * have lingered, and sends one Produce request per leader broker carrying a
 * batch for each of its ready partitions.
 *
 * **Back-pressure.** Unsent records hold at most `bufferBytes` (estimated);
 * `send` waits for room (batches are then sent without lingering) and fails
 * with BUFFER_EXHAUSTED after `maxBlockMs`. Nothing grows without bound.
 *
 * **Acks.** 0: the send resolves once the request is written (offset -1);
 * 1: once the leader appended; "all": once every in-sync replica has it.
 *
 * **Retries.** A retriable error (`KaError.retriable`: not leader, connection
 * lost, not enough replicas, timeout, ...; CORRUPT_MESSAGE is not retried,
 * as the same bytes would be refused again) is retried up to `retries` times,
 * each after an exponential backoff with jitter (`retry.ts`) and a metadata
 * refresh, while the batch's `deliveryTimeoutMs` (counted from its first
 * record) allows. Other errors fail the batch's records at once.
 *
 * **Ordering and idempotence.** At most one batch per partition is in flight
 * (awaiting its answer, or its retry): a later batch of a partition is only
 * sent after the earlier one succeeded or failed for good, so retries never
 * reorder a partition's messages. With idempotence (the default when acks
 * is "all") the producer gets a producer id and epoch (InitProducerId, sent to
 * any bootstrap address) and stamps each batch with a per-partition sequence
 * number, fixed at its first send: a retry resends the same bytes, and the
 * broker answers a duplicate with the original offset instead of appending it
 * again. When a batch fails for good and the broker surely did not append it,
 * the partition's sequence is rolled back to it; when the outcome is unknown
 * (connection lost, timed out) or the broker reports OUT_OF_ORDER_SEQUENCE_NUMBER
 * or UNKNOWN_PRODUCER_ID, the producer takes a new producer id so later
 * batches start cleanly at sequence 0 (the failed send's error says the
 * records may have been written). INVALID_PRODUCER_EPOCH (fenced) is fatal.
 * If the cluster does not serve InitProducerId, an explicit `idempotence:
 * true` fails every send with UNSUPPORTED_VERSION, while the default quietly
 * runs without it ({@linkcode Producer.idempotent} says which).
 *
 * **Compression.** "gzip", "snappy", "lz4" or "zstd" compresses each batch's
 * records (attributes bits), as the Java client does; brokers store the
 * compressed batch as it comes.
 *
 * **Transactions.** With a `transactionalId` (which needs acks "all" and
 * idempotence) the producer id comes from `initTransactions()` instead, and
 * every send belongs to a transaction: `beginTransaction()`, `send()`,
 * `sendOffsetsToTransaction()`, `commitTransaction()` / `abortTransaction()`.
 * Batches carry the transactional attribute bit and each partition is added
 * to the transaction before its first batch. The state machine and the
 * coordinator conversation live in `transactions.ts`; the producer only
 * calls it when buffering (send), before sending (dispatch, seal), and when
 * a batch fails or is fenced.
 * @module
 */
import {
  ApiKey,
  encodeRecordBatch,
  ERRORS,
  type ProduceRequest,
  type RecordInput,
} from "@kafka-analog/lib/protocol";
import { KaError } from "@kafka-analog/lib/errors";
import { withTimeout } from "@kafka-analog/lib/async";
import { BATCH_BYTES_MAX } from "@kafka-analog/lib/limits";
import { messageOf } from "@kafka-analog/lib/net";
import type { Config } from "@kafka-analog/lib/config";
import { type AccumulatedRecord, type ProducerBatch, RecordAccumulator } from "./accumulator.ts";
import type { ClusterView } from "./cluster.ts";
import { VERSIONS } from "./cluster.ts";
import { compressBatch, type CompressionType, isCompressionType } from "./compression.ts";
import {
  checkPartition,
  defaultPartitioner,
  type Partitioner,
  type PartitionSelector,
} from "./partitioner.ts";
import { backoffMs, type ProducerClock, SYSTEM_CLOCK } from "./retry.ts";
import { payloadSerde, type SerializeContext, type Serializer } from "./serde.ts";
import {
  type ConsumerGroupMetadata,
  type TransactionalProducerHooks,
  TransactionManager,
  type TransactionOffset,
  type TransactionState,
} from "./transactions.ts";
import type { Acks, Payload, ProducerMessage, RecordMetadata } from "./types.ts";

/** Producer settings; defaults match `config.yaml`'s `producer` section. */
export interface ProducerOptions<K = Payload, V = Payload> {
  /** 0, 1 or "all" (default "all"). */
  acks?: Acks;
  /** `linger_ms` (default 5). */
  lingerMs?: number;
  /** `batch_size`: estimated bytes per partition batch (default 16384; 0 = no batching). */
  batchBytes?: number;
  /** `buffer_memory`: estimated bytes of unsent records at most (default 32 MiB). */
  bufferBytes?: number;
  /** `max_block_ms`: longest `send` waits for buffer room or metadata (default 60000). */
  maxBlockMs?: number;
  /** `retries` (default 5). */
  retries?: number;
  /** `retry_backoff_ms` (default 100). */
  retryBackoffMs?: number;
  /** `retry_backoff_max_ms` (default 1000). */
  retryBackoffMaxMs?: number;
  /** `request_timeout_ms` (default 30000). */
  requestTimeoutMs?: number;
  /** `delivery_timeout_ms` (default the larger of 120000 and linger + request timeout). */
  deliveryTimeoutMs?: number;
  /**
   * `idempotence`: true requires it (acks must be "all"), false turns it off;
   * by default it is on when acks is "all" and the cluster supports it.
   */
  idempotence?: boolean;
  /** `compression` (default "none"). */
  compression?: CompressionType;
  /** Chooses partitions from the serialized key (default: murmur2 for keys, else round-robin). */
  partitioner?: Partitioner;
  /** Chooses partitions from the message as given; wins over `partitioner`. */
  partitionSelector?: PartitionSelector<K, V>;
  /** Default: strings as UTF-8, bytes as is. */
  keySerializer?: Serializer<K>;
  /** Default: strings as UTF-8, bytes as is. */
  valueSerializer?: Serializer<V>;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
  /** Clock for deadlines and backoff sleeps (linger uses real timers). */
  clock?: ProducerClock;
  /**
   * Makes the producer transactional (needs acks "all"; idempotence is on).
   * Instances with the same id fence each other: the newest
   * `initTransactions()` wins.
   */
  transactionalId?: string;
  /** Longest a transaction may stay open before the coordinator aborts it (default 60000). */
  transactionTimeoutMs?: number;
}

/** Producer options from a validated config's `producer` section. */
export function producerOptionsFromConfig(producer: Config["producer"]): ProducerOptions {
  return {
    acks: producer.acks === "all" ? "all" : producer.acks === "1" ? 1 : 0,
    lingerMs: producer.lingerMs,
    batchBytes: producer.batchSize,
    bufferBytes: producer.bufferMemory,
    maxBlockMs: producer.maxBlockMs,
    retries: producer.retries,
    retryBackoffMs: producer.retryBackoffMs,
    retryBackoffMaxMs: producer.retryBackoffMaxMs,
    requestTimeoutMs: producer.requestTimeoutMs,
    deliveryTimeoutMs: producer.deliveryTimeoutMs,
    idempotence: producer.idempotence,
    compression: producer.compression,
  };
}

/**
 * One `send()` call: the metadata of its records, filled in as their batches
 * complete. One promise per call, not per record (the hot path).
 */
interface SendCall {
  results: RecordMetadata[];
  /** Records not answered yet. */
  remaining: number;
  /** Resolved, rejected, or abandoned (send() threw): later outcomes are ignored. */
  settled: boolean;
  resolve(results: RecordMetadata[]): void;
  reject(err: unknown): void;
}

/** A record's place in its send() call. */
interface RecordHandle {
  call: SendCall;
  index: number;
}

type Batch = ProducerBatch<RecordHandle>;

interface RoomWaiter {
  bytes: number;
  resolve(): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** How sure we are that a failed batch was not appended. */
type Outcome = "not-appended" | "unknown";

/** Bytes a record costs beyond its key and value (varints, attributes, deltas). */
const RECORD_OVERHEAD_BYTES = 24;
const ENCODER = new TextEncoder();

/** Encodes a key or value given as a string or bytes. */
export function toBytes(payload: Payload | undefined): Uint8Array | null {
  if (payload === undefined || payload === null) return null;
  return typeof payload === "string" ? ENCODER.encode(payload) : payload;
}

function estimateBytes(record: RecordInput): number {
  let bytes = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const h of record.headers ?? []) bytes += h.key.length + (h.value?.length ?? 0) + 8;
  return bytes;
}

function asKaError(err: unknown): KaError {
  if (err instanceof KaError) return err;
  return KaError.of("UNKNOWN_SERVER_ERROR", `Unexpected producer failure: ${messageOf(err)}`, {
    cause: err,
  });
}

/** Errors after which the batch may have been appended although it failed. */
const APPENDED_MAYBE = new Set<number>([
  ERRORS.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code,
  ERRORS.REQUEST_TIMED_OUT.code,
]);
/** Errors after which the broker's and our sequences disagree: take a new producer id. */
const SEQUENCE_RESET = new Set<number>([
  ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER.code,
  ERRORS.UNKNOWN_PRODUCER_ID.code,
]);

/** Sends messages to partition leaders. */
export class Producer<K = Payload, V = Payload> {
  #cluster: ClusterView;
  #acks: number;
  #retries: number;
  #retryBackoffMs: number;
  #retryBackoffMaxMs: number;
  #requestTimeoutMs: number;
  #bufferBytes: number;
  #maxBlockMs: number;
  #compression: CompressionType;
  #partitioner: Partitioner;
  #selector: PartitionSelector<K, V> | undefined;
  #keySerializer: Serializer<K>;
  #valueSerializer: Serializer<V>;
  #random: () => number;
  #clock: ProducerClock;
  #acc: RecordAccumulator<RecordHandle>;

  #busy = new Set<string>();
  #bufferedBytes = 0;
  #roomWaiters: RoomWaiter[] = [];
  #runScheduled = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDueMs = Infinity;
  #tasks = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  #forcing = 0;
  #closed = false;
  #fatal: KaError | null = null;

  /** "on" = required, "auto" = when supported, "off". */
  #idempotence: "on" | "auto" | "off";
  #pid: { producerId: bigint; producerEpoch: number } | null = null;
  #pidTask: Promise<void> | null = null;
  #sequences = new Map<string, number>();
  #initVersion: number | null = null;
  /** The transaction state machine; null without a transactionalId. */
  #txn: TransactionManager | null = null;

  constructor(cluster: ClusterView, options: ProducerOptions<K, V> = {}) {
    this.#cluster = cluster;
    const acks = options.acks ?? "all";
    if (acks !== 0 && acks !== 1 && acks !== "all") {
      throw KaError.of("INVALID_CONFIG", `Invalid producer option 'acks': ${String(acks)}`);
    }
    this.#acks = acks === "all" ? -1 : acks;
    const lingerMs = options.lingerMs ?? 5;
    this.#retries = options.retries ?? 5;
    this.#retryBackoffMs = options.retryBackoffMs ?? 100;
    this.#retryBackoffMaxMs = options.retryBackoffMaxMs ??
      Math.max(1000, this.#retryBackoffMs);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const deliveryTimeoutMs = options.deliveryTimeoutMs ??
      Math.max(120_000, lingerMs + this.#requestTimeoutMs);
    if (deliveryTimeoutMs < lingerMs + this.#requestTimeoutMs) {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid producer option 'deliveryTimeoutMs': must be at least lingerMs + requestTimeoutMs (${
          lingerMs + this.#requestTimeoutMs
        }), got ${deliveryTimeoutMs}`,
      );
    }
    if (options.idempotence === true && acks !== "all") {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid producer option 'idempotence': it needs acks "all", got ${String(acks)}`,
      );
    }
    if (options.idempotence === true && this.#retries < 1) {
      throw KaError.of(
        "INVALID_CONFIG",
        "Invalid producer option 'idempotence': it needs retries >= 1",
      );
    }
    this.#idempotence = options.idempotence === false || acks !== "all"
      ? "off"
      : options.idempotence === true
      ? "on"
      : "auto";
    this.#bufferBytes = options.bufferBytes ?? 32 * 1024 * 1024;
    this.#maxBlockMs = options.maxBlockMs ?? 60_000;
    this.#compression = options.compression ?? "none";
    if (!isCompressionType(this.#compression)) {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid producer option 'compression': must be none, gzip, snappy, lz4 or zstd, got ${
          String(this.#compression)
        }`,
      );
    }
    this.#partitioner = options.partitioner ?? defaultPartitioner();
    this.#selector = options.partitionSelector;
    this.#keySerializer = options.keySerializer ?? (payloadSerde as Serializer<K>);
    this.#valueSerializer = options.valueSerializer ?? (payloadSerde as Serializer<V>);
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#acc = new RecordAccumulator({
      batchBytes: options.batchBytes ?? 16_384,
      lingerMs,
      deliveryTimeoutMs,
    });
    if (options.transactionalId !== undefined) this.#txn = this.#transactional(options);
  }

  #transactional(options: ProducerOptions<K, V>): TransactionManager {
    const transactionalId = options.transactionalId!;
    if (typeof transactionalId !== "string" || transactionalId === "") {
      throw KaError.of(
        "INVALID_CONFIG",
        "Invalid producer option 'transactionalId': must be a non-empty string",
      );
    }
    if (this.#acks !== -1) {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid producer option 'transactionalId': it needs acks "all", got ${
          String(options.acks)
        }`,
      );
    }
    if (options.idempotence === false || this.#retries < 1) {
      throw KaError.of(
        "INVALID_CONFIG",
        "Invalid producer option 'transactionalId': it needs idempotence (and retries >= 1)",
      );
    }
    const transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
    if (!Number.isInteger(transactionTimeoutMs) || transactionTimeoutMs < 1) {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid producer option 'transactionTimeoutMs': must be a positive integer, got ${transactionTimeoutMs}`,
      );
    }
    this.#idempotence = "on";
    const hooks: TransactionalProducerHooks = {
      setProducerId: (identity) => {
        this.#pid = { ...identity };
        this.#sequences.clear();
        this.#wake();
      },
      hasProducerId: () => this.#pid !== null,
      drain: async (err) => {
        if (err !== null) {
          for (const batch of this.#acc.takeAll()) this.#fail(batch, err, "not-appended");
        }
        await this.flush();
      },
      fence: (err) => {
        this.#fatal = err;
        this.#wake();
      },
    };
    return new TransactionManager(this.#cluster, {
      transactionalId,
      transactionTimeoutMs,
      requestTimeoutMs: this.#requestTimeoutMs,
      maxBlockMs: this.#maxBlockMs,
      retryBackoffMs: this.#retryBackoffMs,
      retryBackoffMaxMs: this.#retryBackoffMaxMs,
      random: this.#random,
      clock: this.#clock,
    }, hooks);
  }

  /** True when batches carry a producer id, false when not, null until the cluster was asked. */
  get idempotent(): boolean | null {
    if (this.#idempotence === "off") return false;
    return this.#pid === null ? null : true;
  }

  /** The producer id and epoch in use, or null. */
  get producerId(): { producerId: bigint; producerEpoch: number } | null {
    return this.#pid === null ? null : { ...this.#pid };
  }

  /** The transactional id, or null for a producer without transactions. */
  get transactionalId(): string | null {
    return this.#txn?.transactionalId ?? null;
  }

  /** The transaction state, or null for a producer without transactions. */
  get transactionState(): TransactionState | null {
    return this.#txn?.state ?? null;
  }

  /**
   * Registers the transactional id with its coordinator (FindCoordinator
   * keyType 1, then InitProducerId): takes the producer id and a new epoch,
   * which fences every older producer with the same id and aborts its open
   * transaction. Call once, before the first transaction.
   */
  async initTransactions(): Promise<void> {
    await this.#requireTxn("initTransactions").init();
  }

  /** Opens a transaction: every send until commit or abort belongs to it. */
  beginTransaction(): void {
    this.#requireTxn("beginTransaction").begin();
  }

  /**
   * Adds a consumer's positions (the next offsets to read) to the open
   * transaction: they become the group's committed offsets when it commits.
   */
  async sendOffsetsToTransaction(
    offsets: TransactionOffset[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    await this.#requireTxn("sendOffsetsToTransaction").sendOffsets(offsets, group);
  }

  /**
   * Sends everything of the transaction, waits for every answer, then commits
   * it. When a send of the transaction failed it throws instead, and the
   * transaction must be aborted.
   */
  async commitTransaction(): Promise<void> {
    await this.#requireTxn("commitTransaction").commit();
  }

  /**
   * Aborts the open transaction: records not sent yet fail with
   * TRANSACTION_ABORTED, sent ones are waited for, then the coordinator
   * writes abort markers (read_committed readers never see the records).
   */
  async abortTransaction(): Promise<void> {
    await this.#requireTxn("abortTransaction").abort();
  }

  #requireTxn(what: string): TransactionManager {
    if (this.#txn === null) {
      throw KaError.of(
        "INVALID_TXN_STATE",
        `Cannot call ${what}() as the producer has no 'transactionalId'`,
      );
    }
    return this.#txn;
  }

  /** Estimated bytes of records buffered and not yet acknowledged. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Sends `messages` to `topic`; resolves with each one's partition and
   * offset, in order. A message that cannot be serialized or partitioned
   * fails the whole call before anything is buffered. When the buffer stays
   * full past max_block_ms the call fails with BUFFER_EXHAUSTED; messages of
   * the call buffered before that are still sent.
   */
  async send(topic: string, messages: ProducerMessage<K, V>[]): Promise<RecordMetadata[]> {
    if (this.#closed) throw KaError.of("INVALID_REQUEST", "The producer is closed");
    if (this.#fatal) throw this.#fatal;
    const txnNumber = this.#txn?.checkSend(topic) ?? 0;
    const metadata = this.#cluster.cachedTopic(topic) ?? await withTimeout(
      this.#cluster.topic(topic),
      this.#maxBlockMs,
      () =>
        KaError.of(
          "REQUEST_TIMED_OUT",
          `Topic '${topic}' metadata was not available within max_block_ms ${this.#maxBlockMs}`,
        ),
    );
    const partitionCount = metadata.partitions.length;
    const prepared: { partition: number; record: RecordInput; bytes: number }[] = [];
    const keyContext: SerializeContext = { topic, part: "key" };
    const valueContext: SerializeContext = { topic, part: "value" };
    const now = this.#clock.now();
    for (const message of messages) {
      let key = this.#keySerializer.serialize((message.key ?? null) as K, keyContext);
      if (key instanceof Promise) key = await key;
      let value = this.#valueSerializer.serialize(message.value, valueContext);
      if (value instanceof Promise) value = await value;
      let partition: number;
      if (message.partition !== undefined) {
        partition = checkPartition(topic, message.partition, partitionCount, "explicit");
      } else if (this.#selector !== undefined) {
        partition = checkPartition(
          topic,
          this.#selector(message, partitionCount, metadata),
          partitionCount,
          "selector",
        );
      } else {
        partition = checkPartition(
          topic,
          this.#partitioner({ topic, key, partitionCount }),
          partitionCount,
          "partitioner",
        );
      }
      const timestamp = message.timestamp ?? now;
      if (!Number.isSafeInteger(timestamp)) {
        throw KaError.of(
          "INVALID_TIMESTAMP",
          `Invalid timestamp ${timestamp} for topic '${topic}'`,
        );
      }
      const record: RecordInput = {
        key,
        value,
        headers: message.headers === undefined || message.headers.length === 0
          ? undefined
          : message.headers.map((h) => ({ key: h.key, value: toBytes(h.value) })),
        timestamp,
      };
      const bytes = estimateBytes(record);
      const limit = Math.min(BATCH_BYTES_MAX, this.#bufferBytes);
      if (bytes > limit) {
        throw KaError.of(
          "MESSAGE_TOO_LARGE",
          `A message to '${topic}' of about ${bytes} bytes exceeds the ${limit} bytes a batch or the producer's buffer holds`,
        );
      }
      prepared.push({ partition, record, bytes });
    }
    let call!: SendCall;
    const done = new Promise<RecordMetadata[]>((resolve, reject) => {
      call = {
        results: new Array(prepared.length),
        remaining: prepared.length,
        settled: false,
        resolve,
        reject,
      };
    });
    let appendNowMs = this.#clock.now();
    try {
      for (let index = 0; index < prepared.length; index++) {
        const { partition, record, bytes } = prepared[index];
        const wait = this.#reserve(bytes);
        if (wait !== null) {
          await wait;
          appendNowMs = this.#clock.now();
        }
        // The transaction may have ended while this send waited.
        if (this.#txn !== null) {
          try {
            this.#txn.checkStillOpen(topic, txnNumber);
          } catch (err) {
            this.#release(bytes);
            throw err;
          }
        }
        const entry: AccumulatedRecord<RecordHandle> = {
          record,
          bytes,
          handle: { call, index },
        };
        if (this.#acc.append(topic, partition, entry, appendNowMs).batchFull) this.#wake();
      }
    } catch (err) {
      // Messages buffered before the failure are still sent; their outcome is not reported.
      call.settled = true;
      this.#wake();
      throw err;
    }
    if (prepared.length === 0) call.resolve([]);
    this.#wake();
    return await done;
  }

  /** Sends everything buffered now (no lingering) and waits until all of it is answered. */
  async flush(): Promise<void> {
    this.#forcing++;
    try {
      this.#wake();
      while (!this.#isIdle()) {
        await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      }
    } finally {
      this.#forcing--;
    }
  }

  /** Flushes, then refuses further sends and stops its timers. */
  async close(): Promise<void> {
    if (!this.#closed) await this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await Promise.allSettled([...this.#tasks]);
    this.#txn?.close();
  }

  // --- buffer ------------------------------------------------------------

  #reserve(bytes: number): Promise<void> | null {
    if (this.#roomWaiters.length === 0 && this.#bufferedBytes + bytes <= this.#bufferBytes) {
      this.#bufferedBytes += bytes;
      return null;
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#roomWaiters.indexOf(waiter);
          if (i >= 0) this.#roomWaiters.splice(i, 1);
          reject(
            KaError.of(
              "BUFFER_EXHAUSTED",
              `The producer's buffer (${this.#bufferBytes} bytes) stayed full for max_block_ms ${this.#maxBlockMs}`,
            ),
          );
          this.#grantRoom();
        }, this.#maxBlockMs),
      };
      this.#roomWaiters.push(waiter);
      this.#wake(); // a full buffer sends lingering batches at once
    });
  }

  #release(bytes: number): void {
    this.#bufferedBytes -= bytes;
    this.#grantRoom();
  }

  #grantRoom(): void {
    while (this.#roomWaiters.length > 0) {
      const next = this.#roomWaiters[0];
      if (this.#bufferedBytes + next.bytes > this.#bufferBytes && this.#bufferedBytes > 0) break;
      this.#roomWaiters.shift();
      clearTimeout(next.timer);
      this.#bufferedBytes += next.bytes;
      next.resolve();
    }
  }

  // --- sender ------------------------------------------------------------

  #isBusy = (key: string): boolean => this.#busy.has(key);

  #isIdle(): boolean {
    return this.#acc.batchCount === 0 && this.#busy.size === 0;
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  #wake(): void {
    if (this.#runScheduled) return;
    this.#runScheduled = true;
    queueMicrotask(() => {
      this.#runScheduled = false;
      this.#run();
    });
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => {/* every path fails its batches itself */}).finally(() =>
      this.#tasks.delete(tracked)
    );
    this.#tasks.add(tracked);
  }

  #run(): void {
    const now = this.#clock.now();
    for (const batch of this.#acc.expire(now)) {
      this.#fail(
        batch,
        KaError.of(
          "DELIVERY_TIMEOUT",
          `${batch.records.length} record(s) for ${batch.topic}-${batch.partition} expired: not sent within delivery_timeout_ms`,
        ),
        "not-appended",
      );
    }
    if (this.#fatal) {
      for (const batch of this.#acc.takeAll()) this.#fail(batch, this.#fatal, "not-appended");
      this.#notifyIdle();
      return;
    }
    if (this.#txn !== null && this.#pid === null) {
      // Transactional ids come from initTransactions (or the abort after a sequence reset).
      const err = this.#txn.blockedError();
      for (const batch of this.#acc.takeAll()) this.#fail(batch, err, "not-appended");
    } else if (this.#idempotence !== "off" && this.#pid === null) {
      if (this.#acc.batchCount > 0) this.#ensureProducerId();
    } else {
      const batches = this.#acc.drain(now, {
        force: this.#forcing > 0 || this.#roomWaiters.length > 0 || this.#closed,
        isBusy: this.#isBusy,
      });
      for (const batch of batches) this.#busy.add(batch.key);
      if (batches.length > 0) this.#track(this.#dispatch(batches));
    }
    // While the producer id is pending nothing can be sent: wake only for deadlines.
    const waitingForId = this.#idempotence !== "off" && this.#pid === null;
    this.#armTimer(this.#acc.nextWakeMs(waitingForId ? () => true : this.#isBusy), now);
    this.#notifyIdle();
  }

  #armTimer(atMs: number | null, nowMs: number): void {
    if (atMs === null || this.#closed) return;
    if (this.#timer !== null && this.#timerDueMs <= atMs) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerDueMs = atMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerDueMs = Infinity;
      this.#run();
    }, Math.max(0, atMs - nowMs));
  }

  /** Seals each batch (sequence, encoding, compression), then sends one request per leader. */
  async #dispatch(batches: Batch[]): Promise<void> {
    if (this.#txn !== null) {
      // Each partition joins the transaction before its first batch is sent.
      try {
        await this.#txn.addPartitions(
          batches.map((b) => ({ topic: b.topic, partition: b.partition })),
        );
      } catch (err) {
        for (const batch of batches) this.#fail(batch, asKaError(err), "not-appended");
        return;
      }
    }
    const sealed = await Promise.all(batches.map(async (batch) => {
      try {
        await this.#seal(batch);
        return batch;
      } catch (err) {
        this.#fail(batch, asKaError(err), "not-appended");
        return null;
      }
    }));
    const byLeader = new Map<number, Batch[]>();
    for (const batch of sealed) {
      if (batch === null) continue;
      try {
        const leader = await this.#cluster.leaderOf(batch.topic, batch.partition);
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), batch]);
      } catch (err) {
        this.#onError(batch, err, "not-appended");
      }
    }
    await Promise.all([...byLeader].map(([leader, list]) => this.#sendToLeader(leader, list)));
  }

  async #seal(batch: Batch): Promise<void> {
    if (batch.encoded !== null) return;
    // A transactional batch is never sent without the transaction's producer id.
    if (this.#txn !== null && this.#pid === null) throw this.#txn.blockedError();
    const options: Parameters<typeof encodeRecordBatch>[1] = { timestamp: this.#clock.now() };
    if (this.#idempotence !== "off" && this.#pid !== null) {
      const sequence = this.#sequences.get(batch.key) ?? 0;
      batch.producerId = this.#pid.producerId;
      batch.producerEpoch = this.#pid.producerEpoch;
      batch.baseSequence = sequence;
      this.#sequences.set(batch.key, (sequence + batch.records.length) % 0x80000000);
      options.producerId = batch.producerId;
      options.producerEpoch = batch.producerEpoch;
      options.baseSequence = batch.baseSequence;
      options.transactional = this.#txn !== null;
    }
    const encoded = encodeRecordBatch(batch.records.map((r) => r.record), options);
    batch.encoded = await compressBatch(encoded, this.#compression);
  }

  async #sendToLeader(leader: number, batches: Batch[]): Promise<void> {
    const topics = new Map<string, ProduceRequest["topicData"][number]>();
    for (const batch of batches) {
      let t = topics.get(batch.topic);
      if (!t) topics.set(batch.topic, t = { name: batch.topic, partitionData: [] });
      t.partitionData.push({ index: batch.partition, records: batch.encoded });
    }
    const request: ProduceRequest = {
      transactionalId: this.#txn?.transactionalId ?? null,
      acks: this.#acks,
      timeoutMs: this.#requestTimeoutMs,
      topicData: [...topics.values()],
    };
    let conn;
    try {
      conn = await this.#cluster.brokerConnection(leader);
    } catch (err) {
      for (const batch of batches) this.#onError(batch, err, "not-appended");
      return;
    }
    for (const batch of batches) batch.sent = true;
    try {
      if (this.#acks === 0) {
        await conn.request(ApiKey.Produce, VERSIONS.produce, request, { expectResponse: false });
        for (const batch of batches) this.#complete(batch, -1n);
        return;
      }
      const response = await conn.request(ApiKey.Produce, VERSIONS.produce, request, {
        timeoutMs: this.#requestTimeoutMs,
      });
      const results = new Map<
        string,
        { errorCode: number; baseOffset: bigint; errorMessage?: string | null }
      >();
      for (const t of response.responses) {
        for (const p of t.partitionResponses) results.set(`${t.name}/${p.index}`, p);
      }
      for (const batch of batches) {
        const result = results.get(batch.key);
        if (!result) {
          this.#onError(
            batch,
            KaError.of("INVALID_REQUEST", `No answer for ${batch.topic}-${batch.partition}`),
            "unknown",
          );
        } else if (result.errorCode !== 0) {
          const err = new KaError(
            result.errorCode,
            result.errorMessage ?? `${new KaError(result.errorCode).message} (${batch.key})`,
          );
          this.#onError(batch, err, APPENDED_MAYBE.has(err.code) ? "unknown" : "not-appended");
        } else {
          this.#complete(batch, result.baseOffset);
        }
      }
    } catch (err) {
      for (const batch of batches) this.#onError(batch, err, "unknown");
    }
  }

  #complete(batch: Batch, baseOffset: bigint): void {
    this.#release(batch.recordBytes);
    this.#busy.delete(batch.key);
    const { topic, partition, records } = batch;
    for (let i = 0; i < records.length; i++) {
      const { call, index } = records[i].handle;
      if (call.settled) continue;
      call.results[index] = {
        topic,
        partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
      };
      if (--call.remaining === 0) {
        call.settled = true;
        call.resolve(call.results);
      }
    }
    this.#wake();
  }

  /** A batch failed: retry it when the error and its deadline allow, else fail it. */
  #onError(batch: Batch, cause: unknown, outcome: Outcome): void {
    const err = asKaError(cause);
    if (outcome === "unknown") batch.maybeAppended = true;
    if (
      err.code === ERRORS.INVALID_PRODUCER_EPOCH.code || err.code === ERRORS.PRODUCER_FENCED.code
    ) {
      this.#fatal = new KaError(err.code, `The producer was fenced: ${err.message}`, {
        cause: err,
      });
      this.#txn?.fenced(this.#fatal);
      this.#fail(batch, this.#fatal, outcome);
      return;
    }
    const retriable = err.retriable && err.code !== ERRORS.CORRUPT_MESSAGE.code;
    if (!retriable || batch.attempts >= this.#retries || this.#fatal !== null) {
      this.#fail(batch, err, outcome);
      return;
    }
    const attempt = batch.attempts + 1;
    const delay = backoffMs(attempt, {
      baseMs: this.#retryBackoffMs,
      maxMs: this.#retryBackoffMaxMs,
      random: this.#random,
    });
    if (this.#clock.now() + delay >= batch.deadlineMs) {
      this.#fail(
        batch,
        KaError.of(
          "DELIVERY_TIMEOUT",
          `${batch.records.length} record(s) for ${batch.topic}-${batch.partition} were not acknowledged within delivery_timeout_ms after ${batch.attempts} retries; last error: ${err.message}`,
          { cause: err },
        ),
        outcome,
      );
      return;
    }
    batch.attempts = attempt;
    this.#track(this.#retry(batch, delay));
  }

  async #retry(batch: Batch, delayMs: number): Promise<void> {
    await this.#clock.sleep(delayMs);
    await this.#cluster.refresh().catch(() => {/* the send below reports what is wrong */});
    let leader: number;
    try {
      leader = await this.#cluster.leaderOf(batch.topic, batch.partition);
    } catch (err) {
      this.#onError(batch, err, batch.sent ? "unknown" : "not-appended");
      return;
    }
    await this.#sendToLeader(leader, [batch]);
  }

  #fail(batch: Batch, err: KaError, outcome: Outcome): void {
    this.#release(batch.recordBytes);
    this.#busy.delete(batch.key);
    const sealed = batch.baseSequence >= 0;
    const appendedMaybe = batch.sent && (outcome === "unknown" || batch.maybeAppended);
    let reported = err;
    if (sealed && this.#pid !== null && batch.producerId === this.#pid.producerId) {
      if (!appendedMaybe && !SEQUENCE_RESET.has(err.code)) {
        // Surely not written, and nothing after it has a sequence yet: reuse it.
        this.#sequences.set(batch.key, batch.baseSequence);
      } else {
        // The broker may hold this batch, or disagrees with our sequences:
        // later batches start over under a new producer id.
        this.#pid = null;
        this.#sequences.clear();
      }
    }
    if (appendedMaybe) {
      reported = new KaError(
        err.code,
        `${err.message} (the records may have been written)`,
        { cause: err },
      );
    }
    this.#txn?.batchFailed(reported);
    for (const r of batch.records) {
      const { call } = r.handle;
      if (call.settled) continue;
      call.settled = true;
      call.reject(reported);
    }
    this.#wake();
  }

  // --- idempotence -------------------------------------------------------

  #ensureProducerId(): void {
    if (this.#pidTask !== null) return;
    this.#pidTask = this.#initProducerIdLoop().finally(() => {
      this.#pidTask = null;
      this.#wake();
    });
    this.#track(this.#pidTask);
  }

  async #initProducerIdLoop(): Promise<void> {
    for (let attempt = 1; !this.#closed || this.#acc.batchCount > 0; attempt++) {
      try {
        const pid = await this.#initProducerId();
        if (pid === null) {
          if (this.#idempotence === "on") {
            this.#fatal = KaError.of(
              "UNSUPPORTED_VERSION",
              "Cannot enable idempotence: the cluster does not serve InitProducerId",
            );
          } else {
            this.#idempotence = "off";
          }
        } else {
          this.#pid = pid;
          this.#sequences.clear();
        }
        return;
      } catch (err) {
        const e = asKaError(err);
        if (!e.retriable) {
          this.#fatal = new KaError(e.code, `Cannot get a producer id: ${e.message}`, { cause: e });
          return;
        }
        if (this.#acc.batchCount === 0) return; // nothing waits: the next send tries again
        await this.#clock.sleep(backoffMs(attempt, {
          baseMs: this.#retryBackoffMs,
          maxMs: this.#retryBackoffMaxMs,
          random: this.#random,
        }));
        // Batches that waited too long expire meanwhile.
        this.#run();
      }
    }
  }

  /** Asks any bootstrap address for a producer id; null when the cluster does not serve it. */
  async #initProducerId(): Promise<{ producerId: bigint; producerEpoch: number } | null> {
    const conn = await this.#cluster.anyConnection();
    if (this.#initVersion === null) {
      const versions = await conn.request(ApiKey.ApiVersions, VERSIONS.apiVersions, {});
      const range = versions.apiKeys.find((k) => k.apiKey === ApiKey.InitProducerId);
      if (range === undefined || range.minVersion > VERSIONS.initProducerId) return null;
      this.#initVersion = Math.min(range.maxVersion, VERSIONS.initProducerId);
    }
    const response = await conn.request(ApiKey.InitProducerId, this.#initVersion, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
    });
    if (response.errorCode !== ERRORS.NONE.code) {
      throw new KaError(
        response.errorCode,
        `InitProducerId failed: ${new KaError(response.errorCode).message}`,
      );
    }
    return { producerId: response.producerId, producerEpoch: response.producerEpoch };
  }
}
