/**
 * Transactions on the client (Kafka's KIP-98): the state machine a
 * transactional producer runs, its conversation with the transaction
 * coordinator, and the consume-transform-produce loop built on it.
 *
 * **Wire.** The producer finds its transaction coordinator with
 * FindCoordinator (keyType 1, key = transactional id) on any broker, and
 * sends it InitProducerId (with the transactional id and timeout: the
 * coordinator bumps the epoch, fencing older instances and aborting their
 * open transaction), AddPartitionsToTxn before the first batch to each
 * partition in a transaction (all new partitions of one drain in one
 * request), AddOffsetsToTxn, and EndTxn. Offsets go to the *group*
 * coordinator (FindCoordinator keyType 0) as TxnOffsetCommit. Versions:
 * FindCoordinator 2, InitProducerId 1, AddPartitionsToTxn 2, AddOffsetsToTxn
 * 2, EndTxn 2, TxnOffsetCommit 2 — classic layouts, so TxnOffsetCommit
 * carries no generation or member id: a zombie is fenced by its producer
 * epoch, not by its group generation.
 *
 * **States** (Kafka's TransactionManager):
 *
 *     uninitialized ─initTransactions→ initializing → ready ─begin→ in-transaction
 *     in-transaction ─commit→ committing → ready
 *     in-transaction | abortable-error ─abort→ aborting → ready
 *     in-transaction ─a send or request failed→ abortable-error (only abort is allowed)
 *     any ─fenced (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, ...)→ fatal-error (every call fails)
 *
 * Retriable answers (CONCURRENT_TRANSACTIONS while the previous transaction's
 * markers are written, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost
 * connection, ...) are retried with backoff (`retry.ts`) for at most
 * `maxBlockMs`; coordinator errors look the coordinator up again.
 *
 * **Sequences.** Transactional batches are idempotent batches with the
 * transactional attribute bit. When the producer loses track of its
 * sequences (a batch whose outcome is unknown, OUT_OF_ORDER_SEQUENCE_NUMBER),
 * the transaction becomes abortable and `abortTransaction()` ends by asking
 * for a new epoch (InitProducerId again), so sequences restart at 0.
 * @module
 */
import { ApiKey, ERRORS } from "@kafka-analog/lib/protocol";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { type KafkaConnection, messageOf } from "@kafka-analog/lib/net";
import { sleep } from "@kafka-analog/lib/async";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import { backoffMs, type ProducerClock } from "./retry.ts";
import type { ConsumerBatch, TopicPartition } from "./group_consumer.ts";
import type { ConsumedMessage, ProducerMessage, RecordMetadata } from "./types.ts";

/** Where a transactional producer is in Kafka's transaction state machine. */
export type TransactionState =
  | "uninitialized"
  | "initializing"
  | "ready"
  | "in-transaction"
  | "committing"
  | "aborting"
  | "abortable-error"
  | "fatal-error";

/** Identifies the consumer whose offsets a transaction commits (Kafka's `ConsumerGroupMetadata`). */
export interface ConsumerGroupMetadata {
  groupId: string;
  /** Sent from TxnOffsetCommit v3 on; the v0–2 we speak have no field for it. */
  generationId: number;
  /** Sent from TxnOffsetCommit v3 on; the v0–2 we speak have no field for it. */
  memberId: string;
}

/** One consumed position to commit in a transaction: the next offset to read. */
export interface TransactionOffset extends TopicPartition {
  offset: bigint;
  metadata?: string | null;
}

/** A producer id and epoch. */
export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/** API versions a transactional client speaks. */
export const TXN_VERSIONS = {
  findCoordinator: 2,
  initProducerId: VERSIONS.initProducerId,
  addPartitionsToTxn: 2,
  addOffsetsToTxn: 2,
  endTxn: 2,
  txnOffsetCommit: 2,
} as const;

/** FindCoordinator key types. */
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

/** Answers after which the client gives up on the transactional id: it was fenced or lost. */
const FATAL_ERRORS: ReadonlySet<number> = new Set([
  ERRORS.PRODUCER_FENCED.code,
  ERRORS.INVALID_PRODUCER_EPOCH.code,
  ERRORS.INVALID_PRODUCER_ID_MAPPING.code,
  ERRORS.INVALID_TXN_STATE.code,
  ERRORS.TRANSACTION_COORDINATOR_FENCED.code,
  ERRORS.INVALID_TRANSACTION_TIMEOUT.code,
  ERRORS.UNSUPPORTED_VERSION.code,
]);

/** Answers after which the coordinator must be looked up again. */
const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  ERRORS.NOT_COORDINATOR.code,
  ERRORS.COORDINATOR_NOT_AVAILABLE.code,
  ERRORS.NETWORK_EXCEPTION.code,
  ERRORS.REQUEST_TIMED_OUT.code,
]);

/** True when `err` means the producer was fenced (or its transactional id is otherwise lost). */
export function isFatalTransactionError(err: unknown): boolean {
  return isKaError(err) && FATAL_ERRORS.has(err.code);
}

/** What a {@linkcode TransactionManager} needs besides its producer hooks. */
export interface TransactionManagerOptions {
  transactionalId: string;
  /** Longest a transaction may stay open before the coordinator aborts it. */
  transactionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Longest a transactional call keeps retrying (Kafka's `max.block.ms`). */
  maxBlockMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  random: () => number;
  clock: ProducerClock;
}

/** What the transaction manager asks of its producer. */
export interface TransactionalProducerHooks {
  /** Stamp later batches with this id and epoch; sequences start again at 0. */
  setProducerId(identity: ProducerIdentity): void;
  /** False once the producer dropped its id (its sequences are no longer known). */
  hasProducerId(): boolean;
  /**
   * With null: send everything buffered and wait until all of it is answered
   * (flush). With an error: fail every batch not sent yet with it, then wait
   * for the ones in flight.
   */
  drain(err: KaError | null): Promise<void>;
  /** The producer is fenced: fail every later call with `err`. */
  fence(err: KaError): void;
}

function asKaError(err: unknown): KaError {
  if (err instanceof KaError) return err;
  return KaError.of("UNKNOWN_SERVER_ERROR", `Unexpected transaction failure: ${messageOf(err)}`, {
    cause: err,
  });
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

/**
 * The transaction state machine of one producer with a `transactionalId`.
 * The producer calls {@linkcode TransactionManager.checkSend} before
 * buffering, {@linkcode TransactionManager.addPartitions} before sending
 * batches, and reports failed batches; the public transaction calls of the
 * producer delegate here.
 */
export class TransactionManager {
  readonly transactionalId: string;
  #cluster: ClusterView;
  #options: TransactionManagerOptions;
  #hooks: TransactionalProducerHooks;
  #state: TransactionState = "uninitialized";
  #identity: ProducerIdentity | null = null;
  /** The abortable error of this transaction, or the fatal one. */
  #error: KaError | null = null;
  /** Partitions the coordinator confirmed in this transaction. */
  #partitions = new Set<string>();
  /** AddPartitionsToTxn in flight, by partition. */
  #adding = new Map<string, Promise<void>>();
  /** True once the coordinator may know of this transaction (something was added). */
  #started = false;
  /** Counts transactions begun, so a send can tell whether its transaction is still open. */
  #txnNumber = 0;
  #coordinator: KafkaConnection | null = null;
  #groupCoordinators = new Map<string, KafkaConnection>();
  #checkedVersions = false;

  constructor(
    cluster: ClusterView,
    options: TransactionManagerOptions,
    hooks: TransactionalProducerHooks,
  ) {
    this.transactionalId = options.transactionalId;
    this.#cluster = cluster;
    this.#options = options;
    this.#hooks = hooks;
  }

  /** The current state. */
  get state(): TransactionState {
    return this.#state;
  }

  /** The producer id and epoch from the last InitProducerId, or null before it. */
  get identity(): ProducerIdentity | null {
    return this.#identity === null ? null : { ...this.#identity };
  }

  // --- the producer's calls -------------------------------------------------

  /**
   * Throws unless a send to `topic` may be buffered now (a transaction is
   * open and healthy); returns the transaction's number for
   * {@linkcode TransactionManager.checkStillOpen}.
   */
  checkSend(topic: string): number {
    if (this.#state !== "in-transaction") throw this.#stateError(`send to '${topic}'`);
    return this.#txnNumber;
  }

  /**
   * Throws unless transaction `txnNumber` is still open and healthy: a send
   * that waited (for metadata, buffer room) must not land in a later
   * transaction, or after its own ended.
   */
  checkStillOpen(topic: string, txnNumber: number): void {
    if (this.#txnNumber === txnNumber && this.#state === "in-transaction") return;
    if (this.#state === "fatal-error" || this.#state === "abortable-error") {
      throw this.#stateError(`send to '${topic}'`);
    }
    if (this.#txnNumber === txnNumber && this.#state === "committing") {
      throw KaError.of(
        "INVALID_TXN_STATE",
        `Cannot send to '${topic}' as its transaction of '${this.transactionalId}' began committing before the records were buffered: await send() before commitTransaction()`,
      );
    }
    throw this.#abortedError();
  }

  /**
   * Makes sure every partition is in the current transaction before batches
   * to it are sent: one AddPartitionsToTxn for all partitions not added yet
   * (waiting for ones being added). Throws when the transaction cannot take
   * them (aborting, failed, fenced).
   */
  async addPartitions(partitions: TopicPartition[]): Promise<void> {
    if (this.#state !== "in-transaction" && this.#state !== "committing") {
      throw this.#state === "aborting" ? this.#abortedError() : this.#stateError("send batches");
    }
    const waits: Promise<void>[] = [];
    const fresh: TopicPartition[] = [];
    for (const tp of partitions) {
      const k = tpKey(tp);
      if (this.#partitions.has(k)) continue;
      const pending = this.#adding.get(k);
      if (pending !== undefined) waits.push(pending);
      else if (!fresh.some((f) => tpKey(f) === k)) fresh.push(tp);
    }
    if (fresh.length > 0) {
      const task = this.#addPartitionsOnce(fresh);
      const settled = task.finally(() => {
        for (const tp of fresh) this.#adding.delete(tpKey(tp));
      });
      for (const tp of fresh) this.#adding.set(tpKey(tp), settled);
      waits.push(settled);
    }
    await Promise.all(waits);
  }

  /** A batch of the current transaction failed for good: the transaction must be aborted. */
  batchFailed(err: KaError): void {
    if (err.code === ERRORS.TRANSACTION_ABORTED.code) return;
    if (this.#state === "in-transaction") {
      this.#state = "abortable-error";
      this.#error ??= err;
    } else if (this.#state === "committing") {
      this.#error ??= err;
    }
  }

  /** The producer saw a fencing answer (e.g. INVALID_PRODUCER_EPOCH on Produce). */
  fenced(err: KaError): void {
    this.#fatal(err);
  }

  /** The error for batches left when the producer lost its id mid-transaction. */
  blockedError(): KaError {
    return this.#error ?? KaError.of(
      "INVALID_TXN_STATE",
      `Cannot send in transaction of '${this.transactionalId}' as the producer lost its sequence numbers: abort the transaction`,
    );
  }

  // --- the public transaction calls -----------------------------------------

  /**
   * Gets the producer id and the next epoch for the transactional id from its
   * coordinator, fencing older instances (whose open transaction the
   * coordinator aborts). Once per producer.
   */
  async init(): Promise<void> {
    this.#throwIfFatal();
    if (this.#state !== "uninitialized") {
      throw KaError.of(
        "INVALID_TXN_STATE",
        `Cannot initialize transactions of '${this.transactionalId}' as the state must be uninitialized: current state is ${this.#state}`,
      );
    }
    this.#state = "initializing";
    try {
      await this.#newEpoch();
      this.#state = "ready";
    } catch (err) {
      const e = asKaError(err);
      if (isFatalTransactionError(e)) throw this.#fatal(e);
      this.#state = "uninitialized";
      throw e;
    }
  }

  /** Starts a transaction (no request: the coordinator learns of it with the first add). */
  begin(): void {
    this.#throwIfFatal();
    if (this.#state !== "ready") {
      throw KaError.of(
        "INVALID_TXN_STATE",
        `Cannot begin a transaction of '${this.transactionalId}' as the state must be ready: current state is ${this.#state}${
          this.#state === "uninitialized" ? " (call initTransactions() first)" : ""
        }`,
      );
    }
    this.#state = "in-transaction";
    this.#txnNumber++;
    this.#error = null;
    this.#partitions.clear();
    this.#started = false;
  }

  /**
   * Adds consumed offsets to the transaction: AddOffsetsToTxn to the
   * transaction coordinator, then TxnOffsetCommit to the group's coordinator.
   * They become the group's committed offsets when the transaction commits.
   */
  async sendOffsets(offsets: TransactionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    this.#requireOpen("send offsets");
    if (group.groupId === "") throw KaError.of("INVALID_GROUP_ID", "groupId must not be empty");
    if (offsets.length === 0) return;
    for (const o of offsets) {
      if (o.offset < 0n) {
        throw KaError.of(
          "INVALID_REQUEST",
          `Cannot commit offset of ${o.topic}-${o.partition} as it must be >= 0: current value is ${o.offset}`,
        );
      }
    }
    try {
      this.#started = true;
      await this.#retrying(`AddOffsetsToTxn for group '${group.groupId}'`, null, async (conn) => {
        const id = this.#identity!;
        const response = await conn.request(ApiKey.AddOffsetsToTxn, TXN_VERSIONS.addOffsetsToTxn, {
          transactionalId: this.transactionalId,
          producerId: id.producerId,
          producerEpoch: id.producerEpoch,
          groupId: group.groupId,
        }, { timeoutMs: this.#options.requestTimeoutMs });
        throwIfError(response.errorCode, `Cannot add offsets of group '${group.groupId}'`);
      });
      const byTopic = new Map<string, TransactionOffset[]>();
      for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
      await this.#retrying(`TxnOffsetCommit for group '${group.groupId}'`, group.groupId, async (
        conn,
      ) => {
        const id = this.#identity!;
        const response = await conn.request(ApiKey.TxnOffsetCommit, TXN_VERSIONS.txnOffsetCommit, {
          transactionalId: this.transactionalId,
          groupId: group.groupId,
          producerId: id.producerId,
          producerEpoch: id.producerEpoch,
          topics: [...byTopic].map(([name, list]) => ({
            name,
            partitions: list.map((o) => ({
              partitionIndex: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: -1,
              committedMetadata: o.metadata ?? null,
            })),
          })),
        }, { timeoutMs: this.#options.requestTimeoutMs });
        for (const t of response.topics) {
          for (const p of t.partitions) {
            throwIfError(
              p.errorCode,
              `Cannot commit the offset of ${t.name}-${p.partitionIndex} in the transaction`,
            );
          }
        }
      });
    } catch (err) {
      throw this.#failed(err);
    }
  }

  /** Flushes every send of the transaction, then commits it (EndTxn committed=true). */
  async commit(): Promise<void> {
    this.#requireOpen("commit");
    this.#state = "committing";
    try {
      await this.#hooks.drain(null);
      if (this.#error !== null) {
        const cause = this.#error;
        throw new KaError(
          cause.code,
          `Cannot commit the transaction of '${this.transactionalId}' as a send failed: ${cause.message}; abort it`,
          { cause },
        );
      }
      if (this.#started) await this.#endTxn(true);
    } catch (err) {
      throw this.#failed(err);
    }
    this.#finish();
  }

  /**
   * Aborts the transaction: batches not sent yet fail with
   * TRANSACTION_ABORTED, sent ones are waited for, then EndTxn
   * committed=false. When the producer lost its sequences meanwhile, it then
   * takes a new epoch.
   */
  async abort(): Promise<void> {
    this.#throwIfFatal();
    if (this.#state !== "in-transaction" && this.#state !== "abortable-error") {
      throw KaError.of(
        "INVALID_TXN_STATE",
        `Cannot abort a transaction of '${this.transactionalId}' as none is open: current state is ${this.#state}`,
      );
    }
    this.#state = "aborting";
    try {
      await this.#hooks.drain(this.#abortedError());
      // A partition being added when the abort began may still reach the coordinator.
      await Promise.allSettled([...this.#adding.values()]);
      if (this.#started) await this.#endTxn(false);
      this.#started = false;
      if (!this.#hooks.hasProducerId()) await this.#newEpoch();
    } catch (err) {
      const e = asKaError(err);
      if (isFatalTransactionError(e)) throw this.#fatal(e);
      this.#state = "abortable-error";
      this.#error ??= e;
      throw e;
    }
    this.#finish();
  }

  /** Closes the coordinator connections. */
  close(): void {
    this.#coordinator?.close();
    this.#coordinator = null;
    for (const conn of this.#groupCoordinators.values()) conn.close();
    this.#groupCoordinators.clear();
  }

  // --- internals ------------------------------------------------------------

  #finish(): void {
    // A send still waiting from the ended transaction must not land in the next one.
    this.#txnNumber++;
    this.#state = "ready";
    this.#error = null;
    this.#partitions.clear();
    this.#started = false;
  }

  #throwIfFatal(): void {
    if (this.#state === "fatal-error") throw this.#error!;
  }

  #requireOpen(what: string): void {
    this.#throwIfFatal();
    if (this.#state === "abortable-error") {
      const cause = this.#error!;
      throw new KaError(
        cause.code,
        `Cannot ${what} as the transaction of '${this.transactionalId}' failed and must be aborted: ${cause.message}`,
        { cause },
      );
    }
    if (this.#state !== "in-transaction") throw this.#stateError(what);
  }

  #stateError(what: string): KaError {
    if (this.#state === "fatal-error") return this.#error!;
    if (this.#state === "abortable-error") {
      const cause = this.#error!;
      return new KaError(
        cause.code,
        `Cannot ${what} as the transaction of '${this.transactionalId}' failed and must be aborted: ${cause.message}`,
        { cause },
      );
    }
    if (this.#state === "aborting") return this.#abortedError();
    const hint = this.#state === "uninitialized" || this.#state === "initializing"
      ? "call initTransactions() first"
      : this.#state === "ready"
      ? "call beginTransaction() first"
      : "the transaction is committing";
    return KaError.of(
      "INVALID_TXN_STATE",
      `Cannot ${what} outside a transaction of '${this.transactionalId}' (${hint}): current state is ${this.#state}`,
    );
  }

  #abortedError(): KaError {
    return KaError.of(
      "TRANSACTION_ABORTED",
      `The transaction of '${this.transactionalId}' was aborted before these records were sent (they are dropped)`,
    );
  }

  /** Enters fatal-error with a clear message keeping the code; returns the error to throw. */
  #fatal(err: KaError): KaError {
    if (this.#state === "fatal-error") return this.#error!;
    const fenced = err.code === ERRORS.PRODUCER_FENCED.code ||
      err.code === ERRORS.INVALID_PRODUCER_EPOCH.code;
    const error = new KaError(
      err.code,
      fenced
        ? `The producer of transactional id '${this.transactionalId}' was fenced by a newer instance (or its transaction timed out); create a new producer: ${err.message}`
        : `The producer of transactional id '${this.transactionalId}' cannot go on: ${err.message}`,
      { cause: err },
    );
    this.#state = "fatal-error";
    this.#error = error;
    this.#hooks.fence(error);
    return error;
  }

  /** A transaction call failed: fatal when fenced, else the transaction must be aborted. */
  #failed(err: unknown): KaError {
    const e = asKaError(err);
    if (isFatalTransactionError(e)) return this.#fatal(e);
    if (this.#state === "fatal-error") return this.#error!;
    if (this.#state === "in-transaction" || this.#state === "committing") {
      this.#state = "abortable-error";
      this.#error ??= e;
    }
    return e;
  }

  async #addPartitionsOnce(fresh: TopicPartition[]): Promise<void> {
    this.#started = true;
    try {
      await this.#retrying("AddPartitionsToTxn", null, async (conn) => {
        const id = this.#identity!;
        const byTopic = new Map<string, number[]>();
        for (const tp of fresh) {
          byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
        }
        const response = await conn.request(
          ApiKey.AddPartitionsToTxn,
          TXN_VERSIONS.addPartitionsToTxn,
          {
            v3AndBelowTransactionalId: this.transactionalId,
            v3AndBelowProducerId: id.producerId,
            v3AndBelowProducerEpoch: id.producerEpoch,
            v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
          },
          { timeoutMs: this.#options.requestTimeoutMs },
        );
        // The cause, not the OPERATION_NOT_ATTEMPTED of the partitions that merely came along.
        let worst: { code: number; where: string } | null = null;
        const answered = new Set<string>();
        for (const t of response.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            answered.add(`${t.name}/${p.partitionIndex}`);
            if (p.partitionErrorCode === 0) continue;
            if (worst === null || worst.code === ERRORS.OPERATION_NOT_ATTEMPTED.code) {
              worst = { code: p.partitionErrorCode, where: `${t.name}-${p.partitionIndex}` };
            }
          }
        }
        if (worst !== null) {
          throwIfError(worst.code, `Cannot add ${worst.where} to the transaction`);
        }
        const missing = fresh.find((tp) => !answered.has(tpKey(tp)));
        if (missing !== undefined) {
          throw KaError.of(
            "INVALID_REQUEST",
            `AddPartitionsToTxn answer has no result for ${missing.topic}-${missing.partition}`,
          );
        }
      });
    } catch (err) {
      throw this.#failed(err);
    }
    for (const tp of fresh) this.#partitions.add(tpKey(tp));
  }

  async #endTxn(committed: boolean): Promise<void> {
    await this.#retrying(committed ? "EndTxn(commit)" : "EndTxn(abort)", null, async (conn) => {
      const id = this.#identity!;
      const response = await conn.request(ApiKey.EndTxn, TXN_VERSIONS.endTxn, {
        transactionalId: this.transactionalId,
        producerId: id.producerId,
        producerEpoch: id.producerEpoch,
        committed,
      }, { timeoutMs: this.#options.requestTimeoutMs });
      throwIfError(
        response.errorCode,
        `Cannot ${committed ? "commit" : "abort"} the transaction of '${this.transactionalId}'`,
      );
    });
  }

  /** InitProducerId with the transactional id: a new epoch (or a new id) for the producer. */
  async #newEpoch(): Promise<void> {
    const identity = await this.#retrying("InitProducerId", null, async (conn) => {
      await this.#checkVersions(conn);
      const response = await conn.request(ApiKey.InitProducerId, TXN_VERSIONS.initProducerId, {
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.#options.transactionTimeoutMs,
      }, { timeoutMs: this.#options.requestTimeoutMs });
      throwIfError(
        response.errorCode,
        `Cannot get a producer id for transactional id '${this.transactionalId}'`,
      );
      return { producerId: response.producerId, producerEpoch: response.producerEpoch };
    });
    this.#identity = identity;
    this.#hooks.setProducerId(identity);
  }

  /** Fails clearly (UNSUPPORTED_VERSION) when the broker does not serve the transactional APIs. */
  async #checkVersions(conn: KafkaConnection): Promise<void> {
    if (this.#checkedVersions) return;
    const versions = await conn.request(ApiKey.ApiVersions, VERSIONS.apiVersions, {});
    const needed: [string, number, number][] = [
      ["InitProducerId", ApiKey.InitProducerId, TXN_VERSIONS.initProducerId],
      ["AddPartitionsToTxn", ApiKey.AddPartitionsToTxn, TXN_VERSIONS.addPartitionsToTxn],
      ["AddOffsetsToTxn", ApiKey.AddOffsetsToTxn, TXN_VERSIONS.addOffsetsToTxn],
      ["EndTxn", ApiKey.EndTxn, TXN_VERSIONS.endTxn],
      ["TxnOffsetCommit", ApiKey.TxnOffsetCommit, TXN_VERSIONS.txnOffsetCommit],
    ];
    for (const [name, apiKey, version] of needed) {
      const range = versions.apiKeys.find((k) => k.apiKey === apiKey);
      if (range === undefined || range.minVersion > version || range.maxVersion < version) {
        throw KaError.of(
          "UNSUPPORTED_VERSION",
          `Cannot use transactions as the cluster does not serve ${name} v${version}`,
        );
      }
    }
    this.#checkedVersions = true;
  }

  /**
   * Runs `fn` against the transaction coordinator (`groupId` null) or a
   * group's coordinator, retrying retriable errors with backoff for at most
   * maxBlockMs, and finding the coordinator again after coordinator errors.
   */
  async #retrying<T>(
    what: string,
    groupId: string | null,
    fn: (conn: KafkaConnection) => Promise<T>,
  ): Promise<T> {
    const deadlineMs = this.#options.clock.now() + this.#options.maxBlockMs;
    for (let attempt = 1;; attempt++) {
      try {
        return await fn(await this.#coordinatorConn(groupId));
      } catch (err) {
        const e = asKaError(err);
        if (!e.retriable || FATAL_ERRORS.has(e.code)) throw e;
        if (COORDINATOR_MOVED.has(e.code)) this.#forgetCoordinator(groupId);
        const delayMs = backoffMs(attempt, {
          baseMs: this.#options.retryBackoffMs,
          maxMs: this.#options.retryBackoffMaxMs,
          random: this.#options.random,
        });
        if (this.#options.clock.now() + delayMs >= deadlineMs) {
          throw new KaError(
            e.code,
            `${what} did not succeed within max_block_ms ${this.#options.maxBlockMs} (${attempt} attempts); last error: ${e.message}`,
            { cause: e },
          );
        }
        await this.#options.clock.sleep(delayMs);
      }
    }
  }

  #forgetCoordinator(groupId: string | null): void {
    if (groupId === null) {
      this.#coordinator?.close();
      this.#coordinator = null;
    } else {
      this.#groupCoordinators.get(groupId)?.close();
      this.#groupCoordinators.delete(groupId);
    }
  }

  /**
   * The coordinator's connection, found with FindCoordinator on any broker.
   * A connection of its own: EndTxn waits there for the markers, which must
   * not hold up produce answers on a shared connection.
   */
  async #coordinatorConn(groupId: string | null): Promise<KafkaConnection> {
    const cached = groupId === null ? this.#coordinator : this.#groupCoordinators.get(groupId);
    if (cached && !cached.closed) return cached;
    const any = await this.#cluster.anyConnection();
    const key = groupId ?? this.transactionalId;
    const found = await any.request(ApiKey.FindCoordinator, TXN_VERSIONS.findCoordinator, {
      key,
      keyType: groupId === null ? KEY_TYPE_TRANSACTION : KEY_TYPE_GROUP,
    });
    throwIfError(
      found.errorCode,
      `Cannot find the ${groupId === null ? "transaction" : "group"} coordinator of '${key}'`,
      found.errorMessage,
    );
    const conn = await this.#cluster.dedicatedConnection(`${found.host}:${found.port}`);
    if (groupId === null) this.#coordinator = conn;
    else this.#groupCoordinators.set(groupId, conn);
    return conn;
  }
}

// --- consume-transform-produce ------------------------------------------------

/** One output record of a transform: a producer message and its topic. */
export interface TransformedMessage<K = unknown, V = unknown> extends ProducerMessage<K, V> {
  topic: string;
}

/** What a transform returns for one input message: nothing, one or several outputs. */
export type TransformResult<K = unknown, V = unknown> =
  | TransformedMessage<K, V>
  | TransformedMessage<K, V>[]
  | null
  | undefined;

/** The consumer side of {@linkcode consumeTransformProduce} (a `GroupConsumer` in exactly-once mode). */
export interface TransactionalConsumer {
  poll(): Promise<ConsumerBatch[]>;
  position(topic: string, partition: number): bigint | undefined;
  groupMetadata(): ConsumerGroupMetadata;
  seekToCommitted(): Promise<void>;
}

/** The producer side of {@linkcode consumeTransformProduce} (a `Producer` with a transactionalId). */
export interface TransactionalProducer<K, V> {
  readonly transactionState: TransactionState | null;
  initTransactions(): Promise<void>;
  beginTransaction(): void;
  send(topic: string, messages: ProducerMessage<K, V>[]): Promise<RecordMetadata[]>;
  sendOffsetsToTransaction(
    offsets: TransactionOffset[],
    group: ConsumerGroupMetadata,
  ): Promise<void>;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
}

/** What one transaction of the loop did, for {@linkcode ConsumeTransformProduceOptions.onTransaction}. */
export interface TransactionOutcome {
  committed: boolean;
  /** Input messages consumed in it. */
  inputCount: number;
  /** Output messages produced in it. */
  outputCount: number;
  /** The offsets it committed (or would have). */
  offsets: TransactionOffset[];
  /** Why it was aborted. */
  error?: unknown;
}

/** Options of {@linkcode consumeTransformProduce}. */
export interface ConsumeTransformProduceOptions<K, V> {
  consumer: TransactionalConsumer;
  producer: TransactionalProducer<K, V>;
  /** Maps one input message to its outputs; may be async. */
  transform: (message: ConsumedMessage) => TransformResult<K, V> | Promise<TransformResult<K, V>>;
  /** Stops the loop (between transactions). */
  signal?: AbortSignal;
  /** Called after each transaction commits or aborts. */
  onTransaction?: (outcome: TransactionOutcome) => void;
  /** Pause after a retriable poll error or an aborted transaction (default 100). */
  retryDelayMs?: number;
}

/** Totals of a {@linkcode consumeTransformProduce} run. */
export interface ConsumeTransformProduceStats {
  committed: number;
  aborted: number;
  inputCount: number;
  outputCount: number;
}

/**
 * Kafka's exactly-once loop: poll → begin → send the transformed records →
 * sendOffsetsToTransaction(positions, consumer.groupMetadata()) → commit,
 * until `signal` aborts. The producer's `initTransactions()` is called first
 * when it has not been (before the first poll, so an older instance's
 * transaction is finished before the group's offsets are read).
 *
 * When a transaction fails it is aborted and the consumer is rewound to the
 * group's committed offsets (`seekToCommitted`), so its input is read and
 * transformed again. Fatal errors (the producer was fenced) are thrown, as
 * are errors that are not `KaError`s (a bug in `transform` would fail the
 * same way forever) — after the abort and rewind.
 */
export async function consumeTransformProduce<K, V>(
  options: ConsumeTransformProduceOptions<K, V>,
): Promise<ConsumeTransformProduceStats> {
  const { consumer, producer, signal } = options;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const stats: ConsumeTransformProduceStats = {
    committed: 0,
    aborted: 0,
    inputCount: 0,
    outputCount: 0,
  };
  if (producer.transactionState === null) {
    throw KaError.of(
      "INVALID_CONFIG",
      "consumeTransformProduce needs a producer with a transactionalId",
    );
  }
  if (producer.transactionState === "uninitialized") await producer.initTransactions();
  while (!signal?.aborted) {
    let batches: ConsumerBatch[];
    try {
      batches = await consumer.poll();
    } catch (err) {
      if (isKaError(err) && err.retriable) {
        await sleep(retryDelayMs, signal);
        continue;
      }
      throw err;
    }
    if (batches.length === 0) continue;
    const inputCount = batches.reduce((n, b) => n + b.messages.length, 0);
    const offsets: TransactionOffset[] = [];
    let outputCount = 0;
    producer.beginTransaction();
    try {
      const byTopic = new Map<string, ProducerMessage<K, V>[]>();
      for (const batch of batches) {
        for (const message of batch.messages) {
          const result = await options.transform(message);
          const outputs = result === null || result === undefined
            ? []
            : Array.isArray(result)
            ? result
            : [result];
          for (const { topic, ...out } of outputs) {
            byTopic.set(topic, [...(byTopic.get(topic) ?? []), out]);
            outputCount++;
          }
        }
        const position = consumer.position(batch.topic, batch.partition);
        if (position !== undefined) {
          offsets.push({ topic: batch.topic, partition: batch.partition, offset: position });
        }
      }
      await Promise.all([...byTopic].map(([topic, messages]) => producer.send(topic, messages)));
      await producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      await producer.commitTransaction();
    } catch (err) {
      if (isFatalTransactionError(err) || producer.transactionState === "fatal-error") throw err;
      await producer.abortTransaction();
      await consumer.seekToCommitted();
      stats.aborted++;
      options.onTransaction?.({ committed: false, inputCount, outputCount, offsets, error: err });
      if (!isKaError(err)) throw err;
      await sleep(retryDelayMs, signal);
      continue;
    }
    stats.committed++;
    stats.inputCount += inputCount;
    stats.outputCount += outputCount;
    options.onTransaction?.({ committed: true, inputCount, outputCount, offsets });
  }
  return stats;
}
