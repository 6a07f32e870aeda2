/**
 * Kafka's StickyAssignor (`org.apache.kafka.clients.consumer.StickyAssignor`):
 * a balanced plan that keeps as many previously owned partitions as it can.
 *
 * First the `owned` lists are checked, members in memberId order: a partition
 * is dropped if its topic or partition no longer exists, if the member no
 * longer subscribes to its topic, or if a member earlier in memberId order
 * already claimed it (so a doubly claimed partition stays with the smallest
 * memberId).
 *
 * When every member subscribes to the same topics (Kafka's `constrainedAssign`),
 * each member's quota is `floor(P / M)` and `P % M` members get one more; the
 * extra slots go to the members keeping the most owned partitions, so the
 * number of partitions kept is the largest a balanced plan allows. Each member
 * keeps its owned partitions (lowest first) up to its quota, and the rest are
 * dealt in topic-partition order to members below quota in memberId order.
 * Sizes then differ by at most one: adding a 4th member to 3 that own 4 of 12
 * partitions each moves exactly one partition from each of them to it.
 *
 * Otherwise (Kafka's `generalAssign`), every member keeps its valid owned
 * partitions; each unowned partition, those with the fewest possible consumers
 * first, goes to the subscriber holding the fewest partitions; then partitions
 * move, one at a time and topic by topic, from the most loaded holder to the
 * least loaded subscriber of that topic when it holds at least two fewer, until
 * no such move is left — the balance Kafka's
 * `isBalanced` checks.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";
import {
  type Assignor,
  type AssignorMember,
  compareStrings,
  compareTopicPartitions,
  emptyAssignment,
  type NormalizedInput,
  normalizeInput,
  partitionCount,
  sortAssignment,
  type TopicPartition,
} from "./_common.ts";

/** Who holds each partition: topic → partition → memberId (or undefined). */
type Owners = Map<string, (string | undefined)[]>;

function newOwners(input: NormalizedInput): Owners {
  return new Map(
    input.topics.map((topic) => [topic, new Array(partitionCount(input, topic)).fill(undefined)]),
  );
}

/**
 * Each member's valid previously owned partitions, sorted, no partition twice;
 * see the module doc for what is dropped.
 */
function validOwned(input: NormalizedInput): Map<string, TopicPartition[]> {
  const claimed = newOwners(input);
  const result = new Map<string, TopicPartition[]>();
  for (const member of input.members) {
    const kept: TopicPartition[] = [];
    for (const { topic, partition } of member.owned) {
      if (!member.topicSet.has(topic)) continue;
      const owners = claimed.get(topic)!;
      if (!Number.isInteger(partition) || partition < 0 || partition >= owners.length) continue;
      if (owners[partition] !== undefined) continue;
      owners[partition] = member.memberId;
      kept.push({ topic, partition });
    }
    result.set(member.memberId, kept.sort(compareTopicPartitions));
  }
  return result;
}

function allSubscriptionsEqual(input: NormalizedInput): boolean {
  const first = input.members[0].topics;
  return input.members.every((member) =>
    member.topics.length === first.length &&
    member.topics.every((topic, index) => topic === first[index])
  );
}

/** Every member subscribes to `input.topics`: quotas, keep owned up to quota, deal the rest. */
function constrainedAssign(
  input: NormalizedInput,
  owned: Map<string, TopicPartition[]>,
): Map<string, TopicPartition[]> {
  const memberCount = input.members.length;
  let total = 0;
  for (const topic of input.topics) total += partitionCount(input, topic);
  const minQuota = Math.floor(total / memberCount);
  const membersWithExtra = total % memberCount;
  const byOwnedDesc = input.members.map((member) => member.memberId).sort((a, b) =>
    owned.get(b)!.length - owned.get(a)!.length || compareStrings(a, b)
  );
  const quota = new Map<string, number>();
  byOwnedDesc.forEach((memberId, rank) => {
    quota.set(memberId, minQuota + (rank < membersWithExtra ? 1 : 0));
  });

  const assignment = emptyAssignment(input);
  const taken = newOwners(input);
  for (const member of input.members) {
    const kept = owned.get(member.memberId)!.slice(0, quota.get(member.memberId)!);
    for (const tp of kept) taken.get(tp.topic)![tp.partition] = member.memberId;
    assignment.get(member.memberId)!.push(...kept);
  }
  const unassigned: TopicPartition[] = [];
  for (const topic of input.topics) {
    taken.get(topic)!.forEach((holder, partition) => {
      if (holder === undefined) unassigned.push({ topic, partition });
    });
  }
  let next = 0;
  for (const member of input.members) {
    const list = assignment.get(member.memberId)!;
    const memberQuota = quota.get(member.memberId)!;
    while (list.length < memberQuota) list.push(unassigned[next++]);
  }
  assert(next === unassigned.length, "sticky quotas must cover every partition");
  return assignment;
}

/** Mutable state of the general path: who holds what, and how much each member holds. */
interface GeneralState {
  input: NormalizedInput;
  /** topic → subscribers sorted by memberId. */
  subscribers: Map<string, string[]>;
  /** memberId → topic → partitions held. */
  holdings: Map<string, Map<string, Set<number>>>;
  sizes: Map<string, number>;
  /** topic → partition → memberId that owned it before this rebalance. */
  ownedBefore: Owners;
}

function give(state: GeneralState, memberId: string, topic: string, partition: number): void {
  const byTopic = state.holdings.get(memberId)!;
  let set = byTopic.get(topic);
  if (set === undefined) byTopic.set(topic, set = new Set());
  set.add(partition);
  state.sizes.set(memberId, state.sizes.get(memberId)! + 1);
}

function take(state: GeneralState, memberId: string, topic: string, partition: number): void {
  const removed = state.holdings.get(memberId)!.get(topic)?.delete(partition);
  assert(removed === true, `member '${memberId}' must hold ${topic}-${partition}`);
  state.sizes.set(memberId, state.sizes.get(memberId)! - 1);
}

/** The subscriber of `topic` holding the fewest partitions (first in memberId order on ties). */
function leastLoaded(state: GeneralState, topic: string): string {
  const subscribers = state.subscribers.get(topic)!;
  let best = subscribers[0];
  for (const memberId of subscribers) {
    if (state.sizes.get(memberId)! < state.sizes.get(best)!) best = memberId;
  }
  return best;
}

/** One move of the balance loop: a partition of `topic` from `from` to `to`. */
interface Move {
  topic: string;
  from: string;
  to: string;
}

/**
 * The move for `topic`, if one is left: from its most loaded holder to its
 * least loaded subscriber (first in memberId order on ties), when they differ
 * by two or more.
 */
function moveFor(state: GeneralState, topic: string): Move | undefined {
  let from: string | undefined;
  for (const memberId of state.subscribers.get(topic)!) {
    if ((state.holdings.get(memberId)!.get(topic)?.size ?? 0) === 0) continue;
    if (from === undefined || state.sizes.get(memberId)! > state.sizes.get(from)!) {
      from = memberId;
    }
  }
  if (from === undefined) return undefined;
  const to = leastLoaded(state, topic);
  return state.sizes.get(from)! - state.sizes.get(to)! >= 2 ? { topic, from, to } : undefined;
}

/** The partition to move: one `from` did not own before if any, else the highest. */
function partitionToMove(state: GeneralState, move: Move): number {
  const ownedBefore = state.ownedBefore.get(move.topic)!;
  let chosen = -1;
  let chosenWasOwned = true;
  for (const partition of state.holdings.get(move.from)!.get(move.topic)!) {
    const wasOwned = ownedBefore[partition] === move.from;
    if (
      chosen === -1 || (chosenWasOwned && !wasOwned) ||
      (chosenWasOwned === wasOwned && partition > chosen)
    ) {
      chosen = partition;
      chosenWasOwned = wasOwned;
    }
  }
  assert(chosen >= 0, `member '${move.from}' must hold a partition of '${move.topic}'`);
  return chosen;
}

/** Subscriptions differ: keep owned, place the rest on the least loaded, then even out. */
function generalAssign(
  input: NormalizedInput,
  owned: Map<string, TopicPartition[]>,
): Map<string, TopicPartition[]> {
  const state: GeneralState = {
    input,
    subscribers: new Map(
      input.topics.map((topic) => [
        topic,
        input.members.filter((member) => member.topicSet.has(topic)).map((m) => m.memberId),
      ]),
    ),
    holdings: new Map(input.members.map((member) => [member.memberId, new Map()])),
    sizes: new Map(input.members.map((member) => [member.memberId, 0])),
    ownedBefore: newOwners(input),
  };
  let total = 0;
  for (const [memberId, partitions] of owned) {
    for (const { topic, partition } of partitions) {
      state.ownedBefore.get(topic)![partition] = memberId;
      give(state, memberId, topic, partition);
    }
  }
  const unassigned: TopicPartition[] = [];
  for (const topic of input.topics) {
    const count = partitionCount(input, topic);
    total += count;
    const ownedBefore = state.ownedBefore.get(topic)!;
    for (let partition = 0; partition < count; partition++) {
      if (ownedBefore[partition] === undefined) unassigned.push({ topic, partition });
    }
  }
  // Partitions with the fewest possible consumers first, as Kafka sorts them.
  unassigned.sort((a, b) =>
    state.subscribers.get(a.topic)!.length - state.subscribers.get(b.topic)!.length ||
    compareTopicPartitions(a, b)
  );
  for (const { topic, partition } of unassigned) {
    give(state, leastLoaded(state, topic), topic, partition);
  }

  // Each move lowers the sum of squared sizes by at least 2, so at most total²/2 moves.
  const movesMax = Math.floor(total * total / 2) + 1;
  // Sweep the topics, one move per topic per sweep, until a sweep moves nothing.
  let moves = 0;
  for (let movedInSweep = true; movedInSweep;) {
    movedInSweep = false;
    for (const topic of input.topics) {
      const move = moveFor(state, topic);
      if (move === undefined) continue;
      assert(++moves <= movesMax, "sticky rebalancing must converge");
      const partition = partitionToMove(state, move);
      take(state, move.from, move.topic, partition);
      give(state, move.to, move.topic, partition);
      movedInSweep = true;
    }
  }

  const assignment = emptyAssignment(input);
  for (const [memberId, byTopic] of state.holdings) {
    const list = assignment.get(memberId)!;
    for (const [topic, partitions] of byTopic) {
      for (const partition of partitions) list.push({ topic, partition });
    }
  }
  return assignment;
}

function assignSticky(
  members: AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const input = normalizeInput(members, partitionsPerTopic);
  if (input.members.length === 0) return new Map();
  const owned = validOwned(input);
  const assignment = allSubscriptionsEqual(input)
    ? constrainedAssign(input, owned)
    : generalAssign(input, owned);
  return sortAssignment(assignment);
}

/** Kafka's `sticky` strategy: balanced, keeping previously owned partitions where it can. */
export const stickyAssignor: Assignor = Object.freeze({ name: "sticky", assign: assignSticky });
