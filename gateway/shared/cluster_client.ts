/**
 * The real {@linkcode GatewayCluster}: an adapter over the client library
 * (`@kafka-analog/clients`). `main_*.ts` create the client and pass it to
 * {@linkcode createClusterAdapter} with {@linkcode libraryConnections}; this
 * file otherwise only needs the client's shape ({@linkcode ClusterClient},
 * which the library's `Client` satisfies), so it is tested with small
 * stand-ins and opens no sockets itself.
 *
 * What the adapter adds over the client:
 * - one producer per acks level, made on first use and reused, so concurrent
 *   HTTP requests share batches; its timeouts suit an HTTP caller (a request
 *   fails within `deliveryTimeoutMs`, 30 s, rather than the library's 120 s);
 * - a bounded pool of partition readers for the per-partition routes: a
 *   broker answers one connection's requests in order, so a long poll holds
 *   its connection, and each concurrent HTTP read needs a reader of its own;
 *   reads beyond the pool wait in a bounded queue, and beyond that get 429;
 * - group members (`joinGroup`) and topic readers (`readTopic`) for
 *   subscriptions and streams, each with connections of its own that are
 *   released when it closes;
 * - committed offsets and standalone commits through the admin client;
 * - a health probe (a metadata refresh, with a timeout).
 * @module
 */
import type {
  Acks,
  BrokerDescription,
  ConsumedMessage,
  CreateTopicOptions,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "@kafka-analog/clients/types";
import { assert } from "@kafka-analog/lib/assert";
import { sleep, withTimeout } from "@kafka-analog/lib/async";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  GATEWAY_FETCH_BYTES_MAX,
  GATEWAY_PENDING_READS_MAX,
  GATEWAY_READERS_MAX,
} from "@kafka-analog/lib/limits";
import {
  AvroCodec,
  type ClusterOptions,
  ClusterView,
  GroupConsumer,
  type GroupConsumerOptions,
  parseAvroSchema,
  PartitionReader,
  type SchemaRegistryApi,
} from "@kafka-analog/clients";
import type {
  GatewayCluster,
  MessageBatch,
  MessageSource,
  PartitionOffset,
  StartFrom,
  TopicPartition,
} from "./cluster.ts";
import { GATEWAY_PARTITION_FETCH_BYTES_MAX } from "./limits.ts";

/** A producer as the client library makes it. */
export interface ClusterProducer {
  send(topic: string, messages: ProducerMessage[]): Promise<RecordMetadata[]>;
  close(): Promise<void>;
}

/** What the adapter asks of a producer. */
export interface GatewayProducerOptions {
  acks: Acks;
  lingerMs?: number;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  maxBlockMs: number;
}

/** A partition reader as the client library's `consumer()` makes it. */
export interface ClusterReader {
  fetch(options: {
    topic: string;
    partition: number;
    offset: bigint;
    maxWaitMs?: number;
    maxBytes?: number;
  }): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint; nextOffset?: bigint }>;
  listOffset(topic: string, partition: number, which: "earliest" | "latest"): Promise<bigint>;
}

/** A group member as the client library's `GroupConsumer` is. */
export interface ClusterGroupMember {
  readonly rebalances: number;
  assignment(): TopicPartition[];
  subscribe(topics: string[]): void;
  poll(): Promise<MessageBatch[]>;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  seek(topic: string, partition: number, offset: bigint): void;
  commit(offsets?: PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

/** The part of the client library's `Client` the gateways use. */
export interface ClusterClient {
  readonly cluster: {
    /** Refreshes the metadata from any reachable broker or the coordinator. */
    refresh(): Promise<void>;
    /** The brokers in the last metadata. */
    brokers(): BrokerDescription[];
  };
  readonly admin: {
    createTopic(options: CreateTopicOptions): Promise<TopicDescription>;
    deleteTopic(name: string): Promise<void>;
    describeTopics(): Promise<TopicDescription[]>;
    describeTopic(name: string): Promise<TopicDescription>;
    fetchOffsets(
      groupId: string,
      partitions?: TopicPartition[],
    ): Promise<{ topic: string; partition: number; offset: bigint | null }[]>;
    commitOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void>;
  };
  producer(options: GatewayProducerOptions): ClusterProducer;
  /** The coordinator's schema registry. */
  readonly schemaRegistry: SchemaRegistryApi;
  /** A new reader with its own connections (kept until the client closes). */
  consumer(): ClusterReader;
  close(): Promise<void>;
}

/** Opens readers and group members whose connections close with them. */
export interface ClusterConnections {
  /** A partition reader with connections of its own, and how to release them. */
  openReader(
    isolation?: "read_committed" | "read_uncommitted",
  ): { reader: ClusterReader; close(): Promise<void> };
  /** A group member with connections of its own (released by its `close`). */
  openGroupMember(options: GroupConsumerOptions): ClusterGroupMember;
}

/** {@linkcode ClusterConnections} from the client library's classes. */
export function libraryConnections(options: ClusterOptions): ClusterConnections {
  return {
    openReader(isolation = "read_uncommitted") {
      const view = new ClusterView(options);
      return {
        reader: new PartitionReader(view, { isolationLevel: isolation }),
        close: () => view.close(),
      };
    },
    openGroupMember(memberOptions) {
      return new GroupConsumer(options, memberOptions);
    },
  };
}

/** Options for {@linkcode createClusterAdapter}. */
export interface ClusterAdapterOptions {
  /** Opens the connections of group members and topic readers. */
  connections: ClusterConnections;
  /** Passed to each producer; the client's default when absent. */
  lingerMs?: number;
  /** Longest a produce may take before it fails (default 30000 ms). */
  deliveryTimeoutMs?: number;
  /** Bytes asked of a broker per per-partition read. Defaults to `GATEWAY_FETCH_BYTES_MAX`. */
  fetchBytesMax?: number;
  /** Readers kept at most. Defaults to `GATEWAY_READERS_MAX`. */
  readersMax?: number;
  /** Reads waiting for a reader at most. Defaults to `GATEWAY_PENDING_READS_MAX`. */
  pendingReadsMax?: number;
  /** Longest a health probe may take before it reports not ok. Default 2000 ms. */
  healthTimeoutMs?: number;
  /** How long a group member or topic reader's fetch waits for data. Default 250 ms. */
  pollWaitMs?: number;
  /** Group members' heartbeat interval (default 1000 ms: rebalances finish fast). */
  heartbeatIntervalMs?: number;
  /** Group members' session timeout (default 10000 ms). */
  sessionTimeoutMs?: number;
  /** Client id of group members. */
  clientId?: string;
}

/** A {@linkcode GatewayCluster} that can also release its connections. */
export interface ClusterAdapter extends GatewayCluster {
  /** Closes the producers and the client (and with it every pooled reader). */
  close(): Promise<void>;
}

/** Builds the gateways' cluster on a client from `@kafka-analog/clients`. */
export function createClusterAdapter(
  client: ClusterClient,
  options: ClusterAdapterOptions,
): ClusterAdapter {
  const fetchBytesMax = options.fetchBytesMax ?? GATEWAY_FETCH_BYTES_MAX;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const pollWaitMs = options.pollWaitMs ?? 250;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
  const producers = new Map<Acks, ClusterProducer>();
  const readers = new ReaderPool(() => client.consumer(), {
    readersMax: options.readersMax ?? GATEWAY_READERS_MAX,
    pendingMax: options.pendingReadsMax ?? GATEWAY_PENDING_READS_MAX,
  });

  const avro = new AvroCodec(client.schemaRegistry);

  function producerFor(acks: Acks): ClusterProducer {
    let producer = producers.get(acks);
    if (producer === undefined) {
      // A request must fail while its HTTP caller still waits: well under the library's 120 s.
      const requestTimeoutMs = Math.min(10_000, Math.floor(deliveryTimeoutMs / 2));
      producer = client.producer({
        acks,
        ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }),
        requestTimeoutMs,
        deliveryTimeoutMs,
        maxBlockMs: requestTimeoutMs,
      });
      producers.set(acks, producer);
    }
    return producer;
  }

  return {
    async encodeAvro(topic, value, writer) {
      const { id, type } = "schemaId" in writer
        ? { id: writer.schemaId, type: await avro.typeOf(writer.schemaId) }
        : await avro.register(writer.subject ?? `${topic}-value`, writer.schema as never);
      try {
        return avro.encodeWith(id, type, value);
      } catch (err) {
        throw KaError.of(
          "SERIALIZATION_ERROR",
          `Cannot encode the value for topic '${topic}' with schema ${id}: ${
            err instanceof Error ? err.message : String(err)
          }`,
        );
      }
    },

    decodeAvro(bytes) {
      return avro.decode(bytes);
    },

    async registerSchema(subject, schema) {
      const { text } = parseAvroSchema(schema); // INVALID_SCHEMA before the registry is asked
      const entry = await client.schemaRegistry.register(subject, text);
      return { id: entry.id, subject: entry.subject, version: entry.version };
    },

    schemaById(id) {
      return client.schemaRegistry.schemaById(id);
    },

    async listSchemas(subject) {
      const entries = await client.schemaRegistry.list(subject);
      return entries.map((e) => ({ id: e.id, subject: e.subject, version: e.version }));
    },

    async produce(topic, message, { acks }) {
      const results = await producerFor(acks).send(topic, [message]);
      assert(results.length === 1, `send() of one message returned ${results.length} results`);
      return results[0];
    },

    produceMany(topic, messages, { acks }) {
      const producer = producerFor(acks);
      // Started in order, so each partition's messages keep the order they came in.
      return Promise.allSettled(
        messages.map((m) => producer.send(topic, [m]).then((results) => results[0])),
      );
    },

    listTopics() {
      return client.admin.describeTopics();
    },

    describeTopic(name) {
      return client.admin.describeTopic(name);
    },

    createTopic(createOptions) {
      return client.admin.createTopic(createOptions);
    },

    deleteTopic(name) {
      return client.admin.deleteTopic(name);
    },

    fetch(topic, partition, offset, { maxMessages, maxWaitMs }) {
      return readers.use(async (reader) => {
        const result = await reader.fetch({
          topic,
          partition,
          offset,
          maxWaitMs,
          maxBytes: fetchBytesMax,
        });
        // Whole batches may start before `offset`: drop that part before counting.
        const messages = result.messages.filter((m) => m.offset >= offset).slice(0, maxMessages);
        return { messages, highWatermark: result.highWatermark };
      });
    },

    listOffsets(topic, partition) {
      return readers.use(async (reader) => {
        const [earliest, latest] = await Promise.all([
          reader.listOffset(topic, partition, "earliest"),
          reader.listOffset(topic, partition, "latest"),
        ]);
        return { earliest, latest };
      });
    },

    joinGroup({ groupId, topics, from, isolation }) {
      const member = options.connections.openGroupMember({
        groupId,
        autoOffsetReset: from,
        isolationLevel: isolation ?? "read_uncommitted",
        // The gateway commits what it delivered, never what it merely fetched.
        autoCommit: false,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        maxPollIntervalMs: 60_000,
        maxWaitMs: pollWaitMs,
        maxBytesPerPartition: GATEWAY_PARTITION_FETCH_BYTES_MAX,
        ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      });
      member.subscribe(topics);
      return {
        groupId,
        get rebalances() {
          return member.rebalances;
        },
        assignment: () => member.assignment(),
        poll: () => member.poll(),
        pause: (partitions) => member.pause(partitions),
        resume: (partitions) => member.resume(partitions),
        seek: (topic, partition, offset) => member.seek(topic, partition, offset),
        commit: (offsets) => offsets.length === 0 ? Promise.resolve() : member.commit(offsets),
        close: () => member.close(),
      };
    },

    async readTopic(topic, { from, isolation }) {
      const description = await client.admin.describeTopic(topic);
      const { reader, close } = options.connections.openReader(isolation ?? "read_uncommitted");
      try {
        const positions = await Promise.all(
          description.partitions.map((p) => reader.listOffset(topic, p.partition, from)),
        );
        return new TopicReader(topic, reader, close, { positions, from, pollWaitMs });
      } catch (err) {
        await close();
        throw err;
      }
    },

    async committedOffsets(groupId, topic, partitions) {
      const wanted = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
      const found = await client.admin.fetchOffsets(groupId, wanted);
      const out: (bigint | null)[] = wanted.map(() => null);
      for (const o of found) {
        if (o.topic === topic && o.partition >= 0 && o.partition < partitions) {
          out[o.partition] = o.offset;
        }
      }
      return out;
    },

    commitOffsets(groupId, offsets) {
      return client.admin.commitOffsets(groupId, offsets);
    },

    async health() {
      try {
        await withTimeout(
          client.cluster.refresh(),
          healthTimeoutMs,
          () => KaError.of("REQUEST_TIMED_OUT", `Metadata refresh took over ${healthTimeoutMs} ms`),
        );
      } catch (err) {
        if (err instanceof KaError) return { ok: false, brokers: client.cluster.brokers().length };
        throw err;
      }
      const brokers = client.cluster.brokers().length;
      return { ok: brokers > 0, brokers };
    },

    async close() {
      const closing = [...producers.values()].map((p) => p.close());
      producers.clear();
      await Promise.allSettled(closing);
      await client.close();
    },
  };
}

/**
 * Every partition of one topic, read without a group: positions start at
 * `from` and move past what each poll returns; a position that fell out of
 * the log (retention) restarts at `from`. Partitions added to the topic
 * later are not read.
 */
class TopicReader implements MessageSource {
  readonly groupId = null;
  readonly rebalances = 0;
  #topic: string;
  #reader: ClusterReader;
  #close: () => Promise<void>;
  #positions: bigint[];
  #paused = new Set<number>();
  #from: StartFrom;
  #pollWaitMs: number;
  #closed = false;

  constructor(
    topic: string,
    reader: ClusterReader,
    close: () => Promise<void>,
    options: { positions: bigint[]; from: StartFrom; pollWaitMs: number },
  ) {
    this.#topic = topic;
    this.#reader = reader;
    this.#close = close;
    this.#positions = options.positions;
    this.#from = options.from;
    this.#pollWaitMs = options.pollWaitMs;
  }

  assignment(): TopicPartition[] {
    return this.#positions.map((_, partition) => ({ topic: this.#topic, partition }));
  }

  async poll(): Promise<MessageBatch[]> {
    if (this.#closed) throw KaError.of("INVALID_REQUEST", "The reader is closed");
    const active = this.#positions.map((_, p) => p).filter((p) => !this.#paused.has(p));
    if (active.length === 0) {
      await sleep(Math.min(this.#pollWaitMs, 100));
      return [];
    }
    const batches = await Promise.all(active.map((p) => this.#pollPartition(p)));
    return batches.filter((b): b is MessageBatch => b !== null && b.messages.length > 0);
  }

  async #pollPartition(partition: number): Promise<MessageBatch | null> {
    const offset = this.#positions[partition];
    try {
      const result = await this.#reader.fetch({
        topic: this.#topic,
        partition,
        offset,
        maxWaitMs: this.#pollWaitMs,
        maxBytes: GATEWAY_PARTITION_FETCH_BYTES_MAX,
      });
      if (this.#positions[partition] !== offset) return null; // sought meanwhile
      const messages = result.messages.filter((m) => m.offset >= offset);
      const last = messages.at(-1);
      this.#positions[partition] = result.nextOffset !== undefined && result.nextOffset > offset
        ? result.nextOffset
        : last === undefined
        ? offset
        : last.offset + 1n;
      return { topic: this.#topic, partition, messages };
    } catch (err) {
      if (isKaError(err, "OFFSET_OUT_OF_RANGE")) {
        this.#positions[partition] = await this.#reader.listOffset(
          this.#topic,
          partition,
          this.#from,
        );
        return null;
      }
      if (isKaError(err) && err.retriable) return null;
      throw err;
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) if (tp.topic === this.#topic) this.#paused.add(tp.partition);
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) if (tp.topic === this.#topic) this.#paused.delete(tp.partition);
  }

  seek(topic: string, partition: number, offset: bigint): void {
    if (topic === this.#topic && partition >= 0 && partition < this.#positions.length) {
      this.#positions[partition] = offset;
    }
  }

  commit(_offsets: PartitionOffset[]): Promise<void> {
    return Promise.reject(
      KaError.of("INVALID_REQUEST", "Offsets can only be committed for a group: pass ?group="),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#close();
  }
}

/**
 * Readers lent to one read at a time: made on demand up to `readersMax`,
 * then reads wait (FIFO) for one to come back, up to `pendingMax` waiting;
 * the next one gets THROTTLING_QUOTA_EXCEEDED (429, retriable).
 */
class ReaderPool {
  #make: () => ClusterReader;
  #readersMax: number;
  #pendingMax: number;
  #made = 0;
  #idle: ClusterReader[] = [];
  #waiting: ((reader: ClusterReader) => void)[] = [];

  constructor(make: () => ClusterReader, limits: { readersMax: number; pendingMax: number }) {
    assert(limits.readersMax >= 1, "readersMax must be at least 1");
    this.#make = make;
    this.#readersMax = limits.readersMax;
    this.#pendingMax = limits.pendingMax;
  }

  async use<T>(fn: (reader: ClusterReader) => Promise<T>): Promise<T> {
    const reader = await this.#acquire();
    try {
      return await fn(reader);
    } finally {
      this.#release(reader);
    }
  }

  #acquire(): Promise<ClusterReader> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#made < this.#readersMax) {
      this.#made++;
      return Promise.resolve(this.#make());
    }
    if (this.#waiting.length >= this.#pendingMax) {
      return Promise.reject(
        KaError.of(
          "THROTTLING_QUOTA_EXCEEDED",
          `Too many reads in progress: ${this.#readersMax} running, ${this.#pendingMax} waiting`,
        ),
      );
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(reader: ClusterReader): void {
    const next = this.#waiting.shift();
    if (next) next(reader);
    else this.#idle.push(reader);
  }
}
