/**
 * Tests for the range assignor on Kafka's documented examples and uneven subscriptions.
 * @module
 */
import assert from "node:assert/strict";
import { rangeAssignor } from "./range.ts";
import { compact, member } from "./_test_util.ts";

Deno.test("rangeAssignor matches Kafka's javadoc example (2 members, 2 topics × 3)", () => {
  const plan = rangeAssignor.assign(
    [member("C1", ["t0", "t1"]), member("C0", ["t0", "t1"])],
    new Map([["t0", 3], ["t1", 3]]),
  );
  assert.deepEqual(compact(plan), {
    C0: ["t0p0", "t0p1", "t1p0", "t1p1"],
    C1: ["t0p2", "t1p2"],
  });
});

Deno.test("rangeAssignor gives the first n % m members one extra partition", () => {
  const plan = rangeAssignor.assign(
    [member("c", ["t"]), member("a", ["t"]), member("b", ["t"])],
    new Map([["t", 8]]),
  );
  assert.deepEqual(compact(plan), {
    a: ["tp0", "tp1", "tp2"],
    b: ["tp3", "tp4", "tp5"],
    c: ["tp6", "tp7"],
  });
});

Deno.test("rangeAssignor splits each topic among its own subscribers only", () => {
  // Kafka's RoundRobinAssignor javadoc subscriptions, run through range.
  const plan = rangeAssignor.assign(
    [member("C0", ["t0"]), member("C1", ["t0", "t1"]), member("C2", ["t0", "t1", "t2"])],
    new Map([["t0", 1], ["t1", 2], ["t2", 3]]),
  );
  assert.deepEqual(compact(plan), {
    C0: ["t0p0"],
    C1: ["t1p0"],
    C2: ["t1p1", "t2p0", "t2p1", "t2p2"],
  });
});

Deno.test("rangeAssignor gives empty lists to extra members and skips unknown topics", () => {
  const plan = rangeAssignor.assign(
    [member("a", ["t", "gone"]), member("b", ["t"]), member("c", ["t"]), member("d", [])],
    new Map([["t", 2], ["other", 4]]),
  );
  assert.deepEqual(compact(plan), { a: ["tp0"], b: ["tp1"], c: [], d: [] });
});

Deno.test("rangeAssignor ignores previously owned partitions", () => {
  const plan = rangeAssignor.assign(
    [member("a", ["t"], ["tp3"]), member("b", ["t"], ["tp0"])],
    new Map([["t", 4]]),
  );
  assert.deepEqual(compact(plan), { a: ["tp0", "tp1"], b: ["tp2", "tp3"] });
});
