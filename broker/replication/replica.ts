/**
 * One partition replica on this broker: its log, leader epoch cache and high
 * watermark, plus — while this broker leads it — what each follower has
 * (log end offset, when it was last caught up) and the produce requests
 * waiting for the high watermark (acks=all).
 *
 * The leader never changes the ISR on its own: it proposes a change to the
 * coordinator (AlterPartition) and applies it when new metadata arrives.
 * @module
 */
import type { PartitionState } from "@kafka-analog/lib/cluster";
import { KaError } from "@kafka-analog/lib/errors";
import { assert } from "@kafka-analog/lib/assert";
import { type PartitionLog, storedBatches } from "../log/partition_log.ts";
import type { BatchHeader } from "@kafka-analog/lib/protocol";
import { TransactionIndex } from "./txn_index.ts";
import { LeaderEpochCache } from "../log/leader_epoch_cache.ts";
import { ProducerStateTable } from "../producer_state.ts";

/** What the leader knows of one follower. */
export interface FollowerState {
  /** The follower's log end offset, from its last fetch (−1 before one). */
  logEndOffset: bigint;
  /** Last time its fetch reached the leader's log end as of its previous fetch. */
  lastCaughtUpMs: number;
  /** The leader's log end offset when this follower last fetched. */
  leaderEndAtLastFetch: bigint;
}

interface HwWaiter {
  offset: bigint;
  resolve(): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A partition replica hosted by this broker. */
export class Replica {
  readonly topic: string;
  readonly partition: number;
  readonly brokerId: number;
  readonly log: PartitionLog;
  readonly epochCache: LeaderEpochCache;
  /** Idempotent producers' last batches; rebuilt from the log when this replica becomes leader. */
  readonly producers = new ProducerStateTable();
  /** Open and aborted transactions; the last stable offset comes from it. */
  readonly txns = new TransactionIndex();
  state: PartitionState;
  /** Offsets below this are committed (on every ISR member). */
  highWatermark = 0n;
  /** Follower → what it has; meaningful while this broker leads. */
  readonly followers = new Map<number, FollowerState>();
  /** A follower must truncate against the leader before fetching (set on leadership changes). */
  needsTruncation = false;
  /** An ISR proposal is on its way to the coordinator. */
  isrChangeInFlight = false;
  #hwWaiters: HwWaiter[] = [];

  constructor(
    topic: string,
    partition: number,
    brokerId: number,
    log: PartitionLog,
    state: PartitionState,
    nowMs: number,
    options: { epochCache?: LeaderEpochCache } = {},
  ) {
    this.topic = topic;
    this.partition = partition;
    this.brokerId = brokerId;
    this.log = log;
    this.epochCache = options.epochCache ?? new LeaderEpochCache();
    this.state = state;
    // A checkpointed high watermark (disk): committed before the restart, so servable at once.
    const savedHw = log.readHighWatermark?.() ?? null;
    if (savedHw !== null) {
      this.highWatermark = savedHw < log.logEndOffset ? savedHw : log.logEndOffset;
    }
    // A log recovered from disk already holds batches: know its producers before any leadership.
    if (state.leader !== brokerId && log.logEndOffset > log.logStartOffset) {
      this.rebuildProducerState();
    }
    this.#adopt(state, null, nowMs);
  }

  get isLeader(): boolean {
    return this.state.leader === this.brokerId;
  }

  /** Takes a new partition state from metadata; handles becoming leader or follower. */
  update(state: PartitionState, nowMs: number): void {
    const previous = this.state;
    this.state = state;
    this.#adopt(state, previous, nowMs);
  }

  #adopt(state: PartitionState, previous: PartitionState | null, nowMs: number): void {
    const epochChanged = previous === null || previous.leaderEpoch !== state.leaderEpoch ||
      previous.leader !== state.leader;
    if (state.leader === this.brokerId) {
      if (epochChanged) {
        // Becoming leader: this epoch starts at our log end; followers must prove where they are.
        this.epochCache.assign(state.leaderEpoch, this.log.logEndOffset);
        this.rebuildProducerState();
        this.followers.clear();
        this.needsTruncation = false;
      }
      for (const id of state.replicas) {
        if (id === this.brokerId || this.followers.has(id)) continue;
        this.followers.set(id, {
          logEndOffset: -1n,
          lastCaughtUpMs: nowMs,
          leaderEndAtLastFetch: -1n,
        });
      }
      for (const id of [...this.followers.keys()]) {
        if (!state.replicas.includes(id)) this.followers.delete(id);
      }
      // A follower that left the ISR (died, restarted, fell behind) must prove where it is
      // with a new fetch before it can rejoin: its old position may belong to a dead process.
      for (const id of previous?.isr ?? []) {
        const follower = this.followers.get(id);
        if (follower && !state.isr.includes(id)) {
          follower.logEndOffset = -1n;
          follower.leaderEndAtLastFetch = -1n;
        }
      }
      this.isrChangeInFlight = false;
      this.maybeAdvanceHighWatermark();
    } else {
      if (epochChanged) {
        this.needsTruncation = true;
        this.followers.clear();
        this.#failWaiters(
          KaError.of(
            "NOT_LEADER_OR_FOLLOWER",
            `Leadership of ${this.topic}-${this.partition} moved to ${state.leader}`,
          ),
        );
      }
    }
  }

  /** Appends a producer's batch as leader, recording the epoch it starts. */
  appendAsLeader(batch: Uint8Array, header: Parameters<PartitionLog["append"]>[1]) {
    assert(this.isLeader, "only the leader appends producer batches");
    const result = this.log.append(batch, header, this.state.leaderEpoch);
    this.txns.onBatch({ ...header, baseOffset: result.baseOffset }, batch);
    this.maybeAdvanceHighWatermark();
    return result;
  }

  /** A follower fetched from `fetchOffset`: it has everything below it. */
  onFollowerFetch(followerId: number, fetchOffset: bigint, nowMs: number): void {
    const follower = this.followers.get(followerId);
    if (!follower) return;
    follower.logEndOffset = fetchOffset;
    // Caught up: it has everything the leader had when it last asked (Kafka's rule), or all of it now.
    if (
      fetchOffset >= this.log.logEndOffset ||
      (follower.leaderEndAtLastFetch >= 0n && fetchOffset >= follower.leaderEndAtLastFetch)
    ) {
      follower.lastCaughtUpMs = nowMs;
    }
    follower.leaderEndAtLastFetch = this.log.logEndOffset;
    this.maybeAdvanceHighWatermark();
  }

  /** Leader: the high watermark is the smallest log end offset over the ISR; it never goes back. */
  maybeAdvanceHighWatermark(): void {
    if (!this.isLeader) return;
    let hw = this.log.logEndOffset;
    for (const id of this.state.isr) {
      if (id === this.brokerId) continue;
      const follower = this.followers.get(id);
      const leo = follower ? follower.logEndOffset : -1n;
      if (leo < hw) hw = leo;
    }
    if (hw > this.highWatermark) {
      this.highWatermark = hw;
      this.#wakeWaiters();
    }
  }

  /** Follower: the leader's high watermark, capped by what we have. */
  setFollowerHighWatermark(leaderHighWatermark: bigint): void {
    const hw = leaderHighWatermark < this.log.logEndOffset
      ? leaderHighWatermark
      : this.log.logEndOffset;
    if (hw >= 0n) this.highWatermark = hw;
  }

  /** Resolves once the high watermark passes `offset`; rejects on timeout or lost leadership. */
  waitForHighWatermark(offset: bigint, timeoutMs: number): Promise<void> {
    if (this.highWatermark >= offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: HwWaiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#hwWaiters = this.#hwWaiters.filter((w) => w !== waiter);
          reject(
            KaError.of(
              "REQUEST_TIMED_OUT",
              `Timed out after ${timeoutMs} ms waiting for the in-sync replicas of ${this.topic}-${this.partition} (ISR ${
                this.state.isr.join(",")
              })`,
            ),
          );
        }, timeoutMs),
      };
      this.#hwWaiters.push(waiter);
    });
  }

  /**
   * The ISR the leader would like now: followers caught up to the high
   * watermark join; members that have not caught up for `lagMaxMs` leave.
   * Null when nothing should change.
   */
  proposedIsr(nowMs: number, lagMaxMs: number): number[] | null {
    if (!this.isLeader || this.isrChangeInFlight) return null;
    const isr = new Set(this.state.isr);
    let changed = false;
    for (const [id, f] of this.followers) {
      const caughtUp = f.logEndOffset >= 0n && f.logEndOffset >= this.highWatermark &&
        f.logEndOffset >= (this.epochStartOffset() ?? 0n);
      if (!isr.has(id) && caughtUp) {
        isr.add(id);
        changed = true;
      } else if (isr.has(id) && nowMs - f.lastCaughtUpMs > lagMaxMs) {
        isr.delete(id);
        changed = true;
      }
    }
    if (!changed) return null;
    return this.state.replicas.filter((id) => isr.has(id));
  }

  /** Rebuilds the idempotence table from the batches in the log (after truncation or on becoming leader). */
  rebuildProducerState(): void {
    // Read in chunks (a disk log may not fit in memory); corrupt data, which the log
    // reports itself, ends the rebuild there.
    const headers: BatchHeader[] = [];
    this.txns.clear();
    for (const { header, bytes } of storedBatches(this.log, { onCorrupt: () => {} })) {
      headers.push(header);
      this.txns.onBatch(header, bytes);
    }
    this.producers.rebuildFrom(headers);
  }

  /** Offsets below this are committed and not part of an open transaction. */
  lastStableOffset(): bigint {
    return this.txns.lastStableOffset(this.highWatermark);
  }

  /** Start offset of the current leader epoch. */
  epochStartOffset(): bigint | null {
    const entry = this.epochCache.entries().find((e) => e.epoch === this.state.leaderEpoch);
    return entry ? entry.startOffset : null;
  }

  /** Fails every acks=all waiter (the partition is going away). */
  close(reason: KaError): void {
    this.#failWaiters(reason);
  }

  /** Removes the replica's stored data for good (its log and epoch checkpoint): it left this broker. */
  delete(): void {
    this.epochCache.detach();
    this.log.delete();
  }

  #wakeWaiters(): void {
    const ready = this.#hwWaiters.filter((w) => this.highWatermark >= w.offset);
    if (ready.length === 0) return;
    this.#hwWaiters = this.#hwWaiters.filter((w) => this.highWatermark < w.offset);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  #failWaiters(err: KaError): void {
    const waiters = this.#hwWaiters;
    this.#hwWaiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
