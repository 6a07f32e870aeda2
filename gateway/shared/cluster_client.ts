/**
 * The real {@linkcode GatewayCluster}: an adapter over the client library's
 * `createClient()` (`@kafka-analog/clients`). `main_*.ts` create the client
 * and pass it to {@linkcode createClusterAdapter}; this file only needs its
 * shape ({@linkcode ClusterClient}, which the library's `Client` satisfies),
 * so it is tested with a small stand-in and opens no sockets itself.
 *
 * What the adapter adds over the client:
 * - one producer per acks level, made on first use and reused, so concurrent
 *   HTTP requests share batches;
 * - a bounded pool of partition readers: a broker answers one connection's
 *   requests in order, so a long poll holds its connection, and each
 *   concurrent HTTP read needs a reader (connections) of its own; reads
 *   beyond the pool wait in a bounded queue, and beyond that get 429;
 * - reads bounded in bytes and count that never return messages before the
 *   requested offset;
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
import { withTimeout } from "@kafka-analog/lib/async";
import { KaError } from "@kafka-analog/lib/errors";
import {
  GATEWAY_FETCH_BYTES_MAX,
  GATEWAY_PENDING_READS_MAX,
  GATEWAY_READERS_MAX,
} from "@kafka-analog/lib/limits";
import { AvroCodec, type SchemaRegistryApi } from "@kafka-analog/clients";
import type { GatewayCluster } from "./cluster.ts";

/** A producer as the client library makes it. */
export interface ClusterProducer {
  send(topic: string, messages: ProducerMessage[]): Promise<RecordMetadata[]>;
  close(): Promise<void>;
}

/** A partition reader as the client library's `consumer()` makes it. */
export interface ClusterReader {
  fetch(options: {
    topic: string;
    partition: number;
    offset: bigint;
    maxWaitMs?: number;
    maxBytes?: number;
  }): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint }>;
  listOffset(topic: string, partition: number, which: "earliest" | "latest"): Promise<bigint>;
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
  };
  producer(options?: { acks?: Acks; lingerMs?: number }): ClusterProducer;
  /** The coordinator's schema registry. */
  readonly schemaRegistry: SchemaRegistryApi;
  /** A new reader with its own connections. */
  consumer(): ClusterReader;
  close(): Promise<void>;
}

/** Options for {@linkcode createClusterAdapter}. */
export interface ClusterAdapterOptions {
  /** Passed to each producer; the client's default when absent. */
  lingerMs?: number;
  /** Bytes asked of a broker per read. Defaults to `GATEWAY_FETCH_BYTES_MAX`. */
  fetchBytesMax?: number;
  /** Readers kept at most. Defaults to `GATEWAY_READERS_MAX`. */
  readersMax?: number;
  /** Reads waiting for a reader at most. Defaults to `GATEWAY_PENDING_READS_MAX`. */
  pendingReadsMax?: number;
  /** Longest a health probe may take before it reports not ok. Default 2000 ms. */
  healthTimeoutMs?: number;
}

/** A {@linkcode GatewayCluster} that can also release its connections. */
export interface ClusterAdapter extends GatewayCluster {
  /** Closes the producers and the client (and with it every reader). */
  close(): Promise<void>;
}

/** Builds the gateways' cluster on a client from `@kafka-analog/clients`. */
export function createClusterAdapter(
  client: ClusterClient,
  options: ClusterAdapterOptions = {},
): ClusterAdapter {
  const fetchBytesMax = options.fetchBytesMax ?? GATEWAY_FETCH_BYTES_MAX;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const producers = new Map<Acks, ClusterProducer>();
  const readers = new ReaderPool(() => client.consumer(), {
    readersMax: options.readersMax ?? GATEWAY_READERS_MAX,
    pendingMax: options.pendingReadsMax ?? GATEWAY_PENDING_READS_MAX,
  });

  const avro = new AvroCodec(client.schemaRegistry);

  function producerFor(acks: Acks): ClusterProducer {
    let producer = producers.get(acks);
    if (producer === undefined) {
      producer = client.producer(
        options.lingerMs === undefined ? { acks } : { acks, lingerMs: options.lingerMs },
      );
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

    async produce(topic, message, { acks }) {
      const results = await producerFor(acks).send(topic, [message]);
      assert(results.length === 1, `send() of one message returned ${results.length} results`);
      return results[0];
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
