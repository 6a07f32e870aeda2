/**
 * An in-memory {@linkcode ConsoleBackend} for the console's tests: three
 * brokers, two gateways, topics placed round-robin, consumer groups with
 * committed offsets. It records every call so tests can check what a command
 * did. Group operations behave like the coordinator's: describe lists every
 * assigned or committed partition with its end offset and lag, and reset
 * refuses a group with members and creates an unknown one.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type {
  BrokerListing,
  GroupDescription,
  GroupListing,
  ServiceState,
  ServiceStatus,
  TopicListing,
} from "@kafka-analog/lib/console";
import type { ConsoleBackend } from "./backend.ts";

/** A consumer group as the fake keeps it. */
export interface FakeGroup {
  state: string;
  generation: number;
  protocol: string;
  members: GroupDescription["members"];
  /** Committed offsets by `topic/partition`. */
  committed: Map<string, number>;
}

/** Start and end offset of one partition's log. */
export interface FakeLogRange {
  start: number;
  end: number;
}

/** The fake, with its call log and state open for assertions. */
export interface FakeBackend extends ConsoleBackend {
  calls: string[];
  brokers: Map<number, ServiceState>;
  gateways: Map<"producer" | "consumer", ServiceState>;
  topics: Map<string, TopicListing>;
  groups: Map<string, FakeGroup>;
  /** Log ranges by topic, one per partition; partitions not listed are empty (0..0). */
  logRanges: Map<string, FakeLogRange[]>;
  /** Set by `shutdown()`. */
  shutDown: boolean;
}

/**
 * A fake backend with brokers 1..3 alive, topic `orders` (2 partitions,
 * factor 2, logs 0..10 and 2..4), group `billing` (Stable, two members on
 * `orders`, partition 0 committed at 5) and group `audit` (Empty, `orders`
 * partition 0 committed at 2).
 */
export function createFakeBackend(): FakeBackend {
  const calls: string[] = [];
  const brokers = new Map<number, ServiceState>([[1, "alive"], [2, "alive"], [3, "alive"]]);
  const gateways = new Map<"producer" | "consumer", ServiceState>([
    ["producer", "alive"],
    ["consumer", "stopped"],
  ]);
  const topics = new Map<string, TopicListing>();
  const groups = new Map<string, FakeGroup>();
  const logRanges = new Map<string, FakeLogRange[]>();

  function endOf(topic: string, partition: number): number {
    if (!topics.has(topic)) return -1;
    return logRanges.get(topic)?.[partition]?.end ?? 0;
  }

  function describe(name: string, group: FakeGroup): GroupDescription {
    const parts = new Map<string, { topic: string; partition: number }>();
    for (const m of group.members) {
      for (const tp of m.assignment) parts.set(`${tp.topic}/${tp.partition}`, tp);
    }
    for (const key of group.committed.keys()) {
      const slash = key.lastIndexOf("/");
      parts.set(key, { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) });
    }
    const sorted = [...parts.values()].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
    );
    return {
      group: name,
      state: group.state,
      generation: group.generation,
      protocol: group.protocol,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        assignment: m.assignment.map((tp) => ({ ...tp })),
      })),
      offsets: sorted.map(({ topic, partition }) => {
        const committed = group.committed.get(`${topic}/${partition}`) ?? null;
        const end = endOf(topic, partition);
        return {
          topic,
          partition,
          committed,
          end,
          lag: committed === null || end < 0 ? null : Math.max(end - committed, 0),
        };
      }),
    };
  }

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
  logRanges.set("orders", [{ start: 0, end: 10 }, { start: 2, end: 4 }]);
  groups.set("billing", {
    state: "Stable",
    generation: 3,
    protocol: "range",
    members: [
      { memberId: "m-1", clientId: "billing-a", assignment: [{ topic: "orders", partition: 0 }] },
      { memberId: "m-2", clientId: "billing-b", assignment: [{ topic: "orders", partition: 1 }] },
    ],
    committed: new Map([["orders/0", 5]]),
  });
  groups.set("audit", {
    state: "Empty",
    generation: 0,
    protocol: "",
    members: [],
    committed: new Map([["orders/0", 2]]),
  });

  const backend: FakeBackend = {
    calls,
    brokers,
    gateways,
    topics,
    groups,
    logRanges,
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
    topicAddPartitions(name: string, count: number): Promise<TopicListing> {
      calls.push(`topicAddPartitions ${name} ${count}`);
      const topic = topics.get(name);
      if (!topic) {
        return Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`));
      }
      for (let p = topic.partitions.length; p < count; p++) {
        topic.partitions.push({
          partition: p,
          leader: 1,
          replicas: [1, 2],
          isr: [1, 2],
          leaderEpoch: 0,
        });
      }
      return Promise.resolve(structuredClone(topic));
    },
    partitionReassign(topic: string, partition: number, target: number[]): Promise<TopicListing> {
      calls.push(`partitionReassign ${topic} ${partition} ${target.join(",")}`);
      const t = topics.get(topic);
      if (!t) {
        return Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${topic}'`));
      }
      const p = t.partitions[partition];
      p.adding = target.filter((id) => !p.replicas.includes(id));
      p.removing = p.replicas.filter((id) => !target.includes(id));
      return Promise.resolve(structuredClone(t));
    },
    topicRebalance(name: string): Promise<TopicListing> {
      calls.push(`topicRebalance ${name}`);
      const t = topics.get(name);
      if (!t) {
        return Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`));
      }
      return Promise.resolve(structuredClone(t));
    },
    brokerDecommission(id: number): Promise<TopicListing[]> {
      calls.push(`brokerDecommission ${id}`);
      knownBroker(id);
      return Promise.resolve([...topics.values()].map((t) => structuredClone(t)));
    },
    brokerRecommission(id: number): Promise<void> {
      calls.push(`brokerRecommission ${id}`);
      knownBroker(id);
      return Promise.resolve();
    },
    leaderBalance(): Promise<number> {
      calls.push("leaderBalance");
      return Promise.resolve(0);
    },
    topicAlter(name: string, configs: Record<string, string>): Promise<TopicListing> {
      calls.push(`topicAlter ${name}`);
      const topic = topics.get(name);
      if (!topic) {
        return Promise.reject(KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${name}'`));
      }
      for (const [k, v] of Object.entries(configs)) {
        if (v === "") delete topic.configs[k];
        else topic.configs[k] = v;
      }
      return Promise.resolve(structuredClone(topic));
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
    groupList(): Promise<GroupListing[]> {
      calls.push("groupList");
      return Promise.resolve(
        [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([group, g]) => ({
          group,
          state: g.state,
          members: g.members.length,
        })),
      );
    },
    groupDescribe(name: string): Promise<GroupDescription> {
      calls.push(`groupDescribe ${name}`);
      const group = groups.get(name);
      if (group === undefined) {
        return Promise.reject(KaError.of("GROUP_ID_NOT_FOUND", `Unknown group '${name}'`));
      }
      return Promise.resolve(describe(name, group));
    },
    groupDelete(name: string): Promise<void> {
      calls.push(`groupDelete ${name}`);
      const group = groups.get(name);
      if (group === undefined) {
        return Promise.reject(KaError.of("GROUP_ID_NOT_FOUND", `Unknown group '${name}'`));
      }
      if (group.members.length > 0) {
        return Promise.reject(
          KaError.of(
            "NON_EMPTY_GROUP",
            `Group '${name}' has ${group.members.length} member(s): stop them first`,
          ),
        );
      }
      groups.delete(name);
      return Promise.resolve();
    },
    groupReset(name, options): Promise<GroupDescription> {
      calls.push(`groupReset ${name} ${options.topic} ${String(options.to)}`);
      const topic = topics.get(options.topic);
      if (topic === undefined) {
        return Promise.reject(
          KaError.of("UNKNOWN_TOPIC_OR_PARTITION", `Unknown topic '${options.topic}'`),
        );
      }
      let group = groups.get(name);
      if (group !== undefined && group.members.length > 0) {
        return Promise.reject(
          KaError.of(
            "NON_EMPTY_GROUP",
            `Group '${name}' has ${group.members.length} member(s): stop them first`,
          ),
        );
      }
      if (group === undefined) {
        group = { state: "Empty", generation: 0, protocol: "", members: [], committed: new Map() };
        groups.set(name, group);
      }
      for (const p of topic.partitions) {
        const range = logRanges.get(topic.name)?.[p.partition] ?? { start: 0, end: 0 };
        const to = options.to;
        const offset = to === "earliest" ? range.start : to === "latest" ? range.end : Number(to);
        group.committed.set(`${topic.name}/${p.partition}`, offset);
      }
      return Promise.resolve(describe(name, group));
    },
    shutdown(): Promise<void> {
      calls.push("shutdown");
      backend.shutDown = true;
      return Promise.resolve();
    },
  };
  return backend;
}
