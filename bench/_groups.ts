/**
 * Consumer-group measurements (issue #5), against a real cluster through
 * `client.groupConsumer(...)`: how fast a group of N members (all in the
 * bench process) reads a pre-filled topic to the end, and how long the
 * survivors of a stable group of 3 take to own every partition after one
 * member calls `close()` (LeaveGroup). Every wait is bounded by a deadline.
 * @module
 */
import type { Client, ConsumerBatch, GroupConsumer, TopicPartition } from "@kafka-analog/clients";
import { type Throughput, throughput } from "./_stats.ts";

/** Settings every member of a measured group gets. */
export interface MemberSettings {
  /** Long-poll wait of each member's fetches. */
  maxWaitMs: number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
}

/** Conditions of one group-consumer throughput run. */
export interface GroupConsumeOptions extends MemberSettings {
  topic: string;
  /** Messages in each partition (offsets 0..n−1), as produced. */
  messagesPerPartition: number[];
  /** A group id never used before, so every member starts at offset 0 ("earliest"). */
  groupId: string;
  members: number;
  deadlineMs: number;
  /**
   * When given, the members' `close()` calls (each can wait up to a heartbeat
   * interval) are pushed here instead of awaited, so the next run can start.
   */
  pendingCloses?: Promise<void>[];
}

/** Result of one group-consumer throughput run. */
export interface GroupConsumeResult extends Throughput {
  /** First poll → every member in one generation, the partitions split among them (untimed). */
  joinMs: number;
  generation: number;
  /** Partitions each member owned. */
  partitionsPerMember: number[];
  /** Messages each member handed to its `eachBatch`. */
  messagesPerMember: number[];
  /** Batches handed to `eachBatch` in all. */
  batches: number;
}

/**
 * Reads the whole topic with a fresh group of `members` members. The members
 * first join with every partition paused, so the group is stable (one
 * generation, every partition owned once) before the clock starts; then all
 * partitions are resumed and the clock runs until the last message is handed
 * to an `eachBatch`. Every partition's offsets must arrive in order with no
 * gap and no repeat.
 */
export async function groupConsumeThroughput(
  client: Client,
  options: GroupConsumeOptions,
): Promise<GroupConsumeResult> {
  const partitions = options.messagesPerPartition.length;
  const all: TopicPartition[] = Array.from(
    { length: partitions },
    (_, partition) => ({ topic: options.topic, partition }),
  );
  const expected = options.messagesPerPartition.reduce((a, b) => a + b, 0);
  const members = Array.from({ length: options.members }, (_, i) =>
    client.groupConsumer({
      groupId: options.groupId,
      clientId: `bench-member-${i}`,
      autoOffsetReset: "earliest",
      maxWaitMs: options.maxWaitMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      sessionTimeoutMs: options.sessionTimeoutMs,
    }));
  const startMs = performance.now();
  try {
    for (const m of members) {
      m.subscribe([options.topic]);
      m.pause(all);
    }
    let early = 0;
    const joining = startLoops(members, () => (batch) => void (early += batch.messages.length));
    const joinMs = await Promise.race([
      untilStable(members, partitions, null, startMs, options.deadlineMs),
      joining.failed,
    ]);
    await joining.stop();
    if (early > 0) throw new Error(`${early} messages arrived while every partition was paused`);
    const generation = members[0].generationId;

    // Per partition: the next offset expected; anything else is a gap or a repeat.
    const next = new Array<bigint>(partitions).fill(0n);
    const messagesPerMember = new Array<number>(members.length).fill(0);
    let consumed = 0;
    let payloadBytes = 0;
    let batches = 0;
    let endMs = 0;
    let problem: Error | null = null;
    const stop = new AbortController();
    const eachBatch = (member: number) => (batch: ConsumerBatch) => {
      batches++;
      for (const message of batch.messages) {
        if (message.offset !== next[batch.partition]) {
          problem ??= new Error(
            `${options.topic}-${batch.partition}: offset ${message.offset} arrived where ${
              next[batch.partition]
            } was expected`,
          );
          stop.abort();
          return;
        }
        next[batch.partition]++;
        payloadBytes += message.value?.length ?? 0;
      }
      consumed += batch.messages.length;
      messagesPerMember[member] += batch.messages.length;
      if (consumed >= expected && endMs === 0) {
        endMs = performance.now();
        stop.abort();
      }
    };
    const timer = setTimeout(() => {
      problem ??= new Error(
        `${options.topic}: ${consumed} of ${expected} messages consumed by group ` +
          `${options.groupId} within the ${options.deadlineMs} ms deadline`,
      );
      stop.abort();
    }, Math.max(0, options.deadlineMs - (performance.now() - startMs)));
    for (const m of members) m.resume(all);
    const consumeStartMs = performance.now();
    const consuming = startLoops(members, eachBatch, stop);
    try {
      await Promise.race([consuming.done, consuming.failed]);
    } finally {
      clearTimeout(timer);
      await consuming.stop();
    }
    if (problem !== null) throw problem;
    const behind = options.messagesPerPartition.findIndex((n, p) => next[p] !== BigInt(n));
    if (behind >= 0) {
      throw new Error(
        `${options.topic}-${behind}: read up to ${next[behind]}, produced ${
          options.messagesPerPartition[behind]
        }`,
      );
    }
    if (members.some((m) => m.generationId !== generation)) {
      throw new Error(`group ${options.groupId} rebalanced while it was being measured`);
    }
    return {
      ...throughput(consumed, payloadBytes, endMs - consumeStartMs),
      joinMs,
      generation,
      partitionsPerMember: members.map((m) => m.assignment().length),
      messagesPerMember,
      batches,
    };
  } finally {
    await closeAll(members, options.pendingCloses);
  }
}

/** Conditions of one rebalance measurement. */
export interface RebalanceOptions extends MemberSettings {
  /** Any existing topic; members start at its end ("latest"), so they only long-poll. */
  topic: string;
  partitions: number;
  /** A group id never used before. */
  groupId: string;
  /**
   * Time between the leaving member's last poll and its `close()`. The
   * members' heartbeat timers start together at the join and their idle long
   * polls run in step, so this sets the phase of the `close()` against the
   * survivors' next heartbeat and the end of their current poll.
   */
  closeDelayMs: number;
  deadlineMs: number;
  /** As in {@linkcode GroupConsumeOptions}: where the survivors' `close()` calls go. */
  pendingCloses?: Promise<void>[];
}

/** Result of one rebalance measurement. */
export interface RebalanceResult {
  /** First poll → 3 members in one generation owning every partition (untimed). */
  joinMs: number;
  /** The leaving member's last poll ended → its `close()` call (as measured). */
  closeDelayMs: number;
  /** How long the leaving member's `close()` took (commit, LeaveGroup, stop heartbeats). */
  closeMs: number;
  /** `close()` called → both survivors in a newer generation, owning every partition. */
  rebalanceMs: number;
  generationBefore: number;
  generationAfter: number;
  /** Partitions each survivor owns afterwards. */
  partitionsAfter: number[];
}

/**
 * A group of 3 members consumes an idle topic until stable; then the second
 * member stops polling and, `closeDelayMs` later, calls `close()`, which
 * commits and sends LeaveGroup. The clock runs from that call until both
 * other members report a newer generation whose assignments cover every
 * partition exactly once (checked every timer tick, about 2 ms).
 */
export async function rebalanceAfterLeave(
  client: Client,
  options: RebalanceOptions,
): Promise<RebalanceResult> {
  const members = Array.from({ length: 3 }, (_, i) =>
    client.groupConsumer({
      groupId: options.groupId,
      clientId: `bench-rebalance-${i}`,
      autoOffsetReset: "latest",
      maxWaitMs: options.maxWaitMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      sessionTimeoutMs: options.sessionTimeoutMs,
    }));
  const startMs = performance.now();
  let unexpected = 0;
  let loops: Loops | null = null;
  try {
    for (const m of members) m.subscribe([options.topic]);
    loops = startLoops(members, () => (batch) => void (unexpected += batch.messages.length));
    const joinMs = await Promise.race([
      untilStable(members, options.partitions, null, startMs, options.deadlineMs),
      loops.failed,
    ]);
    const generationBefore = members[0].generationId;
    // The application stops polling (its current long poll ends first), later closes.
    const leaver = members[1];
    await loops.stopOne(1);
    const stoppedAtMs = performance.now();
    await Promise.race([
      new Promise<void>((resolve) => setTimeout(resolve, options.closeDelayMs)),
      loops.failed,
    ]);
    if (members.some((m) => m.generationId !== generationBefore)) {
      throw new Error(`group ${options.groupId} rebalanced before a member left`);
    }
    const survivors = members.filter((m) => m !== leaver);
    const closeStartMs = performance.now();
    const measuredDelayMs = closeStartMs - stoppedAtMs;
    const closing = leaver.close().then(() => performance.now() - closeStartMs);
    await Promise.race([
      untilStable(survivors, options.partitions, generationBefore, startMs, options.deadlineMs),
      loops.failed,
    ]);
    const rebalanceMs = performance.now() - closeStartMs;
    const closeMs = await closing;
    if (unexpected > 0) {
      throw new Error(`${options.topic} was expected idle but ${unexpected} messages arrived`);
    }
    return {
      joinMs,
      closeDelayMs: measuredDelayMs,
      closeMs,
      rebalanceMs,
      generationBefore,
      generationAfter: survivors[0].generationId,
      partitionsAfter: survivors.map((m) => m.assignment().length),
    };
  } finally {
    await loops?.stop();
    await closeAll(members, options.pendingCloses);
  }
}

/** Closes every member: awaited, or pushed to `pending` when given. */
async function closeAll(members: GroupConsumer[], pending?: Promise<void>[]): Promise<void> {
  const closing = Promise.all(members.map((m) => m.close().catch(() => {}))).then(() => {});
  if (pending) pending.push(closing);
  else await closing;
}

/** The `run` loops of a group's members. */
interface Loops {
  /** Settles when every loop has ended (after its signal aborted). */
  done: Promise<void>;
  /** Rejects with the first loop's error; never resolves. */
  failed: Promise<never>;
  /** Stops one member's loop and waits for it to end (its current poll finishes first). */
  stopOne(index: number): Promise<void>;
  /** Stops every loop and waits for them to end; errors are left to `failed`. */
  stop(): Promise<void>;
}

/** Starts `run` on every member, with `handler(i)` as member i's `eachBatch`. */
function startLoops(
  members: GroupConsumer[],
  handler: (member: number) => (batch: ConsumerBatch) => void,
  shared?: AbortController,
): Loops {
  const controllers = members.map(() => new AbortController());
  if (shared) {
    shared.signal.addEventListener("abort", () => {
      for (const c of controllers) c.abort();
    }, { once: true });
  }
  const runs = members.map((m, i) =>
    m.run({ eachBatch: handler(i), signal: controllers[i].signal })
  );
  const failed = Promise.race(runs.map((r) => r.then(() => new Promise<never>(() => {}))));
  failed.catch(() => {}); // reported through whoever races it
  const settled = runs.map((r) => r.then(() => {}, () => {}));
  return {
    done: Promise.all(runs).then(() => {}),
    failed,
    stopOne: async (index) => {
      controllers[index].abort();
      await settled[index];
    },
    stop: async () => {
      for (const c of controllers) c.abort();
      await Promise.all(settled);
    },
  };
}

/**
 * Waits until every member reports the same generation (newer than `after`,
 * when given) and their assignments cover partitions 0..n−1 exactly once;
 * returns the milliseconds since `startMs`. Members must be polling (their
 * `run` loops do the joining).
 */
async function untilStable(
  members: GroupConsumer[],
  partitions: number,
  after: number | null,
  startMs: number,
  deadlineMs: number,
): Promise<number> {
  const stable = () => {
    const generation = members[0].generationId;
    if (generation < 0 || (after !== null && generation <= after)) return false;
    if (members.some((m) => m.generationId !== generation)) return false;
    const owned = members.flatMap((m) => m.assignment().map((tp) => tp.partition));
    if (owned.length !== partitions) return false;
    return new Set(owned).size === partitions && owned.every((p) => p >= 0 && p < partitions);
  };
  while (!stable()) {
    if (performance.now() - startMs > deadlineMs) {
      throw new Error(
        `consumer group not stable within ${deadlineMs} ms (generations ${
          members.map((m) => m.generationId).join(", ")
        }, partitions owned ${members.map((m) => m.assignment().length).join(", ")})`,
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  return performance.now() - startMs;
}
