/**
 * Summarizes a V8 `.cpuprofile` (from `deno run --cpu-prof`): busy and idle
 * time, then the functions with the most self time (and their inclusive
 * time), as used for docs/performance.md.
 *
 * ```sh
 * deno run --allow-read bench/cpuprofile_summary.ts CPU.123.cpuprofile [top=30] [--inclusive]
 * ```
 * @module
 */

/** A node of a `.cpuprofile` call tree. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Time attributed to one function (name, file and line). */
export interface FunctionTime {
  name: string;
  selfUs: number;
  /** Samples with this function anywhere on the stack. */
  totalUs: number;
}

/** Busy time, idle time and per-function times of a profile, by self time descending. */
export function summarizeProfile(
  profile: CpuProfile,
): { busyUs: number; idleUs: number; functions: FunctionTime[] } {
  const nodes = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(
      /^file:\/\/.*?\/(lib|broker|clients|bench|coordinator|gateway)\//,
      "$1/",
    );
    return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
  };
  const selfByNode = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byKey = new Map<string, FunctionTime>();
  const entry = (name: string) => {
    let e = byKey.get(name);
    if (!e) byKey.set(name, e = { name, selfUs: 0, totalUs: 0 });
    return e;
  };
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfByNode) {
    const node = nodes.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    entry(keyOf(node)).selfUs += us;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(nodes.get(cur)!);
      if (seen.has(key)) continue;
      seen.add(key);
      entry(key).totalUs += us;
    }
  }
  const functions = [...byKey.values()].sort((a, b) => b.selfUs - a.selfUs);
  return { busyUs, idleUs, functions };
}

if (import.meta.main) {
  const [file, topArg] = Deno.args.filter((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: cpuprofile_summary.ts FILE.cpuprofile [top] [--inclusive]");
    Deno.exit(2);
  }
  const top = Number(topArg ?? 30);
  const { busyUs, idleUs, functions } = summarizeProfile(
    JSON.parse(await Deno.readTextFile(file)) as CpuProfile,
  );
  console.log(`busy ${(busyUs / 1000).toFixed(0)} ms, idle ${(idleUs / 1000).toFixed(0)} ms`);
  console.log(" self%  total%  function (share of busy time)");
  const list = Deno.args.includes("--inclusive")
    ? [...functions].sort((a, b) => b.totalUs - a.totalUs)
    : functions;
  for (const f of list.slice(0, top)) {
    const pct = (us: number) => (100 * us / Math.max(busyUs, 1)).toFixed(1).padStart(6);
    console.log(`${pct(f.selfUs)}  ${pct(f.totalUs)}  ${f.name}`);
  }
}
