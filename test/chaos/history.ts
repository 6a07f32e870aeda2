/**
 * Operation histories for the chaos harness, Jepsen style: every client
 * operation is recorded twice, once when it is invoked and once when it
 * completes — `ok` (it happened), `fail` (it certainly did not happen) or
 * `info` (unknown: a timeout or a lost connection; it may have happened).
 * Faults and heals are recorded too (`f: "fault"`, process `nemesis`), so
 * the checker can measure recovery times.
 *
 * Values written are unique strings `p<id>-<seq>` ({@linkcode valueOf}).
 * @module
 */

/** Completion kinds plus `invoke`. */
export type OpType = "invoke" | "ok" | "fail" | "info";

/** What an operation did. */
export type OpF =
  /** A produce: `values` to `partitions` (same index); `ok` carries `offsets` (−1 when unknown, acks=0). */
  | "send"
  /** A consumer poll: `records` in the order it returned them. */
  | "poll"
  /** A final read of whole partitions after the heal: `records`. */
  | "drain"
  /** A transaction: `values` it wrote; `ok` committed, `fail` aborted, `info` unknown. */
  | "txn"
  /** A consumer's assignment changed (`records` unused): resets its monotonic-poll tracking. */
  | "assign"
  /** A fault starts (`invoke`) or is healed (`ok`); `fault` names it. */
  | "fault";

/** One record a reader saw. */
export interface ReadRecord {
  topic: string;
  partition: number;
  offset: number;
  value: string;
}

/** One history entry. */
export interface Op {
  /** Who: `p3` (a client), `c1` (a consumer), `nemesis`, `drain-2`… */
  process: string;
  type: OpType;
  f: OpF;
  /** Milliseconds since the history began. */
  timeMs: number;
  topic?: string;
  values?: string[];
  partitions?: number[];
  offsets?: number[];
  records?: ReadRecord[];
  /** read_committed reader (polls and drains). */
  committed?: boolean;
  /** A fault's description, e.g. `kill broker 2`. */
  fault?: string;
  error?: string;
}

/** The unique value number `seq` of writer `id` writes. */
export function valueOf(id: number | string, seq: number): string {
  return `p${id}-${seq}`;
}

/** Collects operations in order, stamping each with the time since `start`. */
export class History {
  readonly ops: Op[] = [];
  readonly #startMs: number;
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#startMs = this.#now();
  }

  /** Milliseconds since the history began. */
  elapsedMs(): number {
    return Math.round((this.#now() - this.#startMs) * 10) / 10;
  }

  /** Appends `op` (without its time) and returns the full entry. */
  add(op: Omit<Op, "timeMs">): Op {
    const full = { ...op, timeMs: this.elapsedMs() };
    this.ops.push(full);
    return full;
  }

  /** Records a fault's start; call the returned function when it is healed. */
  fault(description: string): () => void {
    this.add({ process: "nemesis", type: "invoke", f: "fault", fault: description });
    return () => this.add({ process: "nemesis", type: "ok", f: "fault", fault: description });
  }
}
