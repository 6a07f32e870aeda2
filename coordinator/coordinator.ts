/**
 * The control plane: cluster metadata, broker liveness (process, TCP check,
 * heartbeats), metadata propagation, and the operations behind the console.
 * Sockets, files and processes come in through options, so this class can
 * be tested without them.
 * @module
 */
import type { BrokerEndpoint, ClusterSnapshot } from "@kafka-analog/lib/cluster";
import {
  readAlterPartitionRequest,
  readHeartbeatRequest,
  readRegisterRequest,
} from "@kafka-analog/lib/cluster";
import { electLeader, withoutBroker } from "./metadata/leader_election.ts";
import { HashRing, placeTopic } from "./metadata/placement.ts";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import { KafkaConnection, messageOf } from "@kafka-analog/lib/net";
import { sleep, withTimeout } from "@kafka-analog/lib/async";
import {
  ApiKey,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  decodeConsumerProtocolAssignment,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  ERRORS,
} from "@kafka-analog/lib/protocol";
import type {
  BrokerListing,
  GroupDescription,
  GroupListing,
  ServiceState,
  ServiceStatus,
  TopicListing,
} from "@kafka-analog/lib/console";
import type { ConsoleBackend } from "./console/backend.ts";
import type { MetadataStore } from "./metadata/store.ts";
import { GroupCoordinator } from "./groups/group_coordinator.ts";
import { type ProducerIdEvent, ProducerIdManager } from "./producer_ids.ts";
import { type SchemaRegisteredEvent, SchemaRegistry } from "./schema_registry.ts";
import { TransactionCoordinator, type TxnStateEvent } from "./txn/transaction_coordinator.ts";
import type { ServiceProcess, Supervisor } from "./supervisor.ts";

/** Settings the coordinator runs with. */
export interface CoordinatorSettings {
  port: number;
  brokerSessionTimeoutMs: number;
  defaultPartitions: number;
  replicationFactor: number;
  /** Brokers the cluster is meant to have (ids 0..n−1). */
  brokerIds: number[];
  /** How long the first join of an empty group waits for more members. */
  groupInitialRebalanceDelayMs?: number;
  /** Broker storage: with memory, a restarted broker has lost its data. Default memory. */
  storage?: "memory" | "disk";
}

/** Options for {@linkcode Coordinator}. */
export interface CoordinatorOptions {
  settings: CoordinatorSettings;
  store: MetadataStore;
  logger: Logger;
  now?: () => number;
  supervisor?: Supervisor;
  /** Probes a TCP port; resolves true if something accepts. */
  tcpCheck?: (host: string, port: number) => Promise<boolean>;
  /** Connects to a broker for metadata pushes. */
  connect?: (address: string) => Promise<KafkaConnection>;
  /** Called by the console's `quit`. */
  onShutdown?: () => Promise<void>;
}

interface BrokerRecord {
  endpoint: BrokerEndpoint;
  incarnation: string;
  lastHeartbeatMs: number;
}

interface Health {
  tcpOk: boolean;
  alive: boolean;
}

/** Which supervised service the console's `producer`/`consumer` words mean. */
const GATEWAY_SERVICE = { producer: "producer", consumer: "consumer" } as const;

/** Coordinates the cluster. */
export class Coordinator implements ConsoleBackend {
  readonly store: MetadataStore;
  /** Consumer groups and committed offsets. */
  readonly groups: GroupCoordinator;
  /** Producer ids and epochs for idempotent (and transactional) producers. */
  readonly producerIds: ProducerIdManager;
  /** The Avro schema registry. */
  readonly schemaRegistry: SchemaRegistry;
  /** Transactions (exactly-once). */
  readonly transactions: TransactionCoordinator;
  #settings: CoordinatorSettings;
  #logger: Logger;
  #now: () => number;
  #supervisor: Supervisor | null;
  #tcpCheck: (host: string, port: number) => Promise<boolean>;
  #connect: (address: string) => Promise<KafkaConnection>;
  #onShutdown: () => Promise<void>;
  #brokers = new Map<number, BrokerRecord>();
  /** The last process incarnation each broker id registered with (kept across exits). */
  #incarnations = new Map<number, string>();
  #health = new Map<string, Health>();
  #liveBrokerIds: number[] = [];
  #pushConns = new Map<number, Promise<KafkaConnection>>();
  #startedAtMs: number;
  #closed = false;

  constructor(options: CoordinatorOptions) {
    this.store = options.store;
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#supervisor = options.supervisor ?? null;
    this.#tcpCheck = options.tcpCheck ?? (() => Promise.resolve(true));
    this.#connect = options.connect ??
      ((address) => KafkaConnection.open(address, { clientId: "coordinator" }));
    this.#onShutdown = options.onShutdown ?? (() => Promise.resolve());
    this.#startedAtMs = this.#now();
    this.groups = new GroupCoordinator({
      now: this.#now,
      newMemberId: (clientId) => `${clientId || "member"}-${crypto.randomUUID()}`,
      persistOffsets: (group, offsets) => this.store.commitOffsets(group, offsets),
      persistDeletion: (group) => this.store.deleteGroupOffsets(group),
      initialRebalanceDelayMs: options.settings.groupInitialRebalanceDelayMs ?? 300,
    });
    for (const [group, offsets] of this.store.committedOffsets()) {
      this.groups.loadOffsets(group, offsets);
    }
    const foreign = this.store.foreignEvents();
    this.producerIds = new ProducerIdManager({
      persist: (e) => this.store.journalForeign(e),
      events: foreign.filter((e): e is ProducerIdEvent =>
        e.type === "producer_id_block" || e.type === "transactional_producer"
      ),
    });
    this.schemaRegistry = new SchemaRegistry({
      persist: (e) => this.store.journalForeign(e),
      events: foreign.filter((e): e is SchemaRegisteredEvent => e.type === "schema_registered"),
    });
    this.transactions = new TransactionCoordinator({
      producerIds: this.producerIds,
      now: this.#now,
      persist: (e) => this.store.journalForeign(e),
      events: foreign.filter((e): e is TxnStateEvent => e.type === "txn_state"),
      writeMarkers: (txn) => this.#writeTxnMarkers(txn),
      applyOffsets: (offsets) => this.groups.commitTransactional(offsets),
      partitionExists: (topic, partition) =>
        this.store.hasTopic(topic) && this.store.topic(topic).partitions[partition] !== undefined,
    });
  }

  /**
   * Writes a transaction's COMMIT/ABORT markers: one WriteTxnMarkers request
   * to each partition leader. True when every partition answered without error.
   */
  async #writeTxnMarkers(txn: {
    producerId: bigint;
    producerEpoch: number;
    commit: boolean;
    partitions: { topic: string; partition: number }[];
  }): Promise<boolean> {
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const { topic, partition } of txn.partitions) {
      const p = this.store.hasTopic(topic)
        ? this.store.topic(topic).partitions[partition]
        : undefined;
      if (!p) continue; // the topic was deleted: nothing to mark
      if (p.leader < 0) return false;
      const topics = byLeader.get(p.leader) ?? new Map<string, number[]>();
      topics.set(topic, [...(topics.get(topic) ?? []), partition]);
      byLeader.set(p.leader, topics);
    }
    const results = await Promise.all([...byLeader].map(async ([leader, topics]) => {
      const endpoint = this.liveBrokers().find((b) => b.id === leader);
      if (!endpoint) return false;
      try {
        const conn = await this.#pushConn(endpoint, "markers");
        const response = await conn.request(ApiKey.WriteTxnMarkers, 0, {
          markers: [{
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            transactionResult: txn.commit,
            topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
            coordinatorEpoch: 0,
          }],
        }, { timeoutMs: 15_000 });
        return response.markers.every((m) =>
          m.topics.every((t) => t.partitions.every((p) => p.errorCode === 0))
        );
      } catch (err) {
        this.#logger.warn("could not write transaction markers", {
          broker: leader,
          reason: messageOf(err),
        });
        return false;
      }
    }));
    return results.every(Boolean);
  }

  // ---- liveness -------------------------------------------------------------

  /** Brokers that are registered, heartbeating and (if supervised) running. */
  liveBrokers(): BrokerEndpoint[] {
    return this.#liveBrokerIds.map((id) => this.#brokers.get(id)!.endpoint);
  }

  /** The snapshot brokers and clients are served. */
  snapshot(): ClusterSnapshot {
    const live = this.liveBrokers();
    return this.store.snapshot(live, live.length > 0 ? Math.min(...live.map((b) => b.id)) : -1);
  }

  /** Runs TCP checks and heartbeat expiry until `signal` aborts. */
  async watch(signal: AbortSignal, intervalMs = 500): Promise<void> {
    // Groups need a finer clock than health checks: joins complete and sessions expire on ticks.
    const ticker = setInterval(() => {
      this.groups.tick();
      this.transactions.tick();
    }, 100);
    try {
      while (!signal.aborted) {
        await this.checkHealth();
        await this.#advanceReassignments();
        if (this.store.maybeCompact()) {
          this.#logger.info("metadata journal compacted into a snapshot");
        }
        await sleep(intervalMs, signal);
      }
    } finally {
      clearInterval(ticker);
    }
  }

  /** One round of health checks; pushes metadata when broker liveness changed. */
  async checkHealth(): Promise<void> {
    const services = this.#supervisor?.list() ?? [];
    await Promise.all(services.map(async (svc) => {
      const tcpOk = svc.phase === "running" && await this.#tcpCheck(svc.spec.host, svc.spec.port);
      const alive = tcpOk && (svc.spec.kind !== "broker" || this.#heartbeatFresh(svc.spec.id));
      this.#health.set(svc.spec.name, { tcpOk, alive });
    }));
    this.#refreshLiveBrokers();
  }

  /** Call when a supervised process exits: it is dead now, not at the next check. */
  onServiceExit(proc: ServiceProcess): void {
    this.#health.set(proc.spec.name, { tcpOk: false, alive: false });
    if (proc.spec.kind === "broker") this.#brokers.delete(proc.spec.id);
    this.#refreshLiveBrokers();
  }

  #heartbeatFresh(id: number): boolean {
    const record = this.#brokers.get(id);
    return record !== undefined &&
      this.#now() - record.lastHeartbeatMs <= this.#settings.brokerSessionTimeoutMs;
  }

  #brokerLive(id: number): boolean {
    if (!this.#heartbeatFresh(id)) return false;
    const svc = this.#supervisor?.list().find((s) => s.spec.kind === "broker" && s.spec.id === id);
    return svc === undefined || svc.phase === "running";
  }

  #refreshLiveBrokers(): void {
    const live = [...this.#brokers.keys()].filter((id) => this.#brokerLive(id)).sort((a, b) =>
      a - b
    );
    if (live.join(",") === this.#liveBrokerIds.join(",")) return;
    this.#logger.info("live brokers changed", { from: this.#liveBrokerIds, to: live });
    const gone = this.#liveBrokerIds.filter((id) => !live.includes(id));
    const back = live.filter((id) => !this.#liveBrokerIds.includes(id));
    for (const id of gone) this.#dropPushConn(id);
    this.#liveBrokerIds = live;
    for (const id of gone) this.#failOver(id);
    if (back.length > 0) this.#electOffline();
    this.store.bump();
    this.pushMetadata().catch((err) =>
      this.#logger.warn("metadata push failed", { reason: messageOf(err) })
    );
  }

  /** Moves leadership off `brokerId` and takes it out of every ISR (it is gone or going). */
  #failOver(brokerId: number, options: { avoidOnly?: boolean } = {}): number {
    const live = new Set(this.#liveBrokerIds.filter((id) => id !== brokerId));
    let changed = 0;
    for (const topic of this.store.topics()) {
      const unclean = topic.configs["unclean.leader.election.enable"] === "true";
      for (const p of topic.partitions) {
        const next = withoutBroker(p, brokerId, { live, unclean });
        if (!next) continue;
        if (options.avoidOnly && next.leader < 0) continue; // controlled shutdown never takes a partition offline early
        if (next.leader >= 0 && !p.isr.includes(next.leader)) {
          this.#logger.warn("unclean leader election: acknowledged data may be lost", {
            partition: `${topic.name}-${p.partition}`,
            leader: next.leader,
          });
        }
        this.store.changePartition(topic.name, next);
        changed++;
      }
    }
    if (changed > 0) {
      this.#logger.info("failed over partitions", { broker: brokerId, partitions: changed });
    }
    return changed;
  }

  /**
   * A broker id registers from a new process. Whatever the old process had
   * is suspect: it leaves every ISR (it must catch up again) and loses its
   * leaderships. With memory storage it has nothing at all, so it leaves
   * even an ISR where it was the last member: that partition stays offline
   * rather than electing an empty replica as if it were in sync.
   */
  #onNewProcess(brokerId: number): void {
    if (this.#liveBrokerIds.includes(brokerId)) {
      this.#brokers.delete(brokerId);
      this.#refreshLiveBrokers(); // fails its partitions over
    } else {
      this.#failOver(brokerId);
    }
    if (this.#settings.storage === "disk") return;
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        if (!p.isr.includes(brokerId)) continue;
        const isr = p.isr.filter((id) => id !== brokerId);
        const leader = p.leader === brokerId ? -1 : p.leader;
        this.store.changePartition(topic.name, {
          ...p,
          leader,
          leaderEpoch: leader === p.leader ? p.leaderEpoch : p.leaderEpoch + 1,
          isr,
        });
        this.#logger.warn("replica restarted empty (memory storage): out of the ISR", {
          partition: `${topic.name}-${p.partition}`,
          broker: brokerId,
          isr,
        });
      }
    }
  }

  /** Gives partitions without a leader one, now that more brokers are live. */
  #electOffline(): void {
    const live = new Set(this.#liveBrokerIds);
    for (const topic of this.store.topics()) {
      const unclean = topic.configs["unclean.leader.election.enable"] === "true";
      for (const p of topic.partitions) {
        if (p.leader >= 0) continue;
        const { leader, unclean: wasUnclean } = electLeader({ ...p, leader: -1 }, {
          live,
          unclean,
        });
        if (leader < 0) continue;
        if (wasUnclean) {
          this.#logger.warn("unclean leader election: acknowledged data may be lost", {
            partition: `${topic.name}-${p.partition}`,
            leader,
          });
        }
        const isr = p.isr.includes(leader) ? p.isr : [leader];
        this.store.changePartition(topic.name, {
          ...p,
          leader,
          leaderEpoch: p.leaderEpoch + 1,
          isr,
        });
      }
    }
  }

  /**
   * AlterPartition from a leader: the ISR it wants. Accepted only from the
   * current leader at the current leader epoch; a broker may join only while
   * it is live. The change is journaled and pushed, then answered.
   */
  async alterPartition(payload: unknown): Promise<{ errorCode: number; message: string | null }> {
    let request;
    try {
      request = readAlterPartitionRequest(payload);
    } catch (err) {
      if (!isKaError(err)) throw err;
      return { errorCode: err.code, message: err.message };
    }
    const where = `${request.topic}-${request.partition}`;
    try {
      const p = this.store.topic(request.topic).partitions[request.partition];
      if (!p) throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown partition ${where}`);
      if (p.leader !== request.brokerId) {
        throw KaError.of(
          "NOT_LEADER_OR_FOLLOWER",
          `Broker ${request.brokerId} does not lead ${where} (leader ${p.leader})`,
        );
      }
      if (p.leaderEpoch !== request.leaderEpoch) {
        throw KaError.of(
          "FENCED_LEADER_EPOCH",
          `AlterPartition for ${where} names leader epoch ${request.leaderEpoch}; current is ${p.leaderEpoch}`,
        );
      }
      const isr = p.replicas.filter((id) => request.isr.includes(id));
      if (!isr.includes(p.leader) || isr.length !== new Set(request.isr).size) {
        throw KaError.of(
          "INVALID_REQUEST",
          `Invalid ISR ${request.isr.join(",")} for ${where} (replicas ${p.replicas.join(",")})`,
        );
      }
      const joining = isr.filter((id) => !p.isr.includes(id));
      const notLive = joining.filter((id) => !this.#liveBrokerIds.includes(id));
      if (notLive.length > 0) {
        throw KaError.of(
          "REPLICA_NOT_AVAILABLE",
          `Broker(s) ${notLive.join(",")} cannot join the ISR of ${where}: not live`,
        );
      }
      if (isr.join(",") !== p.isr.join(",")) {
        this.store.changePartition(request.topic, { ...p, isr });
        this.#logger.info("ISR changed", { partition: where, from: p.isr, to: isr });
        await this.pushMetadata();
      }
      return { errorCode: 0, message: null };
    } catch (err) {
      if (!isKaError(err)) throw err;
      return { errorCode: err.code, message: err.message };
    }
  }

  // ---- broker-facing API ----------------------------------------------------

  /** BrokerRegistration: remember the broker and hand it the current snapshot. */
  register(
    payload: unknown,
  ): { errorCode: number; metadataVersion: number; snapshot: ClusterSnapshot | null } {
    const request = readRegisterRequest(payload);
    const known = this.#incarnations.get(request.brokerId);
    if (known !== undefined && known !== request.incarnation) this.#onNewProcess(request.brokerId);
    this.#incarnations.set(request.brokerId, request.incarnation);
    this.#brokers.set(request.brokerId, {
      endpoint: { id: request.brokerId, host: request.host, port: request.port },
      incarnation: request.incarnation,
      lastHeartbeatMs: this.#now(),
    });
    this.#dropPushConn(request.brokerId);
    this.#logger.info("broker registered", { broker: request.brokerId, port: request.port });
    this.#refreshLiveBrokers();
    return { errorCode: 0, metadataVersion: this.store.version, snapshot: this.snapshot() };
  }

  /** BrokerHeartbeat: refresh liveness; send the snapshot if the broker is behind. */
  heartbeat(
    payload: unknown,
  ): { errorCode: number; metadataVersion: number; snapshot: ClusterSnapshot | null } {
    const request = readHeartbeatRequest(payload);
    const record = this.#brokers.get(request.brokerId);
    if (!record || record.incarnation !== request.incarnation) {
      return {
        errorCode: ERRORS.UNKNOWN_BROKER.code,
        metadataVersion: this.store.version,
        snapshot: null,
      };
    }
    record.lastHeartbeatMs = this.#now();
    this.#refreshLiveBrokers();
    const behind = request.metadataVersion < this.store.version;
    return {
      errorCode: 0,
      metadataVersion: this.store.version,
      snapshot: behind ? this.snapshot() : null,
    };
  }

  /** Stops pushing metadata and closes push connections (the cluster is shutting down). */
  close(): void {
    this.#closed = true;
    for (const key of [...this.#pushConns.keys()]) this.#dropConn(key);
  }

  /** Pushes the current snapshot to every live broker; waits up to 3 s. */
  async pushMetadata(): Promise<void> {
    if (this.#closed) return;
    const snapshot = this.snapshot();
    await Promise.all(
      this.liveBrokers().map(async (broker) => {
        try {
          const conn = await this.#pushConn(broker);
          await withTimeout(
            conn.request(ApiKey.UpdateMetadata, 0, { payload: { snapshot } }, { timeoutMs: 3_000 }),
            3_000,
            () => new Error("timed out"),
          );
        } catch (err) {
          this.#dropPushConn(broker.id);
          this.#logger.warn("could not push metadata", {
            broker: broker.id,
            reason: messageOf(err),
          });
        }
      }),
    );
  }

  /**
   * The coordinator's connection to a broker. `purpose` keeps slow requests
   * (transaction markers wait for the ISR) off the connection that carries
   * metadata pushes, which a broker answers in order.
   */
  #pushConn(
    broker: BrokerEndpoint,
    purpose: "metadata" | "markers" = "metadata",
  ): Promise<KafkaConnection> {
    const key = purpose === "metadata" ? broker.id : -1 - broker.id;
    let conn = this.#pushConns.get(key);
    if (!conn) {
      conn = this.#connect(`${broker.host}:${broker.port}`);
      conn.catch(() => this.#pushConns.delete(key));
      this.#pushConns.set(key, conn);
    }
    return conn.then((c) => {
      if (!c.closed) return c;
      this.#pushConns.delete(key);
      return this.#pushConn(broker, purpose);
    });
  }

  #dropPushConn(id: number): void {
    this.#dropConn(-1 - id);
    this.#dropConn(id);
  }

  #dropConn(key: number): void {
    const conn = this.#pushConns.get(key);
    this.#pushConns.delete(key);
    conn?.then((c) => c.close()).catch(() => {});
  }

  // ---- client-facing admin API ----------------------------------------------

  /** CreateTopics: validate, place, journal, push; one result per topic. */
  async createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    const results = request.topics.map((t) => {
      try {
        if (t.assignments.length > 0) {
          throw KaError.of(
            "INVALID_REQUEST",
            "Manual replica assignments are not supported; omit them to use placement",
          );
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) {
          if (c.value === null) {
            throw KaError.of("INVALID_CONFIG", `Topic config '${c.name}' has no value`);
          }
          configs[c.name] = c.value;
        }
        this.store.createTopic(
          {
            name: t.name,
            partitions: t.numPartitions === -1 ? this.#settings.defaultPartitions : t.numPartitions,
            replicationFactor: t.replicationFactor === -1
              ? this.#settings.replicationFactor
              : t.replicationFactor,
            configs,
          },
          this.#placementBrokers(),
          { validateOnly: request.validateOnly },
        );
        return { name: t.name, errorCode: 0, errorMessage: null };
      } catch (err) {
        if (!isKaError(err)) throw err;
        return { name: t.name, errorCode: err.code, errorMessage: err.message };
      }
    });
    if (results.some((r) => r.errorCode === 0) && !request.validateOnly) await this.pushMetadata();
    return { throttleTimeMs: 0, topics: results };
  }

  /** DeleteTopics: journal, push; one result per topic. */
  async deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    const responses = request.topicNames.map((name) => {
      try {
        this.store.deleteTopic(name);
        return { name, errorCode: 0 };
      } catch (err) {
        if (!isKaError(err)) throw err;
        return { name, errorCode: err.code };
      }
    });
    if (responses.some((r) => r.errorCode === 0)) await this.pushMetadata();
    return { throttleTimeMs: 0, responses };
  }

  // ---- console backend ----------------------------------------------------------

  status(): ServiceStatus[] {
    const now = this.#now();
    const rows: ServiceStatus[] = [{
      kind: "coordinator",
      id: 0,
      pid: Deno.pid,
      port: this.#settings.port,
      state: "alive",
      uptimeMs: now - this.#startedAtMs,
    }];
    for (const svc of this.#supervisor?.list() ?? []) {
      const state = this.#stateOf(svc);
      rows.push({
        kind: svc.spec.kind,
        id: svc.spec.id,
        pid: svc.phase === "running" ? svc.pid : 0,
        port: svc.spec.port,
        state,
        uptimeMs: state === "alive" ? now - svc.startedAtMs : 0,
      });
    }
    return rows;
  }

  #stateOf(svc: ServiceProcess): ServiceState {
    if (svc.phase === "stopped") return "stopped";
    if (svc.phase === "exited") return "dead";
    if (svc.spec.kind === "broker") {
      return this.#brokerLive(svc.spec.id) && this.#health.get(svc.spec.name)?.tcpOk !== false
        ? "alive"
        : "dead";
    }
    return this.#health.get(svc.spec.name)?.alive ? "alive" : "dead";
  }

  brokerList(): BrokerListing[] {
    const led = new Map<number, number>();
    const replicated = new Map<number, number>();
    const underReplicated = new Map<number, number>();
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
        for (const r of p.replicas) replicated.set(r, (replicated.get(r) ?? 0) + 1);
        if (p.isr.length < p.replicas.length) {
          underReplicated.set(p.leader, (underReplicated.get(p.leader) ?? 0) + 1);
        }
      }
    }
    return this.status().filter((s) => s.kind === "broker").map((s) => ({
      id: s.id,
      port: s.port,
      state: s.state,
      pid: s.pid,
      partitionsLed: led.get(s.id) ?? 0,
      partitionsReplicated: replicated.get(s.id) ?? 0,
      underReplicated: underReplicated.get(s.id) ?? 0,
    }));
  }

  /**
   * Controlled shutdown: leadership moves to in-sync followers and the
   * broker leaves every ISR before its process is stopped, so producers
   * see at most a retriable NOT_LEADER.
   */
  async brokerStop(id: number): Promise<void> {
    const service = this.#brokerService(id);
    if (
      this.#supervisor?.get(service).phase === "running" &&
      this.#failOver(id, { avoidOnly: true }) > 0
    ) {
      await this.pushMetadata();
    }
    await this.#requireSupervisor().stop(service);
    this.#brokers.delete(id);
    this.#refreshLiveBrokers();
  }

  async brokerStart(id: number): Promise<void> {
    await this.#requireSupervisor().start(this.#brokerService(id));
    await this.#waitAlive(this.#brokerService(id));
  }

  async brokerRestart(id: number): Promise<void> {
    await this.brokerStop(id);
    await this.brokerStart(id);
  }

  async gatewayStop(kind: "producer" | "consumer"): Promise<void> {
    await this.#requireSupervisor().stop(GATEWAY_SERVICE[kind]);
    this.#health.delete(GATEWAY_SERVICE[kind]);
  }

  async gatewayStart(kind: "producer" | "consumer"): Promise<void> {
    await this.#requireSupervisor().start(GATEWAY_SERVICE[kind]);
    await this.#waitAlive(GATEWAY_SERVICE[kind]);
  }

  async gatewayRestart(kind: "producer" | "consumer"): Promise<void> {
    await this.gatewayStop(kind);
    await this.gatewayStart(kind);
  }

  /**
   * A rolling restart: one broker at a time, each after the previous one is
   * back in every ISR, so a partition never loses its last in-sync copy
   * (with memory storage a restarted broker comes back empty and must copy
   * first).
   */
  async restartAll(): Promise<void> {
    for (const id of this.#settings.brokerIds) {
      await this.brokerRestart(id);
      await this.#waitFullyReplicated(60_000);
    }
    await this.gatewayRestart("producer");
    await this.gatewayRestart("consumer");
  }

  /** Waits until no partition with a live leader is under-replicated (or `timeoutMs`). */
  async #waitFullyReplicated(timeoutMs: number): Promise<void> {
    const deadline = this.#now() + timeoutMs;
    while (this.#now() < deadline) {
      const lagging = this.store.topics().flatMap((t) => t.partitions).filter((p) =>
        p.leader >= 0 &&
        p.isr.length < p.replicas.filter((id) => this.#liveBrokerIds.includes(id)).length
      );
      if (lagging.length === 0) return;
      await sleep(100);
    }
    this.#logger.warn("rolling restart goes on with under-replicated partitions", { timeoutMs });
  }

  /**
   * After a coordinator start: partitions whose recorded leader has not come
   * back fail over to a live in-sync replica (or go offline), as if that
   * broker had just died.
   */
  reconcileLeaders(): void {
    const missing = new Set<number>();
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        if (p.leader >= 0 && !this.#liveBrokerIds.includes(p.leader)) missing.add(p.leader);
        for (const id of p.isr) {
          if (!this.#liveBrokerIds.includes(id) && p.isr.length > 1) missing.add(id);
        }
      }
    }
    let changed = 0;
    for (const id of missing) changed += this.#failOver(id);
    if (changed > 0) {
      this.store.bump();
      this.pushMetadata().catch((err) =>
        this.#logger.warn("metadata push failed", { reason: messageOf(err) })
      );
    }
  }

  async topicCreate(options: {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs: Record<string, string>;
  }): Promise<TopicListing> {
    const response = await this.createTopics({
      topics: [{
        name: options.name,
        numPartitions: options.partitions ?? -1,
        replicationFactor: options.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(options.configs).map(([name, value]) => ({ name, value })),
      }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    if (result.errorCode !== 0) {
      throw new KaError(result.errorCode, result.errorMessage ?? undefined);
    }
    return this.topicDescribe(options.name);
  }

  topicList(): TopicListing[] {
    return this.store.topics().map((t) => this.topicDescribe(t.name));
  }

  topicDescribe(name: string): TopicListing {
    const topic = this.store.topic(name);
    return {
      name: topic.name,
      partitions: topic.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: [...p.replicas],
        isr: [...p.isr],
        leaderEpoch: p.leaderEpoch,
        ...(p.targetReplicas
          ? {
            adding: p.targetReplicas.filter((id) =>
              !p.replicas.includes(id) || !p.isr.includes(id)
            ),
            removing: p.replicas.filter((id) => !p.targetReplicas!.includes(id)),
          }
          : {}),
      })),
      configs: { ...topic.configs },
    };
  }

  async topicAlter(name: string, configs: Record<string, string>): Promise<TopicListing> {
    this.store.alterTopicConfigs(name, configs);
    await this.pushMetadata();
    return this.topicDescribe(name);
  }

  /**
   * AlterConfigs: `configs` becomes topic `name`'s whole set of configs (keys
   * not listed go back to their defaults); brokers apply it live, as after
   * `topic alter`. With `validateOnly`, only checks it, with the same errors.
   */
  async topicReplaceConfigs(
    name: string,
    configs: Record<string, string>,
    options: { validateOnly?: boolean } = {},
  ): Promise<TopicListing> {
    this.store.replaceTopicConfigs(name, configs, options);
    if (!options.validateOnly) await this.pushMetadata();
    return this.topicDescribe(name);
  }

  // ---- migration: partitions, reassignment, decommission, leader balance ---------

  /** Live brokers that take new replicas (decommissioned ones do not). */
  #placementBrokers(): number[] {
    const out = this.store.decommissioned();
    return this.#liveBrokerIds.filter((id) => !out.has(id));
  }

  /**
   * `topic alter NAME --partitions N`: adds partitions (keys may move to new
   * partitions, as in Kafka). With `validateOnly` (CreatePartitions), only
   * checks that it could, with the same errors.
   */
  async topicAddPartitions(
    name: string,
    count: number,
    options: { validateOnly?: boolean } = {},
  ): Promise<TopicListing> {
    if (options.validateOnly) {
      this.store.checkAddPartitions(name, count, this.#placementBrokers());
    } else {
      this.store.addPartitions(name, count, this.#placementBrokers());
      await this.pushMetadata();
    }
    return this.topicDescribe(name);
  }

  /**
   * `partition reassign TOPIC P B,B`: the new replicas join as followers and
   * copy the log; once every target replica is in the ISR, leadership moves
   * into the target set if needed and the old replicas are dropped (their
   * brokers delete the data). Progress: `targetReplicas` in `topic describe`.
   */
  async partitionReassign(
    topic: string,
    partition: number,
    target: number[],
  ): Promise<TopicListing> {
    const p = this.store.topic(topic).partitions[partition];
    if (!p) {
      throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown partition ${topic}-${partition}`);
    }
    if (target.length === 0 || new Set(target).size !== target.length) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Target replicas ${target.join(",")} must be distinct and non-empty`,
      );
    }
    for (const id of target) {
      if (!this.#settings.brokerIds.includes(id) && !this.#brokers.has(id)) {
        throw KaError.of("UNKNOWN_BROKER", `Unknown broker ${id}`);
      }
    }
    if (p.targetReplicas) {
      throw KaError.of(
        "SERVICE_STATE",
        `${topic}-${partition} is already moving to ${p.targetReplicas.join(",")}`,
      );
    }
    if (target.join(",") === p.replicas.join(",")) return this.topicDescribe(topic);
    const replicas = [...p.replicas, ...target.filter((id) => !p.replicas.includes(id))];
    this.store.changePartition(topic, { ...p, replicas, targetReplicas: [...target] });
    this.#logger.info("reassignment started", {
      partition: `${topic}-${partition}`,
      from: p.replicas,
      to: target,
    });
    await this.pushMetadata();
    return this.topicDescribe(topic);
  }

  /** Finishes reassignments whose new replicas are all in sync. */
  async #advanceReassignments(): Promise<void> {
    let changed = false;
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        const target = p.targetReplicas;
        if (!target || !target.every((id) => p.isr.includes(id))) continue;
        let leader = p.leader;
        let leaderEpoch = p.leaderEpoch;
        if (!target.includes(leader)) {
          // Leadership moves into the target set first: the first in-sync, live target replica.
          const next = target.find((id) => p.isr.includes(id) && this.#liveBrokerIds.includes(id));
          if (next === undefined) continue;
          leader = next;
          leaderEpoch++;
        }
        this.store.changePartition(topic.name, {
          partition: p.partition,
          leader,
          leaderEpoch,
          replicas: [...target],
          isr: target.filter((id) => p.isr.includes(id)),
        });
        this.#logger.info("reassignment completed", {
          partition: `${topic.name}-${p.partition}`,
          replicas: target,
        });
        changed = true;
      }
    }
    if (changed) await this.pushMetadata();
  }

  /** Reassigns every partition of `name` whose replica set differs from a fresh placement. */
  async topicRebalance(name: string): Promise<TopicListing> {
    const topic = this.store.topic(name);
    const rf = topic.partitions[0]?.replicas.length ?? 1;
    const placement = placeTopic(name, topic.partitions.length, this.#placementBrokers(), rf, {
      leaderLoad: this.store.leaderCounts(),
    });
    for (const { partition, replicas } of placement) {
      const p = topic.partitions[partition];
      if (p.targetReplicas) continue;
      if ([...replicas].sort().join(",") === [...p.replicas].sort().join(",")) continue;
      await this.partitionReassign(name, partition, replicas);
    }
    return this.topicDescribe(name);
  }

  /** Drains every replica off broker `id` (it stays out of placement until recommissioned). */
  async brokerDecommission(id: number): Promise<TopicListing[]> {
    this.#brokerService(id);
    this.store.setDecommissioned(id, true);
    const brokers = this.#placementBrokers();
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        if (!p.replicas.includes(id) || p.targetReplicas) continue;
        const keep = p.replicas.filter((r) => r !== id);
        // A replacement from the ring for this partition, not already in the set.
        const ring = new HashRing(brokers);
        const candidates = ring.replicasFor(`${topic.name}/${p.partition}`, brokers.length).filter((
          b,
        ) => !keep.includes(b));
        if (candidates.length === 0) {
          throw KaError.of(
            "INVALID_REPLICATION_FACTOR",
            `No broker can take ${topic.name}-${p.partition}'s replica off broker ${id}`,
          );
        }
        await this.partitionReassign(topic.name, p.partition, [...keep, candidates[0]]);
      }
    }
    return this.topicList();
  }

  /** Puts a decommissioned broker back into placement (new topics and rebalances use it again). */
  brokerRecommission(id: number): Promise<void> {
    this.#brokerService(id);
    this.store.setDecommissioned(id, false);
    return Promise.resolve();
  }

  /** Moves leadership back to each partition's preferred (first) replica where it is live and in sync. */
  async leaderBalance(): Promise<number> {
    let moved = 0;
    for (const topic of this.store.topics()) {
      for (const p of topic.partitions) {
        const preferred = p.replicas[0];
        if (p.targetReplicas || p.leader === preferred) continue;
        if (!p.isr.includes(preferred) || !this.#liveBrokerIds.includes(preferred)) continue;
        this.store.changePartition(topic.name, {
          ...p,
          leader: preferred,
          leaderEpoch: p.leaderEpoch + 1,
        });
        moved++;
      }
    }
    if (moved > 0) await this.pushMetadata();
    return moved;
  }

  async topicDelete(name: string): Promise<void> {
    const response = await this.deleteTopics({ topicNames: [name], timeoutMs: 30_000 });
    const code = response.responses[0].errorCode;
    if (code !== 0) {
      throw new KaError(
        code,
        code === ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code ? `Unknown topic '${name}'` : undefined,
      );
    }
  }

  groupList(): Promise<GroupListing[]> {
    return Promise.resolve(
      this.groups.groups().map((g) => ({
        group: g.groupId,
        state: g.state,
        members: g.members.size,
      })),
    );
  }

  async groupDescribe(name: string): Promise<GroupDescription> {
    const group = this.groups.group(name);
    if (!group) throw KaError.of("GROUP_ID_NOT_FOUND", `Unknown group '${name}'`);
    const members = [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      assignment: decodeAssignment(m.assignment),
    }));
    // Every partition the group owns or has committed, with its end offset and lag.
    const parts = new Map<string, { topic: string; partition: number }>();
    for (const m of members) {
      for (const tp of m.assignment) parts.set(`${tp.topic}/${tp.partition}`, tp);
    }
    const committed = this.groups.committed(name, null);
    for (const o of committed) {
      parts.set(`${o.topic}/${o.partition}`, { topic: o.topic, partition: o.partition });
    }
    const sorted = [...parts.values()].sort((a, b) =>
      a.topic.localeCompare(b.topic) || a.partition - b.partition
    );
    const ends = await this.endOffsets(sorted);
    const byKey = new Map(committed.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
    return {
      group: name,
      state: group.state,
      generation: group.generationId,
      protocol: group.protocolName ?? "",
      members,
      offsets: sorted.map((tp) => {
        const k = `${tp.topic}/${tp.partition}`;
        const c = byKey.get(k);
        const end = ends.get(k) ?? -1n;
        return {
          topic: tp.topic,
          partition: tp.partition,
          committed: c === undefined ? null : Number(c),
          end: Number(end),
          lag: c === undefined || end < 0n ? null : Number(end > c ? end - c : 0n),
        };
      }),
    };
  }

  groupDelete(name: string): Promise<void> {
    this.groups.deleteGroup(name);
    return Promise.resolve();
  }

  async groupReset(
    name: string,
    options: { topic: string; to: "earliest" | "latest" | bigint },
  ): Promise<GroupDescription> {
    const topic = this.store.topic(options.topic);
    const partitions = topic.partitions.map((p) => ({ topic: topic.name, partition: p.partition }));
    let offsets: { topic: string; partition: number; offset: bigint }[];
    if (typeof options.to === "bigint") {
      offsets = partitions.map((tp) => ({ ...tp, offset: options.to as bigint }));
    } else {
      const found = await this.endOffsets(partitions, options.to === "earliest" ? -2n : -1n);
      offsets = partitions.map((tp) => ({
        ...tp,
        offset: found.get(`${tp.topic}/${tp.partition}`) ?? 0n,
      }));
    }
    this.groups.resetOffsets(name, offsets);
    return await this.groupDescribe(name);
  }

  /** Log end (high watermark) — or, with −2, start — offsets from the partitions' leaders. */
  async endOffsets(
    partitions: { topic: string; partition: number }[],
    timestamp = -1n,
  ): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const byLeader = new Map<number, { topic: string; partition: number }[]>();
    for (const tp of partitions) {
      const p = this.store.hasTopic(tp.topic)
        ? this.store.topic(tp.topic).partitions[tp.partition]
        : undefined;
      if (!p || p.leader < 0) continue;
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), tp]);
    }
    await Promise.all([...byLeader].map(async ([leader, list]) => {
      const endpoint = this.liveBrokers().find((b) => b.id === leader);
      if (!endpoint) return;
      try {
        const conn = await this.#pushConn(endpoint);
        const topics = new Map<string, number[]>();
        for (const tp of list) {
          topics.set(tp.topic, [...(topics.get(tp.topic) ?? []), tp.partition]);
        }
        const response = await conn.request(ApiKey.ListOffsets, 5, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [...topics].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({
              partitionIndex,
              currentLeaderEpoch: -1,
              timestamp,
            })),
          })),
        }, { timeoutMs: 5_000 });
        for (const t of response.topics) {
          for (const p of t.partitions) {
            if (p.errorCode === 0) out.set(`${t.name}/${p.partitionIndex}`, p.offset);
          }
        }
      } catch (err) {
        this.#logger.warn("could not read end offsets", { broker: leader, reason: messageOf(err) });
      }
    }));
    return out;
  }

  shutdown(): Promise<void> {
    return this.#onShutdown();
  }

  #requireSupervisor(): Supervisor {
    if (!this.#supervisor) {
      throw KaError.of("SERVICE_STATE", "This coordinator supervises no processes");
    }
    return this.#supervisor;
  }

  #brokerService(id: number): string {
    if (!this.#settings.brokerIds.includes(id)) {
      throw KaError.of(
        "UNKNOWN_BROKER",
        `Unknown broker ${id}: brokers are ${this.#settings.brokerIds.join(", ")}`,
      );
    }
    return `broker-${id}`;
  }

  /** Waits until a just-started service passes its checks (up to 15 s). */
  async #waitAlive(name: string): Promise<void> {
    const deadline = this.#now() + 15_000;
    while (this.#now() < deadline) {
      await this.checkHealth();
      const svc = this.#supervisor!.get(name);
      if (this.#stateOf(svc) === "alive") return;
      if (svc.phase !== "running") {
        throw KaError.of("SERVICE_STATE", `${name} exited while starting (code ${svc.exitCode})`);
      }
      await sleep(100);
    }
    throw KaError.of("REQUEST_TIMED_OUT", `${name} did not become alive within 15 s`);
  }
}

/** A member's assignment bytes (consumer protocol) as topic partitions; [] when unreadable. */
function decodeAssignment(bytes: Uint8Array): { topic: string; partition: number }[] {
  if (bytes.length === 0) return [];
  try {
    return decodeConsumerProtocolAssignment(bytes).assignedPartitions.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.topic, partition }))
    );
  } catch (err) {
    if (isKaError(err)) return [];
    throw err;
  }
}
