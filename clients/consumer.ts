/**
 * Reading partitions: fetch from an offset (long poll) and look up the
 * earliest/latest offsets. Consumer groups come with their own issue; this
 * is the partition-level reader they build on.
 *
 * Batches are decoded here, compressed ones (any codec) inflated first (`compression.ts`).
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
 *
 * **Many partitions.** {@linkcode PartitionReader.fetchMany} reads many
 * partitions the way Kafka's consumer does: one Fetch per leader broker
 * carrying every partition it leads, so one long poll answers as soon as any
 * of them has data (the broker answers a connection's requests in order, so
 * a Fetch per partition would wait out each idle partition in turn).
 * @module
 */
import {
  type AbortedTransaction,
  ApiKey,
  type BatchSlice,
  compressionOf,
  decodeRecordsFromPayload,
  ERRORS,
  type FetchResponse,
  isControlBatch,
  isTransactionalBatch,
  readControlRecordType,
  RECORD_BATCH_HEADER_BYTES,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { FETCH_RESPONSE_BYTES_MAX } from "@kafka-analog/lib/limits";
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

/** One partition of a {@linkcode PartitionReader.fetchMany}. */
export interface PartitionFetchRequest {
  topic: string;
  partition: number;
  offset: bigint;
}

/** What {@linkcode PartitionReader.fetchMany} takes besides the partitions. */
export interface FetchManyOptions {
  /** Longest each broker holds its request waiting for data (default 500). */
  maxWaitMs?: number;
  /** Bytes returned at most per partition (default 1 MiB; one batch is always returned whole). */
  maxBytesPerPartition?: number;
  /** Overrides the reader's isolation level for this fetch. */
  isolationLevel?: IsolationLevel;
}

/**
 * What {@linkcode PartitionReader.fetchMany} returns for one partition. With
 * a non-zero `errorCode` the partition was not read: `messages` is empty,
 * `nextOffset` is the requested offset and both watermarks are −1.
 */
export interface PartitionFetchResult<K = Uint8Array | null, V = Uint8Array | null>
  extends FetchResult<K, V> {
  topic: string;
  partition: number;
  /** 0, or the Kafka error code of this partition (see `ERRORS`). */
  errorCode: number;
  /** What went wrong, when the client knows more than the code; else null. */
  errorMessage: string | null;
}

type FetchPartitionResponse = FetchResponse["responses"][number]["partitions"][number];

/** Errors after which the leader may have moved: refresh metadata and ask again. */
function isStaleLeader(err: unknown): boolean {
  return isKaError(err, "NOT_LEADER_OR_FOLLOWER") || isKaError(err, "NETWORK_EXCEPTION") ||
    isKaError(err, "LEADER_NOT_AVAILABLE") || isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION");
}

const STALE_LEADER_CODES: ReadonlySet<number> = new Set([
  ERRORS.NOT_LEADER_OR_FOLLOWER.code,
  ERRORS.NETWORK_EXCEPTION.code,
  ERRORS.LEADER_NOT_AVAILABLE.code,
  ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
]);

function failedPartition(
  request: PartitionFetchRequest,
  errorCode: number,
  errorMessage: string | null,
): PartitionFetchResult<never, never> {
  return {
    topic: request.topic,
    partition: request.partition,
    messages: [],
    highWatermark: -1n,
    lastStableOffset: -1n,
    nextOffset: request.offset,
    errorCode,
    errorMessage,
  };
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
    return await this.#deserialize(await this.#fetchRaw(options));
  }

  /**
   * Reads many partitions at once: one Fetch per leader broker (sent
   * concurrently) carrying every requested partition it leads, with
   * `minBytes` 1, so each broker answers as soon as any of its partitions
   * has data or `maxWaitMs` passes. Partitions whose leader moved
   * (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, ...) are asked
   * again once after a metadata refresh. Returns one result per request, in
   * request order; a partition that could not be read carries its
   * `errorCode` instead of throwing, so the others' data is not lost. Throws
   * only what no single partition explains: a `DeserializationError`, or
   * INVALID_REQUEST when a partition is requested twice.
   */
  async fetchMany(
    requests: readonly PartitionFetchRequest[],
    options: FetchManyOptions = {},
  ): Promise<PartitionFetchResult<K, V>[]> {
    const isolationLevel = options.isolationLevel === undefined
      ? this.#isolationLevel
      : checkIsolationLevel(options.isolationLevel);
    const seen = new Set<string>();
    for (const r of requests) {
      const k = `${r.topic}/${r.partition}`;
      if (seen.has(k)) {
        throw KaError.of(
          "INVALID_REQUEST",
          `fetchMany got ${r.topic}-${r.partition} twice: ask for each partition once`,
        );
      }
      seen.add(k);
    }
    const results = new Array<PartitionFetchResult | undefined>(requests.length);
    let pending = requests.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const retryable = attempt === 0;
      const stale: number[] = [];
      const fail = (i: number, err: unknown) => {
        if (!isKaError(err)) throw err;
        if (retryable && isStaleLeader(err)) stale.push(i);
        else results[i] = failedPartition(requests[i], err.code, err.message);
      };
      const byLeader = new Map<number, number[]>();
      for (const i of pending) {
        try {
          const leader = await this.#cluster.leaderOf(requests[i].topic, requests[i].partition);
          byLeader.set(leader, [...(byLeader.get(leader) ?? []), i]);
        } catch (err) {
          fail(i, err);
        }
      }
      await Promise.all(
        [...byLeader].map(async ([leader, indexes]) => {
          let answered: Map<string, FetchPartitionResponse>;
          try {
            answered = await this.#fetchFromLeader(
              leader,
              indexes.map((i) => requests[i]),
              options,
              isolationLevel,
            );
          } catch (err) {
            for (const i of indexes) fail(i, err);
            return;
          }
          for (const i of indexes) {
            const r = requests[i];
            const p = answered.get(`${r.topic}/${r.partition}`);
            if (p === undefined) {
              results[i] = failedPartition(
                r,
                ERRORS.INVALID_REQUEST.code,
                `Fetch response has no ${r.topic}-${r.partition}`,
              );
            } else if (p.errorCode !== 0) {
              if (retryable && STALE_LEADER_CODES.has(p.errorCode)) stale.push(i);
              else results[i] = failedPartition(r, p.errorCode, null);
            } else {
              try {
                const read = await this.#decodePartition(r, p, isolationLevel);
                results[i] = {
                  ...read,
                  topic: r.topic,
                  partition: r.partition,
                  errorCode: 0,
                  errorMessage: null,
                };
              } catch (err) {
                // A corrupt or undecodable batch spoils this partition only.
                if (!isKaError(err)) throw err;
                results[i] = failedPartition(r, err.code, err.message);
              }
            }
          }
        }),
      );
      if (stale.length > 0) {
        try {
          await this.#cluster.refresh();
        } catch (err) {
          if (!isKaError(err)) throw err;
          for (const i of stale) results[i] = failedPartition(requests[i], err.code, err.message);
          break;
        }
      }
      pending = stale;
    }
    const out: PartitionFetchResult<K, V>[] = [];
    for (const result of results) {
      const r = result!;
      out.push(
        r.errorCode === 0
          ? { ...r, ...await this.#deserialize(r) }
          : r as PartitionFetchResult<K, V>,
      );
    }
    return out;
  }

  /** One Fetch to `leader` for `requests`; the answered partitions by `topic/partition`. */
  async #fetchFromLeader(
    leader: number,
    requests: readonly PartitionFetchRequest[],
    options: FetchManyOptions,
    isolationLevel: IsolationLevel,
  ): Promise<Map<string, FetchPartitionResponse>> {
    const maxWaitMs = options.maxWaitMs ?? 500;
    const partitionMaxBytes = options.maxBytesPerPartition ?? 1024 * 1024;
    const byTopic = new Map<
      string,
      { partition: number; fetchOffset: bigint; partitionMaxBytes: number }[]
    >();
    for (const r of requests) {
      byTopic.set(r.topic, [
        ...(byTopic.get(r.topic) ?? []),
        { partition: r.partition, fetchOffset: r.offset, partitionMaxBytes },
      ]);
    }
    const conn = await this.#cluster.brokerConnection(leader);
    const response = await conn.request(ApiKey.Fetch, VERSIONS.fetch, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      // Kafka's fetch.max.bytes: the broker always sends the first batch whole.
      maxBytes: Math.min(partitionMaxBytes * requests.length, FETCH_RESPONSE_BYTES_MAX),
      isolationLevel: ISOLATION_LEVELS[isolationLevel],
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      forgottenTopicsData: [],
      rackId: "",
    }, { timeoutMs: maxWaitMs + 30_000 });
    const answered = new Map<string, FetchPartitionResponse>();
    for (const t of response.responses) {
      for (const p of t.partitions) answered.set(`${t.topic}/${p.partitionIndex}`, p);
    }
    return answered;
  }

  /** `raw` with keys and values through the reader's deserializers. */
  async #deserialize(raw: FetchResult): Promise<FetchResult<K, V>> {
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
      return await this.#decodePartition(options, p, isolationLevel);
    });
  }

  /**
   * The records of one answered partition at or after `request.offset`:
   * batches split (CRC checked), control and (read_committed) aborted
   * batches dropped, compressed ones inflated.
   */
  async #decodePartition(
    request: PartitionFetchRequest,
    p: FetchPartitionResponse,
    isolationLevel: IsolationLevel,
  ): Promise<FetchResult> {
    const messages: ConsumedMessage[] = [];
    const batches = splitBatches(p.records ?? new Uint8Array(), {
      allowPartialTail: true,
      verifyCrc: true,
    });
    // Past every batch sent, skipped ones (markers, aborted) included.
    const last = batches.at(-1)?.header;
    const nextOffset = last === undefined
      ? request.offset
      : last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
    const readable = committedBatches(
      batches,
      isolationLevel === "read_committed" ? p.abortedTransactions ?? [] : null,
    );
    const { topic, partition, offset } = request;
    for (const { header, bytes } of readable) {
      // splitBatches checked the CRC: an uncompressed batch's records are decoded in place,
      // without a second CRC pass or an await.
      const records = compressionOf(header) === 0
        ? decodeRecordsFromPayload(header, bytes.subarray(RECORD_BATCH_HEADER_BYTES))
        : await decodeBatchRecords(bytes, header);
      for (const record of records) {
        if (record.offset < offset) continue;
        messages.push({
          topic,
          partition,
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key,
          value: record.value,
          headers: record.headers,
        });
      }
    }
    return {
      messages,
      highWatermark: p.highWatermark,
      lastStableOffset: p.lastStableOffset,
      nextOffset: nextOffset > request.offset ? nextOffset : request.offset,
    };
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
        if (!isStaleLeader(err) || attempt >= 1) throw err;
        await this.#cluster.refresh();
      }
    }
  }
}
