/**
 * Reading partitions: fetch from an offset (long poll) and look up the
 * earliest/latest offsets. Consumer groups come with their own issue; this
 * is the partition-level reader they build on.
 *
 * Batches are decoded here, gzip ones inflated first (`compression.ts`).
 * Keys and values go through the reader's deserializers (by default the
 * stored bytes as they are); bytes a deserializer cannot read make `fetch`
 * throw a `DeserializationError` naming topic, partition and offset.
 * @module
 */
import { ApiKey, isControlBatch, splitBatches } from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import { decodeBatchRecords } from "./compression.ts";
import { binarySerde, type Deserializer, deserializeWith } from "./serde.ts";
import type { ConsumedMessage } from "./types.ts";

/** Options of a {@linkcode PartitionReader}. */
export interface ReaderOptions<K = Uint8Array | null, V = Uint8Array | null> {
  /** Default: the stored bytes as they are. */
  keyDeserializer?: Deserializer<K>;
  /** Default: the stored bytes as they are. */
  valueDeserializer?: Deserializer<V>;
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
}

/** What a fetch returns. */
export interface FetchResult<K = Uint8Array | null, V = Uint8Array | null> {
  messages: ConsumedMessage<K, V>[];
  highWatermark: bigint;
  /** Offset to fetch next. */
  nextOffset: bigint;
}

/** Reads partitions straight from their leaders. */
export class PartitionReader<K = Uint8Array | null, V = Uint8Array | null> {
  #cluster: ClusterView;
  #keyDeserializer: Deserializer<K> | null;
  #valueDeserializer: Deserializer<V> | null;

  constructor(cluster: ClusterView, options: ReaderOptions<K, V> = {}) {
    this.#cluster = cluster;
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
    return { messages, highWatermark: raw.highWatermark, nextOffset: raw.nextOffset };
  }

  async #fetchRaw(options: FetchOptions): Promise<FetchResult> {
    return await this.#withLeader(options.topic, options.partition, async (conn) => {
      const maxBytes = options.maxBytes ?? 1024 * 1024;
      const response = await conn.request(ApiKey.Fetch, VERSIONS.fetch, {
        replicaId: -1,
        maxWaitMs: options.maxWaitMs ?? 500,
        minBytes: options.minBytes ?? 1,
        maxBytes,
        isolationLevel: 0,
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
      let nextOffset = options.offset;
      for (
        const { header, bytes } of splitBatches(p.records ?? new Uint8Array(), {
          allowPartialTail: true,
          verifyCrc: true,
        })
      ) {
        nextOffset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
        if (isControlBatch(header)) continue;
        for (const record of await decodeBatchRecords(bytes, header)) {
          if (record.offset < options.offset) continue;
          messages.push({ topic: options.topic, partition: options.partition, ...record });
        }
      }
      return { messages, highWatermark: p.highWatermark, nextOffset };
    });
  }

  /** The earliest offset still stored, or the offset the next message will get. */
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
        isolationLevel: 0,
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
