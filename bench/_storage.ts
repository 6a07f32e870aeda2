/**
 * Table 9 of the benchmark (issue #7): producer throughput and sequential
 * send latency on disk storage, with the default flush policy (no forced
 * fsync) and with an fsync after every batch (topic config
 * `flush.messages=1`), beside the same runs on memory storage. The two
 * storages are two clusters that run side by side (one of them idle at any
 * moment), so the runs of every storage interleave and share the machine's
 * noise.
 * @module
 */
import type { Acks, Client } from "@kafka-analog/clients";
import {
  ackEveryPartition,
  produceLatencySamples,
  type ProduceRunResult,
  produceThroughput,
} from "./_scenarios.ts";
import { type LatencySummary, medianRun, type RepeatedThroughput, summarize } from "./_stats.ts";

/** A storage engine and the flush configs its topics are created with. */
export interface StoragePolicy {
  storage: "memory" | "disk";
  /** Short label for the report. */
  label: string;
  /** Topic configs of every topic of this policy. */
  topicConfigs: Record<string, string>;
}

/** The policies of table 9, in the order they are run and shown. */
export const STORAGE_POLICIES: readonly StoragePolicy[] = [
  { storage: "memory", label: "memory", topicConfigs: {} },
  { storage: "disk", label: "disk, default flush", topicConfigs: {} },
  { storage: "disk", label: "disk, flush.messages=1", topicConfigs: { "flush.messages": "1" } },
];

/** One value size of table 9 and how many messages each throughput run sends. */
export interface StorageSize {
  valueBytes: number;
  messages: number;
}

/** Conditions of table 9. */
export interface StorageTableOptions {
  /** A client of a memory-storage cluster and one of a disk-storage cluster. */
  clients: { memory: Client; disk: Client };
  sizes: readonly StorageSize[];
  /** Runs of each row, interleaved; the median msgs/s is reported, latency is pooled. */
  repeat: number;
  /** Sequential single-message sends per row and run. */
  latencySends: number;
  partitions: number;
  replicationFactor: number;
  batchBytes: number;
  lingerMs: number;
  chunkMessages: number;
  chunksInFlight: number;
  /** Any phase taking longer fails the run. */
  deadlineMs: number;
  progress: (line: string) => void;
}

/** One row of table 9: a value size, an acks setting and a storage policy. */
export interface StorageRow {
  valueBytes: number;
  acks: Acks;
  storage: "memory" | "disk";
  label: string;
  topicConfigs: Record<string, string>;
  throughput: RepeatedThroughput<ProduceRunResult>;
  /** Sequential single-message sends (lingerMs 0), pooled over the runs. */
  latency: LatencySummary;
  /** Untimed priming of each run's fresh topic (one acks=all message per partition). */
  primeMs: number[];
}

/** Table 9 with its conditions. */
export interface StorageSection {
  sizes: StorageSize[];
  repeat: number;
  latencySends: number;
  partitions: number;
  replicationFactor: number;
  batchBytes: number;
  lingerMs: number;
  chunkMessages: number;
  chunksInFlight: number;
  /** The cluster started for table 9 (the other one is the report's main cluster). */
  extraCluster: { storage: "memory" | "disk"; basePort: number; startupMs: number };
  /** Messages of each value size the extra cluster was warmed up with (untimed). */
  warmupMessages: number;
  rows: StorageRow[];
}

/**
 * Warms a fresh cluster up (untimed): `messages` messages of each value size
 * with acks=1 and with acks=all, then a few sequential sends, each to a fresh
 * topic that is deleted afterwards.
 */
export async function warmUpStorage(
  client: Client,
  options: Omit<StorageTableOptions, "clients" | "repeat"> & { messages: number },
): Promise<void> {
  for (const { valueBytes } of options.sizes) {
    for (const acks of [1, "all"] as const) {
      const topic = `bench-storage-warmup-${valueBytes}b-acks-${acks}`;
      await client.admin.createTopic({
        name: topic,
        partitions: options.partitions,
        replicationFactor: options.replicationFactor,
      });
      await ackEveryPartition(client, topic, options.partitions, options.deadlineMs);
      await produceThroughput(client, {
        topic,
        messages: options.messages,
        valueBytes,
        acks,
        batchBytes: options.batchBytes,
        lingerMs: options.lingerMs,
        chunkMessages: options.chunkMessages,
        chunksInFlight: options.chunksInFlight,
        deadlineMs: options.deadlineMs,
      });
      await produceLatencySamples(client, {
        topic,
        sends: Math.min(50, options.latencySends),
        valueBytes,
        acks,
        deadlineMs: options.deadlineMs,
      });
      await client.admin.deleteTopic(topic);
    }
  }
}

/**
 * Runs every row of table 9 `repeat` times, interleaved (each repeat goes
 * through every value size × acks × policy): a fresh topic with the policy's
 * configs, primed, then the chunked producer-throughput run, then
 * `latencySends` sequential single-message sends with the same acks and value
 * size; the topic is deleted afterwards (on disk: its directories removed).
 */
export async function measureStorageRows(options: StorageTableOptions): Promise<StorageRow[]> {
  const configs = options.sizes.flatMap((size) =>
    ([1, "all"] as const).flatMap((acks) =>
      STORAGE_POLICIES.map((policy) => ({ size, acks: acks as Acks, policy }))
    )
  );
  const runs = configs.map(() => ({
    throughput: [] as ProduceRunResult[],
    latencyMs: [] as number[],
    primeMs: [] as number[],
  }));
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    for (const [i, { size, acks, policy }] of configs.entries()) {
      const client = options.clients[policy.storage];
      const flush = policy.topicConfigs["flush.messages"] ? "-flush-1" : "";
      const topic =
        `bench-${policy.storage}${flush}-${size.valueBytes}b-acks-${acks}-run-${repeat}`;
      options.progress(
        `storage run ${repeat}/${options.repeat}: ${policy.label}: produce ${size.messages} × ` +
          `${size.valueBytes} B with acks=${acks}, then ${options.latencySends} sequential sends`,
      );
      await client.admin.createTopic({
        name: topic,
        partitions: options.partitions,
        replicationFactor: options.replicationFactor,
        configs: policy.topicConfigs,
      });
      runs[i].primeMs.push(
        await ackEveryPartition(client, topic, options.partitions, options.deadlineMs),
      );
      runs[i].throughput.push(
        await produceThroughput(client, {
          topic,
          messages: size.messages,
          valueBytes: size.valueBytes,
          acks,
          batchBytes: options.batchBytes,
          lingerMs: options.lingerMs,
          chunkMessages: options.chunkMessages,
          chunksInFlight: options.chunksInFlight,
          deadlineMs: options.deadlineMs,
        }),
      );
      const samples = await produceLatencySamples(client, {
        topic,
        sends: options.latencySends,
        valueBytes: size.valueBytes,
        acks,
        deadlineMs: options.deadlineMs,
      });
      for (const ms of samples) runs[i].latencyMs.push(ms);
      await client.admin.deleteTopic(topic);
    }
  }
  return configs.map(({ size, acks, policy }, i) => ({
    valueBytes: size.valueBytes,
    acks,
    storage: policy.storage,
    label: policy.label,
    topicConfigs: { ...policy.topicConfigs },
    throughput: medianRun(runs[i].throughput),
    latency: summarize(runs[i].latencyMs),
    primeMs: runs[i].primeMs,
  }));
}

/** The memory row with the same value size and acks as `row` (table 9's reference). */
export function memoryRowFor(rows: readonly StorageRow[], row: StorageRow): StorageRow | undefined {
  return rows.find((r) =>
    r.storage === "memory" && r.valueBytes === row.valueBytes && r.acks === row.acks
  );
}
