/**
 * A broker's state: its cached cluster snapshot and the partition logs it
 * hosts. Handlers (in `handlers/`) read and change it; the server decodes and
 * dispatches. Nothing here opens sockets or reads the clock directly.
 * @module
 */
import type { ClusterSnapshot, PartitionState, TopicState } from "@kafka-analog/lib/cluster";
import { KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type { PartitionLog } from "./log/partition_log.ts";
import { MemoryLog } from "./log/memory_log.ts";
import { PartitionWaiters } from "./partition_waiters.ts";

/** Settings a broker runs with (from `config.yaml`'s `broker` section). */
export interface BrokerSettings {
  maxMessageBytes: number;
  fetchMaxWaitMs: number;
}

/** Options for {@linkcode Broker}. */
export interface BrokerOptions {
  id: number;
  settings: BrokerSettings;
  logger: Logger;
  now: () => number;
  /** Makes the log for a partition this broker hosts. */
  makeLog?: (topic: string, partition: number) => PartitionLog;
}

/** One hosted partition. */
export interface HostedPartition {
  topic: TopicState;
  state: PartitionState;
  log: PartitionLog;
}

/** Key of a partition in maps and waiters. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** The data plane of one broker process. */
export class Broker {
  readonly id: number;
  readonly settings: BrokerSettings;
  readonly logger: Logger;
  readonly now: () => number;
  readonly waiters = new PartitionWaiters();
  #snapshot: ClusterSnapshot | null = null;
  #topics = new Map<string, TopicState>();
  #logs = new Map<string, PartitionLog>();
  #makeLog: (topic: string, partition: number) => PartitionLog;

  constructor(options: BrokerOptions) {
    this.id = options.id;
    this.settings = options.settings;
    this.logger = options.logger;
    this.now = options.now;
    this.#makeLog = options.makeLog ?? (() => new MemoryLog());
  }

  /** The newest snapshot from the coordinator, or null before registration. */
  get snapshot(): ClusterSnapshot | null {
    return this.#snapshot;
  }

  /** Version of the cached snapshot (−1 before the first). */
  get metadataVersion(): number {
    return this.#snapshot?.version ?? -1;
  }

  /**
   * Adopts a newer snapshot: opens logs for partitions this broker now hosts
   * and drops those of deleted topics. Older snapshots are ignored unless
   * `force` (a new registration: a restarted coordinator may count versions
   * from a lower number).
   */
  applySnapshot(snapshot: ClusterSnapshot, options: { force?: boolean } = {}): void {
    if (!options.force && this.#snapshot && snapshot.version <= this.#snapshot.version) return;
    this.#snapshot = snapshot;
    this.#topics = new Map(snapshot.topics.map((t) => [t.name, t]));
    const hosted = new Set<string>();
    for (const topic of snapshot.topics) {
      for (const p of topic.partitions) {
        if (!p.replicas.includes(this.id)) continue;
        const key = partitionKey(topic.name, p.partition);
        hosted.add(key);
        if (!this.#logs.has(key)) this.#logs.set(key, this.#makeLog(topic.name, p.partition));
      }
    }
    for (const key of [...this.#logs.keys()]) {
      if (!hosted.has(key)) {
        this.#logs.delete(key);
        this.waiters.notify(key);
      }
    }
    this.logger.info("metadata updated", {
      version: snapshot.version,
      partitions: this.#logs.size,
    });
  }

  /** The partition for a request that must be served by its leader. */
  leaderPartition(topic: string, partition: number): HostedPartition {
    const hosted = this.hostedPartition(topic, partition);
    if (hosted.state.leader !== this.id) {
      throw KaError.of(
        "NOT_LEADER_OR_FOLLOWER",
        `Broker ${this.id} is not the leader of ${topic}-${partition} (leader is ${hosted.state.leader})`,
      );
    }
    return hosted;
  }

  /** A partition this broker hosts as leader or follower. */
  hostedPartition(topic: string, partition: number): HostedPartition {
    const t = this.#topics.get(topic);
    const state = t?.partitions[partition];
    if (!t || !state) {
      throw KaError.of(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `Unknown topic or partition ${topic}-${partition}`,
      );
    }
    const log = this.#logs.get(partitionKey(topic, partition));
    if (!log) {
      throw KaError.of(
        "NOT_LEADER_OR_FOLLOWER",
        `Broker ${this.id} does not host ${topic}-${partition} (replicas ${
          state.replicas.join(",")
        })`,
      );
    }
    return { topic: t, state, log };
  }

  /** Largest batch a producer may send to `topic`. */
  maxMessageBytes(topic: TopicState): number {
    const configured = topic.configs["max.message.bytes"];
    return configured ? Number(configured) : this.settings.maxMessageBytes;
  }

  /** The high watermark: until replication lands (issue #4), every appended record is committed. */
  highWatermark(hosted: HostedPartition): bigint {
    return hosted.log.logEndOffset;
  }
}
