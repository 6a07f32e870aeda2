/**
 * An in-memory {@linkcode GatewayCluster} for the gateway tests: real little
 * topics with partitions and dense offsets, the same errors the cluster
 * answers with, and a record of every produce call so tests can check what
 * the gateway passed on (acks, bytes, partition).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { AvroCodec } from "@kafka-analog/clients";
import { MemoryRegistry } from "./_memory_registry.ts";
import type {
  Acks,
  AvroWriterSchema,
  ConsumedMessage,
  CreateTopicOptions,
  GatewayCluster,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "./cluster.ts";

interface FakePartition {
  /** Offset of `messages[0]`; moves up on {@linkcode FakeCluster.truncate}. */
  logStartOffset: bigint;
  messages: ConsumedMessage[];
}

interface FakeTopic {
  name: string;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: FakePartition[];
}

/** One call to {@linkcode FakeCluster.produce}, as the gateway made it. */
export interface ProduceCall {
  topic: string;
  message: ProducerMessage;
  acks: Acks;
}

const encoder = new TextEncoder();

function toBytes(payload: string | Uint8Array | null | undefined): Uint8Array | null {
  if (payload === undefined || payload === null) return null;
  return typeof payload === "string" ? encoder.encode(payload) : payload;
}

/** An in-memory cluster with `brokers` brokers and a clock fixed at `nowMs`. */
export class FakeCluster implements GatewayCluster {
  readonly produceCalls: ProduceCall[] = [];
  readonly fetchCalls: {
    topic: string;
    partition: number;
    offset: bigint;
    maxMessages: number;
    maxWaitMs: number;
  }[] = [];
  #topics = new Map<string, FakeTopic>();
  #brokers: number;
  #nowMs: number;
  #failures: Error[] = [];
  #healthy = true;
  /** The in-memory schema registry behind encodeAvro/decodeAvro. */
  readonly registry = new MemoryRegistry();
  #avro = new AvroCodec(this.registry);
  #roundRobin = 0;

  constructor(options: { brokers?: number; nowMs?: number } = {}) {
    this.#brokers = options.brokers ?? 3;
    this.#nowMs = options.nowMs ?? 1_700_000_000_000;
  }

  /** Makes the next call of any method throw `err`. */
  failNext(err: Error): void {
    this.#failures.push(err);
  }

  /** Sets what `health()` reports. */
  setHealthy(ok: boolean): void {
    this.#healthy = ok;
  }

  /** Drops every message below `offset`, as retention would (the log may end up empty there). */
  truncate(topic: string, partition: number, offset: bigint): void {
    const p = this.#partition(topic, partition);
    const end = p.logStartOffset + BigInt(p.messages.length);
    if (offset >= end) {
      p.messages = [];
    } else {
      p.messages = p.messages.slice(Number(offset - p.logStartOffset));
    }
    p.logStartOffset = offset;
  }

  #maybeFail(): void {
    const err = this.#failures.shift();
    if (err) throw err;
  }

  #topic(name: string): FakeTopic {
    const topic = this.#topics.get(name);
    if (!topic) throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`);
    return topic;
  }

  #partition(name: string, partition: number): FakePartition {
    const p = this.#topic(name).partitions[partition];
    if (!p) {
      throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown partition ${name}-${partition}`);
    }
    return p;
  }

  #describe(topic: FakeTopic): TopicDescription {
    return {
      name: topic.name,
      partitions: topic.partitions.map((_, i) => {
        const replicas = Array.from(
          { length: topic.replicationFactor },
          (_, r) => (i + r) % this.#brokers,
        );
        return { partition: i, leader: replicas[0], replicas, isr: [...replicas], leaderEpoch: 0 };
      }),
      configs: { ...topic.configs },
    };
  }

  async encodeAvro(topic: string, value: unknown, writer: AvroWriterSchema): Promise<Uint8Array> {
    this.#maybeFail();
    const { id, type } = "schemaId" in writer
      ? { id: writer.schemaId, type: await this.#avro.typeOf(writer.schemaId) }
      : await this.#avro.register(writer.subject ?? `${topic}-value`, writer.schema as never);
    try {
      return this.#avro.encodeWith(id, type, value);
    } catch (err) {
      throw KaError.of("SERIALIZATION_ERROR", `Cannot encode: ${(err as Error).message}`);
    }
  }

  decodeAvro(bytes: Uint8Array): Promise<unknown> {
    return this.#avro.decode(bytes);
  }

  produce(
    topic: string,
    message: ProducerMessage,
    options: { acks: Acks },
  ): Promise<RecordMetadata> {
    this.#maybeFail();
    this.produceCalls.push({ topic, message, acks: options.acks });
    const t = this.#topic(topic);
    const partition = message.partition ?? this.#roundRobin++ % t.partitions.length;
    const p = this.#partition(topic, partition);
    const offset = p.logStartOffset + BigInt(p.messages.length);
    p.messages.push({
      topic,
      partition,
      offset,
      timestamp: message.timestamp ?? this.#nowMs,
      key: toBytes(message.key),
      value: toBytes(message.value),
      headers: (message.headers ?? []).map((h) => ({ key: h.key, value: toBytes(h.value) })),
    });
    return Promise.resolve({ topic, partition, offset: options.acks === 0 ? -1n : offset });
  }

  listTopics(): Promise<TopicDescription[]> {
    this.#maybeFail();
    return Promise.resolve([...this.#topics.values()].map((t) => this.#describe(t)));
  }

  describeTopic(name: string): Promise<TopicDescription> {
    this.#maybeFail();
    return Promise.resolve(this.#describe(this.#topic(name)));
  }

  createTopic(options: CreateTopicOptions): Promise<TopicDescription> {
    this.#maybeFail();
    if (this.#topics.has(options.name)) {
      throw KaError.of("TOPIC_ALREADY_EXISTS", `Topic '${options.name}' already exists`);
    }
    const replicationFactor = options.replicationFactor ?? 1;
    if (replicationFactor > this.#brokers) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Replication factor ${replicationFactor} is larger than the ${this.#brokers} brokers`,
      );
    }
    const topic: FakeTopic = {
      name: options.name,
      replicationFactor,
      configs: { ...options.configs },
      partitions: Array.from({ length: options.partitions ?? 1 }, () => ({
        logStartOffset: 0n,
        messages: [],
      })),
    };
    this.#topics.set(topic.name, topic);
    return Promise.resolve(this.#describe(topic));
  }

  deleteTopic(name: string): Promise<void> {
    this.#maybeFail();
    this.#topic(name);
    this.#topics.delete(name);
    return Promise.resolve();
  }

  fetch(
    topic: string,
    partition: number,
    offset: bigint,
    options: { maxMessages: number; maxWaitMs: number },
  ): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint }> {
    this.#maybeFail();
    this.fetchCalls.push({ topic, partition, offset, ...options });
    const p = this.#partition(topic, partition);
    const highWatermark = p.logStartOffset + BigInt(p.messages.length);
    if (offset < p.logStartOffset || offset > highWatermark) {
      throw KaError.of(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${offset} is outside ${p.logStartOffset}..${highWatermark} of ${topic}-${partition}`,
      );
    }
    const start = Number(offset - p.logStartOffset);
    return Promise.resolve({
      messages: p.messages.slice(start, start + options.maxMessages),
      highWatermark,
    });
  }

  listOffsets(topic: string, partition: number): Promise<{ earliest: bigint; latest: bigint }> {
    this.#maybeFail();
    const p = this.#partition(topic, partition);
    return Promise.resolve({
      earliest: p.logStartOffset,
      latest: p.logStartOffset + BigInt(p.messages.length),
    });
  }

  health(): Promise<{ ok: boolean; brokers: number }> {
    this.#maybeFail();
    return Promise.resolve({ ok: this.#healthy, brokers: this.#brokers });
  }
}
