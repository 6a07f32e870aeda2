/**
 * A broker's state: its cached cluster snapshot and the partition replicas
 * it hosts (leader or follower). Handlers (in `handlers/`) read and change
 * it; the server decodes and dispatches; the replica fetcher keeps follower
 * replicas current. Nothing here opens sockets or reads the clock directly.
 * @module
 */
import type { ClusterSnapshot, PartitionState, TopicState } from "@kafka-analog/lib/cluster";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type { PartitionLog } from "./log/partition_log.ts";
import type { LeaderEpochCache } from "./log/leader_epoch_cache.ts";
import { MemoryLog } from "./log/memory_log.ts";
import { PartitionWaiters } from "./partition_waiters.ts";
import { Replica } from "./replication/replica.ts";

/** Settings a broker runs with (from `config.yaml`'s `broker` section). */
export interface BrokerSettings {
  maxMessageBytes: number;
  fetchMaxWaitMs: number;
  /** A follower that has not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs?: number;
  /** Bytes/s this broker copies for partitions being moved onto it (0 = unthrottled). */
  reassignmentThrottleBytesPerSec?: number;
  /**
   * With no successful heartbeat for this long the broker stops taking
   * writes (another broker has probably been made leader). 0 disables.
   */
  sessionTimeoutMs?: number;
  /** Metadata requests that allow it create unknown topics (`topics.auto_create`). Default off. */
  autoCreateTopics?: boolean;
}

/** Options for {@linkcode Broker}. */
export interface BrokerOptions {
  id: number;
  settings: BrokerSettings;
  logger: Logger;
  now: () => number;
  /** Makes (disk: opens and recovers) the log of a partition this broker hosts. */
  makeLog?: (topic: string, partition: number, configs: Record<string, string>) => PartitionLog;
  /** Makes the leader epoch cache of a partition whose log was just made (disk: from its checkpoint). */
  makeEpochCache?: (topic: string, partition: number, log: PartitionLog) => LeaderEpochCache;
}

/** One hosted partition. */
export interface HostedPartition {
  topic: TopicState;
  state: PartitionState;
  log: PartitionLog;
  replica: Replica;
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
  /** Last time the coordinator answered a heartbeat (set by the coordinator link). */
  lastHeartbeatOkMs: number;
  #snapshot: ClusterSnapshot | null = null;
  #topics = new Map<string, TopicState>();
  #replicas = new Map<string, Replica>();
  #makeLog: NonNullable<BrokerOptions["makeLog"]>;
  #makeEpochCache: BrokerOptions["makeEpochCache"];
  #listeners: (() => void)[] = [];

  constructor(options: BrokerOptions) {
    this.id = options.id;
    this.settings = options.settings;
    this.logger = options.logger;
    this.now = options.now;
    this.lastHeartbeatOkMs = options.now();
    this.#makeLog = options.makeLog ?? (() => new MemoryLog());
    this.#makeEpochCache = options.makeEpochCache;
  }

  /** The newest snapshot from the coordinator, or null before registration. */
  get snapshot(): ClusterSnapshot | null {
    return this.#snapshot;
  }

  /** Version of the cached snapshot (−1 before the first). */
  get metadataVersion(): number {
    return this.#snapshot?.version ?? -1;
  }

  /** Every hosted replica. */
  replicas(): Replica[] {
    return [...this.#replicas.values()];
  }

  /** Calls `fn` after every applied snapshot (the replica fetcher re-plans). */
  onMetadata(fn: () => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Adopts a newer snapshot: opens replicas for partitions this broker now
   * hosts, hands leadership and ISR changes to them, and drops replicas of
   * deleted or moved partitions. Older snapshots are ignored unless `force`
   * (a new registration: a restarted coordinator may count versions from a
   * lower number).
   */
  applySnapshot(snapshot: ClusterSnapshot, options: { force?: boolean } = {}): void {
    if (!options.force && this.#snapshot && snapshot.version <= this.#snapshot.version) return;
    this.#snapshot = snapshot;
    this.#topics = new Map(snapshot.topics.map((t) => [t.name, t]));
    const hosted = new Set<string>();
    const now = this.now();
    for (const topic of snapshot.topics) {
      for (const p of topic.partitions) {
        if (!p.replicas.includes(this.id)) continue;
        const key = partitionKey(topic.name, p.partition);
        hosted.add(key);
        const replica = this.#replicas.get(key);
        if (replica) {
          const wasLeader = replica.isLeader;
          replica.update(p, now);
          if (wasLeader !== replica.isLeader) this.waiters.notify(key);
        } else {
          const replica = this.#openReplica(topic, p, now);
          if (replica) this.#replicas.set(key, replica);
        }
      }
    }
    for (const [key, replica] of [...this.#replicas]) {
      if (!hosted.has(key)) {
        replica.close(KaError.of("NOT_LEADER_OR_FOLLOWER", `${key} is no longer hosted here`));
        this.#replicas.delete(key);
        // Deleted or moved away: its data goes too (a disk log removes its directory).
        replica.delete();
        this.waiters.notify(key);
      }
    }
    this.logger.info("metadata updated", {
      version: snapshot.version,
      partitions: this.#replicas.size,
    });
    for (const fn of this.#listeners) fn();
  }

  /**
   * Opens a newly hosted partition's log and epoch cache (disk: recovers
   * them). A storage error is logged and the partition left unhosted —
   * requests get NOT_LEADER_OR_FOLLOWER — until the next snapshot retries.
   */
  #openReplica(topic: TopicState, p: PartitionState, now: number): Replica | null {
    let log: PartitionLog | null = null;
    try {
      log = this.#makeLog(topic.name, p.partition, topic.configs);
      const epochCache = this.#makeEpochCache?.(topic.name, p.partition, log);
      return new Replica(topic.name, p.partition, this.id, log, p, now, { epochCache });
    } catch (err) {
      if (!isKaError(err)) throw err;
      try {
        log?.close();
      } catch {
        // Already failing: the error below is the one worth reporting.
      }
      this.logger.error("cannot open partition log", {
        partition: `${topic.name}-${p.partition}`,
        reason: err.message,
      });
      return null;
    }
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

  /**
   * The partition for a write: as {@linkcode leaderPartition}, and refused
   * while this broker has lost touch with the coordinator for longer than
   * the session timeout (it has probably been replaced as leader).
   */
  writablePartition(topic: string, partition: number): HostedPartition {
    const hosted = this.leaderPartition(topic, partition);
    if (this.fenced()) {
      throw KaError.of(
        "NOT_LEADER_OR_FOLLOWER",
        `Broker ${this.id} has not reached the coordinator for ${
          this.now() - this.lastHeartbeatOkMs
        } ms; refusing writes to ${topic}-${partition}`,
      );
    }
    return hosted;
  }

  /**
   * True while this broker has had no successful coordinator heartbeat for
   * longer than the session timeout: it has fenced itself (refuses writes,
   * and Metadata stops naming it leader), since another broker has probably
   * been made leader of its partitions. Never true with the timeout at 0.
   */
  fenced(): boolean {
    const timeout = this.settings.sessionTimeoutMs ?? 0;
    return timeout > 0 && this.now() - this.lastHeartbeatOkMs > timeout;
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
    const replica = this.#replicas.get(partitionKey(topic, partition));
    if (!replica) {
      throw KaError.of(
        "NOT_LEADER_OR_FOLLOWER",
        `Broker ${this.id} does not host ${topic}-${partition} (replicas ${
          state.replicas.join(",")
        })`,
      );
    }
    return { topic: t, state: replica.state, log: replica.log, replica };
  }

  /** Largest batch a producer may send to `topic`. */
  maxMessageBytes(topic: TopicState): number {
    const configured = topic.configs["max.message.bytes"];
    return configured ? Number(configured) : this.settings.maxMessageBytes;
  }

  /** Offsets below this are committed: on every in-sync replica. */
  highWatermark(hosted: HostedPartition): bigint {
    return hosted.replica.highWatermark;
  }

  /** ISR proposals (partition → wanted ISR) the leader should send now. */
  isrProposals(): { replica: Replica; isr: number[] }[] {
    const lagMaxMs = this.settings.replicaLagTimeMaxMs ?? 10_000;
    const now = this.now();
    const out: { replica: Replica; isr: number[] }[] = [];
    for (const replica of this.#replicas.values()) {
      const isr = replica.proposedIsr(now, lagMaxMs);
      if (isr) out.push({ replica, isr });
    }
    return out;
  }
}
