/**
 * The eight chaos scenarios of issue 10, each a function that starts its
 * own cluster (ports 23000 + 100 × N), runs clients that record a
 * {@linkcode History} while a seeded schedule injects faults, heals the
 * cluster, waits for a full ISR, drains every partition from its earliest
 * offset, checks the history and returns the figures plus the pass
 * criteria it broke (`failures`; empty = passed).
 *
 * `short` runs take seconds (CI, `scenarios_test.ts`); `long` ones ~90 s of
 * faults (`deno task chaos --long`).
 * @module
 */
import { createClient } from "@kafka-analog/clients";
import { isKaError } from "@kafka-analog/lib/errors";
import { startCluster, type TestCluster, waitFor } from "../_cluster.ts";
import { EosWorker } from "../_eos_process.ts";
import { check, type CheckReport, summarize } from "./checker.ts";
import {
  busiestLeader,
  describeTopic,
  drainPartition,
  drainTopic,
  pause,
  prng,
  runGatewayWriter,
  runGroupConsumers,
  runWriters,
  services,
  signalBroker,
  startBroker,
  startService,
  waitHealed,
} from "./harness.ts";
import { History, valueOf } from "./history.ts";
import { powerLoss } from "./power_loss.ts";
import { type ClockSkew, clockSkew } from "./clock.ts";
import { type FaultProxy, PASS, type ProxyRule, startFaultProxy } from "./proxy.ts";

/** How a scenario runs. */
export interface ScenarioOptions {
  seed: number;
  long: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a scenario measured and which pass criteria failed. */
export interface ScenarioResult {
  scenario: number;
  title: string;
  fault: string;
  seed: number;
  long: boolean;
  durationMs: number;
  /** One report per checked topic (key: what it checks, e.g. `acks=all`). */
  reports: Record<string, CheckReport>;
  /** Scenario-specific figures (failover times, error counts…). */
  figures: Record<string, unknown>;
  /** Broken pass criteria; empty when the scenario passed. */
  failures: string[];
}

/** A scenario's definition. */
export interface Scenario {
  id: number;
  title: string;
  fault: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}

const BASE_PORT = 23000;

function basePortOf(id: number): number {
  return BASE_PORT + 100 * id;
}

/** Collects pass criteria. */
class Criteria {
  readonly failures: string[] = [];
  expect(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }
  /** The usual safety criteria for an acks=all / idempotent history. */
  safe(name: string, r: CheckReport): void {
    this.expect(r.acknowledged > 0, `${name}: something was acknowledged`);
    this.expect(r.lost === 0, `${name}: 0 lost (got ${r.lost}: ${r.lostExamples.join(",")})`);
    this.expect(r.duplicated === 0, `${name}: 0 duplicated (got ${r.duplicated})`);
    this.expect(r.inconsistent === 0, `${name}: 0 inconsistent (got ${r.inconsistent})`);
    this.expect(r.misplacedAcks === 0, `${name}: 0 misplaced acks (got ${r.misplacedAcks})`);
    this.expect(r.nonMonotonic === 0, `${name}: 0 non-monotonic polls (got ${r.nonMonotonic})`);
    this.expect(r.abortedReads === 0, `${name}: 0 aborted reads (got ${r.abortedReads})`);
  }
}

interface Ctx {
  cluster: TestCluster;
  history: History;
  random: () => number;
  log: (line: string) => void;
  criteria: Criteria;
  figures: Record<string, unknown>;
  clock: ClockSkew;
}

/** Starts the scenario's cluster, runs `body`, stops the cluster, returns the result. */
async function runScenario(
  scenario: { id: number; title: string; fault: string },
  options: ScenarioOptions,
  cluster: {
    brokers?: number;
    storage?: "memory" | "disk";
    dir?: string;
    brokerConfig?: Record<string, number>;
    /** Run the cluster under libfaketime; `ctx.clock` steps its wall clock. */
    skew?: boolean;
  },
  body: (ctx: Ctx) => Promise<Record<string, CheckReport>>,
): Promise<ScenarioResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  log(
    `scenario ${scenario.id} (${scenario.title}), seed ${options.seed}, ${
      options.long ? "long" : "short"
    }`,
  );
  // Our own directory (kept by startCluster on stop) so the logs can be read after the stop.
  const dir = cluster.dir ??
    await Deno.makeTempDir({ prefix: `kafka-analog-chaos-${scenario.id}-` });
  const clock = clockSkew(dir);
  const result = (failures: string[], reports: Record<string, CheckReport>, figures = {}) => ({
    scenario: scenario.id,
    title: scenario.title,
    fault: scenario.fault,
    seed: options.seed,
    long: options.long,
    durationMs: Math.round(performance.now() - started),
    reports,
    figures,
    failures,
  });
  let c: TestCluster;
  try {
    c = await startCluster(basePortOf(scenario.id), {
      env: cluster.skew ? clock.env : {},
      brokers: cluster.brokers ?? 3,
      storage: cluster.storage ?? "memory",
      dir,
      brokerConfig: cluster.brokerConfig,
      timeoutMs: 60_000,
    });
  } catch (err) {
    if (cluster.dir === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    log(`  FAILED: the cluster did not start: ${err}`);
    return result([`the cluster did not start: ${err}`], {});
  }
  const ctx: Ctx = {
    cluster: c,
    history: new History(),
    random: prng(options.seed),
    log,
    criteria: new Criteria(),
    figures: {},
    clock,
  };
  let reports: Record<string, CheckReport> = {};
  try {
    reports = await body(ctx);
  } catch (err) {
    ctx.criteria.failures.push(`crashed: ${(err as Error)?.stack ?? err}`);
  } finally {
    await ctx.cluster.stop().catch(() => {});
    // The supervisor's log files are complete once the cluster stopped.
    ctx.figures.truncatedTails = truncations(dir);
    if (ctx.criteria.failures.length > 0) {
      log(`  cluster directory kept for a look: ${dir}`);
    } else if (cluster.dir === undefined) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  for (const [name, r] of Object.entries(reports)) log(`  ${name}: ${summarize(r)}`);
  if (ctx.criteria.failures.length > 0) log(`  FAILED: ${ctx.criteria.failures.join(" | ")}`);
  return result(ctx.criteria.failures, reports, ctx.figures);
}

/** "truncated divergent tail" lines per broker log (`broker-N: count`), from the cluster's logs. */
function truncations(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const e of Deno.readDirSync(`${dir}/data/logs`)) {
      if (!e.name.startsWith("broker-")) continue;
      const text = Deno.readTextFileSync(`${dir}/data/logs/${e.name}`);
      const n = text.split("truncated divergent tail").length - 1;
      if (n > 0) out[e.name.replace(/\.log$/, "")] = n;
    }
  } catch { /* no logs */ }
  return out;
}

/** Creates a topic (through the client library) and waits until every partition has a leader. */
async function createTopic(
  cluster: TestCluster,
  name: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const client = cluster.client();
  await client.admin.createTopic({ name, partitions, replicationFactor, configs });
  const ok = await waitFor(
    async () => (await describeTopic(cluster, name)).every((p) => p.leader >= 0),
    15_000,
  );
  if (!ok) throw new Error(`topic ${name} has no leaders`);
}

/** A random partition's leader of `topic` (partitions 0..partitions-1) and the partitions it leads. */
async function pickLeader(
  ctx: Ctx,
  topic: string,
  partitions: number,
): Promise<{ victim: number; led: number[] }> {
  const before = await describeTopic(ctx.cluster, topic);
  const victim = before[Math.floor(ctx.random() * partitions)].leader;
  return { victim, led: before.filter((p) => p.leader === victim).map((p) => p.partition) };
}

/**
 * Waits up to `timeoutMs` for every partition in `led` to have a leader other
 * than `victim`; returns the history time it first saw that, or null.
 */
async function waitNewLeaders(
  ctx: Ctx,
  topic: string,
  led: number[],
  victim: number,
  timeoutMs: number,
): Promise<number | null> {
  let movedMs: number | null = null;
  await waitFor(async () => {
    const now = await describeTopic(ctx.cluster, topic).catch(() => []);
    const moved = now.length > 0 &&
      led.every((p) => now[p].leader >= 0 && now[p].leader !== victim);
    if (moved && movedMs === null) movedMs = ctx.history.elapsedMs();
    return moved;
  }, timeoutMs);
  return movedMs;
}

/** Heals and drains `topic` with two readers (`d0`, then `d1` after a fresh metadata load). */
async function healAndDrain(
  ctx: Ctx,
  topics: { name: string; partitions: number; committed?: boolean }[],
): Promise<void> {
  const healedAt = performance.now();
  const healed = await waitHealed(ctx.cluster, topics.map((t) => t.name), 60_000);
  ctx.figures.fullIsrAfterHealMs = Math.round(performance.now() - healedAt);
  ctx.criteria.expect(
    healed,
    "every partition has a leader and a full ISR within 60 s of the heal",
  );
  for (const reader of ["d0", "d1"]) {
    const client = createClient({ bootstrap: ctx.cluster.brokerAddresses, clientId: reader });
    try {
      for (const t of topics) {
        await drainTopic({
          client,
          history: ctx.history,
          topic: t.name,
          partitions: t.partitions,
          process: reader,
          committed: t.committed,
        });
      }
    } finally {
      await client.close();
    }
  }
}

/**
 * Every `everyMs` until the signal aborts: SIGKILL (or, with `powerLossOdds`,
 * power-fail) the broker leading the most partitions of `topic`, wait for its
 * partitions' new leaders (the failover time), then restart it.
 */
async function killLeaders(
  ctx: Ctx,
  options: {
    topic: string;
    everyMs: number;
    signal: AbortSignal;
    powerLossOdds?: number;
    dataDir?: string;
    /** Odds of stepping the cluster's wall clock (±2..30 s) after a kill. */
    clockStepOdds?: number;
  },
): Promise<number[]> {
  const failovers: number[] = [];
  while (!options.signal.aborted) {
    await pause(options.everyMs, options.signal);
    if (options.signal.aborted) break;
    const parts = await describeTopic(ctx.cluster, options.topic);
    const leaders = [...new Set(parts.map((p) => p.leader).filter((l) => l >= 0))].sort();
    const victim = ctx.random() < 0.5
      ? await busiestLeader(ctx.cluster, options.topic)
      : leaders[Math.floor(ctx.random() * leaders.length)];
    const led = parts.filter((p) => p.leader === victim).map((p) => p.partition);
    const power = options.powerLossOdds !== undefined && ctx.random() < options.powerLossOdds;
    const name = `${power ? "power loss" : "SIGKILL"} broker ${victim} (leads ${led.join(",")})`;
    let heal = () => {};
    let killedAt = 0;
    const pid = await signalBroker(ctx.cluster, victim, "SIGKILL", () => {
      heal = ctx.history.fault(name);
      killedAt = performance.now();
    });
    if (power) {
      const truncated = await powerLoss({
        pid,
        brokerDir: `${options.dataDir}/broker-${victim}`,
        random: ctx.random,
      });
      ctx.log(`  power loss broker ${victim}: ${truncated}`);
    }
    const moved = await waitFor(async () => {
      const now = await describeTopic(ctx.cluster, options.topic).catch(() => []);
      return now.length > 0 &&
        led.every((p) => now[p].leader >= 0 && now[p].leader !== victim);
    }, 30_000);
    const failoverMs = Math.round(performance.now() - killedAt);
    failovers.push(moved ? failoverMs : Infinity);
    ctx.log(`  ${name}: new leaders after ${moved ? `${failoverMs} ms` : "> 30 s"}`);
    await startBroker(ctx.cluster, victim);
    heal();
    if (options.clockStepOdds !== undefined && ctx.random() < options.clockStepOdds) {
      const offset = Math.round((ctx.random() < 0.5 ? -1 : 1) * (2 + ctx.random() * 28));
      ctx.history.add({
        process: "nemesis",
        type: "info",
        f: "fault",
        fault: `clock step to ${offset} s`,
      });
      ctx.clock.set(offset);
      ctx.log(`  cluster wall clock now ${offset} s off`);
    }
  }
  return failovers;
}

// ---------------------------------------------------------------------------------------------

const s1: Scenario = {
  id: 1,
  title: "no faults, acks=all idempotent, a 3-member group",
  fault: "none",
  run: (options) =>
    runScenario(s1, options, {}, async (ctx) => {
      const topic = "s1";
      const partitions = 6;
      const total = options.long ? 100_000 : 4_000;
      const writers = 4;
      await createTopic(ctx.cluster, topic, partitions, 3);
      const client = ctx.cluster.client();
      const stop = new AbortController();
      let writersDone = false;
      const ackedValues = () => {
        if (!writersDone) return new Set<string>();
        return new Set(
          ctx.history.ops.filter((o) => o.f === "send" && o.type === "ok").flatMap((o) =>
            o.values!
          ),
        );
      };
      const consumerClient = ctx.cluster.client();
      const consumers = runGroupConsumers({
        client: consumerClient,
        history: ctx.history,
        topic,
        groupId: "s1-group",
        members: 3,
        until: ackedValues,
        signal: stop.signal,
      });
      const stats = await runWriters({
        client,
        history: ctx.history,
        topic,
        partitions,
        writers,
        acks: "all",
        batch: options.long ? 200 : 50,
        valuesMax: total / writers,
        signal: new AbortController().signal,
      });
      writersDone = true;
      const timer = setTimeout(() => stop.abort(), options.long ? 60_000 : 30_000);
      const seen = await consumers;
      clearTimeout(timer);
      await healAndDrain(ctx, [{ name: topic, partitions }]);
      const report = check(ctx.history.ops, { topic });
      const acked = ackedValues();
      const unpolled = [...acked].filter((v) => !seen.has(v)).length;
      ctx.figures.writerErrors = Object.fromEntries(stats.errors);
      ctx.figures.polledByGroup = seen.size;
      ctx.figures.ackedNotPolled = unpolled;
      ctx.criteria.safe("acks=all", report);
      ctx.criteria.expect(report.acknowledged === total, `all ${total} acknowledged`);
      ctx.criteria.expect(unpolled === 0, `the group polled every acknowledged value`);
      return { "acks=all": report };
    }),
};

const s2: Scenario = {
  id: 2,
  title: "SIGKILL a partition leader every 5 s (disk; power losses; clock steps)",
  fault: "SIGKILL + restart of the busiest/a random leader every 5 s; 1 in 3 also truncates " +
    "its segment files' unsynced tail; after 1 in 2 the cluster's wall clock steps ±2..30 s",
  run: (options) =>
    runScenario(s2, options, { storage: "disk", skew: true }, async (ctx) => {
      const topic = "s2";
      const partitions = 6;
      await createTopic(ctx.cluster, topic, partitions, 3);
      const client = ctx.cluster.client();
      const stop = new AbortController();
      const seconds = options.long ? 90 : 12;
      const writing = runWriters({
        client,
        history: ctx.history,
        topic,
        partitions,
        writers: 3,
        acks: "all",
        batch: 20,
        signal: stop.signal,
      });
      // A 2-member group polls through the faults (its polls are checked against the drains).
      const consuming = runGroupConsumers({
        client: ctx.cluster.client(),
        history: ctx.history,
        topic,
        groupId: "s2-group",
        members: 2,
        signal: stop.signal,
      });
      const nemesis = new AbortController();
      setTimeout(() => nemesis.abort(), seconds * 1000);
      const failovers = await killLeaders(ctx, {
        topic,
        everyMs: 5_000,
        signal: nemesis.signal,
        powerLossOdds: 1 / 3,
        dataDir: `${ctx.cluster.dir}/data`,
        clockStepOdds: 1 / 2,
      });
      ctx.figures.clockSkew = ctx.clock.available ? "libfaketime" : "unavailable";
      await pause(2_000);
      stop.abort();
      const stats = await writing;
      ctx.figures.polledByGroup = (await consuming).size;
      await healAndDrain(ctx, [{ name: topic, partitions }]);
      const report = check(ctx.history.ops, { topic });
      ctx.figures.kills = failovers.length;
      ctx.figures.failoverMs = failovers;
      ctx.figures.writerErrors = Object.fromEntries(stats.errors);
      ctx.criteria.safe("acks=all", report);
      ctx.criteria.expect((ctx.figures.polledByGroup as number) > 0, "the group polled");
      ctx.criteria.expect(
        failovers.length >= Math.max(1, Math.floor(seconds / 7)),
        "the kills happened",
      );
      ctx.criteria.expect(failovers.every((ms) => ms < 30_000), "each failover < 30 s");
      ctx.criteria.expect(
        report.recoveries.every((r) => r.recoveryMs !== null && r.recoveryMs < 30_000),
        `writes recover < 30 s after each kill: ${
          report.recoveries.map((r) => r.recoveryMs).join(",")
        }`,
      );
      return { "acks=all": report };
    }),
};

const s3: Scenario = {
  id: 3,
  title: "pause a leader (zombie)",
  fault: "SIGSTOP the leader of partition 0 for 15 s (CI 6 s), then SIGCONT",
  run: (options) =>
    runScenario(s3, options, {}, async (ctx) => {
      const topic = "s3";
      const partitions = 3;
      await createTopic(ctx.cluster, topic, partitions, 3);
      const client = ctx.cluster.client();
      const stop = new AbortController();
      const writing = runWriters({
        client,
        history: ctx.history,
        topic,
        partitions,
        writers: 3,
        acks: "all",
        batch: 6,
        signal: stop.signal,
        deliveryTimeoutMs: 30_000,
      });
      const pauses = options.long ? 3 : 1;
      const pauseMs = options.long ? 15_000 : 6_000;
      const zombies: { victim: number; stoppedMs: number; newLeaderMs: number | null }[] = [];
      for (let i = 0; i < pauses; i++) {
        await pause(3_000 + Math.floor(ctx.random() * 2_000));
        const { victim, led } = await pickLeader(ctx, topic, partitions);
        let heal = () => {};
        let stoppedMs = 0;
        await signalBroker(ctx.cluster, victim, "SIGSTOP", () => {
          heal = ctx.history.fault(`SIGSTOP broker ${victim} (leads ${led.join(",")})`);
          stoppedMs = ctx.history.elapsedMs();
        });
        const newLeaderMs = await waitNewLeaders(ctx, topic, led, victim, pauseMs);
        await pause(Math.max(0, pauseMs - (ctx.history.elapsedMs() - stoppedMs)));
        await signalBroker(ctx.cluster, victim, "SIGCONT");
        heal();
        zombies.push({ victim, stoppedMs, newLeaderMs });
        ctx.log(
          `  paused broker ${victim} ${pauseMs} ms; new leaders at +${
            newLeaderMs === null ? "never" : Math.round(newLeaderMs - stoppedMs)
          } ms`,
        );
      }
      await pause(4_000);
      stop.abort();
      const stats = await writing;
      await healAndDrain(ctx, [{ name: topic, partitions }]);
      const report = check(ctx.history.ops, { topic });
      // "No ack under the old epoch after the new leader's first": every ack that completed
      // after a new leader's first ack must be where it said, in the final log.
      const drained = new Map<string, string>();
      for (const o of ctx.history.ops) {
        if (o.f !== "drain" || o.process !== "d0") continue;
        for (const r of o.records!) drained.set(`${r.partition}@${r.offset}`, r.value);
      }
      let zombieAcks = 0;
      let firstNewAcks = 0;
      for (const z of zombies) {
        if (z.newLeaderMs === null) continue;
        const firstNew = ctx.history.ops.find((o) =>
          o.f === "send" && o.type === "ok" && o.timeMs >= z.newLeaderMs!
        );
        if (!firstNew) continue;
        firstNewAcks++;
        for (const o of ctx.history.ops) {
          if (o.f !== "send" || o.type !== "ok" || o.timeMs < firstNew.timeMs) continue;
          o.values!.forEach((v, i) => {
            if (drained.get(`${o.partitions![i]}@${o.offsets![i]}`) !== v) zombieAcks++;
          });
        }
      }
      ctx.figures.pauses = zombies.map((z) => ({
        broker: z.victim,
        newLeaderAfterMs: z.newLeaderMs === null ? null : Math.round(z.newLeaderMs - z.stoppedMs),
      }));
      ctx.figures.acksAfterNewLeaderNotInLog = zombieAcks;
      ctx.figures.writerErrors = Object.fromEntries(stats.errors);
      ctx.criteria.safe("acks=all", report);
      ctx.criteria.expect(
        zombies.every((z) => z.newLeaderMs !== null),
        "a new leader was elected during each pause",
      );
      ctx.criteria.expect(firstNewAcks === zombies.length, "the new leaders acknowledged writes");
      ctx.criteria.expect(zombieAcks === 0, `0 acks under an old epoch (got ${zombieAcks})`);
      return { "acks=all": report };
    }),
};

const s4: Scenario = {
  id: 4,
  title: "leader cut off from the coordinator and its followers, clients still reach it",
  fault: "fault proxies drop every coordinator and replication link of one leader for 20 s " +
    "(CI 8 s); client links pass",
  run: (options) => runCutLeader(s4, options),
};

const s5: Scenario = {
  id: 5,
  title: "min.insync.replicas=2 with one broker down",
  fault: "SIGKILL one broker; acks=all sends to its partitions while it is down, then restart",
  run: (options) =>
    runScenario(s5, options, {}, async (ctx) => {
      const topic = "s5";
      const partitions = 6;
      await createTopic(ctx.cluster, topic, partitions, 2, { "min.insync.replicas": "2" });
      const client = ctx.cluster.client();
      // Warm up: every partition takes writes.
      await runWriters({
        client,
        history: ctx.history,
        topic,
        partitions,
        writers: 1,
        acks: "all",
        batch: 12,
        valuesMax: 120,
        signal: new AbortController().signal,
      });
      const rounds = options.long ? 3 : 1;
      const downMs = options.long ? 20_000 : 4_000;
      let affectedSends = 0;
      let affectedAcked = 0;
      const affectedErrors = new Map<string, number>();
      let unaffectedAcked = 0;
      const recoveries: number[] = [];
      let seq = 0;
      for (let round = 0; round < rounds; round++) {
        const victim = Math.floor(ctx.random() * 3);
        const before = await describeTopic(ctx.cluster, topic);
        const affected = before.filter((p) => p.replicas.includes(victim)).map((p) => p.partition);
        let heal = () => {};
        await signalBroker(ctx.cluster, victim, "SIGKILL", () => {
          heal = ctx.history.fault(`SIGKILL broker ${victim} (replica of ${affected})`);
        });
        // "Down" once the coordinator dropped it from every ISR.
        const shrunk = await waitFor(async () => {
          const now = await describeTopic(ctx.cluster, topic).catch(() => []);
          return now.length > 0 &&
            affected.every((p) => now[p].leader >= 0 && !now[p].isr.includes(victim));
        }, 15_000);
        ctx.criteria.expect(shrunk, `broker ${victim} left the ISRs within 15 s`);
        const producer = client.producer({
          acks: "all",
          idempotence: true,
          lingerMs: 0,
          retries: 2,
          retryBackoffMs: 50,
          requestTimeoutMs: 2_000,
          deliveryTimeoutMs: 3_000,
        });
        const until = performance.now() + downMs;
        for (let i = 0; performance.now() < until && i < 100_000; i++) {
          const partition = i % partitions;
          const value = valueOf(`m${round}`, seq++);
          const base = { process: "p-min", f: "send" as const, topic, values: [value] };
          ctx.history.add({ ...base, partitions: [partition], type: "invoke" });
          const isAffected = affected.includes(partition);
          try {
            const [m] = await producer.send(topic, [{ partition, value }]);
            ctx.history.add({
              ...base,
              partitions: [partition],
              type: "ok",
              offsets: [Number(m.offset)],
            });
            if (isAffected) affectedAcked++;
            else unaffectedAcked++;
          } catch (err) {
            const name = isKaError(err) ? err.errorName : String(err);
            const definite = isKaError(err, "NOT_ENOUGH_REPLICAS");
            ctx.history.add({
              ...base,
              partitions: [partition],
              type: definite ? "fail" : "info",
              error: name,
            });
            if (isAffected) affectedErrors.set(name, (affectedErrors.get(name) ?? 0) + 1);
          }
          if (isAffected) affectedSends++;
        }
        await producer.close();
        const restartedAt = performance.now();
        await startBroker(ctx.cluster, victim);
        heal();
        ctx.criteria.expect(
          await waitHealed(ctx.cluster, [topic], 30_000),
          `ISR full again after broker ${victim} restarts`,
        );
        // Affected partitions take acks=all writes again.
        const after = await runWriters({
          client,
          history: ctx.history,
          topic,
          partitions,
          writers: 1,
          firstId: 100 + round,
          acks: "all",
          batch: partitions,
          valuesMax: partitions * 3,
          signal: new AbortController().signal,
        });
        recoveries.push(Math.round(performance.now() - restartedAt));
        ctx.criteria.expect(after.errors.size === 0, "writes succeed after the restart");
        ctx.log(`  round ${round}: broker ${victim} down ${downMs} ms, affected ${affected}`);
      }
      await healAndDrain(ctx, [{ name: topic, partitions }]);
      const report = check(ctx.history.ops, { topic });
      ctx.figures.affectedSends = affectedSends;
      ctx.figures.affectedAcked = affectedAcked;
      ctx.figures.affectedErrors = Object.fromEntries(affectedErrors);
      ctx.figures.unaffectedAcked = unaffectedAcked;
      ctx.figures.writableAgainAfterRestartMs = recoveries;
      ctx.criteria.safe("acks=all", report);
      ctx.criteria.expect(affectedSends > 0, "sends to affected partitions happened");
      ctx.criteria.expect(affectedAcked === 0, `none acknowledged (got ${affectedAcked})`);
      ctx.criteria.expect(
        [...affectedErrors.keys()].every((e) => e === "NOT_ENOUGH_REPLICAS"),
        `every refusal is NOT_ENOUGH_REPLICAS: ${
          JSON.stringify(Object.fromEntries(affectedErrors))
        }`,
      );
      ctx.criteria.expect(unaffectedAcked > 0, "partitions without the broker still take writes");
      return { "acks=all": report };
    }),
};

const s6: Scenario = {
  id: 6,
  title: "acks=1 and acks=0 with leader kills",
  fault: "SIGKILL + restart of a leader every 5 s (memory storage)",
  run: (options) =>
    runScenario(s6, options, {}, async (ctx) => {
      const partitions = 6;
      await createTopic(ctx.cluster, "s6-acks1", partitions, 3);
      await createTopic(ctx.cluster, "s6-acks0", partitions, 3);
      const client = ctx.cluster.client();
      const stop = new AbortController();
      const seconds = options.long ? 90 : 12;
      const writing = Promise.all([
        runWriters({
          client,
          history: ctx.history,
          topic: "s6-acks1",
          partitions,
          writers: 2,
          acks: 1,
          batch: 20,
          signal: stop.signal,
        }),
        runWriters({
          client,
          history: ctx.history,
          topic: "s6-acks0",
          partitions,
          writers: 2,
          firstId: 10,
          acks: 0,
          batch: 20,
          signal: stop.signal,
          gapMs: 2,
        }),
      ]);
      const nemesis = new AbortController();
      setTimeout(() => nemesis.abort(), seconds * 1000);
      const failovers = await killLeaders(ctx, {
        topic: "s6-acks1",
        everyMs: 5_000,
        signal: nemesis.signal,
      });
      await pause(2_000);
      stop.abort();
      await writing;
      await healAndDrain(ctx, [
        { name: "s6-acks1", partitions },
        { name: "s6-acks0", partitions },
      ]);
      const acks1 = check(ctx.history.ops, { topic: "s6-acks1" });
      const acks0 = check(ctx.history.ops, { topic: "s6-acks0" });
      ctx.figures.kills = failovers.length;
      ctx.figures.failoverMs = failovers;
      for (const [name, r] of [["acks=1", acks1], ["acks=0", acks0]] as const) {
        ctx.criteria.expect(r.acknowledged > 0, `${name}: something was acknowledged`);
        ctx.criteria.expect(r.inconsistent === 0, `${name}: never inconsistent`);
        ctx.criteria.expect(r.nonMonotonic === 0, `${name}: 0 non-monotonic polls`);
      }
      ctx.criteria.expect(
        failovers.length >= Math.max(1, Math.floor(seconds / 7)),
        "the kills happened",
      );
      return { "acks=1": acks1, "acks=0": acks0 };
    }),
};

const s7: Scenario = {
  id: 7,
  title: "coordinator SIGKILL under load",
  fault: "SIGKILL the writer gateway (restarted by the console), then SIGKILL the coordinator " +
    "(its brokers and gateways follow it) and restart the cluster from the same directory " +
    "(disk storage); twice in the long run",
  run: (options) => runCoordinatorKill(s7, options),
};

const s8: Scenario = {
  id: 8,
  title: "consume-transform-produce with transactions",
  fault: "SIGKILL the copier process at seeded points and SIGKILL + restart brokers",
  run: (options) => runCopy(s8, options),
};

/** Every scenario, by id. */
export const SCENARIOS: readonly Scenario[] = [s1, s2, s3, s4, s5, s6, s7, s8];

// --- scenario 4 ------------------------------------------------------------------------------

async function runCutLeader(
  scenario: Scenario,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  // Every broker↔coordinator and broker↔broker link goes through a fault proxy: brokers dial
  // the coordinator at `coordinator_port` and advertise `advertised_base_port + N`.
  const base = basePortOf(scenario.id);
  const brokers = 3;
  const proxyCoordinatorPort = base + 50;
  const proxyBrokerBase = base + 60;
  const toCoordinator = startFaultProxy({
    port: proxyCoordinatorPort,
    target: { hostname: "127.0.0.1", port: base },
  });
  const toBrokers: FaultProxy[] = Array.from({ length: brokers }, (_, i) =>
    startFaultProxy({
      port: proxyBrokerBase + i,
      target: { hostname: "127.0.0.1", port: base + 10 + i },
    }));
  const victims = new Set<number>();
  try {
    const result = await runScenario(scenario, options, {
      brokers,
      brokerConfig: {
        advertised_base_port: proxyBrokerBase,
        coordinator_port: proxyCoordinatorPort,
      },
    }, async (ctx) => {
      const topic = "s4";
      const partitions = 3;
      await createTopic(ctx.cluster, topic, partitions, 2);
      const client = createClient({
        bootstrap: ctx.cluster.brokerAddresses,
        clientId: "s4-client",
      });
      try {
        const stop = new AbortController();
        const writing = runWriters({
          client,
          history: ctx.history,
          topic,
          partitions,
          writers: 3,
          acks: "all",
          batch: 3,
          signal: stop.signal,
          deliveryTimeoutMs: 30_000,
        });
        const cuts = options.long ? 3 : 1;
        const cutMs = options.long ? 20_000 : 8_000;
        const events: Record<string, unknown>[] = [];
        for (let i = 0; i < cuts; i++) {
          await pause(3_000 + Math.floor(ctx.random() * 2_000));
          const { victim, led } = await pickLeader(ctx, topic, partitions);
          victims.add(victim);
          // Cut: the victim's coordinator link, the coordinator's pushes to it, its followers'
          // fetches from it and its own fetches as a follower. Clients still pass.
          const cutVictim: ProxyRule = (c) => ({
            kind: c.clientId === `broker-${victim}` ? "drop" : "pass",
          });
          // A link into broker i from the victim's peers (i is the victim) or from the victim.
          const fromPeer = (i: number, id: string) =>
            i === victim
              ? id === "coordinator" || id.startsWith("replica-")
              : id === `replica-${victim}`;
          const cutPeers = (i: number): ProxyRule => (c) => ({
            kind: fromPeer(i, c.clientId ?? "") ? "drop" : "pass",
          });
          const heal = ctx.history.fault(`cut broker ${victim} (leads ${led.join(",")})`);
          const cutAt = ctx.history.elapsedMs();
          toCoordinator.setRule(cutVictim);
          toBrokers.forEach((p, i) => p.setRule(cutPeers(i)));
          const movedMs = await waitNewLeaders(ctx, topic, led, victim, cutMs);
          const newLeadersMs = movedMs === null ? null : movedMs - cutAt;
          await pause(Math.max(0, cutMs - (ctx.history.elapsedMs() - cutAt)));
          // Heal: pass everything and sever the black-holed connections (they reconnect).
          toCoordinator.setRule(PASS);
          toCoordinator.sever((c) => c.clientId === `broker-${victim}`);
          for (const [i, p] of toBrokers.entries()) {
            p.setRule(PASS);
            p.sever((c) => fromPeer(i, c.clientId ?? ""));
          }
          heal();
          const healed = await waitHealed(ctx.cluster, [topic], 30_000);
          events.push({
            broker: victim,
            led,
            newLeadersAfterMs: newLeadersMs === null ? null : Math.round(newLeadersMs),
            isrFullAfterHeal: healed,
          });
          ctx.log(
            `  cut broker ${victim} for ${cutMs} ms: new leaders after ${
              newLeadersMs === null ? "never" : `${Math.round(newLeadersMs)} ms`
            }; ISR full again: ${healed}`,
          );
          ctx.criteria.expect(newLeadersMs !== null, `new leaders while broker ${victim} is cut`);
        }
        await pause(3_000);
        stop.abort();
        const stats = await writing;
        await healAndDrain(ctx, [{ name: topic, partitions }]);
        // The old leaders truncated their divergent tails: make each victim the leader of each
        // of its partitions again (SIGKILL that partition's other replica) and read it from it.
        for (const victim of victims) {
          const parts = await describeTopic(ctx.cluster, topic);
          for (const p of parts.filter((p) => p.replicas.includes(victim))) {
            const others = p.replicas.filter((r) => r !== victim);
            for (const other of others) await signalBroker(ctx.cluster, other, "SIGKILL");
            const leads = await waitFor(async () => {
              const now = await describeTopic(ctx.cluster, topic).catch(() => []);
              return now.length > 0 && now[p.partition].leader === victim;
            }, 20_000);
            ctx.criteria.expect(leads, `broker ${victim} leads ${topic}-${p.partition} again`);
            const reader = createClient({
              bootstrap: [ctx.cluster.brokerAddresses[victim]],
              clientId: `old-leader-${victim}`,
            });
            try {
              const drained = await drainPartition(reader.consumer(), topic, p.partition, 20_000);
              ctx.history.add({
                process: `old-leader-${victim}`,
                type: "ok",
                f: "drain",
                records: drained.records,
              });
            } finally {
              await reader.close();
            }
            for (const other of others) await startBroker(ctx.cluster, other);
            ctx.criteria.expect(
              await waitHealed(ctx.cluster, [topic], 30_000),
              "healed again after the old-leader read",
            );
          }
        }
        const report = check(ctx.history.ops, { topic });
        ctx.figures.cuts = events;
        ctx.figures.writerErrors = Object.fromEntries(stats.errors);
        ctx.criteria.safe("acks=all", report);
        return { "acks=all": report };
      } finally {
        await client.close();
      }
    });
    return result;
  } finally {
    await toCoordinator.close();
    for (const p of toBrokers) await p.close();
  }
}

// --- scenario 7 ------------------------------------------------------------------------------

async function runCoordinatorKill(
  scenario: Scenario,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const dir = await Deno.makeTempDir({ prefix: "kafka-analog-chaos-7-" });
  try {
    return await runScenario(scenario, options, { storage: "disk", dir }, async (ctx) => {
      const topic = "s7";
      const partitions = 3;
      await createTopic(ctx.cluster, topic, partitions, 3);
      const bootstrap = ctx.cluster.brokerAddresses;
      const client = createClient({ bootstrap, clientId: "s7" });
      try {
        // Group offsets and transactions before the kill.
        const group = client.groupConsumer({ groupId: "s7-group", autoCommit: false });
        group.subscribe([topic]);
        const txTopic = "s7-tx";
        await createTopic(ctx.cluster, txTopic, 2, 3);
        const committedTx = client.producer({ transactionalId: "s7-committed", lingerMs: 1 });
        await committedTx.initTransactions();
        committedTx.beginTransaction();
        const txValues = Array.from({ length: 10 }, (_, i) => `tx-c-${i}`);
        await committedTx.send(txTopic, txValues.map((value, i) => ({ partition: i % 2, value })));
        await committedTx.commitTransaction();
        ctx.history.add({ process: "tx", type: "ok", f: "txn", values: txValues });
        const openTx = client.producer({ transactionalId: "s7-open", lingerMs: 1 });
        await openTx.initTransactions();
        const openEpoch = openTx.producerId!.producerEpoch;
        const openId = openTx.producerId!.producerId;
        openTx.beginTransaction();
        const openValues = Array.from({ length: 10 }, (_, i) => `tx-o-${i}`);
        await openTx.send(txTopic, openValues.map((value, i) => ({ partition: i % 2, value })));

        const stop = new AbortController();
        const writing = runWriters({
          client,
          history: ctx.history,
          topic,
          partitions,
          writers: 3,
          acks: "all",
          batch: 10,
          signal: stop.signal,
          deliveryTimeoutMs: 60_000,
        });
        // One more writer goes through the HTTP writer gateway.
        const gatewayWriting = runGatewayWriter({
          url: `http://127.0.0.1:${ctx.cluster.ports.writer}`,
          history: ctx.history,
          topic,
          partitions,
          id: 50,
          batch: 10,
          signal: stop.signal,
        });
        await pause(1_000);
        // SIGKILL the writer gateway; the console starts it again.
        const gateway = (await services(ctx.cluster)).find((s) => s.kind === "producer");
        if (!gateway || gateway.pid <= 0) throw new Error("no writer gateway");
        const healGateway = ctx.history.fault("SIGKILL writer gateway");
        Deno.kill(gateway.pid, "SIGKILL");
        await pause(500);
        await startService(ctx.cluster, "producer start");
        healGateway();
        await pause(1_000);
        // Commit some group offsets while writes flow.
        await group.poll();
        await group.poll();
        const committed = new Map<number, bigint>();
        const toCommit = [0, 1, 2].map((p) => ({ topic, partition: p, offset: BigInt(3 + p) }));
        await group.commit(toCommit);
        for (const o of toCommit) committed.set(o.partition, o.offset);
        await group.close();
        const before = await describeTopic(ctx.cluster, topic);

        const kills = options.long ? 2 : 1;
        const downtimes: number[] = [];
        for (let k = 0; k < kills; k++) {
          await pause(options.long ? 20_000 : 2_000 + Math.floor(ctx.random() * 1_000));
          const pids = await ctx.cluster.childPids();
          const heal = ctx.history.fault("SIGKILL coordinator");
          const killedAt = performance.now();
          await ctx.cluster.kill();
          // Its children notice (stdin EOF) and stop.
          const gone = await waitFor(
            () => pids.every((pid) => !pidAliveQuiet(pid)),
            20_000,
          );
          ctx.criteria.expect(gone, "brokers and gateways follow the coordinator down");
          ctx.cluster = await startCluster(basePortOf(scenario.id), {
            brokers: 3,
            storage: "disk",
            dir,
            timeoutMs: 60_000,
          });
          heal();
          downtimes.push(Math.round(performance.now() - killedAt));
          ctx.log(`  coordinator killed and the cluster back in ${downtimes.at(-1)} ms`);
        }
        await pause(options.long ? 20_000 : 3_000);
        stop.abort();
        const stats = await writing;
        ctx.figures.gatewayErrors = Object.fromEntries(await gatewayWriting);
        await openTx.close().catch(() => {});
        await committedTx.close().catch(() => {});

        // Metadata and epochs survived.
        const after = await describeTopic(ctx.cluster, topic);
        ctx.criteria.expect(after.length === before.length, "the topic survived");
        ctx.criteria.expect(
          after.every((p, i) => JSON.stringify(p.replicas) === JSON.stringify(before[i].replicas)),
          "replica assignments survived",
        );
        ctx.criteria.expect(
          after.every((p, i) => p.leaderEpoch >= before[i].leaderEpoch),
          `leader epochs never go back: ${before.map((p) => p.leaderEpoch)} → ${
            after.map((p) => p.leaderEpoch)
          }`,
        );
        // Group offsets survived.
        const reader = client.groupConsumer({ groupId: "s7-group", autoCommit: false });
        const fetched = await reader.committed(
          [0, 1, 2].map((partition) => ({ topic, partition })),
        );
        await reader.close();
        ctx.criteria.expect(
          fetched.every((o) => committed.get(o.partition) === o.offset),
          `group offsets survived: ${
            JSON.stringify(fetched, (_k, v) => typeof v === "bigint" ? Number(v) : v)
          }`,
        );
        // Transactions: the committed one is readable, the open one ends aborted and its
        // producer id's epoch moved on.
        const again = client.producer({ transactionalId: "s7-open", lingerMs: 1 });
        await again.initTransactions();
        const newEpoch = again.producerId!.producerEpoch;
        const newId = again.producerId!.producerId;
        await again.close();
        ctx.figures.openTxnEpochs = [openEpoch, newEpoch];
        ctx.criteria.expect(
          newId === openId && newEpoch > openEpoch,
          `the transactional id kept its producer id and its epoch moved on: ${openId}/${openEpoch} → ${newId}/${newEpoch}`,
        );
        ctx.history.add({ process: "tx-open", type: "fail", f: "txn", values: openValues });
        await healAndDrain(ctx, [
          { name: topic, partitions },
          { name: txTopic, partitions: 2, committed: true },
        ]);
        const report = check(ctx.history.ops, { topic });
        const txReport = check(ctx.history.ops, { topic: txTopic, expected: txValues });
        ctx.figures.downtimeMs = downtimes;
        ctx.figures.writerErrors = Object.fromEntries(stats.errors);
        ctx.criteria.safe("acks=all", report);
        ctx.criteria.expect(txReport.lost === 0, "the committed transaction survived");
        ctx.criteria.expect(txReport.abortedReads === 0, "the open transaction was aborted");
        ctx.criteria.expect(txReport.duplicated === 0, "transactions: 0 duplicated");
        return { "acks=all": report, transactions: txReport };
      } finally {
        await client.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function pidAliveQuiet(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    // A zombie still accepts signals: read its state.
    const stat = new TextDecoder().decode(
      new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped", stderr: "null" })
        .outputSync().stdout,
    );
    return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

// --- scenario 8 ------------------------------------------------------------------------------

async function runCopy(scenario: Scenario, options: ScenarioOptions): Promise<ScenarioResult> {
  return await runScenario(scenario, options, {}, async (ctx) => {
    const partitions = 2;
    await createTopic(ctx.cluster, "in", partitions, 2);
    await createTopic(ctx.cluster, "out", partitions, 2);
    const client = ctx.cluster.client();
    const records = options.long ? 20_000 : 2_000;
    await runWriters({
      client,
      history: ctx.history,
      topic: "in",
      partitions,
      writers: 2,
      acks: "all",
      batch: 100,
      valuesMax: records / 2,
      signal: new AbortController().signal,
    });
    const reader = client.consumer();
    const inputEnd: bigint[] = [];
    for (let p = 0; p < partitions; p++) inputEnd.push(await reader.listOffset("in", p, "latest"));
    const committedUpTo = Array.from({ length: partitions }, () => -1);
    const workers: EosWorker[] = [];
    const recordEvents = (w: EosWorker) => {
      for (const e of w.events.splice(0)) {
        if (e.event === "committed") {
          for (const o of e.offsets as { partition: number; offset: number }[]) {
            committedUpTo[o.partition] = Math.max(committedUpTo[o.partition], o.offset);
          }
        }
        if (e.values === undefined) continue;
        const type = e.event === "committed" ? "ok" : e.event === "aborted" ? "fail" : "info";
        ctx.history.add({
          process: `w${w.id}`,
          type,
          f: "txn",
          values: e.values as string[],
          error: e.error as string | undefined,
        });
      }
    };
    const finished = () => committedUpTo.every((o, p) => BigInt(o) >= inputEnd[p]);
    const workerKills = options.long ? 8 : 2;
    const brokerKills = options.long ? 3 : 1;
    const args = ["--tag", "--session-timeout-ms", "3000"];
    try {
      let brokerKilled = 0;
      for (let life = 0; life < workerKills && !finished(); life++) {
        const worker = new EosWorker(ctx.cluster, life, args);
        workers.push(worker);
        let commits = 0;
        const target = 2 + Math.floor(ctx.random() * (options.long ? 12 : 4));
        await worker.until(() => {
          commits += worker.events.filter((e) => e.event === "committed").length;
          recordEvents(worker);
          return commits >= target || finished();
        }, 40_000);
        if (brokerKilled < brokerKills && ctx.random() < 0.6) {
          const victim = (await describeTopic(ctx.cluster, "out"))[
            Math.floor(ctx.random() * partitions)
          ].leader;
          let heal = () => {};
          await signalBroker(ctx.cluster, victim, "SIGKILL", () => {
            heal = ctx.history.fault(`SIGKILL broker ${victim}`);
          });
          brokerKilled++;
          await worker.until(() => {
            commits += worker.events.filter((e) => e.event === "committed").length;
            recordEvents(worker);
            return commits >= target + 3 || finished();
          }, 20_000);
          await startBroker(ctx.cluster, victim);
          heal();
        }
        await pause(Math.floor(ctx.random() * 100));
        const heal = ctx.history.fault(`SIGKILL copier ${life}`);
        await worker.kill();
        heal();
        recordEvents(worker);
      }
      const last = new EosWorker(ctx.cluster, workerKills, args);
      workers.push(last);
      const done = await last.until(() => {
        recordEvents(last);
        return finished();
      }, options.long ? 180_000 : 60_000);
      await last.stop(15_000);
      recordEvents(last);
      ctx.criteria.expect(done, `the copy finished: ${committedUpTo} of ${inputEnd}`);
    } finally {
      for (const w of workers) await w.kill();
    }
    await healAndDrain(ctx, [
      { name: "in", partitions },
      { name: "out", partitions, committed: true },
    ]);
    // Also read `out` uncommitted: its extra records are aborted copies.
    const all = await drainTopic({
      client: ctx.cluster.client(),
      history: ctx.history,
      topic: "out",
      partitions,
      process: "du",
    });
    const inValues = new Set<string>();
    for (const o of ctx.history.ops) {
      if (o.f === "drain" && o.topic === "in" && o.process === "d0") {
        for (const r of o.records!) inValues.add(r.value);
      }
    }
    const input = check(ctx.history.ops, { topic: "in" });
    const committedOnly = ctx.history.ops.filter((o) =>
      o.f === "txn" || (o.f === "drain" && o.topic === "out" && o.committed)
    );
    const output = check(committedOnly, {
      topic: "out",
      expected: inValues,
      valueKey: (v) => v.split("|")[0],
    });
    const readers = check(ctx.history.ops.filter((o) => o.f === "drain"), { topic: "out" });
    const committedCount = committedOnly.filter((o) => o.f === "drain")
      .reduce((n, o) => n + o.records!.length, 0) / 2;
    ctx.figures.records = records;
    ctx.figures.copierLives = workers.length;
    ctx.figures.abortedCopiesInLog = all.length - committedCount;
    ctx.criteria.safe("input", input);
    ctx.criteria.expect(output.lost === 0, `output equals input: ${output.lost} missing`);
    ctx.criteria.expect(output.duplicated === 0, `0 duplicated copies (got ${output.duplicated})`);
    ctx.criteria.expect(output.abortedReads === 0, `0 aborted reads (got ${output.abortedReads})`);
    ctx.criteria.expect(
      committedCount === inValues.size,
      `read_committed output has ${committedCount} records for ${inValues.size} inputs`,
    );
    ctx.criteria.expect(readers.inconsistent === 0, "readers agree on every offset");
    return { input, output };
  });
}
