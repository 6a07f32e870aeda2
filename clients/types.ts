/**
 * The public shapes of the client library: what an application (or a gateway)
 * passes in and gets back. Wire types stay in `lib/protocol`.
 * @module
 */

/** A key or value as an application gives it: strings are UTF-8 encoded. */
export type Payload = string | Uint8Array | null;

/** One header of a message. */
export interface MessageHeader {
  key: string;
  value: Payload;
}

/**
 * A message to produce. `K` and `V` are what the producer's key and value
 * serializers take; by default strings (UTF-8), bytes or null.
 */
export interface ProducerMessage<K = Payload, V = Payload> {
  key?: K | null;
  value: V;
  headers?: MessageHeader[];
  /** Explicit partition; overrides the partitioner. */
  partition?: number;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
}

/** Where a produced message landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: bigint;
}

/** Acknowledgement level: 0 = none, 1 = leader, "all" = every in-sync replica. */
export type Acks = 0 | 1 | "all";

/**
 * A message read back from a partition. `K` and `V` are what the reader's
 * deserializers return; by default the stored bytes (or null).
 */
export interface ConsumedMessage<K = Uint8Array | null, V = Uint8Array | null> {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
  key: K;
  value: V;
  headers: { key: string; value: Uint8Array | null }[];
}

/** One partition of a topic as the metadata says. */
export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
}

/** A topic as the metadata says. */
export interface TopicDescription {
  name: string;
  partitions: PartitionDescription[];
  configs: Record<string, string>;
}

/** What creating a topic takes. */
export interface CreateTopicOptions {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** A broker as the metadata says. */
export interface BrokerDescription {
  nodeId: number;
  host: string;
  port: number;
}
