/**
 * Choosing a partition for a message. In order of precedence:
 *
 * 1. an explicit `partition` on the message;
 * 2. a custom {@linkcode PartitionSelector} given to the producer:
 *    `(message, partitionCount, metadata) => partition`, called with the
 *    message as the application gave it (before serialization);
 * 3. the producer's {@linkcode Partitioner} over the serialized key, by
 *    default {@linkcode defaultPartitioner}: keyed messages use Kafka's
 *    default partitioner — murmur2 of the key bytes (seed 0x9747b28c, see
 *    {@linkcode murmur2}), made positive with `& 0x7fffffff`, modulo the
 *    partition count — so the same key lands on the same partition across
 *    processes, restarts and even Kafka's own clients; messages without a key
 *    go round-robin. {@linkcode roundRobinPartitioner} and
 *    {@linkcode keyHashPartitioner} are the two halves on their own.
 *
 * Any choice outside 0..partitionCount−1 (or not an integer) is refused with
 * a KaError naming the topic, the value and the valid range.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { ProducerMessage, TopicDescription } from "./types.ts";

/** What a partitioner sees. */
export interface PartitionerInput {
  topic: string;
  key: Uint8Array | null;
  partitionCount: number;
}

/** Picks a partition in 0..partitionCount−1. */
export type Partitioner = (input: PartitionerInput) => number;

/**
 * Kafka's murmur2 (seed 0x9747b28c), as in `org.apache.kafka.common.utils.Utils.murmur2`,
 * returning a signed 32-bit integer.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) {
    h ^= data[whole];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives `key`. */
export function keyPartition(key: Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

/** Round-robin for keyless messages and murmur2 for keyed ones; one counter per topic. */
export function defaultPartitioner(): Partitioner {
  const roundRobin = roundRobinPartitioner();
  return (input) =>
    input.key !== null ? keyPartition(input.key, input.partitionCount) : roundRobin(input);
}

/**
 * A caller's own partition choice: gets the message as given to `send`
 * (before serialization), the topic's partition count and its metadata.
 */
export type PartitionSelector<K = unknown, V = unknown> = (
  message: ProducerMessage<K, V>,
  partitionCount: number,
  metadata: TopicDescription,
) => number;

/** Every message to the next partition in turn, keys ignored; one counter per topic. */
export function roundRobinPartitioner(): Partitioner {
  const counters = new Map<string, number>();
  return ({ topic, partitionCount }) => {
    const next = counters.get(topic) ?? 0;
    counters.set(topic, (next + 1) % 0x40000000);
    return next % partitionCount;
  };
}

/** murmur2 of the key; a message without a key is refused (INVALID_REQUEST). */
export function keyHashPartitioner(): Partitioner {
  return ({ topic, key, partitionCount }) => {
    if (key === null) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot choose a partition of topic '${topic}' by key hash: the message has no key`,
      );
    }
    return keyPartition(key, partitionCount);
  };
}

/**
 * Checks a chosen partition, naming the topic and the valid range. `source`
 * says who chose it ("Partition" for an explicit one, "Partition selector
 * returned", ...). An explicit partition beyond the count may be a partition
 * our metadata does not know yet, so it is UNKNOWN_TOPIC_OR_PARTITION; a
 * partitioner's bad answer is a programming error, INVALID_PARTITIONS.
 */
export function checkPartition(
  topic: string,
  partition: number,
  partitionCount: number,
  source: "explicit" | "selector" | "partitioner" = "explicit",
): number {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    const range = `it has partitions 0..${partitionCount - 1}`;
    if (source === "explicit") {
      throw KaError.of(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `Invalid partition ${partition} for topic '${topic}': ${range}`,
      );
    }
    throw KaError.of(
      "INVALID_PARTITIONS",
      `The ${source === "selector" ? "partition selector" : "partitioner"} chose partition ${
        String(partition)
      } for topic '${topic}', which is invalid: ${range}`,
    );
  }
  return partition;
}
