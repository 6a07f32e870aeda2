/**
 * What the console needs from the running coordinator. The console parses and
 * renders; the backend does. Keeping this an interface lets the console be
 * tested without processes. The shapes of its answers are in
 * `lib/console/answers.ts` (the gateway dashboard reads them too).
 * @module
 */
import type {
  BrokerListing,
  GroupDescription,
  GroupListing,
  ServiceStatus,
  TopicListing,
} from "@kafka-analog/lib/console";

/** The operations behind the console commands. Errors are thrown as KaError. */
export interface ConsoleBackend {
  status(): ServiceStatus[];
  brokerList(): BrokerListing[];
  brokerStop(id: number): Promise<void>;
  brokerStart(id: number): Promise<void>;
  brokerRestart(id: number): Promise<void>;
  gatewayStop(kind: "producer" | "consumer"): Promise<void>;
  gatewayStart(kind: "producer" | "consumer"): Promise<void>;
  gatewayRestart(kind: "producer" | "consumer"): Promise<void>;
  restartAll(): Promise<void>;
  topicCreate(options: {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs: Record<string, string>;
  }): Promise<TopicListing>;
  topicList(): TopicListing[];
  topicDescribe(name: string): TopicListing;
  topicDelete(name: string): Promise<void>;
  /** Adds partitions to a topic (never removes). */
  topicAddPartitions(name: string, count: number): Promise<TopicListing>;
  /** Moves a partition's replicas to `target` (copy, catch up, then drop the old ones). */
  partitionReassign(topic: string, partition: number, target: number[]): Promise<TopicListing>;
  /** Reassigns the partitions whose replica set differs from a fresh placement. */
  topicRebalance(name: string): Promise<TopicListing>;
  /** Drains every replica off a broker and keeps it out of placement. */
  brokerDecommission(id: number): Promise<TopicListing[]>;
  /** Brings a decommissioned broker back into placement. */
  brokerRecommission(id: number): Promise<void>;
  /** Moves leadership back to preferred replicas; returns how many moved. */
  leaderBalance(): Promise<number>;
  /** Sets (or, with an empty value, removes) topic configs; applied live by the brokers. */
  topicAlter(name: string, configs: Record<string, string>): Promise<TopicListing>;
  groupList(): Promise<GroupListing[]>;
  groupDescribe(name: string): Promise<GroupDescription>;
  /** Sets committed offsets of an empty group: every partition of `topic` to earliest, latest or an offset. */
  groupReset(
    name: string,
    options: { topic: string; to: "earliest" | "latest" | bigint },
  ): Promise<GroupDescription>;
  /** Deletes an empty group and its committed offsets (Kafka's DeleteGroups). */
  groupDelete(name: string): Promise<void>;
  /** Asks the coordinator to shut down (console `quit` on the terminal). */
  shutdown(): Promise<void>;
}
