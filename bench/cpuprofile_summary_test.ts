/**
 * Tests for the `.cpuprofile` summary and the memory bench's line fit.
 * @module
 */
import assert from "node:assert/strict";
import { summarizeProfile } from "./cpuprofile_summary.ts";
import { fitLine } from "./memory_bench.ts";

Deno.test("summarizeProfile() splits idle from busy and counts self and inclusive time", () => {
  const frame = (functionName: string, line: number) => ({
    functionName,
    url: "file:///work/main/lib/x.ts",
    lineNumber: line,
  });
  const summary = summarizeProfile({
    nodes: [
      { id: 1, callFrame: frame("(root)", 0), children: [2, 4] },
      { id: 2, callFrame: frame("outer", 10), children: [3] },
      { id: 3, callFrame: frame("inner", 20) },
      { id: 4, callFrame: frame("(idle)", 0) },
    ],
    samples: [3, 3, 2, 4, 4],
    timeDeltas: [100, 100, 50, 1000, 1000],
  });
  assert.equal(summary.busyUs, 250);
  assert.equal(summary.idleUs, 2000);
  const byName = new Map(summary.functions.map((f) => [f.name, f]));
  assert.deepEqual(byName.get("inner lib/x.ts:21"), {
    name: "inner lib/x.ts:21",
    selfUs: 200,
    totalUs: 200,
  });
  assert.deepEqual(byName.get("outer lib/x.ts:11"), {
    name: "outer lib/x.ts:11",
    selfUs: 50,
    totalUs: 250,
  });
  assert.equal(summary.functions[0].name, "inner lib/x.ts:21");
});

Deno.test("fitLine() recovers a line and rejects a single point", () => {
  const fit = fitLine([0, 100, 200, 300], [80, 186, 290, 397]);
  assert.ok(Math.abs(fit.ratio - 1.056) < 0.01, `ratio ${fit.ratio}`);
  assert.ok(Math.abs(fit.fixed - 80.9) < 1, `fixed ${fit.fixed}`);
  assert.throws(() => fitLine([1], [2]), RangeError);
});
