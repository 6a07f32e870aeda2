/**
 * The reader gateway's subscriptions: each is a consumer-group member
 * (`GatewayCluster.joinGroup`) drained by a {@linkcode BufferedConsumer},
 * known by a random id, polled over HTTP.
 *
 * - **Polls** (`poll`) take what is buffered, waiting up to `timeoutMs` for
 *   the first message. One request per subscription at a time: a second one
 *   while a poll or commit runs is 409 SUBSCRIPTION_BUSY.
 * - **autoCommit** (default on): the offsets a poll returned are committed
 *   when the next poll of the subscription (or its DELETE) arrives — asking
 *   for more says the previous ones were handled. Messages handed out and
 *   not yet confirmed that way are read again after a rebalance or a crash
 *   (at-least-once). With autoCommit off, only `commit` commits.
 * - **Idle expiry**: a subscription no request touched for `idleMs` is
 *   closed (it leaves its group, committing nothing), on the next
 *   `sweep()` — which every registry call runs, and `main_reader.ts` runs
 *   every second.
 * - At most `subscriptionsMax` exist at once (429 beyond).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type {
  ConsumedMessage,
  GatewayCluster,
  PartitionOffset,
  StartFrom,
  TopicPartition,
} from "../shared/cluster.ts";
import { GatewayError } from "../shared/errors.ts";
import { GATEWAY_SUBSCRIPTIONS_MAX } from "../shared/limits.ts";
import { BufferedConsumer } from "./buffered_consumer.ts";
import type { ReadFormat } from "./format.ts";

/** What creating a subscription takes (validated). */
export interface SubscriptionRequest {
  group: string;
  topics: string[];
  from: StartFrom;
  /** Default read_uncommitted. */
  isolation?: "read_committed" | "read_uncommitted";
  autoCommit: boolean;
  format: ReadFormat;
}

/** A subscription as `GET /api/v1/subscriptions/:id` shows it. */
export interface SubscriptionView {
  id: string;
  group: string;
  topics: string[];
  from: StartFrom;
  autoCommit: boolean;
  format: ReadFormat;
  assignment: TopicPartition[];
  buffered: number;
  /** Milliseconds until it expires if nothing touches it. */
  expiresInMs: number;
}

/** Options of a {@linkcode SubscriptionRegistry}. */
export interface SubscriptionRegistryOptions {
  logger: Logger;
  /** Idle time after which a subscription is closed. Default 300000 ms (5 min). */
  idleMs?: number;
  /** Subscriptions at once. Defaults to `GATEWAY_SUBSCRIPTIONS_MAX`. */
  subscriptionsMax?: number;
  /** Buffered bytes per subscription before it pauses. */
  bufferBytesMax?: number;
  /** Milliseconds for idle accounting; defaults to `Date.now`. */
  now?: () => number;
  /** Makes subscription ids; defaults to `crypto.randomUUID`. */
  newId?: () => string;
}

interface Subscription extends SubscriptionRequest {
  id: string;
  consumer: BufferedConsumer;
  lastUsedMs: number;
  busy: boolean;
}

/** Every subscription of one reader gateway. */
export class SubscriptionRegistry {
  #cluster: GatewayCluster;
  #logger: Logger;
  #idleMs: number;
  #max: number;
  #bufferBytesMax: number | undefined;
  #now: () => number;
  #newId: () => string;
  #subscriptions = new Map<string, Subscription>();
  #creating = 0;

  constructor(cluster: GatewayCluster, options: SubscriptionRegistryOptions) {
    this.#cluster = cluster;
    this.#logger = options.logger;
    this.#idleMs = options.idleMs ?? 300_000;
    this.#max = options.subscriptionsMax ?? GATEWAY_SUBSCRIPTIONS_MAX;
    this.#bufferBytesMax = options.bufferBytesMax;
    this.#now = options.now ?? Date.now;
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  /** Subscriptions open now. */
  get size(): number {
    return this.#subscriptions.size;
  }

  /** Creates a subscription after checking every topic exists (404 otherwise). */
  async create(request: SubscriptionRequest): Promise<SubscriptionView> {
    await this.sweep();
    if (this.#subscriptions.size + this.#creating >= this.#max) {
      throw KaError.of(
        "THROTTLING_QUOTA_EXCEEDED",
        `Too many subscriptions: at most ${this.#max}; delete unused ones`,
      );
    }
    this.#creating++;
    try {
      for (const topic of request.topics) await this.#cluster.describeTopic(topic);
    } finally {
      this.#creating--;
    }
    const source = this.#cluster.joinGroup({
      groupId: request.group,
      topics: request.topics,
      from: request.from,
      isolation: request.isolation ?? "read_uncommitted",
    });
    const consumer = new BufferedConsumer(source, {
      logger: this.#logger,
      ...(this.#bufferBytesMax === undefined ? {} : { bufferBytesMax: this.#bufferBytesMax }),
    });
    const subscription: Subscription = {
      ...request,
      id: this.#newId(),
      consumer,
      lastUsedMs: this.#now(),
      busy: false,
    };
    this.#subscriptions.set(subscription.id, subscription);
    consumer.start();
    this.#logger.info("subscription created", {
      id: subscription.id,
      group: request.group,
      topics: request.topics,
    });
    return this.#view(subscription);
  }

  /** The subscription `id` as JSON (404 UNKNOWN_SUBSCRIPTION when absent or expired). */
  async describe(id: string): Promise<SubscriptionView> {
    await this.sweep();
    const subscription = this.#get(id);
    subscription.lastUsedMs = this.#now();
    return this.#view(subscription);
  }

  /**
   * Up to `max` messages (about `maxBytes` at most), waiting up to
   * `timeoutMs` for the first; with autoCommit, first commits what the
   * previous poll returned.
   */
  async poll(
    id: string,
    options: { max: number; timeoutMs: number; maxBytes: number },
  ): Promise<{ messages: ConsumedMessage[]; format: ReadFormat }> {
    return await this.#exclusive(id, async (s) => {
      if (s.autoCommit) await this.#autoCommit(s);
      const messages = await s.consumer.take(options.max, options.timeoutMs, options.maxBytes);
      return { messages, format: s.format };
    });
  }

  /** Commits `offsets`, or everything delivered so far; returns what was committed. */
  async commit(id: string, offsets?: PartitionOffset[]): Promise<PartitionOffset[]> {
    return await this.#exclusive(id, async (s) => {
      if (offsets === undefined) return await s.consumer.commitDelivered();
      await s.consumer.commit(offsets);
      return offsets;
    });
  }

  /** Closes subscription `id` (committing what was delivered, with autoCommit). */
  async delete(id: string): Promise<void> {
    await this.sweep();
    const s = this.#get(id);
    this.#subscriptions.delete(id);
    if (s.autoCommit) await this.#autoCommit(s);
    await s.consumer.close();
    this.#logger.info("subscription deleted", { id });
  }

  /** Closes subscriptions idle for longer than `idleMs`; returns how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    const expired = [...this.#subscriptions.values()].filter(
      (s) => !s.busy && now - s.lastUsedMs > this.#idleMs,
    );
    for (const s of expired) this.#subscriptions.delete(s.id);
    await Promise.all(expired.map(async (s) => {
      this.#logger.info("subscription expired", { id: s.id, idleMs: now - s.lastUsedMs });
      await s.consumer.close();
    }));
    return expired.length;
  }

  /** Closes every subscription (gateway shutdown); commits nothing. */
  async closeAll(): Promise<void> {
    const all = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    await Promise.all(all.map((s) => s.consumer.close()));
  }

  async #exclusive<T>(id: string, fn: (s: Subscription) => Promise<T>): Promise<T> {
    await this.sweep();
    const s = this.#get(id);
    if (s.busy) {
      throw new GatewayError(
        "SUBSCRIPTION_BUSY",
        `Subscription '${id}' is already serving a request: one poll or commit at a time`,
      );
    }
    s.busy = true;
    s.lastUsedMs = this.#now();
    try {
      return await fn(s);
    } finally {
      s.busy = false;
      s.lastUsedMs = this.#now();
    }
  }

  async #autoCommit(s: Subscription): Promise<void> {
    try {
      await s.consumer.commitDelivered();
    } catch (err) {
      // At-least-once: what was not committed is read again after the rebalance.
      if (!(err instanceof KaError)) throw err;
      this.#logger.warn("auto-commit failed", { id: s.id, group: s.group, error: err });
    }
  }

  #get(id: string): Subscription {
    const s = this.#subscriptions.get(id);
    if (s === undefined) {
      throw new GatewayError(
        "UNKNOWN_SUBSCRIPTION",
        `No subscription has id '${id}' (or it expired)`,
      );
    }
    return s;
  }

  #view(s: Subscription): SubscriptionView {
    return {
      id: s.id,
      group: s.group,
      topics: [...s.topics],
      from: s.from,
      autoCommit: s.autoCommit,
      format: s.format,
      assignment: s.consumer.assignment(),
      buffered: s.consumer.bufferedCount,
      expiresInMs: Math.max(0, this.#idleMs - (this.#now() - s.lastUsedMs)),
    };
  }
}
