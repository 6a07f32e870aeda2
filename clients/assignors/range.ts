/**
 * Kafka's RangeAssignor (`org.apache.kafka.clients.consumer.RangeAssignor`).
 *
 * Topic by topic, the members subscribed to it are sorted by memberId and the
 * partitions are split in contiguous ranges: with `n` partitions and `m`
 * subscribers each gets `floor(n / m)`, and the first `n % m` get one more.
 * Kafka's example: members C0 and C1 both subscribe to t0 and t1 (3 partitions
 * each) → C0: t0p0, t0p1, t1p0, t1p1; C1: t0p2, t1p2. Previously owned
 * partitions are ignored.
 * @module
 */
import {
  type Assignor,
  type AssignorMember,
  emptyAssignment,
  normalizeInput,
  partitionCount,
  type TopicPartition,
} from "./_common.ts";

function assignRange(
  members: AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const input = normalizeInput(members, partitionsPerTopic);
  const assignment = emptyAssignment(input);
  // Topics in sorted order and partitions in increasing order keep each list sorted.
  for (const topic of input.topics) {
    const count = partitionCount(input, topic);
    const subscribers = input.members.filter((member) => member.topicSet.has(topic));
    const perMember = Math.floor(count / subscribers.length);
    const membersWithExtra = count % subscribers.length;
    subscribers.forEach((member, index) => {
      const start = perMember * index + Math.min(index, membersWithExtra);
      const length = perMember + (index < membersWithExtra ? 1 : 0);
      const list = assignment.get(member.memberId)!;
      for (let partition = start; partition < start + length; partition++) {
        list.push({ topic, partition });
      }
    });
  }
  return assignment;
}

/** Kafka's `range` strategy: contiguous ranges of each topic, per topic. */
export const rangeAssignor: Assignor = Object.freeze({ name: "range", assign: assignRange });
