/**
 * The kafka-analog client library: admin, producer and partition reader,
 * speaking Kafka's wire protocol to brokers (bootstrapping from any broker
 * or the coordinator, then going straight to partition leaders).
 *
 * ```ts
 * const client = createClient({ bootstrap: ["127.0.0.1:9092"] });
 * await client.admin.createTopic({ name: "orders", partitions: 10 });
 * const producer = client.producer({ acks: "all", lingerMs: 5, compression: "gzip" });
 * await producer.send("orders", [{ key: "user-1", value: "hello" }]);
 * const { messages } = await client.consumer().fetch({ topic: "orders", partition: 0, offset: 0n });
 * await client.close();
 * ```
 *
 * Exactly-once copies go through transactions:
 *
 * ```ts
 * const producer = client.producer({ transactionalId: "copier-1" });
 * const consumer = client.groupConsumer({ groupId: "copier", delivery: "exactly-once" });
 * consumer.subscribe(["in"]);
 * await consumeTransformProduce({
 *   consumer,
 *   producer,
 *   transform: (m) => ({ topic: "out", key: m.key, value: m.value }),
 *   signal,
 * });
 * ```
 *
 * Typed values go through serializers, e.g. Avro with the coordinator's
 * schema registry:
 *
 * ```ts
 * const users = client.producer({
 *   valueSerializer: avroSerde({ registry: client.schemaRegistry, schema: USER_SCHEMA }),
 * });
 * const reader = client.consumer({ valueDeserializer: avroSerde({ registry: client.schemaRegistry }) });
 * ```
 * @module
 */
import { Admin } from "./admin.ts";
import { GroupConsumer, type GroupConsumerOptions } from "./group_consumer.ts";
import { type ClusterOptions, ClusterView } from "./cluster.ts";
import { PartitionReader, type ReaderOptions } from "./consumer.ts";
import { Producer, type ProducerOptions } from "./producer.ts";
import { SchemaRegistryClient } from "./schema_registry.ts";
import type { Payload } from "./types.ts";

export * from "./types.ts";
export {
  type ConsumerBatch,
  type DeliveryMode,
  GroupConsumer,
  type GroupConsumerOptions,
  type RunOptions,
  type TopicPartition,
} from "./group_consumer.ts";
export {
  type Assignor,
  assignorByName,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
} from "./assignors/mod.ts";
export { Admin } from "./admin.ts";
export { type ClusterOptions, ClusterView } from "./cluster.ts";
export {
  committedBatches,
  type FetchManyOptions,
  type FetchOptions,
  type FetchResult,
  ISOLATION_LEVELS,
  type IsolationLevel,
  type PartitionFetchRequest,
  type PartitionFetchResult,
  PartitionReader,
  type ReaderOptions,
} from "./consumer.ts";
export {
  type ConsumerGroupMetadata,
  consumeTransformProduce,
  type ConsumeTransformProduceOptions,
  type ConsumeTransformProduceStats,
  isFatalTransactionError,
  type TransactionalConsumer,
  type TransactionalProducer,
  type TransactionOffset,
  type TransactionOutcome,
  type TransactionState,
  type TransformedMessage,
  type TransformResult,
} from "./transactions.ts";
export { Producer, type ProducerOptions, producerOptionsFromConfig, toBytes } from "./producer.ts";
export {
  checkPartition,
  defaultPartitioner,
  keyHashPartitioner,
  keyPartition,
  murmur2,
  type Partitioner,
  type PartitionerInput,
  type PartitionSelector,
  roundRobinPartitioner,
} from "./partitioner.ts";
export {
  binarySerde,
  DeserializationError,
  type DeserializeContext,
  type Deserializer,
  jsonSerde,
  payloadSerde,
  type Serde,
  type SerdePart,
  type SerializeContext,
  type Serializer,
  stringSerde,
} from "./serde.ts";
export {
  AvroCodec,
  type AvroSchema,
  avroSerde,
  type AvroSerdeOptions,
  encodeAvroWire,
  parseAvroSchema,
  parseAvroWire,
} from "./avro.ts";
export {
  type SchemaEntry,
  type SchemaRegistryApi,
  SchemaRegistryClient,
} from "./schema_registry.ts";
export { COMPRESSION_TYPES, type CompressionType } from "./compression.ts";
export { backoffMs, type ProducerClock } from "./retry.ts";

/** A connected client: one metadata cache shared by its parts. */
export interface Client {
  readonly cluster: ClusterView;
  readonly admin: Admin;
  /** The coordinator's Avro schema registry (register, look up by id, list). */
  readonly schemaRegistry: SchemaRegistryClient;
  /** A new producer; producers share the client's connections. */
  producer<K = Payload, V = Payload>(options?: ProducerOptions<K, V>): Producer<K, V>;
  /** A partition reader with its own connections, so long polls never delay produce requests. */
  consumer<K = Uint8Array | null, V = Uint8Array | null>(
    options?: ReaderOptions<K, V>,
  ): PartitionReader<K, V>;
  /** A member of consumer group `options.groupId` (call `subscribe`, then `run` or `poll`). */
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  /** Flushes nothing; closes every connection. */
  close(): Promise<void>;
}

/** Creates a client for the cluster reachable at `options.bootstrap`. */
export function createClient(options: ClusterOptions): Client {
  const cluster = new ClusterView(options);
  const readers: ClusterView[] = [];
  const groupConsumers: GroupConsumer[] = [];
  return {
    cluster,
    admin: new Admin(cluster),
    schemaRegistry: new SchemaRegistryClient(cluster),
    producer: (producerOptions) => new Producer(cluster, producerOptions),
    consumer: (readerOptions) => {
      const view = new ClusterView(options);
      readers.push(view);
      return new PartitionReader(view, readerOptions);
    },
    groupConsumer: (consumerOptions) => {
      const consumer = new GroupConsumer(options, consumerOptions);
      groupConsumers.push(consumer);
      return consumer;
    },
    close: async () => {
      await Promise.all(groupConsumers.map((c) => c.close()));
      await Promise.all([cluster.close(), ...readers.map((r) => r.close())]);
    },
  };
}
