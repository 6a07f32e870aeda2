/**
 * The transaction coordinator (KIP-98). For each transactional id it keeps
 * the producer id and epoch, the partitions and groups in the open
 * transaction, the offsets sent in it, and its state:
 *
 *     Empty ─AddPartitions/AddOffsets→ Ongoing ─EndTxn→ PrepareCommit | PrepareAbort
 *       ↑                                             │ markers written on every partition
 *       └──────────── CompleteCommit | CompleteAbort ←┘
 *
 * Every transition is journaled before it is acted on, so a restarted
 * coordinator finishes a transaction that was being committed or aborted.
 * An open transaction older than its timeout is aborted, with the epoch
 * bumped so the producer that let it expire is fenced. A newer producer with
 * the same transactional id (InitProducerId) fences older ones: their
 * requests get INVALID_PRODUCER_EPOCH.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { ERRORS } from "@kafka-analog/lib/protocol";
import type { ProducerIdManager } from "../producer_ids.ts";

/** Transaction states (Kafka's names). */
export type TxnState =
  | "Empty"
  | "Ongoing"
  | "PrepareCommit"
  | "PrepareAbort"
  | "CompleteCommit"
  | "CompleteAbort";

/** An offset sent in a transaction, applied to the group when it commits. */
export interface PendingOffset {
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
}

/** One transactional id's state. */
export interface Transaction {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  state: TxnState;
  timeoutMs: number;
  /** "topic/partition" keys. */
  partitions: Set<string>;
  groups: Set<string>;
  pendingOffsets: PendingOffset[];
  startedAtMs: number;
}

/** The journaled form of a transaction (JSON: bigints as strings). */
export interface TxnStateEvent {
  type: "txn_state";
  transactionalId: string;
  producerId: string;
  producerEpoch: number;
  state: TxnState;
  timeoutMs: number;
  partitions: string[];
  groups: string[];
  pendingOffsets: {
    group: string;
    topic: string;
    partition: number;
    offset: string;
    metadata: string | null;
  }[];
}

/** Options for {@linkcode TransactionCoordinator}. */
export interface TransactionCoordinatorOptions {
  producerIds: ProducerIdManager;
  now: () => number;
  persist: (event: TxnStateEvent) => void;
  events?: Iterable<TxnStateEvent>;
  /** Writes COMMIT/ABORT markers to every partition; resolves true when all are on their ISRs. */
  writeMarkers: (
    txn: {
      producerId: bigint;
      producerEpoch: number;
      commit: boolean;
      partitions: { topic: string; partition: number }[];
    },
  ) => Promise<boolean>;
  /** Applies committed transactional offsets to their groups (journaled there). */
  applyOffsets: (offsets: PendingOffset[]) => void;
  /** Does this partition exist? */
  partitionExists: (topic: string, partition: number) => boolean;
  transactionTimeoutMaxMs?: number;
}

/** Runs every transaction. */
export class TransactionCoordinator {
  #txns = new Map<string, Transaction>();
  #options: TransactionCoordinatorOptions;
  /** Completions in progress, so concurrent EndTxn / timeouts share one. */
  #completing = new Map<string, Promise<boolean>>();

  constructor(options: TransactionCoordinatorOptions) {
    this.#options = options;
    for (const e of options.events ?? []) {
      this.#txns.set(e.transactionalId, fromEvent(e, options.now()));
    }
  }

  /** A transaction's state (tests, status). */
  get(transactionalId: string): Transaction | undefined {
    return this.#txns.get(transactionalId);
  }

  /**
   * InitProducerId with a transactional id: bumps the epoch (fencing older
   * producers), aborting an open transaction of an older producer first.
   */
  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
  ): Promise<{ producerId: bigint; producerEpoch: number }> {
    const max = this.#options.transactionTimeoutMaxMs ?? 900_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > max) {
      throw KaError.of(
        "INVALID_TRANSACTION_TIMEOUT",
        `transactionTimeoutMs must be 1..${max}: current value is ${timeoutMs}`,
      );
    }
    const existing = this.#txns.get(transactionalId);
    if (existing && (existing.state === "PrepareCommit" || existing.state === "PrepareAbort")) {
      const done = await this.#complete(existing);
      if (!done) {
        throw KaError.of(
          "CONCURRENT_TRANSACTIONS",
          `Transaction '${transactionalId}' is still completing`,
        );
      }
    }
    const { producerId, producerEpoch } = this.#options.producerIds.initProducerId(transactionalId);
    if (existing && existing.state === "Ongoing") {
      // The old producer's transaction is aborted under a higher epoch: the old producer is fenced.
      this.#fenceForAbort(existing, producerId, producerEpoch);
      this.#transition(existing, "PrepareAbort");
      const done = await this.#complete(existing);
      if (!done) {
        throw KaError.of(
          "CONCURRENT_TRANSACTIONS",
          `Aborting the open transaction of '${transactionalId}'`,
        );
      }
    }
    const txn: Transaction = {
      transactionalId,
      producerId,
      producerEpoch,
      state: "Empty",
      timeoutMs,
      partitions: new Set(),
      groups: new Set(),
      pendingOffsets: [],
      startedAtMs: this.#options.now(),
    };
    this.#txns.set(transactionalId, txn);
    this.#persist(txn);
    return { producerId, producerEpoch };
  }

  /** AddPartitionsToTxn: an error code per partition. */
  addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: { topic: string; partition: number }[],
  ): { topic: string; partition: number; errorCode: number }[] {
    const check = this.#check(transactionalId, producerId, producerEpoch);
    if (check !== null) return partitions.map((p) => ({ ...p, errorCode: check }));
    const txn = this.#txns.get(transactionalId)!;
    const missing = partitions.filter((p) => !this.#options.partitionExists(p.topic, p.partition));
    if (missing.length > 0) {
      // Kafka fails the whole request: the unknown ones with their error, the rest as not attempted.
      return partitions.map((p) => ({
        ...p,
        errorCode: missing.includes(p)
          ? ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code
          : ERRORS.OPERATION_NOT_ATTEMPTED.code,
      }));
    }
    this.#begin(txn);
    for (const p of partitions) txn.partitions.add(`${p.topic}/${p.partition}`);
    this.#persist(txn);
    return partitions.map((p) => ({ ...p, errorCode: 0 }));
  }

  /** AddOffsetsToTxn: the group's offsets will be part of the transaction. */
  addOffsets(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    groupId: string,
  ): number {
    const check = this.#check(transactionalId, producerId, producerEpoch);
    if (check !== null) return check;
    const txn = this.#txns.get(transactionalId)!;
    this.#begin(txn);
    txn.groups.add(groupId);
    this.#persist(txn);
    return 0;
  }

  /** TxnOffsetCommit: offsets held in the transaction until it commits. */
  txnOffsetCommit(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint; metadata: string | null }[],
  ): number {
    const check = this.#check(transactionalId, producerId, producerEpoch);
    if (check !== null) return check;
    const txn = this.#txns.get(transactionalId)!;
    if (txn.state !== "Ongoing" || !txn.groups.has(groupId)) {
      return KaError.of("INVALID_TXN_STATE").code;
    }
    const keep = txn.pendingOffsets.filter((o) =>
      !(o.group === groupId &&
        offsets.some((n) => n.topic === o.topic && n.partition === o.partition))
    );
    txn.pendingOffsets = [...keep, ...offsets.map((o) => ({ group: groupId, ...o }))];
    this.#persist(txn);
    return 0;
  }

  /** EndTxn: commit or abort; resolves once the markers are written (or the outcome is durable). */
  async endTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    const txn = this.#txns.get(transactionalId);
    const check = this.#check(transactionalId, producerId, producerEpoch, { allowPrepare: true });
    if (check !== null || !txn) return check ?? KaError.of("INVALID_PRODUCER_ID_MAPPING").code;
    const wanted: TxnState = commit ? "PrepareCommit" : "PrepareAbort";
    if (txn.state === "PrepareCommit" || txn.state === "PrepareAbort") {
      if (txn.state !== wanted) return KaError.of("INVALID_TXN_STATE").code;
    } else if (txn.state === "Ongoing") {
      this.#transition(txn, wanted);
    } else if (
      txn.state === "Empty" || txn.state === (commit ? "CompleteCommit" : "CompleteAbort")
    ) {
      return 0; // nothing was sent in this transaction, or a retried EndTxn
    } else {
      return KaError.of("INVALID_TXN_STATE").code;
    }
    // The outcome is durable now; markers are retried until written, so answer either way.
    await this.#complete(txn);
    return 0;
  }

  /** Aborts open transactions past their timeout and retries unfinished completions. */
  tick(): void {
    const now = this.#options.now();
    for (const txn of this.#txns.values()) {
      if (txn.state === "Ongoing" && now - txn.startedAtMs > txn.timeoutMs) {
        // Bump the epoch so the producer that let it time out is fenced, then abort.
        const { producerId, producerEpoch } = this.#options.producerIds.initProducerId(
          txn.transactionalId,
        );
        this.#fenceForAbort(txn, producerId, producerEpoch);
        this.#transition(txn, "PrepareAbort");
      }
      if (txn.state === "PrepareCommit" || txn.state === "PrepareAbort") void this.#complete(txn);
    }
  }

  /**
   * Sets the epoch the abort markers are written with: normally the new
   * epoch. When the epoch ran out and the manager handed out a new producer
   * id, the markers must still name the old id (the brokers know the
   * transaction under it), with its epoch + 1 (Kafka keeps 32767 for this).
   */
  #fenceForAbort(txn: Transaction, producerId: bigint, producerEpoch: number): void {
    txn.producerEpoch = producerId === txn.producerId ? producerEpoch : txn.producerEpoch + 1;
  }

  #begin(txn: Transaction): void {
    if (txn.state !== "Ongoing") {
      txn.state = "Ongoing";
      txn.partitions = new Set();
      txn.groups = new Set();
      txn.pendingOffsets = [];
      txn.startedAtMs = this.#options.now();
    }
  }

  /** Error code for a request from a producer that is not the current one, or null. */
  #check(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    options: { allowPrepare?: boolean } = {},
  ): number | null {
    const txn = this.#txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) {
      return KaError.of("INVALID_PRODUCER_ID_MAPPING").code;
    }
    if (producerEpoch !== txn.producerEpoch) return KaError.of("INVALID_PRODUCER_EPOCH").code;
    if (!options.allowPrepare && (txn.state === "PrepareCommit" || txn.state === "PrepareAbort")) {
      return KaError.of("CONCURRENT_TRANSACTIONS").code;
    }
    return null;
  }

  #transition(txn: Transaction, state: TxnState): void {
    txn.state = state;
    this.#persist(txn);
  }

  /** Writes the markers of a Prepare* transaction and completes it; one attempt at a time. */
  #complete(txn: Transaction): Promise<boolean> {
    const running = this.#completing.get(txn.transactionalId);
    if (running) return running;
    const commit = txn.state === "PrepareCommit";
    const task = (async () => {
      // Let the task be registered before its body can finish (an empty transaction has no awaits).
      await Promise.resolve();
      try {
        const partitions = [...txn.partitions].map((k) => {
          const i = k.lastIndexOf("/");
          return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
        });
        const ok = partitions.length === 0 || await this.#options.writeMarkers({
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          commit,
          partitions,
        });
        if (!ok) return false; // retried on the next tick
        if (commit && txn.pendingOffsets.length > 0) this.#options.applyOffsets(txn.pendingOffsets);
        txn.pendingOffsets = [];
        txn.partitions = new Set();
        txn.groups = new Set();
        this.#transition(txn, commit ? "CompleteCommit" : "CompleteAbort");
        return true;
      } catch (err) {
        if (!isKaError(err)) throw err;
        return false;
      } finally {
        this.#completing.delete(txn.transactionalId);
      }
    })();
    this.#completing.set(txn.transactionalId, task);
    return task;
  }

  #persist(txn: Transaction): void {
    this.#options.persist({
      type: "txn_state",
      transactionalId: txn.transactionalId,
      producerId: txn.producerId.toString(),
      producerEpoch: txn.producerEpoch,
      state: txn.state,
      timeoutMs: txn.timeoutMs,
      partitions: [...txn.partitions],
      groups: [...txn.groups],
      pendingOffsets: txn.pendingOffsets.map((o) => ({ ...o, offset: o.offset.toString() })),
    });
  }
}

function fromEvent(e: TxnStateEvent, now: number): Transaction {
  return {
    transactionalId: e.transactionalId,
    producerId: BigInt(e.producerId),
    producerEpoch: e.producerEpoch,
    state: e.state,
    timeoutMs: e.timeoutMs,
    partitions: new Set(e.partitions),
    groups: new Set(e.groups),
    pendingOffsets: e.pendingOffsets.map((o) => ({ ...o, offset: BigInt(o.offset) })),
    // An open transaction found at start gets a fresh timeout.
    startedAtMs: now,
  };
}
