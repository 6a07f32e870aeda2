/**
 * An in-memory {@linkcode GatewayCluster} for the gateway tests: real little
 * topics with partitions and dense offsets, the same errors the cluster
 * answers with, a record of every produce call so tests can check what the
 * gateway passed on (acks, bytes, partition), and small consumer groups
 * (members share partitions round-robin in join order; every join or leave
 * is a new generation; committed offsets; standalone commits only while a
 * group is empty).
 * @module
 */
import { sleep } from "@kafka-analog/lib/async";
import { KaError } from "@kafka-analog/lib/errors";
import { AvroCodec, parseAvroSchema } from "@kafka-analog/clients";
import { MemoryRegistry } from "./_memory_registry.ts";
import type {
  Acks,
  AvroWriterSchema,
  ConsumedMessage,
  CreateTopicOptions,
  GatewayCluster,
  MessageBatch,
  MessageSource,
  PartitionOffset,
  ProducerMessage,
  RecordMetadata,
  RegisteredSchema,
  StartFrom,
  TopicDescription,
  TopicPartition,
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
  #groups = new Map<string, FakeGroup>();
  /** Every group member and topic reader made, open or closed. */
  readonly sources: (FakeMember | FakeTopicReader)[] = [];

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

  async registerSchema(subject: string, schema: string): Promise<RegisteredSchema> {
    this.#maybeFail();
    const { text } = parseAvroSchema(schema);
    const entry = await this.registry.register(subject, text);
    return { id: entry.id, subject: entry.subject, version: entry.version };
  }

  schemaById(id: number): Promise<string> {
    this.#maybeFail();
    return this.registry.schemaById(id);
  }

  async listSchemas(subject?: string): Promise<RegisteredSchema[]> {
    this.#maybeFail();
    return (await this.registry.list(subject)).map((e) => ({
      id: e.id,
      subject: e.subject,
      version: e.version,
    }));
  }

  async produceMany(
    topic: string,
    messages: ProducerMessage[],
    options: { acks: Acks },
  ): Promise<PromiseSettledResult<RecordMetadata>[]> {
    const out: PromiseSettledResult<RecordMetadata>[] = [];
    for (const m of messages) {
      try {
        out.push({ status: "fulfilled", value: await this.produce(topic, m, options) });
      } catch (reason) {
        out.push({ status: "rejected", reason });
      }
    }
    return out;
  }

  joinGroup(
    options: { groupId: string; topics: string[]; from: StartFrom; isolation?: string },
  ): MessageSource {
    let group = this.#groups.get(options.groupId);
    if (group === undefined) {
      group = new FakeGroup(options.groupId);
      this.#groups.set(options.groupId, group);
    }
    const member = new FakeMember(this, group, options.topics, options.from);
    this.sources.push(member);
    return member;
  }

  readTopic(
    topic: string,
    options: { from: StartFrom; isolation?: string },
  ): Promise<MessageSource> {
    this.#maybeFail();
    const t = this.#topic(topic);
    const positions = t.partitions.map((p) =>
      options.from === "earliest" ? p.logStartOffset : p.logStartOffset + BigInt(p.messages.length)
    );
    const reader = new FakeTopicReader(this, topic, positions);
    this.sources.push(reader);
    return Promise.resolve(reader);
  }

  committedOffsets(groupId: string, topic: string, partitions: number): Promise<(bigint | null)[]> {
    this.#maybeFail();
    const committed = this.#groups.get(groupId)?.committed ?? new Map<string, bigint>();
    return Promise.resolve(
      Array.from({ length: partitions }, (_, p) => committed.get(`${topic}/${p}`) ?? null),
    );
  }

  commitOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void> {
    this.#maybeFail();
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      group = new FakeGroup(groupId);
      this.#groups.set(groupId, group);
    }
    if (group.members.length > 0) {
      throw KaError.of("NON_EMPTY_GROUP", `Group '${groupId}' has members: stop them first`);
    }
    for (const o of offsets) group.committed.set(`${o.topic}/${o.partition}`, o.offset);
    return Promise.resolve();
  }

  /** The group `groupId` (undefined before anyone joined or committed). */
  group(groupId: string): FakeGroup | undefined {
    return this.#groups.get(groupId);
  }

  /** Partitions of `topic` (0 when unknown); for the fake group members. */
  partitionCount(topic: string): number {
    return this.#topics.get(topic)?.partitions.length ?? 0;
  }

  /** Bounds of a partition's log, for the fake readers. */
  bounds(topic: string, partition: number): { earliest: bigint; latest: bigint } {
    const p = this.#partition(topic, partition);
    return { earliest: p.logStartOffset, latest: p.logStartOffset + BigInt(p.messages.length) };
  }

  /** Messages of a partition from `offset` (up to `max`), for the fake readers. */
  read(topic: string, partition: number, offset: bigint, max: number): ConsumedMessage[] {
    const p = this.#partition(topic, partition);
    const start = Number(offset - p.logStartOffset);
    return start < 0 ? [] : p.messages.slice(start, start + max);
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

/** One consumer group of the fake cluster. */
export class FakeGroup {
  readonly groupId: string;
  readonly members: FakeMember[] = [];
  readonly committed = new Map<string, bigint>();
  generation = 0;

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  /** Adds or removes a member: a new generation. */
  change(member: FakeMember, joining: boolean): void {
    const i = this.members.indexOf(member);
    if (joining && i < 0) this.members.push(member);
    if (!joining && i >= 0) this.members.splice(i, 1);
    this.generation++;
  }

  /** `member`'s share: every subscribed partition, dealt round-robin in join order. */
  assignmentOf(member: FakeMember, cluster: FakeCluster): TopicPartition[] {
    const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
    const all = topics.flatMap((topic) =>
      Array.from(
        { length: cluster.partitionCount(topic) },
        (_, partition) => ({ topic, partition }),
      )
    );
    const index = this.members.indexOf(member);
    return all.filter((_, i) => i % this.members.length === index);
  }
}

/** A member of a {@linkcode FakeGroup}: joins at its first poll, adopts each new generation. */
export class FakeMember implements MessageSource {
  readonly groupId: string;
  readonly topics: string[];
  rebalances = 0;
  closed = false;
  #cluster: FakeCluster;
  #group: FakeGroup;
  #from: StartFrom;
  #generationSeen = -1;
  #assignment: TopicPartition[] = [];
  #positions = new Map<string, bigint>();
  #paused = new Set<string>();

  constructor(cluster: FakeCluster, group: FakeGroup, topics: string[], from: StartFrom) {
    this.#cluster = cluster;
    this.#group = group;
    this.groupId = group.groupId;
    this.topics = topics;
    this.#from = from;
  }

  assignment(): TopicPartition[] {
    return this.#assignment.map((tp) => ({ ...tp }));
  }

  async poll(): Promise<MessageBatch[]> {
    if (this.closed) throw KaError.of("INVALID_REQUEST", "The consumer is closed");
    if (!this.#group.members.includes(this)) this.#group.change(this, true);
    if (this.#generationSeen !== this.#group.generation) this.#adopt();
    const batches: MessageBatch[] = [];
    for (const tp of this.#assignment) {
      const key = `${tp.topic}/${tp.partition}`;
      if (this.#paused.has(key)) continue;
      const offset = this.#positions.get(key)!;
      const messages = this.#cluster.read(tp.topic, tp.partition, offset, 50);
      if (messages.length === 0) continue;
      this.#positions.set(key, messages.at(-1)!.offset + 1n);
      batches.push({ ...tp, messages });
    }
    // A real poll long-polls; this keeps the background loop from spinning.
    if (batches.length === 0) await sleep(5);
    return batches;
  }

  #adopt(): void {
    this.#generationSeen = this.#group.generation;
    this.#assignment = this.#group.assignmentOf(this, this.#cluster);
    const keep = new Set(this.#assignment.map((tp) => `${tp.topic}/${tp.partition}`));
    for (const key of [...this.#positions.keys()]) if (!keep.has(key)) this.#positions.delete(key);
    for (const tp of this.#assignment) {
      const key = `${tp.topic}/${tp.partition}`;
      if (this.#positions.has(key)) continue;
      const bounds = this.#cluster.bounds(tp.topic, tp.partition);
      this.#positions.set(
        key,
        this.#group.committed.get(key) ??
          (this.#from === "earliest" ? bounds.earliest : bounds.latest),
      );
    }
    this.rebalances++;
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(`${tp.topic}/${tp.partition}`);
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(`${tp.topic}/${tp.partition}`);
  }

  seek(topic: string, partition: number, offset: bigint): void {
    this.#positions.set(`${topic}/${partition}`, offset);
  }

  commit(offsets: PartitionOffset[]): Promise<void> {
    if (!this.#group.members.includes(this) || this.#generationSeen !== this.#group.generation) {
      return Promise.reject(KaError.of("ILLEGAL_GENERATION", "The generation has moved on"));
    }
    for (const o of offsets) this.#group.committed.set(`${o.topic}/${o.partition}`, o.offset);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.#group.members.includes(this)) this.#group.change(this, false);
    }
    return Promise.resolve();
  }
}

/** Every partition of one topic read without a group. */
export class FakeTopicReader implements MessageSource {
  readonly groupId = null;
  readonly rebalances = 0;
  closed = false;
  #cluster: FakeCluster;
  #topic: string;
  #positions: bigint[];
  #paused = new Set<number>();

  constructor(cluster: FakeCluster, topic: string, positions: bigint[]) {
    this.#cluster = cluster;
    this.#topic = topic;
    this.#positions = positions;
  }

  assignment(): TopicPartition[] {
    return this.#positions.map((_, partition) => ({ topic: this.#topic, partition }));
  }

  async poll(): Promise<MessageBatch[]> {
    const batches: MessageBatch[] = [];
    this.#positions.forEach((offset, partition) => {
      if (this.#paused.has(partition)) return;
      const messages = this.#cluster.read(this.#topic, partition, offset, 50);
      if (messages.length === 0) return;
      this.#positions[partition] = messages.at(-1)!.offset + 1n;
      batches.push({ topic: this.#topic, partition, messages });
    });
    if (batches.length === 0) await sleep(5);
    return batches;
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(tp.partition);
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(tp.partition);
  }

  seek(_topic: string, partition: number, offset: bigint): void {
    this.#positions[partition] = offset;
  }

  commit(_offsets: PartitionOffset[]): Promise<void> {
    return Promise.reject(
      KaError.of("INVALID_REQUEST", "Offsets can only be committed for a group"),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
