/**
 * Helpers for the assignor tests only: compact plans (`"t0p1"`), members, and
 * a seeded generator so the property tests replay from their printed seed.
 * @module
 */
import type { AssignorMember, TopicPartition } from "./_common.ts";

/** `{ C0: ["t0p0", ...], ... }` for a plan, for readable deep-equal diffs. */
export function compact(plan: Map<string, TopicPartition[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [memberId, list] of plan) {
    result[memberId] = list.map(({ topic, partition }) => `${topic}p${partition}`);
  }
  return result;
}

/** Parses `"t0p1"` back to a topic-partition (topic names must not end in `p<digits>`). */
export function parseTp(text: string): TopicPartition {
  const match = /^(.*)p(\d+)$/.exec(text);
  if (match === null) throw new Error(`bad topic-partition '${text}'`);
  return { topic: match[1], partition: Number(match[2]) };
}

/** A member subscribing to `topics` that owned `owned` (compact form). */
export function member(memberId: string, topics: string[], owned: string[] = []): AssignorMember {
  return { memberId, topics, owned: owned.map(parseTp) };
}

/** Members that owned what `plan` gave them, keeping the subscriptions of `members`. */
export function withOwned(
  members: AssignorMember[],
  plan: Map<string, TopicPartition[]>,
): AssignorMember[] {
  return members.map((m) => ({ ...m, owned: [...(plan.get(m.memberId) ?? [])] }));
}
