/**
 * The real {@linkcode GatewayCluster}: an adapter over the client library
 * (`@kafka-analog/clients`). `main_*.ts` create the client and pass it to
 * {@linkcode createClusterAdapter}; this file only needs its shape
 * ({@linkcode ClusterClient}), so it is tested with a small stand-in and does
 * not open sockets itself.
 *
 * What the adapter adds over the client: one producer per acks level (made
 * on first use and reused, so concurrent HTTP requests share batches), topic
 * listings with descriptions, reads that never return messages before the
 * requested offset and are bounded in bytes, and a health probe.
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
import { GATEWAY_FETCH_BYTES_MAX } from "@kafka-analog/lib/limits";
import type { GatewayCluster } from "./cluster.ts";

/** A producer as the client library makes it. */
export interface ClusterProducer {
  send(topic: string, messages: ProducerMessage[]): Promise<RecordMetadata[]>;
  close(): Promise<void> | void;
}

/** A consumer as the client library makes it (only the partition-level reads are used). */
export interface ClusterConsumer {
  fetch(request: {
    topic: string;
    partition: number;
    offset: bigint;
    maxWaitMs?: number;
    maxBytes?: number;
  }): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint }>;
  listOffsets(topic: string, partition: number, which: "earliest" | "latest"): Promise<bigint>;
}

/** The part of the client library's `createClient()` result the gateways use. */
export interface ClusterClient {
  admin: {
    /** May resolve to the new topic's description or to nothing. */
    createTopic(options: CreateTopicOptions): Promise<TopicDescription | void>;
    deleteTopic(name: string): Promise<void>;
    listTopics(): Promise<string[]>;
    describeTopic(name: string): Promise<TopicDescription>;
    /** The brokers the metadata knows, when the client offers it. */
    describeCluster?(): Promise<{ brokers: BrokerDescription[] }>;
  };
  producer(options?: { acks?: Acks; lingerMs?: number }): ClusterProducer;
  consumer(): ClusterConsumer;
  close(): Promise<void> | void;
}

/** Options for {@linkcode createClusterAdapter}. */
export interface ClusterAdapterOptions {
  /** Passed to each producer; the client's default when absent. */
  lingerMs?: number;
  /** Bytes asked of a broker per read. Defaults to `GATEWAY_FETCH_BYTES_MAX`. */
  fetchBytesMax?: number;
  /** Longest a health probe may take before it reports not ok. Default 2000 ms. */
  healthTimeoutMs?: number;
  /** Attempts to describe a topic just created while metadata catches up. Default 20. */
  describeAttempts?: number;
  /** Pause between those attempts. Default 100 ms. */
  describeRetryMs?: number;
}

/** A {@linkcode GatewayCluster} that can also release its connections. */
export interface ClusterAdapter extends GatewayCluster {
  /** Closes the producers and the client. */
  close(): Promise<void>;
}

/** Topics described at once when listing. */
const DESCRIBE_CONCURRENCY = 8;

/** Builds the gateways' cluster on a client from `@kafka-analog/clients`. */
export function createClusterAdapter(
  client: ClusterClient,
  options: ClusterAdapterOptions = {},
): ClusterAdapter {
  const fetchBytesMax = options.fetchBytesMax ?? GATEWAY_FETCH_BYTES_MAX;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const describeAttempts = options.describeAttempts ?? 20;
  const describeRetryMs = options.describeRetryMs ?? 100;
  const producers = new Map<Acks, ClusterProducer>();
  let consumer: ClusterConsumer | null = null;

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

  function theConsumer(): ClusterConsumer {
    consumer ??= client.consumer();
    return consumer;
  }

  async function describeIfPresent(name: string): Promise<TopicDescription | null> {
    try {
      return await client.admin.describeTopic(name);
    } catch (err) {
      if (isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION")) return null; // deleted meanwhile
      throw err;
    }
  }

  return {
    async produce(topic, message, { acks }) {
      const results = await producerFor(acks).send(topic, [message]);
      assert(results.length === 1, `send() of one message returned ${results.length} results`);
      return results[0];
    },

    async listTopics() {
      const names = await client.admin.listTopics();
      const found: TopicDescription[] = [];
      for (let i = 0; i < names.length; i += DESCRIBE_CONCURRENCY) {
        const slice = names.slice(i, i + DESCRIBE_CONCURRENCY);
        for (const topic of await Promise.all(slice.map(describeIfPresent))) {
          if (topic !== null) found.push(topic);
        }
      }
      return found;
    },

    describeTopic(name) {
      return client.admin.describeTopic(name);
    },

    async createTopic(createOptions) {
      const created = await client.admin.createTopic(createOptions);
      if (created) return created;
      // The metadata may lag the creation by a moment: retry only that.
      for (let attempt = 1;; attempt++) {
        try {
          return await client.admin.describeTopic(createOptions.name);
        } catch (err) {
          if (!isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION") || attempt >= describeAttempts) {
            throw err;
          }
        }
        await sleep(describeRetryMs);
      }
    },

    deleteTopic(name) {
      return client.admin.deleteTopic(name);
    },

    async fetch(topic, partition, offset, { maxMessages, maxWaitMs }) {
      const result = await theConsumer().fetch({
        topic,
        partition,
        offset,
        maxWaitMs,
        maxBytes: fetchBytesMax,
      });
      // Whole batches may start before `offset`: drop that part before counting.
      const messages = result.messages.filter((m) => m.offset >= offset).slice(0, maxMessages);
      return { messages, highWatermark: result.highWatermark };
    },

    async listOffsets(topic, partition) {
      const c = theConsumer();
      const [earliest, latest] = await Promise.all([
        c.listOffsets(topic, partition, "earliest"),
        c.listOffsets(topic, partition, "latest"),
      ]);
      return { earliest, latest };
    },

    async health() {
      const timeout = () => KaError.of("REQUEST_TIMED_OUT", "Health probe timed out");
      try {
        if (client.admin.describeCluster) {
          const { brokers } = await withTimeout(
            client.admin.describeCluster(),
            healthTimeoutMs,
            timeout,
          );
          return { ok: brokers.length > 0, brokers: brokers.length };
        }
        await withTimeout(client.admin.listTopics(), healthTimeoutMs, timeout);
        return { ok: true, brokers: -1 };
      } catch (err) {
        if (err instanceof KaError) return { ok: false, brokers: 0 };
        throw err;
      }
    },

    async close() {
      const closing = [...producers.values()].map((p) => p.close());
      producers.clear();
      await Promise.allSettled(closing);
      await client.close();
    },
  };
}
