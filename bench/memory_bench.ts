/**
 * Broker memory against the data it holds (issue #13): starts a 2-broker
 * memory-storage cluster (so with replication factor 2 every broker holds
 * every partition, half as leader, half as follower), produces value bytes in
 * steps, and reads each broker's resident set size (VmRSS from /proc) after
 * each step. Prints each step, then a least-squares fit RSS = fixed + ratio ×
 * data per broker, and the RSS after the topic is deleted.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-run bench/memory_bench.ts
 * deno run ... bench/memory_bench.ts --step-mb 50 --steps 4 --value-bytes 100 --json
 * ```
 *
 * Linux only (/proc). Progress goes to stderr, the report to stdout.
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "@kafka-analog/lib/async";
import { readProc, startCluster } from "../test/_cluster.ts";
import { ackEveryPartition, produceThroughput } from "./_scenarios.ts";
import { table } from "./_report.ts";

const PARTITIONS = 10;
const BROKERS = 2;
const DEADLINE_MS = 300_000;
/** Bytes a record adds to its value in a batch (length, attributes, deltas, key, headers). */
const RECORD_OVERHEAD_BYTES = 8;
/** The batch header, per batch of at most BATCH_BYTES. */
const BATCH_HEADER_BYTES = 61;
const BATCH_BYTES = 16_384;

/** One measurement: the data produced so far and each broker's RSS. */
export interface MemoryStep {
  /** Value bytes produced so far. */
  valueBytes: number;
  /** Estimated bytes the brokers store for them (record and batch overhead included). */
  storedBytes: number;
  /** VmRSS of each broker, bytes. */
  rssBytes: number[];
}

/** Least-squares line y = a + b·x. */
export function fitLine(xs: number[], ys: number[]): { fixed: number; ratio: number } {
  const n = xs.length;
  if (n < 2) throw new RangeError("a line needs at least two points");
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const ratio = sxx === 0 ? 0 : sxy / sxx;
  return { fixed: my - ratio * mx, ratio };
}

/** VmRSS of `pid` in bytes, from /proc/PID/status. */
function rssOf(pid: number): number {
  // Deno wants --allow-all for /proc/PID; `cat` (as test/_cluster.ts reads it) does not.
  const status = readProc(`/proc/${pid}/status`) ?? "";
  const m = status.match(/^VmRSS:\s+(\d+) kB$/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "step-mb": { type: "string", default: "100" },
      steps: { type: "string", default: "4" },
      "value-bytes": { type: "string", default: "1024" },
      port: { type: "string", default: "22150" },
      json: { type: "boolean", default: false },
    },
  });
  const stepBytes = Number(values["step-mb"]) * 1e6;
  const steps = Number(values.steps);
  const valueBytes = Number(values["value-bytes"]);
  const port = Number(values.port);
  if (![stepBytes, steps, valueBytes, port].every((n) => Number.isInteger(n) && n > 0)) {
    console.error("--step-mb, --steps, --value-bytes and --port must be positive integers");
    return 2;
  }
  const progress = (m: string) => console.error(`[memory] ${m}`);
  progress(`starting a ${BROKERS}-broker memory cluster on ports from ${port}`);
  const cluster = await startCluster(port, { brokers: BROKERS, storage: "memory" });
  try {
    const client = cluster.client();
    const pids = (await cluster.childPids()).slice(0, BROKERS);
    const produce = async (topic: string, bytes: number) => {
      const messages = Math.max(1, Math.round(bytes / valueBytes));
      await produceThroughput(client, {
        topic,
        messages,
        valueBytes,
        acks: "all",
        batchBytes: BATCH_BYTES,
        lingerMs: 5,
        chunkMessages: 1_000,
        chunksInFlight: 8,
        deadlineMs: DEADLINE_MS,
      });
      return messages;
    };
    // Warm-up (JIT, connections, buffers), then deleted: the baseline is a warm, empty broker.
    await client.admin.createTopic({
      name: "memory-warmup",
      partitions: PARTITIONS,
      replicationFactor: 2,
    });
    await ackEveryPartition(client, "memory-warmup", PARTITIONS, DEADLINE_MS);
    progress("warm-up: 20 MB");
    await produce("memory-warmup", 20e6);
    await client.admin.deleteTopic("memory-warmup");
    await client.admin.createTopic({
      name: "memory",
      partitions: PARTITIONS,
      replicationFactor: 2,
    });
    await ackEveryPartition(client, "memory", PARTITIONS, DEADLINE_MS);
    await sleep(1_000);
    const stepsOut: MemoryStep[] = [{ valueBytes: 0, storedBytes: 0, rssBytes: pids.map(rssOf) }];
    let messages = 0;
    for (let i = 1; i <= steps; i++) {
      progress(`step ${i}/${steps}: +${mb(stepBytes)} MB of ${valueBytes}-byte values, acks=all`);
      messages += await produce("memory", stepBytes);
      await sleep(1_000);
      const produced = messages * valueBytes;
      const recordsPerBatch = Math.max(
        1,
        Math.floor((BATCH_BYTES - BATCH_HEADER_BYTES) / (valueBytes + RECORD_OVERHEAD_BYTES)),
      );
      const stored = messages * (valueBytes + RECORD_OVERHEAD_BYTES) +
        Math.ceil(messages / recordsPerBatch) * BATCH_HEADER_BYTES;
      stepsOut.push({ valueBytes: produced, storedBytes: stored, rssBytes: pids.map(rssOf) });
    }
    await client.admin.deleteTopic("memory");
    await sleep(2_000);
    const afterDelete = pids.map(rssOf);
    const fits = pids.map((_, b) =>
      fitLine(stepsOut.map((s) => s.storedBytes), stepsOut.map((s) => s.rssBytes[b]))
    );
    if (values.json) {
      console.log(
        JSON.stringify({ valueBytes, brokers: BROKERS, steps: stepsOut, fits, afterDelete }),
      );
    } else {
      console.log(
        `Broker RSS vs data held (${BROKERS} brokers, memory storage, RF 2: each broker holds ` +
          `every partition; ${valueBytes}-byte values, acks=all)`,
      );
      console.log(table(
        ["value MB", "stored MB (est.)", ...pids.map((_, b) => `broker ${b} RSS MB`)],
        stepsOut.map((s) => [mb(s.valueBytes), mb(s.storedBytes), ...s.rssBytes.map(mb)]),
      ));
      console.log(table(
        ["broker", "fixed MB", "RSS / stored byte", "RSS after delete MB"],
        fits.map((f, b) => [String(b), mb(f.fixed), f.ratio.toFixed(3), mb(afterDelete[b])]),
      ));
    }
    return 0;
  } finally {
    progress("stopping the cluster");
    await cluster.stop();
  }
}

if (import.meta.main) Deno.exit(await main());
