/**
 * The coordinator's cluster metadata: topics, their partitions' placement,
 * leaders and epochs, and the metadata version. It is the single writer:
 * every change goes to the journal before it is applied and acknowledged, so
 * a restarted coordinator replays the journal and forgets nothing.
 * @module
 */
import type {
  BrokerEndpoint,
  ClusterSnapshot,
  PartitionState,
  TopicState,
} from "@kafka-analog/lib/cluster";
import { KaError } from "@kafka-analog/lib/errors";
import { validateTopicName } from "@kafka-analog/lib/cluster";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import { placeTopic } from "./placement.ts";
import type { ProducerIdEvent } from "../producer_ids.ts";
import type { SchemaRegisteredEvent } from "../schema_registry.ts";
import type { TxnStateEvent } from "../txn/transaction_coordinator.ts";

/** A group's committed offset for one partition. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
  commitTimestampMs: number;
}

/** Events other owners keep in the same journal (producer ids, schemas); the store only carries them. */
export type ForeignEvent = ProducerIdEvent | SchemaRegisteredEvent | TxnStateEvent;

/** One durable change to the metadata. */
export type MetadataEvent =
  | ForeignEvent
  | { type: "topic_created"; topic: TopicState }
  | { type: "topic_deleted"; name: string }
  | { type: "topic_configs_changed"; name: string; configs: Record<string, string> }
  | {
    type: "offsets_committed";
    group: string;
    /** Offsets as decimal strings: JSON has no bigint. */
    offsets: {
      topic: string;
      partition: number;
      offset: string;
      metadata: string | null;
      commitTimestampMs: number;
    }[];
  }
  | { type: "group_deleted"; group: string }
  | ({ type: "partition_changed"; topic: string } & PartitionState)
  | { type: "partitions_added"; topic: string; partitions: PartitionState[] }
  | { type: "broker_decommissioned"; brokerId: number; decommissioned: boolean };

/** Where metadata events are made durable; the file-backed one lives in `journal.ts`. */
export interface MetadataJournal {
  /** Every event written so far, oldest first. */
  load(): MetadataEvent[];
  /** Makes `event` durable before returning. */
  append(event: MetadataEvent): void;
  /** Events appended since the last compaction (journals that can compact). */
  readonly appendedSinceCompaction?: number;
  /** Atomically replaces the journal with a snapshot of the state as events. */
  compact?(events: MetadataEvent[]): void;
}

/** A journal that keeps events in memory only (tests). */
export class MemoryJournal implements MetadataJournal {
  readonly events: MetadataEvent[] = [];
  load(): MetadataEvent[] {
    return [...this.events];
  }
  append(event: MetadataEvent): void {
    this.events.push(structuredClone(event));
  }
}

/** Topic configs a user may set, with a check for each value. */
const TOPIC_CONFIGS: Record<string, (v: string) => boolean> = {
  "retention.ms": (v) => /^-?\d+$/.test(v) && Number(v) >= -1,
  "retention.bytes": (v) => /^-?\d+$/.test(v) && Number(v) >= -1,
  "max.message.bytes": (v) => /^\d+$/.test(v) && Number(v) > 0,
  "segment.bytes": (v) => /^\d+$/.test(v) && Number(v) >= 1024,
  "cleanup.policy": (v) => v === "delete" || v === "compact",
  "min.insync.replicas": (v) => /^\d+$/.test(v) && Number(v) >= 1,
  "unclean.leader.election.enable": (v) => v === "true" || v === "false",
  "segment.ms": (v) => /^\d+$/.test(v) && Number(v) >= 1,
  "flush.messages": (v) => /^\d+$/.test(v) && Number(v) >= 1,
  "flush.ms": (v) => /^\d+$/.test(v) && Number(v) >= 1,
};

/** True when `key` is a topic config a user may set (console `topic alter`, AlterConfigs). */
export function isTopicConfigKey(key: string): boolean {
  return Object.hasOwn(TOPIC_CONFIGS, key);
}

/** Options for creating a topic. */
export interface CreateTopicRequest {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Topics and placement, versioned; changes are journaled first. */
export class MetadataStore {
  readonly clusterId: string;
  #topics = new Map<string, TopicState>();
  #foreign: ForeignEvent[] = [];
  #decommissioned = new Set<number>();
  #offsets = new Map<string, Map<string, CommittedOffset>>();
  #version = 0;
  #journal: MetadataJournal;

  constructor(journal: MetadataJournal, options: { clusterId?: string } = {}) {
    this.clusterId = options.clusterId ?? "kafka-analog";
    this.#journal = journal;
    for (const event of journal.load()) this.#apply(event);
  }

  /** Increases on every change, including broker liveness changes. */
  get version(): number {
    return this.#version;
  }

  /** Records a change that is not journaled (broker liveness), so brokers refresh. */
  bump(): void {
    this.#version++;
  }

  topic(name: string): TopicState {
    const topic = this.#topics.get(name);
    if (!topic) throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`);
    return topic;
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  topics(): TopicState[] {
    return [...this.#topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Validates, places and journals a new topic. */
  createTopic(
    request: CreateTopicRequest,
    brokerIds: readonly number[],
    options: { validateOnly?: boolean } = {},
  ): TopicState {
    validateTopicName(request.name);
    if (this.#topics.has(request.name)) {
      throw KaError.of("TOPIC_ALREADY_EXISTS", `Topic '${request.name}' already exists`);
    }
    if (
      !Number.isInteger(request.partitions) || request.partitions < 1 ||
      request.partitions > PARTITIONS_MAX
    ) {
      throw KaError.of(
        "INVALID_PARTITIONS",
        `Invalid partitions ${request.partitions} for topic '${request.name}': must be 1..${PARTITIONS_MAX}`,
      );
    }
    if (
      !Number.isInteger(request.replicationFactor) || request.replicationFactor < 1 ||
      request.replicationFactor > brokerIds.length
    ) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Invalid replication factor ${request.replicationFactor} for topic '${request.name}': must be 1..${brokerIds.length} (brokers in the cluster)`,
      );
    }
    for (const [key, value] of Object.entries(request.configs)) checkTopicConfig(key, value);
    const placement = placeTopic(
      request.name,
      request.partitions,
      brokerIds,
      request.replicationFactor,
      {
        leaderLoad: this.leaderCounts(),
      },
    );
    const topic: TopicState = {
      name: request.name,
      configs: { ...request.configs },
      partitions: placement.map(({ partition, replicas }) => ({
        partition,
        leader: replicas[0],
        leaderEpoch: 0,
        replicas,
        isr: [...replicas],
      })),
    };
    if (!options.validateOnly) this.#commit({ type: "topic_created", topic });
    return topic;
  }

  /**
   * The current state as the fewest events that rebuild it (a snapshot for
   * journal compaction): one event per topic, per group's offsets, per
   * decommissioned broker, and the newest foreign event per key.
   */
  snapshotEvents(): MetadataEvent[] {
    const out: MetadataEvent[] = [];
    for (const topic of this.topics()) {
      out.push({ type: "topic_created", topic: structuredClone(topic) });
    }
    for (const [group, offsets] of this.committedOffsets()) {
      out.push({
        type: "offsets_committed",
        group,
        offsets: offsets.map((o) => ({ ...o, offset: o.offset.toString() })),
      });
    }
    for (const brokerId of this.#decommissioned) {
      out.push({ type: "broker_decommissioned", brokerId, decommissioned: true });
    }
    // Foreign events: the newest per key (producer-id blocks: only the highest matters).
    const latest = new Map<string, ForeignEvent>();
    for (const e of this.#foreign) {
      const key = e.type === "producer_id_block"
        ? "block"
        : e.type === "transactional_producer" || e.type === "txn_state"
        ? `${e.type}/${e.transactionalId}`
        : `${e.type}/${e.subject}/${e.version}`;
      latest.set(key, e);
    }
    out.push(...latest.values());
    return out;
  }

  /**
   * Compacts the journal into a snapshot once more than `threshold` events
   * were appended since the last one, so the journal (and restart time) stay
   * bounded however many offset commits go through. Returns true if it did.
   */
  maybeCompact(threshold = 10_000): boolean {
    const journal = this.#journal;
    if (!journal.compact || (journal.appendedSinceCompaction ?? 0) <= threshold) return false;
    journal.compact(this.snapshotEvents());
    return true;
  }

  /** Foreign events also journaled after load, so a snapshot includes them. */
  #rememberForeign(event: ForeignEvent): void {
    this.#foreign.push(event);
  }

  /** The foreign events replayed from the journal, oldest first. */
  foreignEvents(): ForeignEvent[] {
    return [...this.#foreign];
  }

  /** Makes a foreign event durable (it is not applied here). */
  journalForeign(event: ForeignEvent): void {
    this.#journal.append(event);
    this.#rememberForeign(event);
  }

  /** Journals a group's committed offsets (before the commit is acknowledged). */
  commitOffsets(
    group: string,
    offsets: CommittedOffset[],
  ): void {
    this.#commit({
      type: "offsets_committed",
      group,
      offsets: offsets.map((o) => ({ ...o, offset: o.offset.toString() })),
    }, { bumpVersion: false });
  }

  /** Journals that group `group` was deleted: its committed offsets are gone for good. */
  deleteGroupOffsets(group: string): void {
    this.#commit({ type: "group_deleted", group }, { bumpVersion: false });
  }

  /** Every group's committed offsets, as replayed from the journal. */
  committedOffsets(): Map<
    string,
    CommittedOffset[]
  > {
    const out = new Map<
      string,
      CommittedOffset[]
    >();
    for (const [group, map] of this.#offsets) out.set(group, [...map.values()]);
    return out;
  }

  /** Changes a topic's configs (an empty value removes the key); validated like at creation. */
  alterTopicConfigs(name: string, changes: Record<string, string>): TopicState {
    const topic = this.topic(name);
    const configs = { ...topic.configs };
    for (const [key, value] of Object.entries(changes)) {
      if (value === "") {
        delete configs[key];
        continue;
      }
      checkTopicConfig(key, value);
      configs[key] = value;
    }
    this.#commit({ type: "topic_configs_changed", name, configs });
    return this.topic(name);
  }

  /**
   * Replaces topic `name`'s whole set of configs with `configs` (Kafka's
   * AlterConfigs: a key not listed goes back to its default). Every key and
   * value is checked first (INVALID_CONFIG), so nothing changes on an error;
   * with `validateOnly` nothing changes at all.
   */
  replaceTopicConfigs(
    name: string,
    configs: Record<string, string>,
    options: { validateOnly?: boolean } = {},
  ): TopicState {
    this.topic(name);
    for (const [key, value] of Object.entries(configs)) checkTopicConfig(key, value);
    if (!options.validateOnly) {
      this.#commit({ type: "topic_configs_changed", name, configs: { ...configs } });
    }
    return this.topic(name);
  }

  /** Journals a partition's new leader, epoch and ISR. */
  changePartition(topic: string, state: PartitionState): void {
    const current = this.topic(topic).partitions[state.partition];
    if (!current) {
      throw KaError.of(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `Unknown partition ${topic}-${state.partition}`,
      );
    }
    this.#commit({
      type: "partition_changed",
      topic,
      partition: state.partition,
      leader: state.leader,
      leaderEpoch: state.leaderEpoch,
      replicas: [...state.replicas],
      isr: [...state.isr],
      ...(state.targetReplicas ? { targetReplicas: [...state.targetReplicas] } : {}),
    });
  }

  /**
   * Checks that topic `name` can grow to `count` partitions placed on
   * `brokerIds`, changing nothing: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS
   * (not an integer above the current count and at most PARTITIONS_MAX) or
   * INVALID_REPLICATION_FACTOR (fewer brokers than the topic's replicas).
   * Returns the topic's replication factor.
   */
  checkAddPartitions(name: string, count: number, brokerIds: readonly number[]): number {
    const topic = this.topic(name);
    const current = topic.partitions.length;
    if (!Number.isInteger(count) || count <= current || count > PARTITIONS_MAX) {
      throw KaError.of(
        "INVALID_PARTITIONS",
        `Topic '${name}' has ${current} partitions: the new count must be ${
          current + 1
        }..${PARTITIONS_MAX} (partitions are never removed)`,
      );
    }
    const rf = topic.partitions[0]?.replicas.length ?? 1;
    if (rf > brokerIds.length) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Topic '${name}' has ${rf} replicas per partition but only ${brokerIds.length} broker(s) can take them`,
      );
    }
    return rf;
  }

  /** Adds partitions to a topic (never removes), placed on `brokerIds`; see {@linkcode checkAddPartitions}. */
  addPartitions(name: string, count: number, brokerIds: readonly number[]): TopicState {
    const rf = this.checkAddPartitions(name, count, brokerIds);
    const current = this.topic(name).partitions.length;
    // Place the whole topic again and keep the new partitions' sets: the ring is stable, so old ones keep theirs.
    const placement = placeTopic(name, count, brokerIds, rf, { leaderLoad: this.leaderCounts() });
    const partitions = placement.slice(current).map(({ partition, replicas }) => ({
      partition,
      leader: replicas[0],
      leaderEpoch: 0,
      replicas,
      isr: [...replicas],
    }));
    this.#commit({ type: "partitions_added", topic: name, partitions });
    return this.topic(name);
  }

  /** Brokers left out of placement (draining or drained). */
  decommissioned(): Set<number> {
    return new Set(this.#decommissioned);
  }

  /** Marks a broker as out of (or back in) placement; journaled. */
  setDecommissioned(brokerId: number, decommissioned: boolean): void {
    this.#commit({ type: "broker_decommissioned", brokerId, decommissioned });
  }

  deleteTopic(name: string): void {
    this.topic(name);
    this.#commit({ type: "topic_deleted", name });
  }

  /** Partitions led by each broker, across all topics. */
  leaderCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const topic of this.#topics.values()) {
      for (const p of topic.partitions) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    }
    return counts;
  }

  /** The snapshot brokers and clients see; `brokers` are the live ones. */
  snapshot(brokers: BrokerEndpoint[], controllerId: number): ClusterSnapshot {
    return {
      clusterId: this.clusterId,
      version: this.#version,
      controllerId,
      brokers,
      topics: this.topics(),
    };
  }

  #commit(event: MetadataEvent, options: { bumpVersion?: boolean } = {}): void {
    this.#journal.append(event);
    this.#apply(event, options.bumpVersion ?? true);
  }

  #apply(event: MetadataEvent, bumpVersion = true): void {
    switch (event.type) {
      case "producer_id_block":
      case "transactional_producer":
      case "schema_registered":
      case "txn_state":
        this.#foreign.push(event);
        return;
      case "offsets_committed": {
        // Offsets are not cluster metadata brokers need: no version bump, no push.
        let map = this.#offsets.get(event.group);
        if (!map) this.#offsets.set(event.group, map = new Map());
        for (const o of event.offsets) {
          map.set(`${o.topic}/${o.partition}`, { ...o, offset: BigInt(o.offset) });
        }
        return;
      }
      case "group_deleted":
        // Like offsets, not cluster metadata: no version bump.
        this.#offsets.delete(event.group);
        return;
      case "topic_created":
        this.#topics.set(event.topic.name, structuredClone(event.topic));
        break;
      case "topic_deleted":
        this.#topics.delete(event.name);
        break;
      case "topic_configs_changed": {
        const topic = this.#topics.get(event.name);
        if (topic) topic.configs = { ...event.configs };
        break;
      }
      case "partition_changed": {
        const p = this.#topics.get(event.topic)?.partitions[event.partition];
        if (p) {
          p.leader = event.leader;
          p.leaderEpoch = event.leaderEpoch;
          p.replicas = [...event.replicas];
          p.isr = [...event.isr];
          if (event.targetReplicas) p.targetReplicas = [...event.targetReplicas];
          else delete p.targetReplicas;
        }
        break;
      }
      case "partitions_added": {
        const topic = this.#topics.get(event.topic);
        if (topic) topic.partitions.push(...structuredClone(event.partitions));
        break;
      }
      case "broker_decommissioned":
        if (event.decommissioned) this.#decommissioned.add(event.brokerId);
        else this.#decommissioned.delete(event.brokerId);
        break;
    }
    if (bumpVersion) this.#version++;
  }
}

/** Throws INVALID_CONFIG for an unknown topic config key or a bad value. */
function checkTopicConfig(key: string, value: string): void {
  // Own keys only: "constructor" or "toString" must not find Object.prototype's.
  const check = Object.hasOwn(TOPIC_CONFIGS, key) ? TOPIC_CONFIGS[key] : undefined;
  if (!check) {
    throw KaError.of(
      "INVALID_CONFIG",
      `Unknown topic config '${key}': known are ${Object.keys(TOPIC_CONFIGS).join(", ")}`,
    );
  }
  if (!check(value)) {
    throw KaError.of("INVALID_CONFIG", `Invalid value '${value}' for topic config '${key}'`);
  }
}
