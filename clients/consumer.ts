/**
 * Reading partitions: fetch from an offset (long poll) and look up the
 * earliest/latest offsets. Consumer groups come with their own issue; this
 * is the partition-level reader they build on.
 *
 * Batches are decoded here, gzip ones inflated first (`compression.ts`).
 * Keys and values go through the reader's deserializers (by default the
 * stored bytes as they are); bytes a deserializer cannot read make `fetch`
 * throw a `DeserializationError` naming topic, partition and offset.
 *
 * **Isolation.** `read_uncommitted` (the default, Fetch isolationLevel 0)
 * returns every record below the high watermark. `read_committed`
 * (isolationLevel 1) asks the broker for records below the last stable
 * offset only, plus the list of aborted transactions overlapping them, and
 * drops the aborted transactions' records here with Kafka's algorithm
 * ({@linkcode committedBatches}). Control batches (transaction markers) are
 * never returned at either level, and `nextOffset` always moves past every
 * batch the broker sent, skipped ones included.
 * @module
 */
import {
  type AbortedTransaction,
  ApiKey,
  type BatchSlice,
  isControlBatch,
  isTransactionalBatch,
  readControlRecordType,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import { decodeBatchRecords } from "./compression.ts";
import { binarySerde, type Deserializer, deserializeWith } from "./serde.ts";
import type { ConsumedMessage } from "./types.ts";

/**
 * Which records a reader sees: every record below the high watermark
 * (`read_uncommitted`), or only those of committed transactions and
 * non-transactional producers, below the last stable offset
 * (`read_committed`).
 */
export type IsolationLevel = "read_uncommitted" | "read_committed";

/** Options of a {@linkcode PartitionReader}. */
export interface ReaderOptions<K = Uint8Array | null, V = Uint8Array | null> {
  /** Default: the stored bytes as they are. */
  keyDeserializer?: Deserializer<K>;
  /** Default: the stored bytes as they are. */
  valueDeserializer?: Deserializer<V>;
  /** Default isolation of every fetch and "latest" lookup (default "read_uncommitted"). */
  isolationLevel?: IsolationLevel;
}

/** What {@linkcode PartitionReader.fetch} takes. */
export interface FetchOptions {
  topic: string;
  partition: number;
  offset: bigint;
  /** Longest the broker holds the request waiting for data (default 500). */
  maxWaitMs?: number;
  /** Bytes the broker waits for (default 1). */
  minBytes?: number;
  /** Bytes returned at most (default 1 MiB; one batch is always returned whole). */
  maxBytes?: number;
  /** Overrides the reader's isolation level for this fetch. */
  isolationLevel?: IsolationLevel;
}

/** What a fetch returns. */
export interface FetchResult<K = Uint8Array | null, V = Uint8Array | null> {
  messages: ConsumedMessage<K, V>[];
  highWatermark: bigint;
  /**
   * The broker's last stable offset: below it every transaction is decided.
   * A `read_committed` fetch never returns records at or above it.
   */
  lastStableOffset: bigint;
  /** Offset to fetch next. */
  nextOffset: bigint;
}

/** Fetch's isolationLevel byte of each {@linkcode IsolationLevel}. */
export const ISOLATION_LEVELS: Readonly<Record<IsolationLevel, number>> = {
  read_uncommitted: 0,
  read_committed: 1,
};

function checkIsolationLevel(level: unknown): IsolationLevel {
  if (level !== "read_uncommitted" && level !== "read_committed") {
    throw KaError.of(
      "INVALID_CONFIG",
      `Invalid reader option 'isolationLevel': must be "read_uncommitted" or "read_committed", got ${
        String(level)
      }`,
    );
  }
  return level;
}

/**
 * The batches of one fetched partition that hold records to hand over, in
 * offset order: control batches (transaction markers) are always dropped;
 * with `abortedTransactions` (a `read_committed` fetch) the batches of
 * aborted transactions are dropped too.
 *
 * Kafka's consumer algorithm (`Fetcher.CompletedFetch`): walk the batches in
 * offset order; before each batch that has a producer id, every aborted
 * transaction whose `firstOffset` is at or below the batch's last offset
 * becomes active for its producer id. A transactional data batch of a
 * producer with an active aborted transaction is skipped. That producer's
 * ABORT marker ends it, so the producer's later transactions are read
 * normally. A COMMIT marker changes nothing (a committed transaction is never
 * in the aborted list). The markers' record keys are read to tell ABORT from
 * COMMIT; a malformed marker is CORRUPT_MESSAGE.
 */
export function committedBatches(
  batches: readonly BatchSlice[],
  abortedTransactions: readonly AbortedTransaction[] | null,
): BatchSlice[] {
  if (abortedTransactions === null) {
    return batches.filter((b) => !isControlBatch(b.header));
  }
  const pending = [...abortedTransactions].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
  );
  let next = 0;
  const active = new Set<bigint>();
  const out: BatchSlice[] = [];
  for (const batch of batches) {
    const { header } = batch;
    if (header.producerId >= 0n) {
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      while (next < pending.length && pending[next].firstOffset <= lastOffset) {
        active.add(pending[next].producerId);
        next++;
      }
      if (isControlBatch(header)) {
        if (readControlRecordType(batch.bytes) === "abort") active.delete(header.producerId);
        continue;
      }
      if (isTransactionalBatch(header) && active.has(header.producerId)) continue;
    }
    if (isControlBatch(header)) continue;
    out.push(batch);
  }
  return out;
}

/** Reads partitions straight from their leaders. */
export class PartitionReader<K = Uint8Array | null, V = Uint8Array | null> {
  #cluster: ClusterView;
  #keyDeserializer: Deserializer<K> | null;
  #valueDeserializer: Deserializer<V> | null;
  #isolationLevel: IsolationLevel;

  constructor(cluster: ClusterView, options: ReaderOptions<K, V> = {}) {
    this.#cluster = cluster;
    this.#isolationLevel = checkIsolationLevel(options.isolationLevel ?? "read_uncommitted");
    // null = the default (bytes as they are), skipped without an await per message.
    this.#keyDeserializer = options.keyDeserializer === undefined ||
        options.keyDeserializer === (binarySerde as unknown)
      ? null
      : options.keyDeserializer;
    this.#valueDeserializer = options.valueDeserializer === undefined ||
        options.valueDeserializer === (binarySerde as unknown)
      ? null
      : options.valueDeserializer;
  }

  /** Messages at or after `offset`, in offset order. */
  async fetch(options: FetchOptions): Promise<FetchResult<K, V>> {
    const raw = await this.#fetchRaw(options);
    if (this.#keyDeserializer === null && this.#valueDeserializer === null) {
      return raw as unknown as FetchResult<K, V>;
    }
    const messages: ConsumedMessage<K, V>[] = [];
    for (const m of raw.messages) {
      const at = { topic: m.topic, partition: m.partition, offset: m.offset };
      const key = this.#keyDeserializer === null
        ? m.key as K
        : await deserializeWith(this.#keyDeserializer, m.key, { ...at, part: "key" });
      const value = this.#valueDeserializer === null
        ? m.value as V
        : await deserializeWith(this.#valueDeserializer, m.value, { ...at, part: "value" });
      messages.push({ ...m, key, value });
    }
    return { ...raw, messages };
  }

  /** The isolation level fetches use unless they say otherwise. */
  get isolationLevel(): IsolationLevel {
    return this.#isolationLevel;
  }

  async #fetchRaw(options: FetchOptions): Promise<FetchResult> {
    const isolationLevel = options.isolationLevel === undefined
      ? this.#isolationLevel
      : checkIsolationLevel(options.isolationLevel);
    return await this.#withLeader(options.topic, options.partition, async (conn) => {
      const maxBytes = options.maxBytes ?? 1024 * 1024;
      const response = await conn.request(ApiKey.Fetch, VERSIONS.fetch, {
        replicaId: -1,
        maxWaitMs: options.maxWaitMs ?? 500,
        minBytes: options.minBytes ?? 1,
        maxBytes,
        isolationLevel: ISOLATION_LEVELS[isolationLevel],
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{
          topic: options.topic,
          partitions: [{
            partition: options.partition,
            fetchOffset: options.offset,
            partitionMaxBytes: maxBytes,
          }],
        }],
        forgottenTopicsData: [],
        rackId: "",
      }, { timeoutMs: (options.maxWaitMs ?? 500) + 30_000 });
      const p = response.responses[0]?.partitions[0];
      if (!p) throw KaError.of("INVALID_REQUEST", "Fetch response has no partition");
      throwIfError(
        p.errorCode,
        `Cannot fetch ${options.topic}-${options.partition} at ${options.offset}`,
      );
      const messages: ConsumedMessage[] = [];
      const batches = splitBatches(p.records ?? new Uint8Array(), {
        allowPartialTail: true,
        verifyCrc: true,
      });
      // Past every batch sent, skipped ones (markers, aborted) included.
      const last = batches.at(-1)?.header;
      const nextOffset = last === undefined
        ? options.offset
        : last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
      const readable = committedBatches(
        batches,
        isolationLevel === "read_committed" ? p.abortedTransactions ?? [] : null,
      );
      for (const { header, bytes } of readable) {
        for (const record of await decodeBatchRecords(bytes, header)) {
          if (record.offset < options.offset) continue;
          messages.push({ topic: options.topic, partition: options.partition, ...record });
        }
      }
      return {
        messages,
        highWatermark: p.highWatermark,
        lastStableOffset: p.lastStableOffset,
        nextOffset: nextOffset > options.offset ? nextOffset : options.offset,
      };
    });
  }

  /**
   * The earliest offset still stored, or the offset the next message will get
   * ("latest"; with `read_committed` isolation the last stable offset, as the
   * ListOffsets request carries the reader's isolation level).
   */
  async listOffset(
    topic: string,
    partition: number,
    which: "earliest" | "latest",
  ): Promise<bigint> {
    const found = await this.#listOffsets(topic, partition, which === "earliest" ? -2n : -1n);
    return found!;
  }

  /** The first offset whose record timestamp is ≥ `timestamp` (ms), or null when none is. */
  async offsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
  ): Promise<bigint | null> {
    return await this.#listOffsets(topic, partition, BigInt(timestamp));
  }

  async #listOffsets(topic: string, partition: number, timestamp: bigint): Promise<bigint | null> {
    return await this.#withLeader(topic, partition, async (conn) => {
      const response = await conn.request(ApiKey.ListOffsets, VERSIONS.listOffsets, {
        replicaId: -1,
        isolationLevel: ISOLATION_LEVELS[this.#isolationLevel],
        topics: [{
          name: topic,
          partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }],
        }],
      });
      const p = response.topics[0]?.partitions[0];
      if (!p) throw KaError.of("INVALID_REQUEST", "ListOffsets response has no partition");
      throwIfError(p.errorCode, `Cannot list offsets of ${topic}-${partition}`);
      return p.offset < 0n ? null : p.offset;
    });
  }

  /** Runs `fn` against the partition's leader; on a stale leader, refreshes metadata and tries once more. */
  async #withLeader<T>(
    topic: string,
    partition: number,
    fn: (conn: Awaited<ReturnType<ClusterView["brokerConnection"]>>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        const leader = await this.#cluster.leaderOf(topic, partition);
        return await fn(await this.#cluster.brokerConnection(leader));
      } catch (err) {
        const stale = isKaError(err, "NOT_LEADER_OR_FOLLOWER") ||
          isKaError(err, "NETWORK_EXCEPTION") ||
          isKaError(err, "LEADER_NOT_AVAILABLE") || isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION");
        if (!stale || attempt >= 1) throw err;
        await this.#cluster.refresh();
      }
    }
  }
}
