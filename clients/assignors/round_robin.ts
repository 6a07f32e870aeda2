/**
 * Kafka's RoundRobinAssignor (`org.apache.kafka.clients.consumer.RoundRobinAssignor`).
 *
 * All subscribed topic-partitions, sorted by topic then partition, are dealt
 * one at a time over the members sorted by memberId, in a circle that carries
 * on from where the last partition went; a member not subscribed to the
 * partition's topic is skipped. Kafka's example: C0 and C1 both subscribe to
 * t0 and t1 (3 partitions each) → C0: t0p0, t0p2, t1p1; C1: t0p1, t1p0, t1p2.
 * Previously owned partitions are ignored.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";
import {
  type Assignor,
  type AssignorMember,
  emptyAssignment,
  normalizeInput,
  partitionCount,
  type TopicPartition,
} from "./_common.ts";

function assignRoundRobin(
  members: AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const input = normalizeInput(members, partitionsPerTopic);
  const assignment = emptyAssignment(input);
  const circle = input.members;
  let next = 0;
  for (const topic of input.topics) {
    const count = partitionCount(input, topic);
    for (let partition = 0; partition < count; partition++) {
      // input.topics holds only subscribed topics, so one lap finds a subscriber.
      let skipped = 0;
      while (!circle[next].topicSet.has(topic)) {
        next = (next + 1) % circle.length;
        skipped++;
        assert(skipped < circle.length, `no member subscribes to topic '${topic}'`);
      }
      assignment.get(circle[next].memberId)!.push({ topic, partition });
      next = (next + 1) % circle.length;
    }
  }
  return assignment;
}

/** Kafka's `roundrobin` strategy: every subscribed partition dealt in turn. */
export const roundRobinAssignor: Assignor = Object.freeze({
  name: "roundrobin",
  assign: assignRoundRobin,
});
