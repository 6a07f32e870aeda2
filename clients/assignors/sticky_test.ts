/**
 * Tests for the sticky assignor: balance, stability, minimal movement when a
 * member joins or leaves, Kafka's javadoc examples, and the checks on `owned`.
 * @module
 */
import assert from "node:assert/strict";
import { stickyAssignor } from "./sticky.ts";
import type { TopicPartition } from "./_common.ts";
import { compact, member, withOwned } from "./_test_util.ts";

function sizes(plan: Map<string, TopicPartition[]>): number[] {
  return [...plan.values()].map((list) => list.length);
}

/** partition key → owner, for counting what moved between two plans. */
function owners(plan: Map<string, TopicPartition[]>): Map<string, string> {
  const result = new Map<string, string>();
  for (const [memberId, list] of plan) {
    for (const tp of list) result.set(`${tp.topic}p${tp.partition}`, memberId);
  }
  return result;
}

function moved(before: Map<string, TopicPartition[]>, after: Map<string, TopicPartition[]>) {
  const old = owners(before);
  return [...owners(after)].filter(([key, owner]) => old.get(key) !== owner);
}

Deno.test("stickyAssignor balances a fresh group to within one partition", () => {
  const plan = stickyAssignor.assign(
    [member("a", ["t", "u"]), member("b", ["t", "u"]), member("c", ["t", "u"])],
    new Map([["t", 7], ["u", 3]]),
  );
  assert.deepEqual(sizes(plan).sort(), [3, 3, 4]);
  assert.equal(owners(plan).size, 10);
});

Deno.test("stickyAssignor is stable: same input → same plan, and its plan is a fixed point", () => {
  const members = [member("b", ["t"], ["tp5"]), member("a", ["t"], ["tp0", "tp1"])];
  const partitions = new Map([["t", 9]]);
  const first = stickyAssignor.assign(members, partitions);
  assert.deepEqual(compact(stickyAssignor.assign(members, partitions)), compact(first));
  const again = stickyAssignor.assign(withOwned(members, first), partitions);
  assert.deepEqual(compact(again), compact(first));
});

Deno.test("stickyAssignor: adding a 4th member to 3 moves only the partitions it needs", () => {
  const partitions = new Map([["t", 12]]);
  const three = [member("C0", ["t"]), member("C1", ["t"]), member("C2", ["t"])];
  const before = stickyAssignor.assign(three, partitions);
  assert.deepEqual(sizes(before), [4, 4, 4]);

  const four = [...withOwned(three, before), member("C3", ["t"])];
  const after = stickyAssignor.assign(four, partitions);
  assert.deepEqual(sizes(after), [3, 3, 3, 3]);
  const changes = moved(before, after);
  assert.equal(changes.length, 3);
  assert.ok(changes.every(([, owner]) => owner === "C3"));
  const oldOwners = owners(before);
  assert.deepEqual(changes.map(([key]) => oldOwners.get(key)).sort(), ["C0", "C1", "C2"]);
  for (const id of ["C0", "C1", "C2"]) {
    const kept = after.get(id)!.map((tp) => `${tp.topic}p${tp.partition}`);
    const had = before.get(id)!.map((tp) => `${tp.topic}p${tp.partition}`);
    assert.ok(kept.every((key) => had.includes(key)), `${id} gained a partition`);
  }
});

Deno.test("stickyAssignor: adding a member over two topics still moves only what it needs", () => {
  const partitions = new Map([["t", 7], ["u", 5]]);
  const three = ["C0", "C1", "C2"].map((id) => member(id, ["u", "t"]));
  const before = stickyAssignor.assign(three, partitions);
  const after = stickyAssignor.assign(
    [member("C3", ["t", "u"]), ...withOwned(three, before)],
    partitions,
  );
  assert.deepEqual(sizes(after), [3, 3, 3, 3]);
  const changes = moved(before, after);
  assert.equal(changes.length, 3);
  assert.ok(changes.every(([, owner]) => owner === "C3"));
});

Deno.test("stickyAssignor: removing a member moves only its partitions", () => {
  const partitions = new Map([["t", 12]]);
  const four = ["C0", "C1", "C2", "C3"].map((id) => member(id, ["t"]));
  const before = stickyAssignor.assign(four, partitions);
  assert.deepEqual(sizes(before), [3, 3, 3, 3]);

  const remaining = withOwned(four, before).filter((m) => m.memberId !== "C1");
  const after = stickyAssignor.assign(remaining, partitions);
  assert.deepEqual(sizes(after), [4, 4, 4]);
  const oldOwners = owners(before);
  const changes = moved(before, after);
  assert.equal(changes.length, 3);
  assert.ok(changes.every(([key]) => oldOwners.get(key) === "C1"));
  assert.deepEqual(changes.map(([, owner]) => owner).sort(), ["C0", "C2", "C3"]);
});

Deno.test("stickyAssignor keeps Kafka's javadoc example 1 sticky when C1 leaves", () => {
  // 3 members, t0..t3 × 2 partitions, the round-robin-like start of the javadoc.
  const partitions = new Map([["t0", 2], ["t1", 2], ["t2", 2], ["t3", 2]]);
  const all = ["t0", "t1", "t2", "t3"];
  const after = stickyAssignor.assign(
    [member("C0", all, ["t0p0", "t1p1", "t3p0"]), member("C2", all, ["t1p0", "t2p1"])],
    partitions,
  );
  assert.deepEqual(sizes(after), [4, 4]);
  const c0 = compact(after).C0;
  const c2 = compact(after).C2;
  for (const key of ["t0p0", "t1p1", "t3p0"]) assert.ok(c0.includes(key));
  for (const key of ["t1p0", "t2p1"]) assert.ok(c2.includes(key));
});

Deno.test("stickyAssignor matches Kafka's javadoc example 2 (uneven subscriptions)", () => {
  const partitions = new Map([["t0", 1], ["t1", 2], ["t2", 3]]);
  const members = [
    member("C0", ["t0"]),
    member("C1", ["t0", "t1"]),
    member("C2", ["t0", "t1", "t2"]),
  ];
  const first = stickyAssignor.assign(members, partitions);
  assert.deepEqual(compact(first), {
    C0: ["t0p0"],
    C1: ["t1p0", "t1p1"],
    C2: ["t2p0", "t2p1", "t2p2"],
  });
  const after = stickyAssignor.assign(withOwned(members, first).slice(1), partitions);
  assert.deepEqual(compact(after), {
    C1: ["t0p0", "t1p0", "t1p1"],
    C2: ["t2p0", "t2p1", "t2p2"],
  });
});

Deno.test("stickyAssignor moves partitions off an overloaded member in a mixed group", () => {
  const partitions = new Map([["t", 6], ["u", 2]]);
  const plan = stickyAssignor.assign(
    [
      member("a", ["t", "u"], ["tp0", "tp1", "tp2", "tp3", "tp4", "tp5", "up0", "up1"]),
      member("b", ["t"]),
      member("c", ["u"]),
    ],
    partitions,
  );
  // Balanced in Kafka's sense: no partition can go to a subscriber holding two fewer.
  assert.deepEqual(compact(plan), {
    a: ["tp0", "tp1", "tp2"],
    b: ["tp3", "tp4", "tp5"],
    c: ["up0", "up1"],
  });
});

Deno.test("stickyAssignor drops owned partitions that no longer exist or are not subscribed", () => {
  const plan = stickyAssignor.assign(
    [
      // tp7 is past the end, "gone" was deleted, up0 is no longer subscribed, tp-1 is nonsense.
      member("a", ["t"], ["tp7", "gonep0", "up0", "tp2"]),
      { memberId: "b", topics: ["t", "u"], owned: [{ topic: "t", partition: -1 }] },
    ],
    new Map([["t", 4], ["u", 1]]),
  );
  assert.deepEqual(compact(plan), { a: ["tp0", "tp2", "tp3"], b: ["tp1", "up0"] });
});

Deno.test("stickyAssignor keeps a doubly claimed partition for the smallest memberId", () => {
  const partitions = new Map([["t", 4]]);
  const plan = stickyAssignor.assign(
    [member("b", ["t"], ["tp1", "tp3"]), member("a", ["t"], ["tp1"])],
    partitions,
  );
  assert.deepEqual(compact(plan), { a: ["tp0", "tp1"], b: ["tp2", "tp3"] });
  // The same claim listed twice by one member counts once.
  const twice = stickyAssignor.assign(
    [member("a", ["t"], ["tp3", "tp3", "tp2"]), member("b", ["t"])],
    partitions,
  );
  assert.deepEqual(compact(twice), { a: ["tp2", "tp3"], b: ["tp0", "tp1"] });
});

Deno.test("stickyAssignor trims an over-quota owner, keeping its lowest partitions", () => {
  const plan = stickyAssignor.assign(
    [member("a", ["t"], ["tp0", "tp1", "tp2", "tp3", "tp4"]), member("b", ["t"], ["tp5"])],
    new Map([["t", 6]]),
  );
  assert.deepEqual(compact(plan), { a: ["tp0", "tp1", "tp2"], b: ["tp3", "tp4", "tp5"] });
});

Deno.test("stickyAssignor handles an empty group and members without subscriptions", () => {
  assert.equal(stickyAssignor.assign([], new Map([["t", 3]])).size, 0);
  assert.deepEqual(
    compact(stickyAssignor.assign([member("a", []), member("b", [])], new Map([["t", 3]]))),
    { a: [], b: [] },
  );
});
