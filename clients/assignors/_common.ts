/**
 * Types and input checks shared by the partition assignors.
 *
 * Kafka computes a group's assignment in the client of the group's leader, so
 * the plan's input comes from other members (their subscriptions and the
 * partitions they owned) and from metadata. It is checked once, here, into a
 * {@linkcode NormalizedInput}: members sorted by memberId (UTF-16 order, like
 * Java's `String.compareTo`), subscriptions deduplicated and limited to topics
 * the metadata knows. A topic missing from `partitionsPerTopic` is skipped, as
 * Kafka's assignors skip a topic without metadata. A duplicate memberId or a
 * partition count that is not an integer in 0..PARTITIONS_MAX is refused with
 * a KaError `INVALID_REQUEST`.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One member of the group as the assignor sees it. */
export interface AssignorMember {
  memberId: string;
  /** Topics the member subscribes to. */
  topics: string[];
  /** Partitions it owned before this rebalance (sticky input; the others ignore it). */
  owned: TopicPartition[];
}

/** The names Kafka's consumers announce in JoinGroup for these strategies. */
export type AssignorName = "range" | "roundrobin" | "sticky";

/** A partition assignment strategy, run by the group leader's client. */
export interface Assignor {
  /** The protocol name announced in JoinGroup. */
  readonly name: AssignorName;
  /**
   * Plans which member consumes which partition. The result has an entry
   * (possibly empty, sorted by topic then partition) for every member; every
   * partition of every subscribed topic goes to exactly one subscriber.
   * Throws a KaError `INVALID_REQUEST` on a duplicate memberId or a bad
   * partition count.
   */
  assign(
    members: AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
}

/** A member after the checks: topics sorted, deduplicated and known to the metadata. */
export interface NormalizedMember {
  memberId: string;
  /** Subscribed topics present in `partitionsPerTopic`, sorted. */
  topics: string[];
  topicSet: Set<string>;
  owned: TopicPartition[];
}

/** The checked input of an assignor. */
export interface NormalizedInput {
  /** Members sorted by memberId. */
  members: NormalizedMember[];
  /** Every topic some member subscribes to (and the metadata knows), sorted. */
  topics: string[];
  partitionsPerTopic: ReadonlyMap<string, number>;
}

/** Orders strings by UTF-16 code units, as Java's `String.compareTo` does. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders topic-partitions by topic, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** Checks an assignor's input; see the module doc for what is refused and what is dropped. */
export function normalizeInput(
  members: AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): NormalizedInput {
  for (const [topic, count] of partitionsPerTopic) {
    if (!Number.isInteger(count) || count < 0 || count > PARTITIONS_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot assign partitions as the partition count of topic '${topic}' must be an ` +
          `integer in 0..${PARTITIONS_MAX}: current value is ${count}`,
      );
    }
  }
  const seen = new Set<string>();
  const allTopics = new Set<string>();
  const normalized: NormalizedMember[] = [];
  for (const member of members) {
    if (seen.has(member.memberId)) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot assign partitions as memberId '${member.memberId}' appears more than once`,
      );
    }
    seen.add(member.memberId);
    const topicSet = new Set(member.topics.filter((topic) => partitionsPerTopic.has(topic)));
    for (const topic of topicSet) allTopics.add(topic);
    normalized.push({
      memberId: member.memberId,
      topics: [...topicSet].sort(compareStrings),
      topicSet,
      owned: member.owned,
    });
  }
  normalized.sort((a, b) => compareStrings(a.memberId, b.memberId));
  return {
    members: normalized,
    topics: [...allTopics].sort(compareStrings),
    partitionsPerTopic,
  };
}

/** The number of partitions of a topic that {@linkcode normalizeInput} accepted. */
export function partitionCount(input: NormalizedInput, topic: string): number {
  return input.partitionsPerTopic.get(topic) ?? 0;
}

/** An assignment with an empty list for every member, in memberId order. */
export function emptyAssignment(input: NormalizedInput): Map<string, TopicPartition[]> {
  return new Map(input.members.map((member) => [member.memberId, []]));
}

/** Sorts every member's list by topic, then partition; returns `assignment`. */
export function sortAssignment(
  assignment: Map<string, TopicPartition[]>,
): Map<string, TopicPartition[]> {
  for (const list of assignment.values()) list.sort(compareTopicPartitions);
  return assignment;
}
