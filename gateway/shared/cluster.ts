/**
 * What the gateways need from the cluster, and nothing more. The apps receive
 * a {@linkcode GatewayCluster}; `main_*.ts` builds the real one from the
 * client library (`cluster_client.ts`) and tests build an in-memory one
 * (`_fake_cluster.ts`). The gateways never speak the wire protocol.
 *
 * Every method fails with a `KaError` from the error table (unknown topic,
 * not enough replicas, timeout, ...); the apps map it to an HTTP status in
 * one place (`errors.ts`).
 * @module
 */
import type {
  Acks,
  ConsumedMessage,
  CreateTopicOptions,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "@kafka-analog/clients/types";

export type {
  Acks,
  ConsumedMessage,
  CreateTopicOptions,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
};

/** Which Avro schema a written value uses: a registered id, or a schema to register. */
export type AvroWriterSchema =
  | { schemaId: number }
  | { schema: unknown; subject?: string };

/** A topic partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** An offset of a topic partition (the next one to read, for commits). */
export interface PartitionOffset extends TopicPartition {
  offset: bigint;
}

/** Messages of one partition returned by one poll, in offset order. */
export interface MessageBatch extends TopicPartition {
  messages: ConsumedMessage[];
}

/** Where a reader without a committed offset starts. */
export type StartFrom = "earliest" | "latest";

/**
 * A running reader of several partitions: a consumer-group member (whose
 * partitions the group assigns and which may commit offsets), or a reader of
 * every partition of one topic without a group.
 */
export interface MessageSource {
  /** The group this source is a member of; null without a group. */
  readonly groupId: string | null;
  /** Rebalances completed so far (0 without a group). */
  readonly rebalances: number;
  /** The partitions this source reads now. */
  assignment(): TopicPartition[];
  /**
   * One round: (re)joins the group if needed, then reads every owned,
   * unpaused partition once (long poll, bounded in bytes per partition). The
   * positions move past what is returned.
   */
  poll(): Promise<MessageBatch[]>;
  /** Stops reading these partitions until resumed (a full buffer). */
  pause(partitions: TopicPartition[]): void;
  /** Reads these partitions again. */
  resume(partitions: TopicPartition[]): void;
  /** The next poll reads `partition` from `offset`. */
  seek(topic: string, partition: number, offset: bigint): void;
  /** Commits `offsets` for the group; INVALID_REQUEST without a group. */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Leaves the group (if any) and closes the connections. */
  close(): Promise<void>;
}

/** A schema as the registry keeps it. */
export interface RegisteredSchema {
  id: number;
  subject: string;
  version: number;
}

/** The cluster as the writer and reader gateways use it. */
/** Which records a reader sees: all up to the high watermark, or only committed transactions'. */
export type IsolationName = "read_committed" | "read_uncommitted";

export interface GatewayCluster {
  /**
   * Avro wire bytes (magic 0, schema id, body) of `value` for `topic`: with
   * a `schema` it is registered under `subject` (default `<topic>-value`)
   * first. INVALID_SCHEMA, SCHEMA_NOT_FOUND or SERIALIZATION_ERROR otherwise.
   */
  encodeAvro(topic: string, value: unknown, writer: AvroWriterSchema): Promise<Uint8Array>;
  /** Decodes Avro wire bytes with the writer's schema from the registry. */
  decodeAvro(bytes: Uint8Array): Promise<unknown>;
  /** Registers an Avro schema (JSON text) under `subject`; the same schema keeps its id. */
  registerSchema(subject: string, schema: string): Promise<RegisteredSchema>;
  /** A registered schema's JSON text; SCHEMA_NOT_FOUND if the id is unknown. */
  schemaById(id: number): Promise<string>;
  /** Every registered schema version (of one subject when given). */
  listSchemas(subject?: string): Promise<RegisteredSchema[]>;
  /** Produces one message; with `acks: 0` the offset is -1 (unknown). */
  produce(
    topic: string,
    message: ProducerMessage,
    options: { acks: Acks },
  ): Promise<RecordMetadata>;
  /**
   * Produces `messages` in order (they share batches); each one succeeds or
   * fails on its own, and the results come back in the same order.
   */
  produceMany(
    topic: string,
    messages: ProducerMessage[],
    options: { acks: Acks },
  ): Promise<PromiseSettledResult<RecordMetadata>[]>;
  /** Every topic with its partitions. */
  listTopics(): Promise<TopicDescription[]>;
  /** One topic; `KaError` UNKNOWN_TOPIC_OR_PARTITION if absent. */
  describeTopic(name: string): Promise<TopicDescription>;
  /** Creates a topic and returns its description. */
  createTopic(options: CreateTopicOptions): Promise<TopicDescription>;
  /** Deletes a topic; UNKNOWN_TOPIC_OR_PARTITION if absent. */
  deleteTopic(name: string): Promise<void>;
  /**
   * Reads up to `maxMessages` messages from `offset` on, waiting up to
   * `maxWaitMs` when there are none yet. Every message returned has an
   * offset ≥ `offset` (a broker answers with whole batches; the
   * implementation drops what precedes `offset` before it applies
   * `maxMessages`, so a caller always makes progress).
   */
  fetch(
    topic: string,
    partition: number,
    offset: bigint,
    options: { maxMessages: number; maxWaitMs: number },
  ): Promise<{ messages: ConsumedMessage[]; highWatermark: bigint }>;
  /** The first offset still in the log and the high watermark. */
  listOffsets(topic: string, partition: number): Promise<{ earliest: bigint; latest: bigint }>;
  /**
   * A new member of consumer group `groupId` subscribed to `topics`; it joins
   * at its first poll and starts where the group committed, else at `from`.
   */
  joinGroup(
    options: { groupId: string; topics: string[]; from: StartFrom; isolation?: IsolationName },
  ): MessageSource;
  /** A reader of every partition of `topic` from `from`, without a group. */
  readTopic(
    topic: string,
    options: { from: StartFrom; isolation?: IsolationName },
  ): Promise<MessageSource>;
  /**
   * The offsets group `groupId` committed for partitions 0..partitions−1 of
   * `topic`, by partition; null where none is committed.
   */
  committedOffsets(groupId: string, topic: string, partitions: number): Promise<(bigint | null)[]>;
  /**
   * Commits `offsets` for `groupId` outside the group protocol (generation
   * −1): NON_EMPTY_GROUP while the group has members.
   */
  commitOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void>;
  /** Whether the cluster answers, and how many brokers it has. */
  health(): Promise<{ ok: boolean; brokers: number }>;
}
