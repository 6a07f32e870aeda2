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

/** The cluster as the writer and reader gateways use it. */
export interface GatewayCluster {
  /**
   * Avro wire bytes (magic 0, schema id, body) of `value` for `topic`: with
   * a `schema` it is registered under `subject` (default `<topic>-value`)
   * first. INVALID_SCHEMA, SCHEMA_NOT_FOUND or SERIALIZATION_ERROR otherwise.
   */
  encodeAvro(topic: string, value: unknown, writer: AvroWriterSchema): Promise<Uint8Array>;
  /** Decodes Avro wire bytes with the writer's schema from the registry. */
  decodeAvro(bytes: Uint8Array): Promise<unknown>;
  /** Produces one message; with `acks: 0` the offset is -1 (unknown). */
  produce(
    topic: string,
    message: ProducerMessage,
    options: { acks: Acks },
  ): Promise<RecordMetadata>;
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
  /** Whether the cluster answers, and how many brokers it has. */
  health(): Promise<{ ok: boolean; brokers: number }>;
}
