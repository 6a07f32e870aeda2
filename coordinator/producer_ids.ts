/**
 * Producer ids and epochs for idempotent (and later transactional)
 * producers, handed out by the coordinator in answer to InitProducerId.
 *
 * - Ids only go up, also across coordinator restarts: they are reserved in
 *   blocks of `blockSize` (default 1000) and each reservation is persisted
 *   (`{type: "producer_id_block", end}`, meaning every id below `end` is
 *   taken) before an id from it is handed out. A restart replays the events
 *   and continues after the last block, so an id is never given twice (ids
 *   of a block cut short by a restart are skipped, as in Kafka).
 * - A producer without a transactional id gets a fresh id with epoch 0.
 * - A transactional id keeps its producer id and gets the next epoch each
 *   time (fencing the older instance); after epoch 32766 it gets a new id
 *   with epoch 0. Each change is persisted as
 *   `{type: "transactional_producer", transactionalId, producerId, producerEpoch}`.
 *
 * The `persist` callback is where the coordinator journals the events; it
 * must make them durable before returning (throwing refuses the request).
 * Pure apart from that callback.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { STRING_BYTES_MAX, TRANSACTIONAL_IDS_MAX } from "@kafka-analog/lib/limits";
import {
  ERRORS,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from "@kafka-analog/lib/protocol";

/** A durable change to the producer-id state. Ids are JSON numbers (< 2^53). */
export type ProducerIdEvent =
  | { type: "producer_id_block"; end: number }
  | {
    type: "transactional_producer";
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
  };

/** An id and epoch handed to a producer. */
export interface ProducerIdAndEpoch {
  producerId: bigint;
  producerEpoch: number;
}

/** Options for {@linkcode ProducerIdManager}. */
export interface ProducerIdManagerOptions {
  /** Makes an event durable before returning (the coordinator's journal). */
  persist?: (event: ProducerIdEvent) => void;
  /** Ids reserved per persisted block (default 1000). */
  blockSize?: number;
  /** Events persisted earlier, oldest first, to continue from. */
  events?: Iterable<ProducerIdEvent>;
}

/** Largest epoch handed out; the next bump moves to a new producer id. */
export const PRODUCER_EPOCH_MAX = 32_766;

/** Hands out producer ids and epochs. */
export class ProducerIdManager {
  #persist: (event: ProducerIdEvent) => void;
  #blockSize: number;
  /** Next id to hand out. */
  #next = 0;
  /** Ids below this are reserved (persisted). */
  #blockEnd = 0;
  #transactional = new Map<string, { producerId: number; producerEpoch: number }>();

  constructor(options: ProducerIdManagerOptions = {}) {
    this.#persist = options.persist ?? (() => {});
    this.#blockSize = options.blockSize ?? 1000;
    if (!Number.isInteger(this.#blockSize) || this.#blockSize < 1) {
      throw new RangeError(`blockSize must be a positive integer, got ${this.#blockSize}`);
    }
    for (const event of options.events ?? []) this.apply(event);
  }

  /** Replays one persisted event (on start-up); changes state without persisting. */
  apply(event: ProducerIdEvent): void {
    if (event.type === "producer_id_block") {
      this.#blockEnd = Math.max(this.#blockEnd, event.end);
      // After a restart the rest of the block is unknown-used: skip it.
      this.#next = this.#blockEnd;
    } else {
      this.#transactional.set(event.transactionalId, {
        producerId: event.producerId,
        producerEpoch: event.producerEpoch,
      });
      if (event.producerId >= this.#next) this.#next = event.producerId + 1;
      if (this.#next > this.#blockEnd) this.#blockEnd = this.#next;
    }
  }

  /** The id the next fresh producer would get (for tests and status). */
  get nextProducerId(): bigint {
    return BigInt(this.#next);
  }

  /**
   * An id and epoch for a producer: fresh (epoch 0) without a transactional
   * id, the same id with the next epoch for a known transactional id.
   * Throws KaError INVALID_REQUEST for an empty or too long transactional id.
   */
  initProducerId(transactionalId: string | null = null): ProducerIdAndEpoch {
    if (transactionalId === null) {
      return { producerId: BigInt(this.#allocate()), producerEpoch: 0 };
    }
    if (
      transactionalId === "" || new TextEncoder().encode(transactionalId).length > STRING_BYTES_MAX
    ) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot init producer id as 'transactionalId' must be 1-${STRING_BYTES_MAX} bytes`,
      );
    }
    const known = this.#transactional.get(transactionalId);
    if (known === undefined && this.#transactional.size >= TRANSACTIONAL_IDS_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot init producer id: ${TRANSACTIONAL_IDS_MAX} transactional ids are known already`,
      );
    }
    const next = known === undefined || known.producerEpoch >= PRODUCER_EPOCH_MAX
      ? { producerId: this.#allocate(), producerEpoch: 0 }
      : { producerId: known.producerId, producerEpoch: known.producerEpoch + 1 };
    this.#persist({ type: "transactional_producer", transactionalId, ...next });
    this.#transactional.set(transactionalId, next);
    return { producerId: BigInt(next.producerId), producerEpoch: next.producerEpoch };
  }

  #allocate(): number {
    if (this.#next >= this.#blockEnd) {
      const end = this.#next + this.#blockSize;
      if (!Number.isSafeInteger(end)) {
        throw KaError.of("UNKNOWN_SERVER_ERROR", "Producer ids are exhausted");
      }
      this.#persist({ type: "producer_id_block", end });
      this.#blockEnd = end;
    }
    return this.#next++;
  }
}

/**
 * The coordinator's InitProducerId handler: a pure function from request to
 * response. KaErrors become the response's error code; anything else (a
 * journal that cannot write) is thrown, closing the connection.
 */
export function handleInitProducerId(
  manager: ProducerIdManager,
  request: InitProducerIdRequest,
): InitProducerIdResponse {
  try {
    const { producerId, producerEpoch } = manager.initProducerId(request.transactionalId);
    return { throttleTimeMs: 0, errorCode: ERRORS.NONE.code, producerId, producerEpoch };
  } catch (err) {
    if (!isKaError(err)) throw err;
    return { throttleTimeMs: 0, errorCode: err.code, producerId: -1n, producerEpoch: -1 };
  }
}
