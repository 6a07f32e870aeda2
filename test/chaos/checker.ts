/**
 * The chaos harness's history checker: pure, so it is unit-tested with
 * hand-made histories (`checker_test.ts`). Given a {@linkcode History}'s
 * operations, including the final drains of every partition, it reports:
 *
 * - **acknowledged**: values of `ok` sends;
 * - **lost**: acknowledged values no drain found (or, with `expected`, those
 *   expected values);
 * - **duplicated**: one value at two different offsets (over every read);
 * - **inconsistent offsets**: one offset, two values (over every read:
 *   polls and drains of different readers);
 * - **misplaced acks**: an ack reported offset X but X holds another value
 *   (a zombie leader's ack, or an `acks=1` write lost and its offset
 *   reused; drains only, offsets ≥ 0);
 * - **non-monotonic polls**: a consumer's offsets of one partition went
 *   backwards or repeated without a reassignment in between;
 * - **aborted reads**: a read_committed read saw a value of an aborted
 *   transaction;
 * - **recovery times**: per fault, how long until every partition written
 *   after the fault began took a write again.
 * @module
 */
import type { Op, ReadRecord } from "./history.ts";

/** Options for {@linkcode check}. */
export interface CheckOptions {
  /** Check only this topic's sends and reads. */
  topic?: string;
  /** Values that must all be drained (instead of the acknowledged ones), e.g. a copy's input. */
  expected?: Iterable<string>;
  /** Maps a read value to the identity used for lost/duplicated (default: the value). */
  valueKey?: (value: string) => string;
  /** Examples kept per finding (default 10). */
  examples?: number;
}

/** One value at two or more offsets. */
export interface Duplicate {
  value: string;
  positions: string[];
}

/** One offset with two or more values. */
export interface Inconsistency {
  position: string;
  values: string[];
}

/** An ack whose offset holds another value. */
export interface MisplacedAck {
  value: string;
  position: string;
  found: string;
}

/** A consumer's poll that went backwards. */
export interface NonMonotonicPoll {
  process: string;
  partition: string;
  previous: number;
  offset: number;
}

/** Recovery after one fault. */
export interface Recovery {
  fault: string;
  atMs: number;
  healedAtMs: number | null;
  /** Worst partition's time to its first ack invoked after the fault; null if none came. */
  recoveryMs: number | null;
}

/** What {@linkcode check} found. */
export interface CheckReport {
  acknowledged: number;
  /** Sends that certainly failed. */
  failed: number;
  /** Sends with an unknown outcome. */
  indeterminate: number;
  /** Distinct values drained. */
  drained: number;
  lost: number;
  lostExamples: string[];
  duplicated: number;
  duplicatedExamples: Duplicate[];
  inconsistent: number;
  inconsistentExamples: Inconsistency[];
  misplacedAcks: number;
  misplacedExamples: MisplacedAck[];
  nonMonotonic: number;
  nonMonotonicExamples: NonMonotonicPoll[];
  abortedReads: number;
  abortedExamples: string[];
  /** Values of acknowledged/aborted transactions the checker knew. */
  committedTxns: number;
  abortedTxns: number;
  recoveries: Recovery[];
}

function position(r: { topic: string; partition: number; offset: number }): string {
  return `${r.topic}-${r.partition}@${r.offset}`;
}

function partitionOf(r: { topic: string; partition: number }): string {
  return `${r.topic}-${r.partition}`;
}

/** Checks a history (see the module doc). Pure. */
export function check(ops: readonly Op[], options: CheckOptions = {}): CheckReport {
  const keep = options.examples ?? 10;
  const keyOf = options.valueKey ?? ((v: string) => v);
  const inTopic = (topic: string | undefined) =>
    options.topic === undefined || topic === options.topic;

  // Sends.
  const acked = new Map<string, string | null>(); // value → acked position (null: unknown)
  let failed = 0;
  let indeterminate = 0;
  for (const op of ops) {
    if (op.f !== "send" || !inTopic(op.topic) || op.type === "invoke") continue;
    const values = op.values ?? [];
    if (op.type === "fail") failed += values.length;
    if (op.type === "info") indeterminate += values.length;
    if (op.type !== "ok") continue;
    values.forEach((value, i) => {
      const offset = op.offsets?.[i] ?? -1;
      const partition = op.partitions?.[i];
      acked.set(
        value,
        offset >= 0 && partition !== undefined
          ? position({ topic: op.topic!, partition, offset })
          : null,
      );
    });
  }

  // Transactions.
  const aborted = new Set<string>();
  let committedTxns = 0;
  let abortedTxns = 0;
  for (const op of ops) {
    if (op.f !== "txn") continue;
    if (op.type === "ok") committedTxns++;
    if (op.type === "fail") {
      abortedTxns++;
      for (const v of op.values ?? []) aborted.add(v);
    }
  }

  // Every read: positions ↔ values.
  const valuesAt = new Map<string, Set<string>>();
  const positionsOf = new Map<string, Set<string>>(); // key → positions
  const drainedAt = new Map<string, string>();
  const drainedKeys = new Set<string>();
  const abortedExamples: string[] = [];
  let abortedReads = 0;
  const reads = (op: Op): ReadRecord[] =>
    (op.f === "poll" || op.f === "drain") && op.type === "ok"
      ? (op.records ?? []).filter((r) => inTopic(r.topic))
      : [];
  for (const op of ops) {
    for (const r of reads(op)) {
      const pos = position(r);
      let at = valuesAt.get(pos);
      if (!at) valuesAt.set(pos, at = new Set());
      at.add(r.value);
      const key = keyOf(r.value);
      let where = positionsOf.get(key);
      if (!where) positionsOf.set(key, where = new Set());
      where.add(pos);
      if (op.f === "drain") {
        drainedAt.set(pos, r.value);
        drainedKeys.add(key);
      }
      if (op.committed && aborted.has(r.value)) {
        abortedReads++;
        if (abortedExamples.length < keep) abortedExamples.push(`${r.value} at ${pos}`);
      }
    }
  }

  const lostExamples: string[] = [];
  let lost = 0;
  for (const value of options.expected ?? acked.keys()) {
    if (drainedKeys.has(keyOf(value))) continue;
    lost++;
    if (lostExamples.length < keep) lostExamples.push(value);
  }

  const duplicatedExamples: Duplicate[] = [];
  let duplicated = 0;
  for (const [value, where] of positionsOf) {
    if (where.size < 2) continue;
    duplicated++;
    if (duplicatedExamples.length < keep) {
      duplicatedExamples.push({ value, positions: [...where].sort() });
    }
  }

  const inconsistentExamples: Inconsistency[] = [];
  let inconsistent = 0;
  for (const [pos, values] of valuesAt) {
    if (values.size < 2) continue;
    inconsistent++;
    if (inconsistentExamples.length < keep) {
      inconsistentExamples.push({ position: pos, values: [...values].sort() });
    }
  }

  const misplacedExamples: MisplacedAck[] = [];
  let misplacedAcks = 0;
  for (const [value, pos] of acked) {
    if (pos === null) continue;
    const found = drainedAt.get(pos);
    if (found === undefined || found === value) continue;
    misplacedAcks++;
    if (misplacedExamples.length < keep) misplacedExamples.push({ value, position: pos, found });
  }

  // Polls: per consumer and partition, offsets strictly increase until a reassignment.
  const nonMonotonicExamples: NonMonotonicPoll[] = [];
  let nonMonotonic = 0;
  const last = new Map<string, number>(); // process|partition → offset
  for (const op of ops) {
    if (op.f === "assign") {
      for (const k of [...last.keys()]) if (k.startsWith(`${op.process}|`)) last.delete(k);
      continue;
    }
    if (op.f !== "poll" || op.type !== "ok") continue;
    for (const r of reads(op)) {
      const k = `${op.process}|${partitionOf(r)}`;
      const previous = last.get(k);
      if (previous !== undefined && r.offset <= previous) {
        nonMonotonic++;
        if (nonMonotonicExamples.length < keep) {
          nonMonotonicExamples.push({
            process: op.process,
            partition: partitionOf(r),
            previous,
            offset: r.offset,
          });
        }
      }
      last.set(k, r.offset);
    }
  }

  return {
    acknowledged: acked.size,
    failed,
    indeterminate,
    drained: drainedKeys.size,
    lost,
    lostExamples,
    duplicated,
    duplicatedExamples,
    inconsistent,
    inconsistentExamples,
    misplacedAcks,
    misplacedExamples,
    nonMonotonic,
    nonMonotonicExamples,
    abortedReads,
    abortedExamples,
    committedTxns,
    abortedTxns,
    recoveries: recoveries(ops, inTopic),
  };
}

function recoveries(
  ops: readonly Op[],
  inTopic: (topic: string | undefined) => boolean,
): Recovery[] {
  const out: Recovery[] = [];
  const invokedAt = new Map<string, number>(); // process → invoke time of its pending send
  const sends: { invokedMs: number; doneMs: number; partitions: number[] }[] = [];
  for (const op of ops) {
    if (op.f !== "send" || !inTopic(op.topic)) continue;
    const k = `${op.process}`;
    if (op.type === "invoke") {
      invokedAt.set(k, op.timeMs);
      continue;
    }
    const invokedMs = invokedAt.get(k);
    invokedAt.delete(k);
    if (op.type === "ok" && invokedMs !== undefined) {
      sends.push({ invokedMs, doneMs: op.timeMs, partitions: [...new Set(op.partitions ?? [])] });
    }
  }
  for (const op of ops) {
    if (op.f !== "fault" || op.type !== "invoke") continue;
    const heal = ops.find((o) =>
      o.f === "fault" && o.type === "ok" && o.fault === op.fault && o.timeMs >= op.timeMs
    );
    // Partitions written after the fault began, and each one's first ack.
    const firstAck = new Map<number, number>();
    const written = new Set<number>();
    for (const s of sends) {
      if (s.invokedMs < op.timeMs) continue;
      for (const p of s.partitions) {
        written.add(p);
        if (!firstAck.has(p)) firstAck.set(p, s.doneMs);
      }
    }
    // Sends still pending at the end count as written: a partition that never acks again.
    for (const o of ops) {
      if (o.f === "send" && o.type !== "ok" && o.type !== "invoke" && o.timeMs >= op.timeMs) {
        for (const p of o.partitions ?? []) written.add(p);
      }
    }
    let recoveryMs: number | null = written.size === 0 ? null : 0;
    for (const p of written) {
      const at = firstAck.get(p);
      if (at === undefined) {
        recoveryMs = null;
        break;
      }
      recoveryMs = Math.max(recoveryMs!, at - op.timeMs);
    }
    out.push({
      fault: op.fault ?? "?",
      atMs: op.timeMs,
      healedAtMs: heal?.timeMs ?? null,
      recoveryMs: recoveryMs === null ? null : Math.round(recoveryMs),
    });
  }
  return out;
}

/** One line per finding kind, for logs and failures. */
export function summarize(report: CheckReport): string {
  const rec = report.recoveries.map((r) => r.recoveryMs === null ? "-" : `${r.recoveryMs}`);
  return [
    `acknowledged ${report.acknowledged} (failed ${report.failed}, indeterminate ${report.indeterminate}), drained ${report.drained}`,
    `lost ${report.lost}${fmt(report.lostExamples)}`,
    `duplicated ${report.duplicated}${fmt(report.duplicatedExamples)}`,
    `inconsistent ${report.inconsistent}${fmt(report.inconsistentExamples)}`,
    `misplaced acks ${report.misplacedAcks}${fmt(report.misplacedExamples)}`,
    `non-monotonic polls ${report.nonMonotonic}${fmt(report.nonMonotonicExamples)}`,
    `aborted reads ${report.abortedReads}${
      fmt(report.abortedExamples)
    } (txns committed ${report.committedTxns}, aborted ${report.abortedTxns})`,
    `recovery ms per fault [${rec.join(", ")}]`,
  ].join("; ");
}

function fmt(examples: unknown[]): string {
  return examples.length === 0 ? "" : ` e.g. ${JSON.stringify(examples.slice(0, 3))}`;
}
