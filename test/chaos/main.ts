/**
 * `deno task chaos [--scenario N] [--seed N] [--long] [--json FILE]`: runs the
 * chaos scenarios (all, or one) and prints each one's figures and verdict.
 * The same seed replays the same fault schedule. Exits 1 if any failed.
 *
 *     deno task chaos --scenario 2 --seed 42          # short (CI-sized) run
 *     deno task chaos --long                          # every scenario, ~90 s of faults each
 * @module
 */
import { parseArgs } from "node:util";
import { type ScenarioResult, SCENARIOS } from "./scenarios.ts";
import { summarize } from "./checker.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scenario: { type: "string" },
    seed: { type: "string" },
    long: { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const wanted = values.scenario === undefined
  ? SCENARIOS
  : SCENARIOS.filter((s) => values.scenario!.split(",").map(Number).includes(s.id));
if (!Number.isInteger(seed) || wanted.length === 0) {
  console.error("usage: deno task chaos [--scenario N[,M…]] [--seed N] [--long] [--json FILE]");
  Deno.exit(2);
}
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const results: ScenarioResult[] = [];
for (const scenario of wanted) {
  const result = await scenario.run({ seed, long: values.long, log });
  results.push(result);
  console.log(
    `scenario ${result.scenario} ${result.failures.length === 0 ? "PASSED" : "FAILED"} in ${
      (result.durationMs / 1000).toFixed(1)
    } s (seed ${seed}${values.long ? ", long" : ""})`,
  );
  for (const [name, report] of Object.entries(result.reports)) {
    console.log(`  ${name}: ${summarize(report)}`);
  }
  console.log(`  figures: ${JSON.stringify(result.figures)}`);
  for (const f of result.failures) console.log(`  FAILED: ${f}`);
}
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ date: new Date().toISOString(), seed, long: values.long, results }, null, 2),
  );
}
Deno.exit(results.every((r) => r.failures.length === 0) ? 0 : 1);
