/**
 * An in-memory {@linkcode ConsoleBackend} for the console's tests: three
 * brokers, two gateways, topics placed round-robin. It records every call so
 * tests can check what a command did.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type {
  BrokerListing,
  ConsoleBackend,
  ServiceState,
  ServiceStatus,
  TopicListing,
} from "./backend.ts";

/** The fake, with its call log and state open for assertions. */
export interface FakeBackend extends ConsoleBackend {
  calls: string[];
  brokers: Map<number, ServiceState>;
  gateways: Map<"producer" | "consumer", ServiceState>;
  topics: Map<string, TopicListing>;
  /** Set by `shutdown()`. */
  shutDown: boolean;
}

/** A fake backend with brokers 1..3 alive and topic `orders` (2 partitions, factor 2). */
export function createFakeBackend(): FakeBackend {
  const calls: string[] = [];
  const brokers = new Map<number, ServiceState>([[1, "alive"], [2, "alive"], [3, "alive"]]);
  const gateways = new Map<"producer" | "consumer", ServiceState>([
    ["producer", "alive"],
    ["consumer", "stopped"],
  ]);
  const topics = new Map<string, TopicListing>();

  function knownBroker(id: number): void {
    if (!brokers.has(id)) throw KaError.of("UNKNOWN_BROKER", `Unknown broker ${id}`);
  }

  function place(
    name: string,
    partitions: number,
    factor: number,
    configs: Record<string, string>,
  ): TopicListing {
    const ids = [...brokers.keys()];
    const listing: TopicListing = { name, partitions: [], configs };
    for (let p = 0; p < partitions; p++) {
      const replicas = Array.from({ length: factor }, (_, r) => ids[(p + r) % ids.length]);
      listing.partitions.push({
        partition: p,
        leader: replicas[0],
        replicas,
        isr: [...replicas],
        leaderEpoch: 0,
      });
    }
    return listing;
  }

  topics.set("orders", place("orders", 2, 2, { "retention.ms": "1000" }));

  const backend: FakeBackend = {
    calls,
    brokers,
    gateways,
    topics,
    shutDown: false,
    status(): ServiceStatus[] {
      calls.push("status");
      const rows: ServiceStatus[] = [
        { kind: "coordinator", id: 0, pid: 100, port: 8080, state: "alive", uptimeMs: 3_723_000 },
      ];
      for (const [id, state] of brokers) {
        rows.push({
          kind: "broker",
          id,
          pid: state === "alive" ? 200 + id : 0,
          port: 9091 + id,
          state,
          uptimeMs: state === "alive" ? 65_000 : 0,
        });
      }
      rows.push({
        kind: "producer",
        id: 0,
        pid: 300,
        port: 3001,
        state: gateways.get("producer")!,
        uptimeMs: 5_000,
      });
      rows.push({
        kind: "consumer",
        id: 0,
        pid: 0,
        port: 3002,
        state: gateways.get("consumer")!,
        uptimeMs: 0,
      });
      return rows;
    },
    brokerList(): BrokerListing[] {
      calls.push("brokerList");
      return [...brokers].map(([id, state]) => {
        let led = 0;
        let replicated = 0;
        let underReplicated = 0;
        for (const topic of topics.values()) {
          for (const p of topic.partitions) {
            if (p.leader === id) led++;
            if (p.replicas.includes(id)) replicated++;
            if (p.leader === id && p.isr.length < p.replicas.length) underReplicated++;
          }
        }
        return {
          id,
          port: 9091 + id,
          state,
          pid: state === "alive" ? 200 + id : 0,
          partitionsLed: led,
          partitionsReplicated: replicated,
          underReplicated,
        };
      });
    },
    brokerStop(id: number): Promise<void> {
      calls.push(`brokerStop ${id}`);
      knownBroker(id);
      brokers.set(id, "stopped");
      return Promise.resolve();
    },
    brokerStart(id: number): Promise<void> {
      calls.push(`brokerStart ${id}`);
      knownBroker(id);
      brokers.set(id, "alive");
      return Promise.resolve();
    },
    brokerRestart(id: number): Promise<void> {
      calls.push(`brokerRestart ${id}`);
      knownBroker(id);
      brokers.set(id, "alive");
      return Promise.resolve();
    },
    gatewayStop(kind): Promise<void> {
      calls.push(`gatewayStop ${kind}`);
      gateways.set(kind, "stopped");
      return Promise.resolve();
    },
    gatewayStart(kind): Promise<void> {
      calls.push(`gatewayStart ${kind}`);
      gateways.set(kind, "alive");
      return Promise.resolve();
    },
    gatewayRestart(kind): Promise<void> {
      calls.push(`gatewayRestart ${kind}`);
      gateways.set(kind, "alive");
      return Promise.resolve();
    },
    restartAll(): Promise<void> {
      calls.push("restartAll");
      return Promise.resolve();
    },
    topicCreate(options): Promise<TopicListing> {
      calls.push(`topicCreate ${JSON.stringify(options)}`);
      if (topics.has(options.name)) {
        return Promise.reject(
          KaError.of("TOPIC_ALREADY_EXISTS", `Topic '${options.name}' already exists`),
        );
      }
      const factor = options.replicationFactor ?? 2;
      if (factor > brokers.size) {
        return Promise.reject(
          KaError.of("INVALID_REPLICATION_FACTOR", `Replication factor ${factor} > brokers`),
        );
      }
      const listing = place(options.name, options.partitions ?? 3, factor, options.configs);
      topics.set(options.name, listing);
      return Promise.resolve(listing);
    },
    topicList(): TopicListing[] {
      calls.push("topicList");
      return [...topics.values()];
    },
    topicDescribe(name: string): TopicListing {
      calls.push(`topicDescribe ${name}`);
      const topic = topics.get(name);
      if (topic === undefined) {
        throw KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`);
      }
      return topic;
    },
    topicDelete(name: string): Promise<void> {
      calls.push(`topicDelete ${name}`);
      if (!topics.delete(name)) {
        return Promise.reject(
          KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`),
        );
      }
      return Promise.resolve();
    },
    shutdown(): Promise<void> {
      calls.push("shutdown");
      backend.shutDown = true;
      return Promise.resolve();
    },
  };
  return backend;
}
