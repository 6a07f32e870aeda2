/**
 * Transactions through a real cluster (3 brokers, base port 22300):
 *
 * (a) a committed and an aborted transaction: a read_committed reader sees
 *     only the committed records, a read_uncommitted reader sees both;
 * (b) zombie fencing: a newer instance with the same transactional id fences
 *     older ones — a zombie's Produce is refused by the broker and a zombie's
 *     commit by the coordinator (INVALID_PRODUCER_EPOCH or PRODUCER_FENCED),
 *     and every later call fails;
 * (c) chaos: a consume-transform-produce worker process (`test/_eos_worker.ts`)
 *     copies EOS_RECORDS (default 20,000) numbered records from `in` to `out`
 *     in transactions of ~100 while the test SIGKILLs it at random points at
 *     least 5 times (restarting it) and SIGKILLs one broker once (restarted
 *     with `broker start N`). A read_committed reader of `out` must find
 *     every number exactly once, in input order per partition; a
 *     read_uncommitted reader may also see aborted copies (counted and
 *     printed). EOS_SEED replays the kill points; EOS_DEBUG=1 prints each
 *     killed worker's events.
 *
 * Measured: the whole test takes ~20 s with the default 20,000 records.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import type { PartitionReader, Producer } from "@kafka-analog/clients";
import { startCluster } from "../_cluster.ts";
import { EosWorker } from "../_eos_process.ts";
import { drainPartition, prng } from "../chaos/harness.ts";

const BASE_PORT = 22300;
const BROKERS = 3;
const RECORDS = Number(Deno.env.get("EOS_RECORDS") ?? "20000");
const SEED = Number(Deno.env.get("EOS_SEED") ?? String(Date.now() % 1_000_000));
const WORKER_KILLS = 5;
const TEST_BUDGET_MS = 120_000;

/** Values of a partition from its start to its end (see `drainPartition`). */
async function readPartition(
  reader: PartitionReader,
  topic: string,
  partition: number,
  timeoutMs: number,
): Promise<{ values: string[] }> {
  const drained = await drainPartition(reader, topic, partition, timeoutMs);
  return { values: drained.records.map((r) => r.value) };
}

async function readTopic(
  reader: PartitionReader,
  topic: string,
  partitions: number,
  timeoutMs = 20_000,
): Promise<string[][]> {
  const out: string[][] = [];
  for (let p = 0; p < partitions; p++) {
    out.push((await readPartition(reader, topic, p, timeoutMs)).values);
  }
  return out;
}

function isFenced(err: unknown): boolean {
  return isKaError(err, "INVALID_PRODUCER_EPOCH") || isKaError(err, "PRODUCER_FENCED");
}

Deno.test({
  name: "transactions: commit/abort isolation, zombie fencing, exactly-once copy under SIGKILL",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const startedAt = Date.now();
    const cluster = await startCluster(BASE_PORT, { brokers: BROKERS });
    const workers: EosWorker[] = [];
    const producers: Producer[] = [];
    try {
      const client = cluster.client();
      const committedReader = client.consumer({ isolationLevel: "read_committed" });
      const uncommittedReader = client.consumer();

      await t.step("(a) read_committed sees committed transactions only", async () => {
        await client.admin.createTopic({ name: "ab", partitions: 2, replicationFactor: 2 });
        const producer = client.producer({ transactionalId: "ab-tx", lingerMs: 2 });
        producers.push(producer);
        await producer.initTransactions();
        producer.beginTransaction();
        await producer.send("ab", Array.from({ length: 10 }, (_, i) => ({ value: `c1-${i}` })));
        await producer.commitTransaction();
        producer.beginTransaction();
        // Acknowledged (so on the log) before the abort: a read_uncommitted reader sees them.
        await producer.send("ab", Array.from({ length: 7 }, (_, i) => ({ value: `x-${i}` })));
        await producer.abortTransaction();
        producer.beginTransaction();
        await producer.send("ab", Array.from({ length: 5 }, (_, i) => ({ value: `c2-${i}` })));
        await producer.commitTransaction();

        const committed = (await readTopic(committedReader, "ab", 2)).flat();
        const all = (await readTopic(uncommittedReader, "ab", 2)).flat();
        console.log(
          `(a) read_committed: ${committed.length} records, read_uncommitted: ${all.length}`,
        );
        assert.equal(committed.length, 15);
        assert.deepEqual(committed.filter((v) => v.startsWith("x-")), [], "no aborted record");
        assert.deepEqual(
          [...committed].sort(),
          [
            ...Array.from({ length: 10 }, (_, i) => `c1-${i}`),
            ...Array.from({ length: 5 }, (_, i) => `c2-${i}`),
          ].sort(),
        );
        assert.equal(all.length, 22, "read_uncommitted sees the aborted records too");
        assert.equal(all.filter((v) => v.startsWith("x-")).length, 7);
      });

      await t.step("(b) a newer instance fences older ones", async () => {
        await client.admin.createTopic({ name: "fence", partitions: 2, replicationFactor: 2 });
        const options = { transactionalId: "fence-tx", lingerMs: 2 };
        const a = client.producer(options);
        const b = client.producer(options);
        const c = client.producer(options);
        producers.push(a, b, c);
        await a.initTransactions();
        a.beginTransaction();
        await a.send("fence", [{ partition: 0, value: "a-0" }]);
        await b.initTransactions(); // fences a, aborts its transaction
        b.beginTransaction();
        await b.send("fence", [{ partition: 0, value: "b-0" }]);
        await c.initTransactions(); // fences b, aborts its transaction
        assert.ok(
          c.producerId!.producerEpoch > b.producerId!.producerEpoch &&
            b.producerId!.producerEpoch > a.producerId!.producerEpoch,
          "each initTransactions bumps the epoch",
        );

        // a's partition is already in its transaction: the broker refuses the old epoch.
        const fromBroker: unknown = await a.send("fence", [{ partition: 0, value: "a-late" }])
          .then(() => null, (e) => e);
        assert.ok(isFenced(fromBroker), `Produce from a zombie is fenced: ${fromBroker}`);
        assert.equal(a.transactionState, "fatal-error");
        await assert.rejects(a.commitTransaction(), isFenced);
        assert.throws(() => a.beginTransaction(), isFenced);
        // b asks the coordinator to commit: fenced there.
        const fromCoordinator: unknown = await b.commitTransaction().then(() => null, (e) => e);
        assert.ok(isFenced(fromCoordinator), `EndTxn from a zombie is fenced: ${fromCoordinator}`);
        assert.equal(b.transactionState, "fatal-error");
        await assert.rejects(b.send("fence", [{ partition: 1, value: "b-late" }]), isFenced);
        console.log(`(b) zombie errors: ${String(fromBroker)} | ${String(fromCoordinator)}`);

        c.beginTransaction();
        await c.send("fence", [{ partition: 0, value: "c-0" }, { partition: 1, value: "c-1" }]);
        await c.commitTransaction();
        const committed = (await readTopic(committedReader, "fence", 2)).flat();
        assert.deepEqual(committed.sort(), ["c-0", "c-1"], "only the live instance's records");
        const all = (await readTopic(uncommittedReader, "fence", 2)).flat();
        assert.deepEqual(all.sort(), ["a-0", "b-0", "c-0", "c-1"]);
      });

      await t.step(
        `(c) exactly-once copy of ${RECORDS} records: ${WORKER_KILLS} worker SIGKILLs, 1 broker SIGKILL (EOS_SEED=${SEED})`,
        async () => {
          const random = prng(SEED);
          const PARTITIONS = 2;
          await client.admin.createTopic({
            name: "in",
            partitions: PARTITIONS,
            replicationFactor: 2,
          });
          await client.admin.createTopic({
            name: "out",
            partitions: PARTITIONS,
            replicationFactor: 2,
          });
          // ~50 records per input batch: a poll takes one batch per partition, ~100 records.
          const input = client.producer({ acks: "all", lingerMs: 5, batchBytes: 1_600 });
          producers.push(input);
          const CHUNK = 1_000;
          for (let from = 0; from < RECORDS; from += CHUNK) {
            const n = Math.min(CHUNK, RECORDS - from);
            await input.send(
              "in",
              Array.from({ length: n }, (_, i) => ({
                partition: (from + i) % PARTITIONS,
                value: String(from + i),
              })),
            );
          }
          const inputEnd: bigint[] = [];
          for (let p = 0; p < PARTITIONS; p++) {
            inputEnd.push(await uncommittedReader.listOffset("in", p, "latest"));
          }
          const producedAt = Date.now();
          console.log(
            `(c) ${RECORDS} input records in ${PARTITIONS} partitions (${
              producedAt - startedAt
            } ms since start)`,
          );

          // The highest offset the group committed per input partition, over every worker.
          const committedUpTo = Array.from({ length: PARTITIONS }, () => -1);
          const track = (w: EosWorker) => {
            for (const e of w.events) {
              if (e.event !== "committed") continue;
              for (const o of e.offsets as { partition: number; offset: number }[]) {
                committedUpTo[o.partition] = Math.max(committedUpTo[o.partition], o.offset);
              }
            }
          };
          const finished = () => committedUpTo.every((o, p) => BigInt(o) >= inputEnd[p]);

          const expectedTxns = Math.max(1, Math.ceil(RECORDS / 100));
          let brokerKilled = -1;
          let brokerRestart: Promise<void> | null = null;
          const kills: string[] = [];
          for (let life = 0; life < WORKER_KILLS; life++) {
            const worker = new EosWorker(cluster, life);
            workers.push(worker);
            // Kill after a random number of commits (so every life makes progress and the
            // kills fit in the work), plus a random delay that often lands mid-transaction.
            const target = 1 +
              Math.floor(random() * Math.max(1, expectedTxns / (3 * WORKER_KILLS)));
            const progressed = await worker.until(() => worker.commits >= target, 40_000);
            assert.ok(
              progressed,
              `worker ${life} committed ${worker.commits}/${target} transactions in 40 s: ${
                JSON.stringify(worker.events.slice(-3))
              }`,
            );
            if (life === 2) {
              // One broker goes down while a worker runs: the leader of out-0.
              const topic = (await cluster.console("topic describe out")).json as {
                partitions: { partition: number; leader: number }[];
              };
              brokerKilled = topic.partitions[0].leader;
              const services = ((await cluster.console("status")).json as {
                services: { kind: string; id: number; pid: number }[];
              }).services;
              const pid = services.find((s) => s.kind === "broker" && s.id === brokerKilled)!.pid;
              Deno.kill(pid, "SIGKILL");
              brokerRestart = (async () => {
                await new Promise((r) => setTimeout(r, 3_000));
                const started = await cluster.console(`broker start ${brokerKilled}`);
                assert.equal(started.ok, true, started.text);
              })();
              await worker.until(() => worker.commits >= target + 3, 20_000);
            }
            // A transaction takes ~50-90 ms here: the kill lands before, during or after its sends.
            await new Promise((r) => setTimeout(r, Math.floor(random() * 100)));
            await worker.kill();
            track(worker);
            if (Deno.env.get("EOS_DEBUG")) console.log(JSON.stringify(worker.events));
            kills.push(`${worker.commits} commits`);
            if (finished()) break;
          }
          await brokerRestart;
          // The last worker runs to the end.
          const last = new EosWorker(cluster, WORKER_KILLS);
          workers.push(last);
          const remainingMs = TEST_BUDGET_MS - (Date.now() - startedAt) - 15_000;
          const done = await last.until(() => {
            track(last);
            return finished();
          }, Math.max(remainingMs, 10_000));
          const status = await last.stop(15_000);
          track(last);
          const copiedAt = Date.now();
          assert.ok(
            done,
            `the copy did not finish: committed up to ${committedUpTo} of ${inputEnd}; last events ${
              JSON.stringify(last.events.slice(-3))
            }`,
          );
          assert.equal(status.code, 0, "the last worker stopped cleanly");
          assert.ok(
            kills.length >= WORKER_KILLS,
            `only ${kills.length} worker kills happened before the copy finished: EOS_RECORDS=${RECORDS} is too small (use >= 5000)`,
          );
          assert.ok(brokerKilled >= 0, "a broker was killed");

          const committed = await readTopic(committedReader, "out", PARTITIONS, 30_000);
          const all = await readTopic(uncommittedReader, "out", PARTITIONS, 30_000);
          const seen = new Map<number, number>();
          for (const v of committed.flat()) seen.set(Number(v), (seen.get(Number(v)) ?? 0) + 1);
          const missing: number[] = [];
          for (let i = 0; i < RECORDS && missing.length < 20; i++) {
            if (!seen.has(i)) missing.push(i);
          }
          const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
          const abortedCopies = all.flat().length - committed.flat().length;
          if (Deno.env.get("EOS_DEBUG")) {
            for (let p = 0; p < PARTITIONS; p++) {
              const counts = new Map<string, number>();
              for (const v of all[p]) counts.set(v, (counts.get(v) ?? 0) + 1);
              const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => Number(v));
              console.log(
                `out-${p} aborted copies: ${twice.length} [${twice[0]}..${twice.at(-1)}]`,
              );
            }
          }
          const allEvents = workers.flatMap((w) => w.events);
          console.log(
            `(c) EOS_SEED=${SEED}: ${workers.length} worker lives (killed after ${
              kills.join(", ")
            }), broker ${brokerKilled} SIGKILLed and restarted; ` +
              `${
                allEvents.filter((e) => e.event === "committed").length
              } transactions committed, ` +
              `${allEvents.filter((e) => e.event === "aborted").length} aborted by the workers, ` +
              `${allEvents.filter((e) => e.event === "fenced").length} fenced; ` +
              `read_committed ${committed.flat().length} records (${seen.size} distinct, ${duplicated.length} duplicated, ${missing.length} missing); ` +
              `read_uncommitted ${all.flat().length} records, ${abortedCopies} of them aborted copies; ` +
              `copy took ${copiedAt - producedAt} ms`,
          );
          assert.deepEqual(missing, [], "every input number is in the committed output");
          assert.deepEqual(duplicated.slice(0, 20), [], "no number is committed twice");
          assert.equal(committed.flat().length, RECORDS);
          for (let p = 0; p < PARTITIONS; p++) {
            const expected = Array.from(
              { length: RECORDS },
              (_, i) => i,
            ).filter((i) => i % PARTITIONS === p).map(String);
            assert.deepEqual(committed[p], expected, `out-${p} is in-${p}, in order`);
          }
          assert.ok(abortedCopies >= 0);
        },
      );
    } finally {
      for (const w of workers) await w.kill();
      for (const p of producers) await p.close().catch(() => {});
      await cluster.stop();
      console.log(`transactions test took ${Date.now() - startedAt} ms`);
    }
  },
});
