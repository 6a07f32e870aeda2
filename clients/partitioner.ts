/**
 * Choosing a partition for a message. Keyed messages use Kafka's default
 * partitioner — murmur2 of the key bytes, made positive, modulo the partition
 * count — so the same key lands on the same partition across processes,
 * restarts and even Kafka's own clients. Messages without a key go
 * round-robin.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";

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
  const counters = new Map<string, number>();
  return ({ topic, key, partitionCount }) => {
    if (key !== null) return keyPartition(key, partitionCount);
    const next = counters.get(topic) ?? 0;
    counters.set(topic, (next + 1) % 0x40000000);
    return next % partitionCount;
  };
}

/** Checks a chosen partition, naming the topic and the valid range. */
export function checkPartition(topic: string, partition: number, partitionCount: number): number {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw KaError.of(
      "UNKNOWN_TOPIC_OR_PARTITION",
      `Invalid partition ${partition} for topic '${topic}': it has partitions 0..${
        partitionCount - 1
      }`,
    );
  }
  return partition;
}
