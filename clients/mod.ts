/**
 * The kafka-analog client library: admin, producer and partition reader,
 * speaking Kafka's wire protocol to brokers (bootstrapping from any broker
 * or the coordinator, then going straight to partition leaders).
 *
 * ```ts
 * const client = createClient({ bootstrap: ["127.0.0.1:9092"] });
 * await client.admin.createTopic({ name: "orders", partitions: 10 });
 * const producer = client.producer({ acks: "all" });
 * await producer.send("orders", [{ key: "user-1", value: "hello" }]);
 * const { messages } = await client.consumer().fetch({ topic: "orders", partition: 0, offset: 0n });
 * await client.close();
 * ```
 * @module
 */
import { Admin } from "./admin.ts";
import { type ClusterOptions, ClusterView } from "./cluster.ts";
import { PartitionReader } from "./consumer.ts";
import { Producer, type ProducerOptions } from "./producer.ts";

export * from "./types.ts";
export { Admin } from "./admin.ts";
export { type ClusterOptions, ClusterView } from "./cluster.ts";
export { type FetchOptions, type FetchResult, PartitionReader } from "./consumer.ts";
export { Producer, type ProducerOptions, toBytes } from "./producer.ts";
export { defaultPartitioner, keyPartition, murmur2, type Partitioner } from "./partitioner.ts";

/** A connected client: one metadata cache shared by its parts. */
export interface Client {
  readonly cluster: ClusterView;
  readonly admin: Admin;
  /** A new producer; producers share the client's connections. */
  producer(options?: ProducerOptions): Producer;
  /** A partition reader with its own connections, so long polls never delay produce requests. */
  consumer(): PartitionReader;
  /** Flushes nothing; closes every connection. */
  close(): Promise<void>;
}

/** Creates a client for the cluster reachable at `options.bootstrap`. */
export function createClient(options: ClusterOptions): Client {
  const cluster = new ClusterView(options);
  const readers: ClusterView[] = [];
  return {
    cluster,
    admin: new Admin(cluster),
    producer: (producerOptions) => new Producer(cluster, producerOptions),
    consumer: () => {
      const view = new ClusterView(options);
      readers.push(view);
      return new PartitionReader(view);
    },
    close: async () => {
      await Promise.all([cluster.close(), ...readers.map((r) => r.close())]);
    },
  };
}
