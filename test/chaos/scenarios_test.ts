/**
 * CI runs the short version of every chaos scenario (a few seconds of
 * faults each, ~100 s in all on 2 cores), each on its own cluster (ports
 * 23100-23899), one at a time. `CHAOS_SEED` replays a schedule; the default
 * seed is fixed so CI is repeatable. The long versions:
 * `deno task chaos --long [--scenario N] [--seed N]`.
 * @module
 */
import assert from "node:assert/strict";
import { SCENARIOS } from "./scenarios.ts";
import { summarize } from "./checker.ts";

const SEED = Number(Deno.env.get("CHAOS_SEED") ?? "10");

for (const scenario of SCENARIOS) {
  Deno.test({
    name: `chaos ${scenario.id}: ${scenario.title} (short, seed ${SEED})`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const lines: string[] = [];
      const result = await scenario.run({ seed: SEED, long: false, log: (l) => lines.push(l) });
      const reports = Object.entries(result.reports).map(([k, r]) => `${k}: ${summarize(r)}`);
      console.log(
        `scenario ${scenario.id} in ${(result.durationMs / 1000).toFixed(1)} s\n  ${
          reports.join("\n  ")
        }\n  figures: ${JSON.stringify(result.figures)}`,
      );
      assert.deepEqual(result.failures, [], lines.join("\n"));
    },
  });
}
