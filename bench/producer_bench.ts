/**
 * The producer matrix (issue #3): `--messages` keyless messages of 100 bytes
 * to a fresh 10-partition topic with replication factor 2, through one
 * producer, for every combination of acks 0 / 1 / all and linger 0 / 5 /
 * 100 ms, plus acks=all with idempotence turned off at linger 5 ms (which
 * separates the cost of idempotence from the cost of replication, issue #4).
 * Each configuration reports messages/s, MB/s (10^6 value bytes per second)
 * and the p50 / p99 / p999 send latency: from the `send` call of a message
 * to its acknowledgement (for acks=0: to the moment its request was
 * written).
 *
 * `deno task bench` runs the matrix as its tables 5 and 6 (see `main.ts`);
 * this file also runs it on its own, on its own cluster (ports from 22100):
 *
 * ```sh
 * deno task bench:producer                       # 1,000,000 messages per configuration
 * deno task bench:producer --quick               # 50,000 messages per configuration
 * deno task bench:producer --quick --storage disk
 * deno task bench:producer --messages 200000 --json > producer.jsonl
 * ```
 *
 * Each message is its own `send` call, as in Kafka's producer-perf-test; at
 * most `--window` messages await their acknowledgement at once (beyond that
 * the benchmark waits), so latency measures the pipeline, not an unbounded
 * queue. With `--json` each configuration (then each replication-cost
 * line) is one JSON object per line on stdout; progress goes to stderr.
 * @module
 */
import { parseArgs } from "node:util";
import type { Acks, Client } from "@kafka-analog/clients";
import { startCluster } from "../test/_cluster.ts";
import { ackEveryPartition, sendLatencyRun, type SendLatencyRunResult } from "./_scenarios.ts";
import { medianRun, summarize } from "./_stats.ts";
import {
  type MatrixRow,
  matrixRowJson,
  type ProducerMatrix,
  renderProducerMatrix,
  renderReplicationCost,
  replicationCost,
} from "./_report.ts";

const USAGE = `Usage: deno task bench:producer [--quick] [--messages N] [--repeat N] [--window N]
                               [--port N] [--brokers N] [--storage memory|disk] [--json]

  --quick        50,000 messages per configuration (about 20 s in all)
  --messages N   messages per configuration (default 1,000,000; 1,000..10,000,000)
  --repeat N     runs of each configuration, interleaved; median msgs/s, pooled latency
                 (default 1; 1..10)
  --window N     messages awaiting acknowledgement at most (default 10,000; 1..1,000,000)
  --brokers N    brokers in the cluster (default 5; 2..10)
  --port N       base port (default 22100; the cluster uses base..base+30)
  --storage KIND memory (default) or disk (segment files, default flush policy)
  --json         one JSON object per configuration and line on stdout
`;

/** Partitions of each matrix topic. */
export const MATRIX_PARTITIONS = 10;
/** Replication factor of each matrix topic. */
export const MATRIX_REPLICATION_FACTOR = 2;
/** Value bytes of each message. */
export const MATRIX_VALUE_BYTES = 100;
/** Messages awaiting their acknowledgement at most (default). */
export const MATRIX_WINDOW = 10_000;
/** The configurations, in the order they run. */
export const MATRIX_CONFIGS: readonly {
  acks: Acks;
  lingerMs: number;
  idempotence: "default" | "off";
}[] = [
  ...([0, 1, "all"] as const).flatMap((acks) =>
    [0, 5, 100].map((lingerMs) => ({ acks, lingerMs, idempotence: "default" as const }))
  ),
  { acks: "all", lingerMs: 5, idempotence: "off" },
];
/** One configuration failing to finish in this long fails the benchmark. */
const RUN_DEADLINE_MS = 600_000;

/** What {@linkcode runProducerMatrix} takes. */
export interface ProducerMatrixOptions {
  messages: number;
  window: number;
  /** Runs of each configuration, interleaved (a b c … a b c …). */
  repeat: number;
  /** Called before each run with a one-line description. */
  progress?: (line: string) => void;
}

/**
 * Runs every configuration of {@linkcode MATRIX_CONFIGS} `repeat` times on
 * the cluster behind `client`, interleaved (alternately forward and
 * backward), each run on a fresh topic that is primed first, drained
 * afterwards (one acks=all message per partition, untimed, see
 * {@linkcode ackEveryPartition}) and then deleted (memory storage keeps
 * everything, so this frees the brokers' memory). Each row reports the run
 * with the median msgs/s and the latency percentiles of every message of
 * every run (pooled).
 */
export async function runProducerMatrix(
  client: Client,
  options: ProducerMatrixOptions,
): Promise<ProducerMatrix> {
  const runs = MATRIX_CONFIGS.map(() => [] as SendLatencyRunResult[]);
  const samples = MATRIX_CONFIGS.map(() => [] as Float64Array[]);
  const primeMs = MATRIX_CONFIGS.map(() => [] as number[]);
  const drainMs = MATRIX_CONFIGS.map(() => [] as number[]);
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    // Odd runs go forward, even runs backward, so no configuration always follows the same one.
    const order = [...MATRIX_CONFIGS.keys()];
    if (repeat % 2 === 0) order.reverse();
    for (const i of order) {
      const config = MATRIX_CONFIGS[i];
      const topic = `bench-matrix-acks-${config.acks}-linger-${config.lingerMs}` +
        (config.idempotence === "off" ? "-no-idempotence" : "") + `-run-${repeat}`;
      await client.admin.createTopic({
        name: topic,
        partitions: MATRIX_PARTITIONS,
        replicationFactor: MATRIX_REPLICATION_FACTOR,
      });
      primeMs[i].push(
        await ackEveryPartition(client, topic, MATRIX_PARTITIONS, RUN_DEADLINE_MS),
      );
      const count = options.messages.toLocaleString("en-US");
      options.progress?.(
        `producer matrix: run ${repeat}/${options.repeat}: ${count} sends with ` +
          `acks=${config.acks}, linger ${config.lingerMs} ms` +
          (config.idempotence === "off" ? ", idempotence off" : ""),
      );
      const run = await sendLatencyRun(client, {
        topic,
        messages: options.messages,
        valueBytes: MATRIX_VALUE_BYTES,
        acks: config.acks,
        lingerMs: config.lingerMs,
        idempotence: config.idempotence === "off" ? false : undefined,
        window: options.window,
        deadlineMs: RUN_DEADLINE_MS,
      });
      runs[i].push(run.result);
      samples[i].push(run.samplesMs);
      // Untimed: let the brokers finish what the run sent (acks=0 leaves a backlog) before the next.
      drainMs[i].push(
        await ackEveryPartition(client, topic, MATRIX_PARTITIONS, RUN_DEADLINE_MS),
      );
      await client.admin.deleteTopic(topic);
    }
  }
  return {
    messages: options.messages,
    valueBytes: MATRIX_VALUE_BYTES,
    partitions: MATRIX_PARTITIONS,
    replicationFactor: MATRIX_REPLICATION_FACTOR,
    window: options.window,
    repeat: options.repeat,
    rows: MATRIX_CONFIGS.map((config, i): MatrixRow => ({
      ...config,
      primeMs: primeMs[i],
      drainMs: drainMs[i],
      throughput: medianRun(runs[i]),
      latency: summarize(concatSamples(samples[i])),
    })),
  };
}

function concatSamples(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Settings from the command line. */
export interface ProducerBenchSettings {
  messages: number;
  window: number;
  repeat: number;
  brokers: number;
  basePort: number;
  storage: "memory" | "disk";
  json: boolean;
}

/** Parses the command line (see USAGE); bad values throw an Error naming the flag. */
export function parseProducerBenchArgs(args: string[]): ProducerBenchSettings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      messages: { type: "string" },
      window: { type: "string" },
      repeat: { type: "string" },
      brokers: { type: "string" },
      port: { type: "string" },
      storage: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (
    raw: string | undefined,
    fallback: number,
    min: number,
    max: number,
    name: string,
  ) => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replaceAll("_", "").replaceAll(",", ""));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be an integer in ${min}..${max}, got ${raw}`);
    }
    return n;
  };
  const storage = values.storage ?? "memory";
  if (storage !== "memory" && storage !== "disk") {
    throw new Error(`--storage must be memory or disk, got ${storage}`);
  }
  return {
    messages: int(
      values.messages,
      values.quick ? 50_000 : 1_000_000,
      1_000,
      10_000_000,
      "messages",
    ),
    window: int(values.window, MATRIX_WINDOW, 1, 1_000_000, "window"),
    repeat: int(values.repeat, 1, 1, 10, "repeat"),
    brokers: int(values.brokers, 5, 2, 10, "brokers"),
    basePort: int(values.port, 22_100, 1024, 65_000, "port"),
    storage,
    json: values.json === true,
  };
}

/** Starts a cluster, runs the matrix, prints it (JSON lines with `json`), stops it. */
export async function runProducerBench(settings: ProducerBenchSettings): Promise<ProducerMatrix> {
  console.error(
    `starting a ${settings.brokers}-broker ${settings.storage}-storage cluster on ports from ` +
      `${settings.basePort}...`,
  );
  const cluster = await startCluster(settings.basePort, {
    brokers: settings.brokers,
    storage: settings.storage,
  });
  try {
    const matrix = await runProducerMatrix(cluster.client(), {
      messages: settings.messages,
      window: settings.window,
      repeat: settings.repeat,
      progress: (line) => console.error(line),
    });
    console.log(
      settings.json
        ? [
          ...matrix.rows.map((row) => matrixRowJson(matrix, row)),
          ...replicationCost(matrix).map((r) => ({ table: "replication-cost", ...r })),
        ].map((o) => JSON.stringify(o)).join("\n")
        : [...renderProducerMatrix(matrix, 1), "", ...renderReplicationCost(matrix, 2)].join("\n"),
    );
    return matrix;
  } finally {
    await cluster.stop();
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let settings: ProducerBenchSettings;
  try {
    settings = parseProducerBenchArgs(Deno.args);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    Deno.exit(2);
  }
  try {
    await runProducerBench(settings);
  } catch (err) {
    console.error(`producer benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    Deno.exit(1);
  }
}
