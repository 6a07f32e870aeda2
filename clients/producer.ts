/**
 * The producer: picks a partition for each message, accumulates per
 * partition up to `batchBytes` or `lingerMs`, sends one Produce request per
 * leader broker carrying every ready partition, and retries retriable
 * failures (refreshing metadata) with exponential backoff.
 * @module
 */
import {
  ApiKey,
  encodeRecordBatch,
  type ProduceRequest,
  type RecordInput,
} from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { sleep } from "@kafka-analog/lib/async";
import type { ClusterView } from "./cluster.ts";
import { VERSIONS } from "./cluster.ts";
import { checkPartition, defaultPartitioner, type Partitioner } from "./partitioner.ts";
import type { Acks, Payload, ProducerMessage, RecordMetadata } from "./types.ts";

/** Producer settings; defaults match `config.yaml`'s `producer` section. */
export interface ProducerOptions {
  acks?: Acks;
  lingerMs?: number;
  /** Bytes per partition batch before it is sent without waiting for linger. */
  batchBytes?: number;
  retries?: number;
  retryBackoffMs?: number;
  requestTimeoutMs?: number;
  /** Bytes of unsent messages at most; `send` waits for room beyond it. */
  bufferBytes?: number;
  partitioner?: Partitioner;
}

interface Pending {
  record: RecordInput;
  bytes: number;
  resolve(meta: RecordMetadata): void;
  reject(err: unknown): void;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  records: Pending[];
  bytes: number;
  attempts: number;
}

const ENCODER = new TextEncoder();
/** Bytes a record costs beyond its key and value (varints, attributes, deltas). */
const RECORD_OVERHEAD_BYTES = 24;

/** Encodes a key or value given as a string or bytes. */
export function toBytes(payload: Payload | undefined): Uint8Array | null {
  if (payload === undefined || payload === null) return null;
  return typeof payload === "string" ? ENCODER.encode(payload) : payload;
}

/** Sends messages to partition leaders. */
export class Producer {
  #cluster: ClusterView;
  #acks: number;
  #lingerMs: number;
  #batchBytes: number;
  #retries: number;
  #retryBackoffMs: number;
  #timeoutMs: number;
  #bufferBytes: number;
  #partitioner: Partitioner;
  #queues = new Map<string, PartitionQueue>();
  #bufferedBytes = 0;
  #roomWaiters: (() => void)[] = [];
  #lingerTimer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(cluster: ClusterView, options: ProducerOptions = {}) {
    this.#cluster = cluster;
    const acks = options.acks ?? "all";
    this.#acks = acks === "all" ? -1 : acks;
    this.#lingerMs = options.lingerMs ?? 5;
    this.#batchBytes = options.batchBytes ?? 16_384;
    this.#retries = options.retries ?? 5;
    this.#retryBackoffMs = options.retryBackoffMs ?? 100;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#bufferBytes = options.bufferBytes ?? 32 * 1024 * 1024;
    this.#partitioner = options.partitioner ?? defaultPartitioner();
  }

  /** Sends `messages` to `topic`; resolves with each one's partition and offset, in order. */
  async send(topic: string, messages: ProducerMessage[]): Promise<RecordMetadata[]> {
    if (this.#closed) throw KaError.of("INVALID_REQUEST", "The producer is closed");
    const partitionCount = (await this.#cluster.topic(topic)).partitions.length;
    const results: Promise<RecordMetadata>[] = [];
    for (const message of messages) {
      const key = toBytes(message.key);
      const partition = message.partition !== undefined
        ? checkPartition(topic, message.partition, partitionCount)
        : checkPartition(topic, this.#partitioner({ topic, key, partitionCount }), partitionCount);
      const record: RecordInput = {
        key,
        value: toBytes(message.value),
        headers: (message.headers ?? []).map((h) => ({ key: h.key, value: toBytes(h.value) })),
        timestamp: message.timestamp ?? Date.now(),
      };
      const bytes = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) +
        (record.value?.length ?? 0) +
        record.headers!.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0) + 8, 0);
      while (this.#bufferedBytes + bytes > this.#bufferBytes && this.#bufferedBytes > 0) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      }
      results.push(
        new Promise<RecordMetadata>((resolve, reject) => {
          const queue = this.#queue(topic, partition);
          queue.records.push({ record, bytes, resolve, reject });
          queue.bytes += bytes;
          this.#bufferedBytes += bytes;
          if (queue.bytes >= this.#batchBytes) this.#drain(false);
        }),
      );
    }
    this.#scheduleLinger();
    return await Promise.all(results);
  }

  /** Sends everything buffered now and waits for the answers. */
  async flush(): Promise<void> {
    this.#drain(true);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #queue(topic: string, partition: number): PartitionQueue {
    const key = `${topic}/${partition}`;
    let queue = this.#queues.get(key);
    if (!queue) {
      this.#queues.set(key, queue = { topic, partition, records: [], bytes: 0, attempts: 0 });
    }
    return queue;
  }

  #scheduleLinger(): void {
    if (this.#lingerTimer !== null || this.#bufferedBytes === 0) return;
    this.#lingerTimer = setTimeout(() => {
      this.#lingerTimer = null;
      this.#drain(true);
    }, this.#lingerMs);
  }

  /** Takes ready batches (all of them when `all`) and sends them, one request per leader. */
  #drain(all: boolean): void {
    const ready: PartitionQueue[] = [];
    for (const [key, queue] of this.#queues) {
      if (queue.records.length === 0 || (!all && queue.bytes < this.#batchBytes)) continue;
      // Split the queue into batches of about batchBytes each.
      let chunk: Pending[] = [];
      let chunkBytes = 0;
      for (const pending of queue.records) {
        if (chunk.length > 0 && chunkBytes + pending.bytes > this.#batchBytes) {
          ready.push({ ...queue, records: chunk, bytes: chunkBytes });
          chunk = [];
          chunkBytes = 0;
        }
        chunk.push(pending);
        chunkBytes += pending.bytes;
      }
      ready.push({ ...queue, records: chunk, bytes: chunkBytes });
      this.#queues.delete(key);
    }
    if (ready.length === 0) return;
    const task = this.#send(ready).finally(() => this.#inFlight.delete(task));
    this.#inFlight.add(task);
    if (this.#bufferedBytes > 0) this.#scheduleLinger();
  }

  async #send(batches: PartitionQueue[]): Promise<void> {
    const byLeader = new Map<number, PartitionQueue[]>();
    for (const batch of batches) {
      try {
        const leader = await this.#cluster.leaderOf(batch.topic, batch.partition);
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), batch]);
      } catch (err) {
        this.#failOrRetry(batch, err);
      }
    }
    await Promise.all([...byLeader].map(([leader, list]) => this.#sendToLeader(leader, list)));
  }

  async #sendToLeader(leader: number, batches: PartitionQueue[]): Promise<void> {
    const topics = new Map<string, ProduceRequest["topicData"][number]>();
    for (const batch of batches) {
      let t = topics.get(batch.topic);
      if (!t) topics.set(batch.topic, t = { name: batch.topic, partitionData: [] });
      t.partitionData.push({
        index: batch.partition,
        records: encodeRecordBatch(batch.records.map((p) => p.record), { timestamp: Date.now() }),
      });
    }
    const request: ProduceRequest = {
      transactionalId: null,
      acks: this.#acks,
      timeoutMs: this.#timeoutMs,
      topicData: [...topics.values()],
    };
    try {
      const conn = await this.#cluster.brokerConnection(leader);
      if (this.#acks === 0) {
        await conn.request(ApiKey.Produce, VERSIONS.produce, request, { expectResponse: false });
        for (const batch of batches) this.#complete(batch, -1n);
        return;
      }
      const response = await conn.request(ApiKey.Produce, VERSIONS.produce, request, {
        timeoutMs: this.#timeoutMs,
      });
      const results = new Map<
        string,
        { errorCode: number; baseOffset: bigint; errorMessage?: string | null }
      >();
      for (const t of response.responses) {
        for (const p of t.partitionResponses) results.set(`${t.name}/${p.index}`, p);
      }
      for (const batch of batches) {
        const result = results.get(`${batch.topic}/${batch.partition}`);
        if (!result) {
          this.#failOrRetry(
            batch,
            KaError.of("INVALID_REQUEST", `No answer for ${batch.topic}-${batch.partition}`),
          );
        } else if (result.errorCode !== 0) {
          this.#failOrRetry(batch, new KaError(result.errorCode, result.errorMessage ?? undefined));
        } else {
          this.#complete(batch, result.baseOffset);
        }
      }
    } catch (err) {
      for (const batch of batches) this.#failOrRetry(batch, err);
    }
  }

  #complete(batch: PartitionQueue, baseOffset: bigint): void {
    this.#release(batch);
    batch.records.forEach((pending, i) =>
      pending.resolve({
        topic: batch.topic,
        partition: batch.partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
      })
    );
  }

  #failOrRetry(batch: PartitionQueue, err: unknown): void {
    const retriable = isKaError(err) && err.retriable;
    if (retriable && batch.attempts < this.#retries && !this.#closed) {
      const attempt = batch.attempts + 1;
      const delay = this.#retryBackoffMs * 2 ** (attempt - 1);
      const task = (async () => {
        await sleep(delay);
        await this.#cluster.refresh().catch(() => {});
        await this.#send([{ ...batch, attempts: attempt }]);
      })().finally(() => this.#inFlight.delete(task));
      this.#inFlight.add(task);
      return;
    }
    this.#release(batch);
    for (const pending of batch.records) pending.reject(err);
  }

  #release(batch: PartitionQueue): void {
    this.#bufferedBytes -= batch.bytes;
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }
}
