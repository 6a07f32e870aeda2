/**
 * The group consumer: members of a consumer group share a topic's
 * partitions. It finds the group coordinator (FindCoordinator), joins
 * (JoinGroup), computes the plan when it is the leader (client-side
 * assignors, as in Kafka), syncs (SyncGroup), heartbeats, fetches its
 * partitions with long polls (one Fetch per leader broker carrying every
 * owned partition it leads, so a poll returns as soon as any of them has
 * data), and commits offsets.
 *
 * Delivery modes: `at-least-once` (default: offsets are committed after the
 * handler resolves), `at-most-once` (committed before the handler sees the
 * batch), `exactly-once`: reads with `read_committed` isolation, never
 * commits by itself (no auto-commit, no commit on rebalance or close, and
 * `commit()` is refused); offsets are committed only inside a transaction,
 * by a transactional producer's `sendOffsetsToTransaction(offsets,
 * consumer.groupMetadata())` — see `consumeTransformProduce` in
 * `transactions.ts`. After an aborted transaction, `seekToCommitted()` moves
 * the positions back to the group's committed offsets.
 * @module
 */
import {
  ApiKey,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  ERRORS,
} from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { KafkaConnection } from "@kafka-analog/lib/net";
import { sleep } from "@kafka-analog/lib/async";
import { type ClusterOptions, ClusterView, throwIfError } from "./cluster.ts";
import { type IsolationLevel, PartitionReader } from "./consumer.ts";
import { assignorByName, type AssignorMember } from "./assignors/mod.ts";
import type { ConsumedMessage } from "./types.ts";
import type { ConsumerGroupMetadata } from "./transactions.ts";

/** A topic partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** How offsets relate to handing messages over. */
export type DeliveryMode = "at-least-once" | "at-most-once" | "exactly-once";

/** Options of a {@linkcode GroupConsumer}. */
export interface GroupConsumerOptions {
  groupId: string;
  /** Assignors in order of preference (default range, roundrobin, sticky). */
  assignors?: ("range" | "roundrobin" | "sticky")[];
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest the handler may take between polls before this member leaves the group. */
  maxPollIntervalMs?: number;
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Where to start without a committed offset (or when it is out of range). */
  autoOffsetReset?: "earliest" | "latest" | "none";
  delivery?: DeliveryMode;
  /**
   * Default "read_committed" with exactly-once delivery (which requires it),
   * else "read_uncommitted".
   */
  isolationLevel?: IsolationLevel;
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  clientId?: string;
}

/** One batch handed to `eachBatch`. */
export interface ConsumerBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  highWatermark: bigint;
}

/** What {@linkcode GroupConsumer.run} takes. */
export interface RunOptions {
  eachMessage?: (message: ConsumedMessage) => Promise<void> | void;
  eachBatch?: (batch: ConsumerBatch) => Promise<void> | void;
  signal?: AbortSignal;
  /** Called after every poll, with or without messages (e.g. to watch rebalances). */
  onPoll?: () => void;
}

const VERSIONS = {
  findCoordinator: 2,
  joinGroup: 5,
  syncGroup: 3,
  heartbeat: 3,
  leaveGroup: 3,
  offsetCommit: 7,
  offsetFetch: 5,
} as const;

function key(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

/** A member of a consumer group. */
export class GroupConsumer {
  readonly groupId: string;
  #cluster: ClusterView;
  #reader: PartitionReader;
  #options: Required<Omit<GroupConsumerOptions, "clientId">> & { clientId: string };
  #topics: string[] = [];
  #memberId = "";
  #generationId = -1;
  #assignment: TopicPartition[] = [];
  #positions = new Map<string, bigint>();
  #paused = new Set<string>();
  #committed = new Map<string, bigint>();
  #needsJoin = true;
  #coordinator: KafkaConnection | null = null;
  #heartbeatTask: Promise<void> | null = null;
  #closed = false;
  #stopHeartbeats = new AbortController();
  #lastPollMs = Date.now();
  #lastCommitMs = Date.now();
  #rebalances = 0;
  /** Rotates which partition leads each Fetch, so none starves under the request's byte limit. */
  #fetchRound = 0;

  constructor(options: ClusterOptions, consumerOptions: GroupConsumerOptions) {
    if (consumerOptions.groupId === "") {
      throw KaError.of("INVALID_GROUP_ID", "groupId must not be empty");
    }
    const delivery = consumerOptions.delivery ?? "at-least-once";
    if (
      delivery !== "at-least-once" && delivery !== "at-most-once" && delivery !== "exactly-once"
    ) {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid consumer option 'delivery': must be "at-least-once", "at-most-once" or "exactly-once", got ${
          String(delivery)
        }`,
      );
    }
    const exactlyOnce = delivery === "exactly-once";
    if (exactlyOnce && consumerOptions.autoCommit === true) {
      throw KaError.of(
        "INVALID_CONFIG",
        "Invalid consumer option 'autoCommit': exactly-once delivery commits offsets only through a transactional producer's sendOffsetsToTransaction",
      );
    }
    const isolationLevel = consumerOptions.isolationLevel ??
      (exactlyOnce ? "read_committed" : "read_uncommitted");
    if (exactlyOnce && isolationLevel !== "read_committed") {
      throw KaError.of(
        "INVALID_CONFIG",
        `Invalid consumer option 'isolationLevel': exactly-once delivery needs "read_committed", got ${
          String(isolationLevel)
        }`,
      );
    }
    this.groupId = consumerOptions.groupId;
    this.#cluster = new ClusterView(options);
    this.#reader = new PartitionReader(this.#cluster, { isolationLevel });
    this.#options = {
      groupId: consumerOptions.groupId,
      assignors: consumerOptions.assignors ?? ["range", "roundrobin", "sticky"],
      sessionTimeoutMs: consumerOptions.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: consumerOptions.heartbeatIntervalMs ?? 3_000,
      maxPollIntervalMs: consumerOptions.maxPollIntervalMs ?? 300_000,
      autoCommit: exactlyOnce ? false : consumerOptions.autoCommit ?? true,
      autoCommitIntervalMs: consumerOptions.autoCommitIntervalMs ?? 5_000,
      autoOffsetReset: consumerOptions.autoOffsetReset ?? "latest",
      delivery,
      isolationLevel,
      maxWaitMs: consumerOptions.maxWaitMs ?? 500,
      maxBytesPerPartition: consumerOptions.maxBytesPerPartition ?? 1024 * 1024,
      clientId: consumerOptions.clientId ?? options.clientId ?? "kafka-analog-consumer",
    };
    for (const name of this.#options.assignors) assignorByName(name);
  }

  /** The member id the coordinator gave us ("" before the first join). */
  get memberId(): string {
    return this.#memberId;
  }

  /** The generation of the last completed rebalance (−1 before). */
  get generationId(): number {
    return this.#generationId;
  }

  /** The partitions this member owns now. */
  assignment(): TopicPartition[] {
    return this.#assignment.map((tp) => ({ ...tp }));
  }

  /** The delivery mode this member was created with. */
  get delivery(): DeliveryMode {
    return this.#options.delivery;
  }

  /** The isolation level of its fetches. */
  get isolationLevel(): IsolationLevel {
    return this.#options.isolationLevel;
  }

  /**
   * The group, generation and member id, for a transactional producer's
   * `sendOffsetsToTransaction` (Kafka's `ConsumerGroupMetadata`).
   */
  groupMetadata(): ConsumerGroupMetadata {
    return { groupId: this.groupId, generationId: this.#generationId, memberId: this.#memberId };
  }

  /** Rebalances this member has been through. */
  get rebalances(): number {
    return this.#rebalances;
  }

  /** Sets the topics to consume; takes effect at the next (re)join. */
  subscribe(topics: string[]): void {
    this.#topics = [...new Set(topics)].sort();
    this.#needsJoin = true;
  }

  /** Stops fetching these partitions until resumed. */
  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(key(tp));
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(key(tp));
  }

  /** The next fetch of `topic`/`partition` starts at `offset`. */
  seek(topic: string, partition: number, offset: bigint): void {
    this.#positions.set(key({ topic, partition }), offset);
  }

  /** Seeks to the first offset whose record timestamp is ≥ `timestamp`. */
  async seekToTimestamp(topic: string, partition: number, timestamp: number): Promise<void> {
    const offset = await this.#reader.offsetForTimestamp(topic, partition, timestamp);
    this.seek(
      topic,
      partition,
      offset ?? await this.#reader.listOffset(topic, partition, "latest"),
    );
  }

  /** The offset the next fetch of a partition starts at. */
  position(topic: string, partition: number): bigint | undefined {
    return this.#positions.get(key({ topic, partition }));
  }

  /**
   * One poll: (re)joins if needed, heartbeats in the background, fetches
   * every owned partition once (long poll), and returns the batches. Offsets
   * advance past what is returned; commits follow the delivery mode.
   */
  async poll(): Promise<ConsumerBatch[]> {
    if (this.#closed) throw KaError.of("INVALID_REQUEST", "The consumer is closed");
    if (this.#topics.length === 0) {
      throw KaError.of("INVALID_REQUEST", "subscribe() to at least one topic first");
    }
    this.#lastPollMs = Date.now();
    if (this.#needsJoin) await this.#rejoin();
    const owned = this.#assignment.filter((tp) => !this.#paused.has(key(tp)));
    if (owned.length === 0) {
      await sleep(Math.min(this.#options.maxWaitMs, 100));
      return [];
    }
    const batches = (await this.#fetchPartitions(owned)).filter((b) => b.messages.length > 0);
    if (this.#options.delivery === "at-most-once" && batches.length > 0) {
      // Commit before anyone sees the messages: a crash now skips them, never repeats them.
      await this.commit();
    }
    return batches;
  }

  /** Polls until `signal` aborts, handing each batch or message to the handler. */
  async run(options: RunOptions): Promise<void> {
    if (!options.eachBatch && !options.eachMessage) {
      throw KaError.of("INVALID_REQUEST", "run() needs eachMessage or eachBatch");
    }
    while (!options.signal?.aborted && !this.#closed) {
      let batches: ConsumerBatch[];
      try {
        batches = await this.poll();
      } catch (err) {
        if (isKaError(err) && err.retriable) {
          this.#needsJoin = this.#needsJoin || isKaError(err, "NOT_COORDINATOR");
          await sleep(200);
          continue;
        }
        throw err;
      }
      options.onPoll?.();
      for (const batch of batches) {
        if (options.eachBatch) await options.eachBatch(batch);
        else for (const m of batch.messages) await options.eachMessage!(m);
        this.#overdue();
      }
      await this.#maybeAutoCommit();
    }
  }

  /**
   * Commits offsets: the given ones, or every owned partition's position.
   * Fenced by generation: a member of an older generation gets ILLEGAL_GENERATION.
   * Refused with exactly-once delivery (INVALID_REQUEST): there offsets are
   * committed only inside transactions.
   */
  async commit(offsets?: (TopicPartition & { offset: bigint })[]): Promise<void> {
    if (this.#options.delivery === "exactly-once") {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot commit offsets of group '${this.groupId}' directly with exactly-once delivery: commit them with a transactional producer's sendOffsetsToTransaction`,
      );
    }
    const list = offsets ?? this.#assignment.flatMap((tp) => {
      const offset = this.#positions.get(key(tp));
      return offset === undefined || this.#committed.get(key(tp)) === offset
        ? []
        : [{ ...tp, offset }];
    });
    if (list.length === 0) return;
    const conn = await this.#coordinatorConn();
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }[]
    >();
    for (const o of list) {
      byTopic.set(o.topic, [
        ...(byTopic.get(o.topic) ?? []),
        { partitionIndex: o.partition, committedOffset: o.offset, committedMetadata: null },
      ]);
    }
    const response = await conn.request(ApiKey.OffsetCommit, VERSIONS.offsetCommit, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: null,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) {
          if (
            p.errorCode === ERRORS.REBALANCE_IN_PROGRESS.code ||
            p.errorCode === ERRORS.ILLEGAL_GENERATION.code
          ) {
            this.#needsJoin = true;
          }
          throwIfError(
            p.errorCode,
            `Cannot commit ${t.name}-${p.partitionIndex} for group '${this.groupId}'`,
          );
        }
      }
    }
    for (const o of list) this.#committed.set(key(o), o.offset);
    this.#lastCommitMs = Date.now();
  }

  /**
   * The group's committed offsets of `partitions` (default: the owned ones),
   * read from the group coordinator (OffsetFetch); partitions without a
   * committed offset are left out.
   */
  async committed(partitions?: TopicPartition[]): Promise<(TopicPartition & { offset: bigint })[]> {
    const list = partitions ?? this.#assignment;
    if (list.length === 0) return [];
    const found = await this.#fetchCommitted(list);
    return list.flatMap((tp) => {
      const offset = found.get(key(tp));
      return offset === undefined ? [] : [{ ...tp, offset }];
    });
  }

  /**
   * Moves the position of every owned partition back to the group's
   * committed offset (or the reset policy when there is none): what a
   * consume-transform-produce loop does after aborting a transaction, so the
   * aborted input is read again.
   */
  async seekToCommitted(): Promise<void> {
    const owned = [...this.#assignment];
    if (owned.length === 0) return;
    const found = await this.#fetchCommitted(owned);
    for (const tp of owned) {
      const offset = found.get(key(tp));
      this.#positions.set(key(tp), offset ?? await this.#resetOffset(tp));
      if (offset !== undefined) this.#committed.set(key(tp), offset);
    }
  }

  /** Commits (at-least-once), leaves the group and closes connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (
        this.#generationId >= 0 && this.#options.delivery === "at-least-once" &&
        this.#options.autoCommit
      ) {
        await this.commit().catch(() => {});
      }
      if (this.#memberId !== "") {
        const conn = await this.#coordinatorConn().catch(() => null);
        await conn?.request(ApiKey.LeaveGroup, VERSIONS.leaveGroup, {
          groupId: this.groupId,
          members: [{ memberId: this.#memberId, groupInstanceId: null }],
        }).catch(() => {});
      }
    } finally {
      this.#closed = true;
      this.#stopHeartbeats.abort();
      await this.#heartbeatTask?.catch(() => {});
      this.#coordinator?.close();
      await this.#cluster.close();
    }
  }

  async #maybeAutoCommit(): Promise<void> {
    if (!this.#options.autoCommit || this.#options.delivery !== "at-least-once") return;
    if (Date.now() - this.#lastCommitMs < this.#options.autoCommitIntervalMs) return;
    await this.commit().catch((err) => {
      if (!isKaError(err)) throw err;
    });
  }

  /** A handler slower than max.poll.interval.ms: leave, so the group is not held up (Kafka's rule). */
  #overdue(): void {
    if (Date.now() - this.#lastPollMs <= this.#options.maxPollIntervalMs || this.#memberId === "") {
      return;
    }
    const memberId = this.#memberId;
    this.#memberId = "";
    this.#generationId = -1;
    this.#needsJoin = true;
    this.#coordinatorConn().then((conn) =>
      conn.request(ApiKey.LeaveGroup, VERSIONS.leaveGroup, {
        groupId: this.groupId,
        members: [{ memberId, groupInstanceId: null }],
      })
    ).catch(() => {});
  }

  /**
   * Fetches `owned` (one Fetch per leader) and advances the positions of the
   * partitions still assigned and not sought meanwhile. Out-of-range
   * positions follow the reset policy; partitions with a retriable error are
   * skipped this poll. Nothing advances when a partition fails for good, so
   * no fetched message is lost to the throw.
   */
  async #fetchPartitions(owned: TopicPartition[]): Promise<ConsumerBatch[]> {
    const requests = owned.flatMap((tp) => {
      const offset = this.#positions.get(key(tp));
      return offset === undefined ? [] : [{ ...tp, offset }];
    });
    if (requests.length === 0) return [];
    const first = this.#fetchRound++ % requests.length;
    const rotated = [...requests.slice(first), ...requests.slice(0, first)];
    let results;
    try {
      results = await this.#reader.fetchMany(rotated, {
        maxWaitMs: this.#options.maxWaitMs,
        maxBytesPerPartition: this.#options.maxBytesPerPartition,
      });
    } catch (err) {
      if (isKaError(err) && err.retriable) return [];
      throw err;
    }
    const byKey = new Map(results.map((r) => [key(r), r]));
    // The partition may have been revoked or sought meanwhile.
    const current = (r: { topic: string; partition: number }, offset: bigint) =>
      this.#positions.get(key(r)) === offset && this.#assignment.some((a) => key(a) === key(r));
    const outOfRange: TopicPartition[] = [];
    for (const request of requests) {
      const r = byKey.get(key(request))!;
      if (r.errorCode === 0 || !current(r, request.offset)) continue;
      if (r.errorCode === ERRORS.OFFSET_OUT_OF_RANGE.code) {
        outOfRange.push({ topic: r.topic, partition: r.partition });
        continue;
      }
      const err = new KaError(
        r.errorCode,
        `Cannot fetch ${r.topic}-${r.partition} at ${request.offset}${
          r.errorMessage === null ? "" : `: ${r.errorMessage}`
        }`,
      );
      if (!err.retriable) throw err;
    }
    for (const tp of outOfRange) this.#positions.set(key(tp), await this.#resetOffset(tp));
    const batches: ConsumerBatch[] = [];
    for (const request of requests) {
      const r = byKey.get(key(request))!;
      if (r.errorCode !== 0 || !current(r, request.offset)) continue;
      this.#positions.set(key(r), r.nextOffset);
      batches.push({
        topic: r.topic,
        partition: r.partition,
        messages: r.messages,
        highWatermark: r.highWatermark,
      });
    }
    return batches;
  }

  async #resetOffset(tp: TopicPartition): Promise<bigint> {
    const policy = this.#options.autoOffsetReset;
    if (policy === "none") {
      throw KaError.of(
        "OFFSET_OUT_OF_RANGE",
        `No valid offset for ${tp.topic}-${tp.partition} in group '${this.groupId}' and autoOffsetReset is none`,
      );
    }
    return await this.#reader.listOffset(tp.topic, tp.partition, policy);
  }

  async #coordinatorConn(): Promise<KafkaConnection> {
    if (this.#coordinator && !this.#coordinator.closed) return this.#coordinator;
    const any = await this.#cluster.anyConnection();
    const found = await any.request(ApiKey.FindCoordinator, VERSIONS.findCoordinator, {
      key: this.groupId,
      keyType: 0,
    });
    throwIfError(
      found.errorCode,
      `Cannot find the coordinator of group '${this.groupId}'`,
      found.errorMessage,
    );
    // A dedicated connection: JoinGroup waits there for the whole rebalance.
    this.#coordinator = await this.#cluster.dedicatedConnection(`${found.host}:${found.port}`);
    return this.#coordinator;
  }

  /** Join, (lead,) sync, then set positions from committed offsets. */
  async #rejoin(): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.#joinOnce();
        return;
      } catch (err) {
        if (!isKaError(err) || attempt >= 20) throw err;
        const name = err.errorName;
        if (name === "UNKNOWN_MEMBER_ID") this.#memberId = "";
        if (name === "NETWORK_EXCEPTION" || name === "NOT_COORDINATOR") {
          this.#coordinator?.close();
          this.#coordinator = null;
        }
        const rejoinable = name === "REBALANCE_IN_PROGRESS" || name === "UNKNOWN_MEMBER_ID" ||
          name === "ILLEGAL_GENERATION";
        if (!rejoinable && !err.retriable) throw err;
        await sleep(Math.min(100 * (attempt + 1), 1000));
      }
    }
  }

  async #joinOnce(): Promise<void> {
    // Before giving partitions up, commit what was processed (at-least-once).
    if (
      this.#generationId >= 0 && this.#options.autoCommit &&
      this.#options.delivery === "at-least-once"
    ) {
      await this.commit().catch(() => {});
    }
    const conn = await this.#coordinatorConn();
    const metadata = encodeConsumerProtocolSubscription({
      version: 1,
      topics: this.#topics,
      userData: null,
      ownedPartitions: this.#ownedByTopic(),
    });
    const joined = await conn.request(ApiKey.JoinGroup, VERSIONS.joinGroup, {
      groupId: this.groupId,
      sessionTimeoutMs: this.#options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.#options.maxPollIntervalMs,
      memberId: this.#memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: this.#options.assignors.map((name) => ({ name, metadata })),
    }, { timeoutMs: this.#options.maxPollIntervalMs + 30_000 });
    if (joined.memberId) this.#memberId = joined.memberId;
    throwIfError(joined.errorCode, `Cannot join group '${this.groupId}'`);
    this.#generationId = joined.generationId;
    let assignments: { memberId: string; assignment: Uint8Array }[] = [];
    if (joined.leader === this.#memberId) {
      assignments = await this.#computePlan(joined.protocolName, joined.members);
    }
    const synced = await conn.request(ApiKey.SyncGroup, VERSIONS.syncGroup, {
      groupId: this.groupId,
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: null,
      assignments,
    }, { timeoutMs: this.#options.maxPollIntervalMs + 30_000 });
    throwIfError(synced.errorCode, `Cannot sync group '${this.groupId}'`);
    const assignment = synced.assignment.length > 0
      ? decodeConsumerProtocolAssignment(synced.assignment).assignedPartitions.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition }))
      )
      : [];
    await this.#adopt(assignment);
    this.#needsJoin = false;
    this.#rebalances++;
    this.#heartbeatTask ??= this.#heartbeatLoop();
  }

  #ownedByTopic(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const tp of this.#assignment) {
      byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  async #computePlan(
    protocolName: string,
    members: { memberId: string; metadata: Uint8Array }[],
  ): Promise<{ memberId: string; assignment: Uint8Array }[]> {
    const assignor = assignorByName(protocolName);
    const subscriptions: AssignorMember[] = members.map((m) => {
      const sub = decodeConsumerProtocolSubscription(m.metadata);
      return {
        memberId: m.memberId,
        topics: sub.topics,
        owned: (sub.ownedPartitions ?? []).flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.topic, partition }))
        ),
      };
    });
    const topics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    const partitionsPerTopic = new Map<string, number>();
    await this.#cluster.refresh();
    for (const topic of topics) {
      const t = this.#cluster.cachedTopic(topic);
      if (t) partitionsPerTopic.set(topic, t.partitions.length);
    }
    const plan = assignor.assign(
      subscriptions.map((s) => ({
        ...s,
        topics: s.topics.filter((t) => partitionsPerTopic.has(t)),
      })),
      partitionsPerTopic,
    );
    return members.map((m) => {
      const byTopic = new Map<string, number[]>();
      for (const tp of plan.get(m.memberId) ?? []) {
        byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
      }
      return {
        memberId: m.memberId,
        assignment: encodeConsumerProtocolAssignment({
          version: 1,
          assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          userData: null,
        }),
      };
    });
  }

  /** Takes the new assignment: positions from committed offsets, or the reset policy. */
  async #adopt(assignment: TopicPartition[]): Promise<void> {
    const keep = new Set(assignment.map(key));
    for (const k of [...this.#positions.keys()]) if (!keep.has(k)) this.#positions.delete(k);
    this.#assignment = assignment;
    const missing = assignment.filter((tp) => !this.#positions.has(key(tp)));
    if (missing.length === 0) return;
    const committed = await this.#fetchCommitted(missing);
    for (const tp of missing) {
      const offset = committed.get(key(tp));
      this.#positions.set(key(tp), offset ?? await this.#resetOffset(tp));
      if (offset !== undefined) this.#committed.set(key(tp), offset);
    }
  }

  /** Committed offsets by `topic/partition` (OffsetFetch); absent when none is committed. */
  async #fetchCommitted(partitions: TopicPartition[]): Promise<Map<string, bigint>> {
    const conn = await this.#coordinatorConn();
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) {
      byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    }
    const fetched = await conn.request(ApiKey.OffsetFetch, VERSIONS.offsetFetch, {
      groupId: this.groupId,
      topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    });
    // An error must not read as "nothing committed": the reset policy would then
    // re-read (or skip) what the group already committed.
    throwIfError(
      fetched.errorCode ?? 0,
      `Cannot fetch the committed offsets of group '${this.groupId}'`,
    );
    const committed = new Map<string, bigint>();
    for (const t of fetched.topics) {
      for (const p of t.partitions) {
        throwIfError(
          p.errorCode,
          `Cannot fetch the committed offset of ${t.name}-${p.partitionIndex} for group '${this.groupId}'`,
        );
        if (p.committedOffset >= 0n) {
          committed.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
        }
      }
    }
    return committed;
  }

  async #heartbeatLoop(): Promise<void> {
    while (!this.#closed) {
      await sleep(this.#options.heartbeatIntervalMs, this.#stopHeartbeats.signal);
      if (this.#closed || this.#needsJoin || this.#generationId < 0) continue;
      try {
        const conn = await this.#coordinatorConn();
        const response = await conn.request(ApiKey.Heartbeat, VERSIONS.heartbeat, {
          groupId: this.groupId,
          generationId: this.#generationId,
          memberId: this.#memberId,
          groupInstanceId: null,
        }, { timeoutMs: this.#options.sessionTimeoutMs });
        if (response.errorCode === ERRORS.UNKNOWN_MEMBER_ID.code) this.#memberId = "";
        if (response.errorCode !== 0) this.#needsJoin = true;
      } catch {
        this.#coordinator?.close();
        this.#coordinator = null;
      }
    }
  }
}
