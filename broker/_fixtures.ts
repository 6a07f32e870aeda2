/**
 * Test fixtures for the broker's unit tests: an in-process {@linkcode Broker}
 * with a quiet logger, cluster snapshots, and request builders. Used only by
 * `*_test.ts` files.
 * @module
 */
import type { ClusterSnapshot, TopicState } from "@kafka-analog/lib/cluster";
import { createLogger } from "@kafka-analog/lib/log";
import {
  encodeRecordBatch,
  type FetchRequest,
  type ProduceRequest,
  type RecordInput,
} from "@kafka-analog/lib/protocol";
import { Broker, type BrokerOptions } from "./broker.ts";

/** Timestamp of the records the fixtures build. */
export const FIXTURE_TS = 1_700_000_000_000;

const ENCODER = new TextEncoder();

/**
 * The fixture cluster, seen from broker 0: topic "t" with partitions 0 and 2
 * led by broker 0 and 1 led by broker 1; topic "small" (max.message.bytes
 * 200) led by 0; topic "elsewhere" hosted only on broker 1. Every partition
 * broker 0 leads has the ISR [0] (follower 1 has not caught up), so its high
 * watermark is its log end as soon as a batch is appended; replication tests
 * use {@linkcode replicatedTopic} instead.
 */
export function fixtureTopics(): TopicState[] {
  return [
    {
      name: "t",
      configs: {},
      partitions: [
        { partition: 0, leader: 0, leaderEpoch: 4, replicas: [0, 1], isr: [0] },
        { partition: 1, leader: 1, leaderEpoch: 2, replicas: [1, 0], isr: [1, 0] },
        { partition: 2, leader: 0, leaderEpoch: 0, replicas: [0, 1], isr: [0] },
      ],
    },
    {
      name: "small",
      configs: { "max.message.bytes": "200" },
      partitions: [{ partition: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] }],
    },
    {
      name: "elsewhere",
      configs: {},
      partitions: [{ partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] }],
    },
  ];
}

/** A snapshot at `version` with brokers 0 and 1 live. */
export function fixtureSnapshot(
  version: number,
  topics: TopicState[] = fixtureTopics(),
): ClusterSnapshot {
  return {
    clusterId: "test-cluster",
    version,
    controllerId: 0,
    brokers: [
      { id: 0, host: "127.0.0.1", port: 19092 },
      { id: 1, host: "127.0.0.1", port: 19093 },
    ],
    topics,
  };
}

/** Broker 0 with the fixture snapshot (version 1) applied. */
export function fixtureBroker(options: Partial<BrokerOptions> = {}): Broker {
  const broker = new Broker({
    id: 0,
    settings: { maxMessageBytes: 1024 * 1024, fetchMaxWaitMs: 500 },
    logger: createLogger("broker-test", { sink: () => {} }),
    now: () => performance.now(),
    ...options,
  });
  broker.applySnapshot(fixtureSnapshot(1));
  return broker;
}

/**
 * A replicated topic (default "r"): one partition on brokers 0 and 1, led by
 * 0 at leader epoch 4, with the ISR given (both by default).
 */
export function replicatedTopic(
  options: { name?: string; isr?: number[]; configs?: Record<string, string> } = {},
): TopicState {
  return {
    name: options.name ?? "r",
    configs: options.configs ?? {},
    partitions: [{
      partition: 0,
      leader: 0,
      leaderEpoch: 4,
      replicas: [0, 1],
      isr: options.isr ?? [0, 1],
    }],
  };
}

/**
 * Broker 0 with the fixture topics plus {@linkcode replicatedTopic} "r"
 * (snapshot version 2).
 */
export function replicatedBroker(
  options: Partial<BrokerOptions> & { isr?: number[]; configs?: Record<string, string> } = {},
): Broker {
  const { isr, configs, ...brokerOptions } = options;
  const broker = fixtureBroker(brokerOptions);
  broker.applySnapshot(fixtureSnapshot(2, [...fixtureTopics(), replicatedTopic({ isr, configs })]));
  return broker;
}

/** A clock tests move by hand. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

/** A {@linkcode ManualClock} starting at `startMs`. */
export function manualClock(startMs = 1_000_000): ManualClock {
  let at = startMs;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

/** A Fetch request from follower `replicaId` (reads up to the log end, updates the leader's view). */
export function followerFetchRequest(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  replicaId: number,
  options: { currentLeaderEpoch?: number; maxWaitMs?: number } = {},
): FetchRequest {
  const request = fetchRequest(topic, partition, fetchOffset, options);
  return { ...request, replicaId };
}

/** One batch of `count` records valued `${label}-${i}`. */
export function fixtureBatch(label: string, count = 1, records?: RecordInput[]): Uint8Array {
  const inputs = records ?? Array.from({ length: count }, (_, i) => ({
    key: ENCODER.encode(`k${i}`),
    value: ENCODER.encode(`${label}-${i}`),
  }));
  return encodeRecordBatch(inputs, { timestamp: FIXTURE_TS });
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A Produce request for one partition. */
export function produceRequest(
  topic: string,
  partition: number,
  records: Uint8Array | null,
  acks = -1,
): ProduceRequest {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

/** A Fetch request for one partition. */
export function fetchRequest(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  options: {
    maxWaitMs?: number;
    minBytes?: number;
    maxBytes?: number;
    partitionMaxBytes?: number;
    /** KIP-320 fencing; omitted means "unknown" (−1). */
    currentLeaderEpoch?: number;
  } = {},
): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    topics: [{
      topic,
      partitions: [{
        partition,
        ...(options.currentLeaderEpoch === undefined
          ? {}
          : { currentLeaderEpoch: options.currentLeaderEpoch }),
        fetchOffset,
        partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
      }],
    }],
  };
}

/** `p`'s value, or "pending" when it has not settled within `ms` (rejections pass through). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<"pending">((resolve) => {
        timer = setTimeout(() => resolve("pending"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
