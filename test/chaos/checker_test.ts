/**
 * The chaos checker on hand-made histories: each finding kind is detected,
 * and a clean history reports nothing.
 * @module
 */
import assert from "node:assert/strict";
import { check, summarize } from "./checker.ts";
import type { Op, ReadRecord } from "./history.ts";

const T = "t";

function send(
  process: string,
  timeMs: number,
  type: "ok" | "fail" | "info",
  values: string[],
  partitions: number[],
  offsets?: number[],
): Op[] {
  return [
    { process, type: "invoke", f: "send", timeMs: timeMs - 1, topic: T, values, partitions },
    { process, type, f: "send", timeMs, topic: T, values, partitions, offsets },
  ];
}

function rec(partition: number, offset: number, value: string): ReadRecord {
  return { topic: T, partition, offset, value };
}

function drain(process: string, records: ReadRecord[], committed = false): Op {
  return { process, type: "ok", f: "drain", timeMs: 1_000, records, committed };
}

function poll(process: string, timeMs: number, records: ReadRecord[], committed = false): Op {
  return { process, type: "ok", f: "poll", timeMs, records, committed };
}

Deno.test("checker: a clean history reports nothing", () => {
  const ops = [
    ...send("p0", 10, "ok", ["p0-0", "p0-1"], [0, 1], [0, 0]),
    ...send("p0", 20, "ok", ["p0-2"], [0], [1]),
    ...send("p1", 25, "info", ["p1-0"], [1]),
    poll("c0", 30, [rec(0, 0, "p0-0"), rec(0, 1, "p0-2")]),
    drain("d0", [rec(0, 0, "p0-0"), rec(0, 1, "p0-2"), rec(1, 0, "p0-1"), rec(1, 1, "p1-0")]),
  ];
  const r = check(ops);
  assert.equal(r.acknowledged, 3);
  assert.equal(r.indeterminate, 1);
  assert.equal(r.drained, 4);
  for (
    const k of ["lost", "duplicated", "inconsistent", "misplacedAcks", "nonMonotonic"] as const
  ) {
    assert.equal(r[k], 0, `${k}: ${summarize(r)}`);
  }
  assert.equal(r.abortedReads, 0);
});

Deno.test("checker: lost = acknowledged but never drained; failed/info sends are not lost", () => {
  const ops = [
    ...send("p0", 10, "ok", ["p0-0", "p0-1"], [0, 0], [0, 1]),
    ...send("p0", 20, "fail", ["p0-2"], [0]),
    ...send("p0", 30, "info", ["p0-3"], [0]),
    drain("d0", [rec(0, 0, "p0-0")]),
  ];
  const r = check(ops);
  assert.equal(r.lost, 1);
  assert.deepEqual(r.lostExamples, ["p0-1"]);
  assert.equal(r.failed, 1);
  assert.equal(r.indeterminate, 1);
});

Deno.test("checker: duplicated = one value at two offsets", () => {
  const ops = [
    ...send("p0", 10, "ok", ["p0-0"], [0], [0]),
    drain("d0", [rec(0, 0, "p0-0"), rec(0, 1, "p0-0"), rec(0, 2, "p0-9")]),
  ];
  const r = check(ops);
  assert.equal(r.duplicated, 1);
  assert.deepEqual(r.duplicatedExamples, [{ value: "p0-0", positions: ["t-0@0", "t-0@1"] }]);
  assert.equal(r.lost, 0);
});

Deno.test("checker: inconsistent = one offset, two values, across readers and polls", () => {
  const ops = [
    ...send("p0", 10, "ok", ["p0-0", "p0-1"], [0, 0], [0, 1]),
    poll("c0", 15, [rec(0, 0, "p0-0"), rec(0, 1, "p9-9")]),
    drain("d0", [rec(0, 0, "p0-0"), rec(0, 1, "p0-1")]),
    drain("d1", [rec(0, 0, "p0-0"), rec(0, 1, "p0-1")]),
  ];
  const r = check(ops);
  assert.equal(r.inconsistent, 1);
  assert.deepEqual(r.inconsistentExamples, [{ position: "t-0@1", values: ["p0-1", "p9-9"] }]);
});

Deno.test("checker: an ack whose offset holds another value is misplaced (acks=1 loss)", () => {
  const ops = [
    ...send("p0", 10, "ok", ["p0-0"], [0], [0]),
    ...send("p1", 12, "ok", ["p1-0"], [0], [0]),
    drain("d0", [rec(0, 0, "p1-0")]),
  ];
  const r = check(ops);
  assert.equal(r.misplacedAcks, 1);
  assert.deepEqual(r.misplacedExamples, [{ value: "p0-0", position: "t-0@0", found: "p1-0" }]);
  assert.equal(r.lost, 1);
  assert.equal(r.inconsistent, 0, "readers agree: only the ack disagrees");
});

Deno.test("checker: non-monotonic polls, reset by a reassignment", () => {
  const ops: Op[] = [
    poll("c0", 10, [rec(0, 0, "a"), rec(0, 1, "b")]),
    poll("c0", 20, [rec(0, 1, "b")]), // repeated offset: non-monotonic
    poll("c0", 25, [rec(1, 5, "x"), rec(1, 4, "w")]), // backwards inside one poll
    { process: "c0", type: "ok", f: "assign", timeMs: 30 },
    poll("c0", 40, [rec(0, 0, "a")]), // after a reassignment: fine
    poll("c1", 40, [rec(0, 0, "a")]), // another consumer: fine
  ];
  const r = check(ops);
  assert.equal(r.nonMonotonic, 2);
  assert.deepEqual(r.nonMonotonicExamples.map((n) => [n.partition, n.previous, n.offset]), [
    ["t-0", 1, 1],
    ["t-1", 5, 4],
  ]);
});

Deno.test("checker: aborted reads only for read_committed readers", () => {
  const ops: Op[] = [
    { process: "w0", type: "fail", f: "txn", timeMs: 10, values: ["x|t1"] },
    { process: "w0", type: "ok", f: "txn", timeMs: 20, values: ["x|t2"] },
    drain("u", [rec(0, 0, "x|t1"), rec(0, 2, "x|t2")], false),
    drain("c", [rec(0, 2, "x|t2")], true),
    poll("c0", 30, [rec(0, 0, "x|t1")], true),
  ];
  const r = check(ops, { valueKey: (v) => v.split("|")[0], expected: ["x", "y"] });
  assert.equal(r.abortedReads, 1);
  assert.deepEqual(r.abortedExamples, ["x|t1 at t-0@0"]);
  assert.equal(r.committedTxns, 1);
  assert.equal(r.abortedTxns, 1);
  assert.equal(r.lost, 1, "y was expected and never drained");
  assert.equal(r.duplicated, 1, "x at two offsets (the aborted copy and the committed one)");
});

Deno.test("checker: recovery time = worst partition's first ack invoked after the fault", () => {
  const ops: Op[] = [
    ...send("p0", 100, "ok", ["a"], [0], [0]),
    { process: "nemesis", type: "invoke", f: "fault", timeMs: 200, fault: "kill broker 1" },
    ...send("p0", 300, "ok", ["b"], [0], [1]), // partition 0 back after 100 ms
    ...send("p1", 1_200, "info", ["c"], [1]),
    ...send("p1", 1_700, "ok", ["d"], [1], [0]), // partition 1 after 1500 ms
    { process: "nemesis", type: "ok", f: "fault", timeMs: 2_000, fault: "kill broker 1" },
    { process: "nemesis", type: "invoke", f: "fault", timeMs: 3_000, fault: "pause broker 2" },
    ...send("p1", 3_500, "info", ["e"], [1]), // never acked again
  ];
  const r = check(ops);
  assert.deepEqual(r.recoveries, [
    { fault: "kill broker 1", atMs: 200, healedAtMs: 2_000, recoveryMs: 1_500 },
    { fault: "pause broker 2", atMs: 3_000, healedAtMs: null, recoveryMs: null },
  ]);
});

Deno.test("checker: topic filter", () => {
  const ops: Op[] = [
    ...send("p0", 10, "ok", ["a"], [0], [0]),
    { ...send("p0", 20, "ok", ["b"], [0], [0])[1], topic: "other" },
    drain("d", [rec(0, 0, "a")]),
  ];
  assert.equal(check(ops, { topic: T }).acknowledged, 1);
  assert.equal(check(ops, { topic: T }).lost, 0);
});
