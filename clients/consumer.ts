/**
 * Reading partitions: fetch from an offset (long poll) and look up the
 * earliest/latest offsets. Consumer groups come with their own issue; this
 * is the partition-level reader they build on.
 * @module
 */
import { ApiKey, decodeRecords, isControlBatch, splitBatches } from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import type { ConsumedMessage } from "./types.ts";

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
export interface FetchResult {
  messages: ConsumedMessage[];
  highWatermark: bigint;
  /** Offset to fetch next. */
  nextOffset: bigint;
}

/** Reads partitions straight from their leaders. */
export class PartitionReader {
  #cluster: ClusterView;

  constructor(cluster: ClusterView) {
    this.#cluster = cluster;
  }

  /** Messages at or after `offset`, in offset order. */
  async fetch(options: FetchOptions): Promise<FetchResult> {
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
        for (const record of decodeRecords(bytes)) {
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
    return await this.#withLeader(topic, partition, async (conn) => {
      const response = await conn.request(ApiKey.ListOffsets, VERSIONS.listOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{
          name: topic,
          partitions: [{
            partitionIndex: partition,
            currentLeaderEpoch: -1,
            timestamp: which === "earliest" ? -2n : -1n,
          }],
        }],
      });
      const p = response.topics[0]?.partitions[0];
      if (!p) throw KaError.of("INVALID_REQUEST", "ListOffsets response has no partition");
      throwIfError(p.errorCode, `Cannot list offsets of ${topic}-${partition}`);
      return p.offset;
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
