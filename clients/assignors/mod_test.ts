/**
 * Tests for the assignor registry and input checks, and a property test run
 * against all three assignors over seeded random groups.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  type Assignor,
  assignorByName,
  type AssignorMember,
  ASSIGNORS,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
  type TopicPartition,
} from "./mod.ts";
import { seededRandom } from "@kafka-analog/lib/random";
import { compact, member, withOwned } from "./_test_util.ts";

Deno.test("assignorByName() finds each assignor by its JoinGroup name", () => {
  assert.equal(assignorByName("range"), rangeAssignor);
  assert.equal(assignorByName("roundrobin"), roundRobinAssignor);
  assert.equal(assignorByName("sticky"), stickyAssignor);
  assert.deepEqual(ASSIGNORS.map((a) => a.name), ["range", "roundrobin", "sticky"]);
});

Deno.test("assignorByName() refuses an unknown name with INVALID_REQUEST", () => {
  for (const name of ["", "Range", "round-robin", "cooperative-sticky"]) {
    assert.throws(
      () => assignorByName(name),
      (err) => isKaError(err, "INVALID_REQUEST") && /expected one of range/.test(err.message),
    );
  }
});

Deno.test("every assignor refuses a duplicate memberId or a bad partition count", () => {
  for (const assignor of ASSIGNORS) {
    assert.throws(
      () => assignor.assign([member("a", ["t"]), member("a", ["t"])], new Map([["t", 2]])),
      (err) => isKaError(err, "INVALID_REQUEST") && /memberId 'a'/.test(err.message),
    );
    for (const count of [-1, 1.5, Number.NaN, 1e9]) {
      assert.throws(
        () => assignor.assign([member("a", ["t"])], new Map([["t", count]])),
        (err) => isKaError(err, "INVALID_REQUEST") && /topic 't'/.test(err.message),
      );
    }
  }
});

Deno.test("every assignor gives an empty list to each member when nothing is subscribed", () => {
  for (const assignor of ASSIGNORS) {
    const plan = assignor.assign([member("b", ["x"]), member("a", [])], new Map([["t", 3]]));
    assert.deepEqual(compact(plan), { a: [], b: [] }, assignor.name);
  }
});

/** A random group: 0..6 members, 1..4 topics of 0..9 partitions, messy `owned` lists. */
function randomGroup(random: () => number) {
  const pick = (n: number) => Math.floor(random() * n);
  const topics = Array.from({ length: 1 + pick(4) }, (_, i) => `t${i}`);
  const partitionsPerTopic = new Map(topics.map((topic) => [topic, pick(10)]));
  const identical = random() < 0.5;
  const shared = topics.filter(() => random() < 0.7);
  const members: AssignorMember[] = [];
  const memberCount = pick(7);
  for (let i = 0; i < memberCount; i++) {
    const subscribed = identical ? [...shared] : topics.filter(() => random() < 0.5);
    if (random() < 0.2) subscribed.push("deleted"); // a topic the metadata no longer has
    const owned: TopicPartition[] = [];
    for (let j = pick(8); j > 0; j--) {
      const topic = random() < 0.9 ? topics[pick(topics.length)] : "deleted";
      owned.push({ topic, partition: pick(12) - 1 }); // -1 and past-the-end included
    }
    members.push({ memberId: `m${pick(1000)}-${i}`, topics: subscribed, owned });
  }
  // Shuffle so no assignor relies on the input order.
  for (let i = members.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [members[i], members[j]] = [members[j], members[i]];
  }
  return { members, partitionsPerTopic, identical };
}

function checkPlan(
  assignor: Assignor,
  members: AssignorMember[],
  partitionsPerTopic: Map<string, number>,
  plan: Map<string, TopicPartition[]>,
): void {
  const name = assignor.name;
  assert.deepEqual([...plan.keys()].sort(), members.map((m) => m.memberId).sort(), name);
  const byId = new Map(members.map((m) => [m.memberId, m]));
  const owner = new Map<string, string>();
  for (const [memberId, list] of plan) {
    for (const { topic, partition } of list) {
      assert.ok(byId.get(memberId)!.topics.includes(topic), `${name}: ${memberId} got ${topic}`);
      const count = partitionsPerTopic.get(topic);
      assert.ok(count !== undefined && partition >= 0 && partition < count, `${name}: bad tp`);
      const key = `${topic}/${partition}`;
      assert.ok(!owner.has(key), `${name}: ${key} assigned twice`);
      owner.set(key, memberId);
    }
  }
  for (const [topic, count] of partitionsPerTopic) {
    if (!members.some((m) => m.topics.includes(topic))) continue;
    for (let partition = 0; partition < count; partition++) {
      assert.ok(owner.has(`${topic}/${partition}`), `${name}: ${topic}/${partition} unassigned`);
    }
  }
}

function spread(plan: Map<string, TopicPartition[]>): number {
  const sizes = [...plan.values()].map((list) => list.length);
  return sizes.length === 0 ? 0 : Math.max(...sizes) - Math.min(...sizes);
}

/** Kafka's isBalanced: no partition could go to a subscriber of its topic holding two fewer. */
function assertStickyBalanced(members: AssignorMember[], plan: Map<string, TopicPartition[]>) {
  for (const [holder, list] of plan) {
    for (const { topic } of list) {
      for (const other of members) {
        if (!other.topics.includes(topic)) continue;
        assert.ok(
          plan.get(other.memberId)!.length >= list.length - 1,
          `sticky: ${topic} could move from ${holder} to ${other.memberId}`,
        );
      }
    }
  }
}

/** The owned partitions that survive the checks, claimed in memberId order. */
function validOwnedCounts(members: AssignorMember[], partitionsPerTopic: Map<string, number>) {
  const claimed = new Set<string>();
  const counts = new Map<string, number>();
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  for (const m of sorted) {
    let count = 0;
    for (const { topic, partition } of m.owned) {
      const key = `${topic}/${partition}`;
      const valid = m.topics.includes(topic) && partition >= 0 &&
        partition < (partitionsPerTopic.get(topic) ?? 0) && !claimed.has(key);
      if (valid) {
        claimed.add(key);
        count++;
      }
    }
    counts.set(m.memberId, count);
  }
  return counts;
}

Deno.test("every assignor covers each subscribed partition exactly once (300 seeded groups)", () => {
  const seed = 20240601;
  const random = seededRandom(seed);
  for (let run = 0; run < 300; run++) {
    const { members, partitionsPerTopic, identical } = randomGroup(random);
    const where = `SEED=${seed} run=${run}`;
    for (const assignor of ASSIGNORS) {
      const plan = assignor.assign(members, partitionsPerTopic);
      checkPlan(assignor, members, partitionsPerTopic, plan);
      const again = assignor.assign(structuredClone(members).reverse(), partitionsPerTopic);
      assert.deepEqual(
        compact(again),
        compact(plan),
        `${where}: ${assignor.name} not deterministic`,
      );
      if (identical && assignor !== rangeAssignor) {
        assert.ok(spread(plan) <= 1, `${where}: ${assignor.name} spread ${spread(plan)}`);
      }
    }

    const sticky = stickyAssignor.assign(members, partitionsPerTopic);
    assertStickyBalanced(members, sticky);
    // Its plan is a fixed point: fed back as `owned`, nothing moves.
    const next = stickyAssignor.assign(withOwned(members, sticky), partitionsPerTopic);
    assert.deepEqual(compact(next), compact(sticky), `${where}: sticky plan not a fixed point`);
    if (identical && members.length > 0) {
      // Every member keeps at least min(valid owned, floor(P / M)) of what it owned.
      const valid = validOwnedCounts(members, partitionsPerTopic);
      const total = [...partitionsPerTopic]
        .filter(([topic]) => members[0].topics.includes(topic))
        .reduce((sum, [, count]) => sum + count, 0);
      const minQuota = Math.floor(total / members.length);
      for (const m of members) {
        const mine = new Set(m.owned.map((tp) => `${tp.topic}/${tp.partition}`));
        const kept = sticky.get(m.memberId)!.filter((tp) =>
          mine.has(`${tp.topic}/${tp.partition}`)
        );
        assert.ok(
          kept.length >= Math.min(valid.get(m.memberId)!, minQuota),
          `${where}: ${m.memberId} kept ${kept.length}`,
        );
      }
    }
  }
});
