/**
 * Follower replication: one fetcher per leader broker copies every
 * partition this broker follows from that leader. It long-polls the leader
 * with Kafka Fetch requests (replica id = our broker id), appends the
 * batches exactly as the leader stored them, and takes the leader's high
 * watermark. After a leadership change it first asks the leader where its
 * latest epoch ends (OffsetForLeaderEpoch) and truncates anything past it.
 * @module
 */
import { ApiKey, ERRORS, splitBatches } from "@kafka-analog/lib/protocol";
import { isKaError } from "@kafka-analog/lib/errors";
import { KafkaConnection, messageOf } from "@kafka-analog/lib/net";
import { sleep } from "@kafka-analog/lib/async";
import { type Broker, partitionKey } from "../broker.ts";
import type { Replica } from "./replica.ts";
import { ByteRateThrottle } from "./throttle.ts";

/** Options for {@linkcode ReplicaFetchers}. */
export interface FetcherOptions {
  signal: AbortSignal;
  /** Longest a follower fetch waits at the leader for new data. */
  maxWaitMs?: number;
  /** Bytes per partition per fetch. */
  partitionMaxBytes?: number;
  connect?: (address: string) => Promise<KafkaConnection>;
}

const FETCH_VERSION = 11;
const EPOCH_VERSION = 3;

/** Runs one fetch loop per leader this broker follows. */
export class ReplicaFetchers {
  #broker: Broker;
  #options: FetcherOptions;
  #loops = new Map<number, Promise<void>>();
  /** One budget for every partition being moved onto this broker, across leaders. */
  #throttle: ByteRateThrottle;

  constructor(broker: Broker, options: FetcherOptions) {
    this.#broker = broker;
    this.#options = options;
    this.#throttle = new ByteRateThrottle(
      broker.settings.reassignmentThrottleBytesPerSec ?? 0,
      broker.now,
    );
    broker.onMetadata(() => this.#plan());
  }

  /** Starts loops for leaders that have partitions to copy; loops end when they have none. */
  #plan(): void {
    for (const leader of this.#leaders()) {
      if (this.#loops.has(leader)) continue;
      const loop = this.#run(leader).finally(() => this.#loops.delete(leader));
      this.#loops.set(leader, loop);
    }
  }

  #leaders(): Set<number> {
    const out = new Set<number>();
    for (const r of this.#broker.replicas()) {
      if (!r.isLeader && r.state.leader >= 0) out.add(r.state.leader);
    }
    return out;
  }

  #followed(leader: number): Replica[] {
    return this.#broker.replicas().filter((r) => !r.isLeader && r.state.leader === leader);
  }

  async #run(leader: number): Promise<void> {
    const { signal } = this.#options;
    let conn: KafkaConnection | null = null;
    let failures = 0;
    while (!signal.aborted) {
      const replicas = this.#followed(leader);
      if (replicas.length === 0) break;
      try {
        conn = conn && !conn.closed ? conn : await this.#connect(leader);
        await this.#truncateIfNeeded(conn, replicas.filter((r) => r.needsTruncation));
        const errored = await this.#fetchOnce(
          conn,
          leader,
          replicas.filter((r) => !r.needsTruncation),
        );
        failures = 0;
        // An error answer comes back at once: pause so a partition that keeps failing cannot spin.
        if (errored) await sleep(100, signal);
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 50 === 0) {
          this.#broker.logger.warn("replica fetch failed", {
            leader,
            reason: messageOf(err),
            failures,
          });
        }
        conn?.close();
        conn = null;
        await sleep(Math.min(100 * failures, 1000), signal);
      }
    }
    conn?.close();
  }

  #connect(leader: number): Promise<KafkaConnection> {
    const endpoint = this.#broker.snapshot?.brokers.find((b) => b.id === leader);
    if (!endpoint) return Promise.reject(new Error(`leader ${leader} is not live in the metadata`));
    const address = `${endpoint.host}:${endpoint.port}`;
    return this.#options.connect?.(address) ??
      KafkaConnection.open(address, { clientId: `replica-${this.#broker.id}` });
  }

  /**
   * Cuts each replica's log back to where it stops agreeing with the leader:
   * the end of the largest epoch both know (KIP-279); when the leader knows
   * none of our epochs, what was committed; and never past the leader's own
   * log end (a leader that came back empty, or a fetch that was out of range).
   */
  async #truncateIfNeeded(conn: KafkaConnection, replicas: Replica[]): Promise<void> {
    if (replicas.length === 0) return;
    const ours = await this.#epochEnds(conn, replicas, (r) => r.epochCache.latestEpoch);
    const leaderEnds = await this.#epochEnds(conn, replicas, (r) => r.state.leaderEpoch);
    for (const replica of replicas) {
      const key = partitionKey(replica.topic, replica.partition);
      const answer = ours.get(key);
      const leaderEnd = leaderEnds.get(key)?.endOffset;
      if (!answer || leaderEnd === undefined) continue; // stale metadata somewhere: retried next round
      let target = replica.log.logEndOffset;
      if (replica.epochCache.latestEpoch >= 0) {
        if (answer.leaderEpoch < 0) {
          target = replica.highWatermark; // the leader knows none of our epochs: keep only what was committed
        } else {
          const mine =
            replica.epochCache.endOffsetFor(answer.leaderEpoch, replica.log.logEndOffset).endOffset;
          target = answer.endOffset < mine ? answer.endOffset : mine;
        }
      }
      if (leaderEnd >= 0n && leaderEnd < target) target = leaderEnd;
      if (target < replica.log.logEndOffset) {
        const before = replica.log.logEndOffset;
        const end = replica.log.truncateTo(target);
        replica.epochCache.truncateFromEnd(end);
        replica.rebuildProducerState();
        if (replica.highWatermark > end) replica.highWatermark = end;
        this.#broker.logger.warn("truncated divergent tail", {
          partition: key,
          from: before,
          to: end,
        });
      }
      replica.needsTruncation = false;
    }
  }

  /** Asks the leader where `epochOf(replica)` ends for each replica; errors are left out. */
  async #epochEnds(
    conn: KafkaConnection,
    replicas: Replica[],
    epochOf: (r: Replica) => number,
  ): Promise<Map<string, { leaderEpoch: number; endOffset: bigint }>> {
    const byTopic = new Map<string, Replica[]>();
    for (const r of replicas) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    const response = await conn.request(ApiKey.OffsetForLeaderEpoch, EPOCH_VERSION, {
      replicaId: this.#broker.id,
      topics: [...byTopic].map(([topic, rs]) => ({
        topic,
        partitions: rs.map((r) => ({
          partition: r.partition,
          currentLeaderEpoch: r.state.leaderEpoch,
          leaderEpoch: epochOf(r),
        })),
      })),
    }, { timeoutMs: 10_000 });
    const out = new Map<string, { leaderEpoch: number; endOffset: bigint }>();
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) out.set(partitionKey(t.topic, p.partition), p);
      }
    }
    return out;
  }

  /** One Fetch round for every replica that is ready to copy. */
  async #fetchOnce(conn: KafkaConnection, leader: number, replicas: Replica[]): Promise<boolean> {
    if (replicas.length === 0) {
      await sleep(50, this.#options.signal);
      return false;
    }
    let errored = false;
    // Short: a parked fetch hides partitions added since it was sent (and their first acks=all).
    const maxWaitMs = this.#options.maxWaitMs ?? 100;
    const partitionMaxBytes = this.#options.partitionMaxBytes ?? 1024 * 1024;
    // Partitions being moved onto this broker copy under the reassignment byte rate.
    const moving = (r: Replica) =>
      r.state.targetReplicas?.includes(this.#broker.id) === true &&
      !r.state.isr.includes(this.#broker.id);
    const budget = this.#throttle.available();
    const throttled = replicas.filter(moving);
    if (throttled.length > 0 && budget <= 0) {
      replicas = replicas.filter((r) => !moving(r));
      if (replicas.length === 0) {
        await sleep(Math.min(this.#throttle.waitMs(), 1000), this.#options.signal);
        return false;
      }
    }
    const throttledMaxBytes = Math.max(1, Math.floor(budget / Math.max(throttled.length, 1)));
    const byTopic = new Map<string, Replica[]>();
    for (const r of replicas) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    const response = await conn.request(ApiKey.Fetch, FETCH_VERSION, {
      replicaId: this.#broker.id,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 16 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, rs]) => ({
        topic,
        partitions: rs.map((r) => ({
          partition: r.partition,
          currentLeaderEpoch: r.state.leaderEpoch,
          fetchOffset: r.log.logEndOffset,
          logStartOffset: r.log.logStartOffset,
          partitionMaxBytes: moving(r)
            ? Math.min(partitionMaxBytes, throttledMaxBytes)
            : partitionMaxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: "",
    }, { timeoutMs: maxWaitMs + 10_000 });
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const replica = replicas.find((r) =>
          r.topic === t.topic && r.partition === p.partitionIndex
        );
        // Metadata may have moved on while the fetch was parked.
        if (!replica || replica.isLeader || replica.state.leader !== leader) continue;
        if (p.errorCode !== 0) errored = true;
        if (p.errorCode === ERRORS.OFFSET_OUT_OF_RANGE.code) {
          replica.needsTruncation = true;
          continue;
        }
        if (p.errorCode !== 0) continue; // not leader / fenced epoch: wait for newer metadata
        if (moving(replica)) this.#throttle.consume(p.records?.length ?? 0);
        this.#append(replica, p.records);
        replica.setFollowerHighWatermark(p.highWatermark);
      }
    }
    return errored;
  }

  #append(replica: Replica, records: Uint8Array | null): void {
    if (!records || records.length === 0) return;
    let slices;
    try {
      slices = splitBatches(records, { allowPartialTail: true, verifyCrc: true });
    } catch (err) {
      if (!isKaError(err)) throw err;
      this.#broker.logger.error("corrupt batch from leader", {
        partition: `${replica.topic}-${replica.partition}`,
        reason: err.message,
      });
      return;
    }
    for (const { header, bytes } of slices) {
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      if (lastOffset < replica.log.logEndOffset) continue; // already have it
      if (header.baseOffset < replica.log.logEndOffset) {
        // Overlaps our tail with different batch boundaries: ours diverged; take the leader's.
        replica.log.truncateTo(header.baseOffset);
        replica.epochCache.truncateFromEnd(header.baseOffset);
        replica.rebuildProducerState();
      }
      if (header.baseOffset !== replica.log.logEndOffset) {
        replica.needsTruncation = true; // a gap: re-check against the leader
        return;
      }
      // Stored as a view of the response frame, not copied: every batch of a fetch is normally
      // appended, so the frame holds little else (the leader's answer is whole batches).
      replica.log.appendReplica(bytes, header);
      replica.epochCache.assign(header.partitionLeaderEpoch, header.baseOffset);
      replica.producers.record(header, header.baseOffset);
      replica.txns.onBatch(header, bytes);
    }
  }
}
