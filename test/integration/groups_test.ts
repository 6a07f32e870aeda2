/**
 * Consumer groups through real processes: three members split a
 * 10-partition topic with no overlap and no gap; SIGKILLing one moves its
 * partitions to the others within session timeout + 5 s; a fourth joining
 * rebalances again; each rebalance bumps the generation by one. Delivery:
 * at-least-once re-reads from the last commit after a kill (nothing
 * skipped); at-most-once never reads a message twice. The console shows lag.
 * @module
 */
import assert from "node:assert/strict";
import { ROOT, startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 21700;
const SESSION_TIMEOUT_MS = 3_000;

interface Assigned {
  event: "assigned";
  generation: number;
  memberId: string;
  assignment: { topic: string; partition: number }[];
}

interface Consumed {
  event: "consumed";
  topic: string;
  partition: number;
  offsets: number[];
}

/** One member process and what it printed. */
class Member {
  readonly child: Deno.ChildProcess;
  readonly events: (Assigned | Consumed)[] = [];
  readonly done: Promise<void>;

  constructor(cluster: TestCluster, group: string, topic: string, extra: string[] = []) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        `${ROOT}/test/_group_member.ts`,
        "--bootstrap",
        cluster.brokerAddresses.join(","),
        "--group",
        group,
        "--topic",
        topic,
        "--session-timeout-ms",
        String(SESSION_TIMEOUT_MS),
        ...extra,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stdout = this.child.stdout;
    this.done = (async () => {
      let buffered = "";
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) if (line.startsWith("{")) this.events.push(JSON.parse(line));
      }
    })();
  }

  lastAssigned(): Assigned | undefined {
    return this.events.filter((e): e is Assigned => e.event === "assigned").at(-1);
  }

  consumedOffsets(): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const e of this.events) {
      if (e.event === "consumed") {
        out.set(e.partition, [...(out.get(e.partition) ?? []), ...e.offsets]);
      }
    }
    return out;
  }

  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch { /* gone */ }
    await this.child.status;
    await this.done;
    await this.child.stdin.close().catch(() => {});
  }
}

/** True when the members' latest assignments share one generation and cover 0..n−1 exactly once. */
function coversExactly(members: Member[], partitions: number): { ok: boolean; generation: number } {
  const latest = members.map((m) => m.lastAssigned());
  if (latest.some((a) => a === undefined)) return { ok: false, generation: -1 };
  const generations = new Set(latest.map((a) => a!.generation));
  const all = latest.flatMap((a) => a!.assignment.map((tp) => tp.partition)).sort((a, b) => a - b);
  const ok = generations.size === 1 && all.length === partitions && all.every((p, i) => p === i);
  return { ok, generation: latest[0]!.generation };
}

async function produce(cluster: TestCluster, topic: string, count: number): Promise<void> {
  // Small batches (~10 messages), so a slow consumer is killed between batches, mid-stream.
  const producer = cluster.client().producer({ acks: "all", lingerMs: 2, batchBytes: 300 });
  await producer.send(topic, Array.from({ length: count }, (_, i) => ({ value: `m-${i}` })));
  await producer.flush();
}

Deno.test({
  name:
    "groups: split, SIGKILL a member, a fourth joins; at-least-once and at-most-once; console lag",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await startCluster(BASE_PORT);
    const members: Member[] = [];
    try {
      const client = cluster.client();
      await client.admin.createTopic({ name: "g", partitions: 10, replicationFactor: 2 });

      await t.step("three members split 10 partitions; SIGKILL one; a fourth joins", async () => {
        for (let i = 0; i < 3; i++) members.push(new Member(cluster, "splitters", "g"));
        assert.ok(
          await waitFor(() => coversExactly(members, 10).ok, 15_000),
          "three members cover 10 partitions",
        );
        const first = coversExactly(members, 10).generation;
        const counts = members.map((m) => m.lastAssigned()!.assignment.length).sort();
        assert.deepEqual(counts, [3, 3, 4]);

        const victim = members.splice(1, 1)[0];
        const killedAt = performance.now();
        await victim.kill();
        const moved = await waitFor(
          () => coversExactly(members, 10).ok && coversExactly(members, 10).generation > first,
          SESSION_TIMEOUT_MS + 5_000,
        );
        const rebalanceMs = performance.now() - killedAt;
        assert.ok(
          moved,
          "the survivors took the killed member's partitions within session timeout + 5 s",
        );
        const second = coversExactly(members, 10).generation;
        assert.equal(second, first + 1, "one rebalance, one generation");
        console.log(
          `member SIGKILLed → partitions reassigned in ${
            rebalanceMs.toFixed(0)
          } ms (session timeout ${SESSION_TIMEOUT_MS} ms)`,
        );

        members.push(new Member(cluster, "splitters", "g"));
        assert.ok(
          await waitFor(
            () => coversExactly(members, 10).ok && coversExactly(members, 10).generation > second,
            15_000,
          ),
          "a fourth member joined and the group rebalanced",
        );
        assert.equal(coversExactly(members, 10).generation, second + 1);
        const described = (await cluster.console("group describe splitters")).json as {
          state: string;
          generation: number;
          members: unknown[];
        };
        assert.equal(described.state, "Stable");
        assert.equal(described.members.length, 3);
        assert.equal(described.generation, second + 1);
        for (const m of members.splice(0)) await m.kill("SIGTERM");
      });

      await t.step(
        "at-least-once: a member killed mid-stream, restarted, skips nothing",
        async () => {
          await client.admin.createTopic({ name: "alo", partitions: 2, replicationFactor: 2 });
          await produce(cluster, "alo", 2000);
          const first = new Member(cluster, "alo-group", "alo", [
            "--slow-ms",
            "50",
            "--max-bytes",
            "1500",
          ]);
          members.push(first);
          assert.ok(
            await waitFor(() => [...first.consumedOffsets().values()].flat().length > 0, 15_000),
          );
          await new Promise((r) => setTimeout(r, 300));
          await first.kill();
          members.splice(members.indexOf(first), 1);
          const second = new Member(cluster, "alo-group", "alo");
          members.push(second);
          const seen = () => {
            const all = new Set<string>();
            for (const m of [first, second]) {
              for (const [p, offsets] of m.consumedOffsets()) {
                for (const o of offsets) all.add(`${p}/${o}`);
              }
            }
            return all;
          };
          assert.ok(
            await waitFor(() => seen().size === 2000, 20_000),
            `read ${seen().size} of 2000`,
          );
          assert.ok(
            second.consumedOffsets().size > 0,
            "the restarted member read too (the kill was mid-stream)",
          );
          const reread = [...first.consumedOffsets()].reduce(
            (n, [p, offsets]) =>
              n + offsets.filter((o) => (second.consumedOffsets().get(p) ?? []).includes(o)).length,
            0,
          );
          console.log(
            `at-least-once: 2000 messages, none skipped, ${reread} re-read after the kill`,
          );
          await second.kill("SIGTERM");
          members.splice(members.indexOf(second), 1);
        },
      );

      await t.step("at-most-once: nothing is read twice across a kill", async () => {
        await client.admin.createTopic({ name: "amo", partitions: 2, replicationFactor: 2 });
        await produce(cluster, "amo", 2000);
        const first = new Member(cluster, "amo-group", "amo", [
          "--delivery",
          "at-most-once",
          "--slow-ms",
          "50",
          "--max-bytes",
          "1500",
        ]);
        members.push(first);
        assert.ok(
          await waitFor(() => [...first.consumedOffsets().values()].flat().length > 0, 15_000),
        );
        await new Promise((r) => setTimeout(r, 300));
        await first.kill();
        members.splice(members.indexOf(first), 1);
        const second = new Member(cluster, "amo-group", "amo", ["--delivery", "at-most-once"]);
        members.push(second);
        // Wait until the second member has drained the topic (its reads stop growing).
        const drained = await waitFor(async () => {
          const d = (await cluster.console("group describe amo-group")).json as {
            offsets: { lag: number | null }[];
          };
          return d.offsets.length === 2 && d.offsets.every((o) => o.lag === 0);
        }, 20_000);
        assert.ok(drained, "the second member committed up to the end");
        await new Promise((r) => setTimeout(r, 500)); // its last batch is handed over after the commit
        const counts = new Map<string, number>();
        for (const m of [first, second]) {
          for (const [p, offsets] of m.consumedOffsets()) {
            for (const o of offsets) counts.set(`${p}/${o}`, (counts.get(`${p}/${o}`) ?? 0) + 1);
          }
        }
        const twice = [...counts.values()].filter((n) => n > 1).length;
        console.log(
          `at-most-once: ${counts.size} of 2000 read, ${twice} read twice, ${
            2000 - counts.size
          } lost to the kill`,
        );
        assert.equal(twice, 0, "at-most-once never hands a message over twice");

        // Lag in the console: the committed offsets reach the end.
        const describe = (await cluster.console("group describe amo-group")).json as {
          offsets: {
            partition: number;
            committed: number | null;
            end: number;
            lag: number | null;
          }[];
        };
        assert.equal(describe.offsets.length, 2);
        assert.ok(
          describe.offsets.every((o) => o.end === 1000 && o.lag === 0),
          JSON.stringify(describe.offsets),
        );
        const list = (await cluster.console("group list")).json as {
          groups: { group: string; state: string }[];
        };
        assert.ok(list.groups.some((g) => g.group === "amo-group"));
        await second.kill("SIGTERM");
        members.splice(members.indexOf(second), 1);
      });
    } finally {
      for (const m of members) await m.kill();
      await cluster.stop();
    }
  },
});
