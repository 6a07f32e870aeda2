/**
 * A client's view of the cluster: bootstrap addresses, a metadata cache
 * refreshed from any reachable broker or the coordinator, and one
 * connection per broker address.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { type Connector, KafkaConnection, messageOf } from "@kafka-analog/lib/net";
import { ApiKey, ERRORS, type MetadataResponse } from "@kafka-analog/lib/protocol";
import type { BrokerDescription, TopicDescription } from "./types.ts";

/** Options shared by every client part. */
export interface ClusterOptions {
  /** "host:port" of brokers and/or the coordinator. */
  bootstrap: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  /** Metadata older than this is refreshed before use. */
  metadataMaxAgeMs?: number;
  /** Opens TCP connections; replaced in tests (e.g. to cut connections on purpose). */
  connect?: Connector;
}

/** Versions our client speaks (the newest classic ones the cluster serves). */
export const VERSIONS = {
  produce: 8,
  fetch: 11,
  listOffsets: 5,
  metadata: 8,
  createTopics: 4,
  deleteTopics: 3,
  apiVersions: 2,
  initProducerId: 1,
} as const;

/** How long a metadata request waits before the next bootstrap address is asked. */
const METADATA_FAILOVER_TIMEOUT_MS = 5_000;

/** The metadata cache plus connections. */
export class ClusterView {
  readonly options: ClusterOptions;
  #conns = new Map<string, Promise<KafkaConnection>>();
  #brokers = new Map<number, BrokerDescription>();
  #topics = new Map<string, TopicDescription>();
  #fetchedAtMs = 0;
  #refreshing: Promise<void> | null = null;
  /** Leader epoch per partition ("topic/partition") in the adopted metadata (KIP-320). */
  #leaderEpochs = new Map<string, number>();

  constructor(options: ClusterOptions) {
    if (options.bootstrap.length === 0) {
      throw new Error("bootstrap must name at least one host:port");
    }
    this.options = options;
  }

  /** A connection to `address`, opened once and reopened after failure. */
  async connection(address: string): Promise<KafkaConnection> {
    let conn = this.#conns.get(address);
    if (conn) {
      const c = await conn.catch(() => null);
      if (c && !c.closed) return c;
    }
    conn = KafkaConnection.open(address, {
      clientId: this.options.clientId ?? "kafka-analog-client",
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      ...(this.options.connect ? { connect: this.options.connect } : {}),
    });
    this.#conns.set(address, conn);
    conn.catch(() => this.#conns.delete(address));
    return await conn;
  }

  /**
   * A new connection of its own to `address`, not shared: for requests that
   * park at the server (JoinGroup waits for a whole rebalance).
   */
  dedicatedConnection(address: string): Promise<KafkaConnection> {
    return KafkaConnection.open(address, {
      clientId: this.options.clientId ?? "kafka-analog-client",
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      ...(this.options.connect ? { connect: this.options.connect } : {}),
    });
  }

  /** A connection to broker `nodeId` as the metadata says. */
  brokerConnection(nodeId: number): Promise<KafkaConnection> {
    const broker = this.#brokers.get(nodeId);
    if (!broker) {
      throw KaError.of("LEADER_NOT_AVAILABLE", `Broker ${nodeId} is not in the metadata`);
    }
    return this.connection(`${broker.host}:${broker.port}`);
  }

  /** Sends to the first reachable bootstrap address (then known brokers). */
  async anyConnection(): Promise<KafkaConnection> {
    const candidates = [
      ...this.options.bootstrap,
      ...[...this.#brokers.values()].map((b) => `${b.host}:${b.port}`),
    ];
    let last: unknown = null;
    for (const address of new Set(candidates)) {
      try {
        return await this.connection(address);
      } catch (err) {
        last = err;
      }
    }
    throw KaError.of("NETWORK_EXCEPTION", `No bootstrap address is reachable: ${messageOf(last)}`, {
      cause: last,
    });
  }

  /** Refreshes the whole metadata (one request at a time). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  /**
   * Asks the first reachable bootstrap address (then known brokers) for the
   * metadata; when that one does not answer (a paused or cut-off broker still
   * accepts connections), asks the next one instead of failing.
   *
   * An answer that is behind (KIP-320: a partition's leader epoch lower than
   * the one already adopted) or names no leader for a partition (a fenced
   * broker answers so for the partitions it led) is not adopted while
   * another address may know better: the next one is asked. When none
   * answers better, the answer with the fewest such partitions is adopted
   * (the whole reachable cluster agrees, e.g. a topic deleted and created
   * again restarts its epochs).
   */
  async #refresh(): Promise<void> {
    const candidates = [
      ...new Set([
        ...this.options.bootstrap,
        ...[...this.#brokers.values()].map((b) => `${b.host}:${b.port}`),
      ]),
    ];
    let last: unknown = null;
    let fallback: { response: MetadataResponse; behind: number } | null = null;
    for (const [i, address] of candidates.entries()) {
      const hasNext = i < candidates.length - 1;
      let conn: KafkaConnection;
      try {
        conn = await this.connection(address);
      } catch (err) {
        last = err;
        continue;
      }
      let response: MetadataResponse;
      try {
        response = await conn.request(ApiKey.Metadata, VERSIONS.metadata, {
          topics: null,
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        }, hasNext || fallback ? { timeoutMs: METADATA_FAILOVER_TIMEOUT_MS } : {});
      } catch (err) {
        if (!hasNext && !fallback) throw err;
        last = err;
        continue;
      }
      const behind = this.#partitionsBehind(response);
      if (behind === 0) {
        this.#apply(response);
        return;
      }
      if (!fallback || behind < fallback.behind) fallback = { response, behind };
    }
    if (fallback) {
      this.#apply(fallback.response);
      return;
    }
    throw KaError.of("NETWORK_EXCEPTION", `No bootstrap address is reachable: ${messageOf(last)}`, {
      cause: last,
    });
  }

  /** Partitions of `response` without a leader or with an older leader epoch than adopted. */
  #partitionsBehind(response: MetadataResponse): number {
    let behind = 0;
    for (const t of response.topics) {
      if (t.errorCode !== 0 || t.name === null) continue;
      for (const p of t.partitions) {
        const known = this.#leaderEpochs.get(`${t.name}/${p.partitionIndex}`) ?? -1;
        const epoch = p.leaderEpoch ?? -1;
        if (p.leaderId < 0 || (epoch >= 0 && epoch < known)) behind++;
      }
    }
    return behind;
  }

  #apply(response: MetadataResponse): void {
    this.#brokers = new Map(
      response.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port }]),
    );
    this.#topics = new Map(
      response.topics.filter((t) => t.errorCode === 0 && t.name !== null).map((t) => [t.name!, {
        name: t.name!,
        configs: {},
        partitions: t.partitions.map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          leaderEpoch: p.leaderEpoch ?? -1,
        })).sort((a, b) => a.partition - b.partition),
      }]),
    );
    this.#leaderEpochs = new Map();
    for (const t of this.#topics.values()) {
      for (const p of t.partitions) {
        if (p.leaderEpoch >= 0) this.#leaderEpochs.set(`${t.name}/${p.partition}`, p.leaderEpoch);
      }
    }
    this.#fetchedAtMs = Date.now();
  }

  /** Cached topic metadata when present and fresh, without any I/O; else null. */
  cachedTopic(name: string): TopicDescription | null {
    if (Date.now() - this.#fetchedAtMs > (this.options.metadataMaxAgeMs ?? 300_000)) return null;
    return this.#topics.get(name) ?? null;
  }

  /** Cached topic metadata, refreshed when missing or stale. */
  async topic(name: string, options: { refresh?: boolean } = {}): Promise<TopicDescription> {
    const stale = Date.now() - this.#fetchedAtMs > (this.options.metadataMaxAgeMs ?? 300_000);
    if (options.refresh || stale || !this.#topics.has(name)) await this.refresh();
    const topic = this.#topics.get(name);
    if (!topic) throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`);
    return topic;
  }

  /** Every topic in the cached metadata, after a refresh. */
  async topics(): Promise<TopicDescription[]> {
    await this.refresh();
    return [...this.#topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The brokers in the last metadata. */
  brokers(): BrokerDescription[] {
    return [...this.#brokers.values()];
  }

  /** The leader of a partition, refreshing once when there is none. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    let p = (await this.topic(topic)).partitions[partition];
    if (!p || p.leader < 0) p = (await this.topic(topic, { refresh: true })).partitions[partition];
    if (!p) {
      throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown partition ${topic}-${partition}`);
    }
    if (p.leader < 0) {
      throw KaError.of("LEADER_NOT_AVAILABLE", `No leader for ${topic}-${partition}`);
    }
    return p.leader;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const conns = [...this.#conns.values()];
    this.#conns.clear();
    for (const c of conns) (await c.catch(() => null))?.close();
  }
}

/** Throws the KaError for a non-zero code. */
export function throwIfError(errorCode: number, context: string, message?: string | null): void {
  if (errorCode === ERRORS.NONE.code) return;
  throw new KaError(errorCode, message ? `${context}: ${message}` : undefined);
}
