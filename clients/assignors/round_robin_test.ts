/**
 * Tests for the round-robin assignor on Kafka's documented examples and uneven subscriptions.
 * @module
 */
import assert from "node:assert/strict";
import { roundRobinAssignor } from "./round_robin.ts";
import { compact, member } from "./_test_util.ts";

Deno.test("roundRobinAssignor matches Kafka's javadoc example (2 members, 2 topics × 3)", () => {
  const plan = roundRobinAssignor.assign(
    [member("C1", ["t1", "t0"]), member("C0", ["t0", "t1"])],
    new Map([["t0", 3], ["t1", 3]]),
  );
  assert.deepEqual(compact(plan), {
    C0: ["t0p0", "t0p2", "t1p1"],
    C1: ["t0p1", "t1p0", "t1p2"],
  });
});

Deno.test("roundRobinAssignor matches Kafka's javadoc example with uneven subscriptions", () => {
  const plan = roundRobinAssignor.assign(
    [member("C0", ["t0"]), member("C1", ["t0", "t1"]), member("C2", ["t0", "t1", "t2"])],
    new Map([["t0", 1], ["t1", 2], ["t2", 3]]),
  );
  assert.deepEqual(compact(plan), {
    C0: ["t0p0"],
    C1: ["t1p0"],
    C2: ["t1p1", "t2p0", "t2p1", "t2p2"],
  });
});

Deno.test("roundRobinAssignor carries the circle on across topics and skips non-subscribers", () => {
  const plan = roundRobinAssignor.assign(
    [member("a", ["x", "y"]), member("b", ["y"]), member("c", ["x", "y"])],
    new Map([["x", 3], ["y", 4]]),
  );
  // x: a, c, a (b skipped); y continues after a: b, c, a, b.
  assert.deepEqual(compact(plan), {
    a: ["xp0", "xp2", "yp2"],
    b: ["yp0", "yp3"],
    c: ["xp1", "yp1"],
  });
});

Deno.test("roundRobinAssignor sorts topics by name, not by subscription order", () => {
  const plan = roundRobinAssignor.assign(
    [member("m1", ["b", "a"]), member("m2", ["b", "a"]), member("m3", [])],
    new Map([["b", 1], ["a", 2]]),
  );
  assert.deepEqual(compact(plan), { m1: ["ap0", "bp0"], m2: ["ap1"], m3: [] });
});
