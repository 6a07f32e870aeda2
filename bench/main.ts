/**
 * `deno task bench`: starts a real cluster (coordinator, brokers and gateways
 * as separate processes, in a temporary directory, on ports from 22000),
 * measures producer throughput, produce latency, consumer throughput and
 * end-to-end latency through the client library, prints a table (or JSON
 * with `--json`) and always stops the cluster.
 *
 * ```sh
 * deno task bench                      # about 45 s on 2 cores
 * deno task bench --quick              # about 7 s
 * deno task bench --messages 50000 --json > bench.json
 * ```
 *
 * Progress goes to stderr; the report goes to stdout.
 * @module
 */
import { parseArgs } from "node:util";
import type { Acks } from "@kafka-analog/clients";
import { startCluster, type TestCluster } from "../test/_cluster.ts";
import {
  type ConsumeRunResult,
  consumeThroughput,
  endToEndLatency,
  produceLatency,
  type ProduceRunResult,
  produceThroughput,
  rawProduceLatency,
  zeroTimerDelay,
} from "./_scenarios.ts";
import { medianRun } from "./_stats.ts";
import {
  type BenchReport,
  type ConsumeRow,
  type EndToEndRow,
  type LatencyRow,
  type ProduceRow,
  renderReport,
  reportJson,
} from "./_report.ts";

const USAGE = `Usage: deno task bench [--quick] [--messages N] [--repeat N] [--brokers N] [--port N]
                        [--json]

  --quick        a ~7 s run: 50,000 messages per throughput run, 1 repeat, 500 latency
                 sends, 200 end-to-end messages
  --messages N   messages per producer-throughput run (default 200,000; 1,000..5,000,000)
  --repeat N     runs of each throughput configuration, median reported (default 5; 1..10)
  --brokers N    brokers in the cluster (default 5; 2..10)
  --port N       base port (default 22000; the cluster uses base..base+30)
  --json         print the report as JSON on stdout (progress stays on stderr)
`;

const PARTITIONS = 10;
const VALUE_SIZES = [100, 1024];
/** Messages per value size produced and read back, untimed, before the first timed run. */
const WARMUP_MESSAGES_MAX = 50_000;
const REPLICATION_FACTOR = 2;
const BATCH_BYTES = 16_384;
const LINGER_MS = 5;
const CHUNK_MESSAGES = 1_000;
const CHUNKS_IN_FLIGHT = 8;
const FETCH_MAX_BYTES = 1024 * 1024;
const LATENCY_VALUE_BYTES = 100;
const ZERO_TIMER_SAMPLES = 200;
const E2E_INTERVAL_MS = 10;
const E2E_MAX_WAIT_MS = 500;
/** Any single phase failing to finish in this long fails the run. */
const PHASE_DEADLINE_MS = 120_000;
/** The whole run is abandoned (cluster killed) after this long. */
const WATCHDOG_MS = 600_000;

interface Settings {
  quick: boolean;
  messages: number;
  latencySends: number;
  endToEndMessages: number;
  repeat: number;
  brokers: number;
  basePort: number;
  json: boolean;
}

function parseSettings(args: string[]): Settings | null {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      messages: { type: "string" },
      repeat: { type: "string" },
      brokers: { type: "string" },
      port: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const quick = values.quick === true;
  return {
    quick,
    messages: intFlag("messages", values.messages, quick ? 50_000 : 200_000, 1_000, 5_000_000),
    latencySends: quick ? 500 : 2_000,
    endToEndMessages: quick ? 200 : 500,
    repeat: intFlag("repeat", values.repeat, quick ? 1 : 5, 1, 10),
    // The cluster's default replication factor (2) needs at least 2 brokers.
    brokers: intFlag("brokers", values.brokers, 5, 2, 10),
    basePort: intFlag("port", values.port, 22_000, 1_024, 65_000),
    json: values.json === true,
  };
}

function intFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", "").replaceAll(",", ""));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`Invalid flag '--${name}': must be an integer in ${min}..${max}`);
  }
  return n;
}

class UsageError extends Error {}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

async function run(settings: Settings, cluster: TestCluster): Promise<BenchReport> {
  const client = cluster.client();
  const createTopic = async (name: string) => {
    await client.admin.createTopic({
      name,
      partitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
    });
  };
  const reader = client.consumer();
  // Warm-up: JIT-compile the client's and the brokers' hot paths for both
  // value sizes before anything is timed (the first timed runs were slower).
  const warmupMessages = Math.min(WARMUP_MESSAGES_MAX, settings.messages);
  for (const valueBytes of VALUE_SIZES) {
    const topic = `bench-warmup-${valueBytes}b`;
    progress(`warm-up: ${warmupMessages} × ${valueBytes} B, produced and read back`);
    await createTopic(topic);
    await produceThroughput(client, {
      topic,
      messages: warmupMessages,
      valueBytes,
      acks: 1,
      batchBytes: BATCH_BYTES,
      lingerMs: LINGER_MS,
      chunkMessages: CHUNK_MESSAGES,
      chunksInFlight: CHUNKS_IN_FLIGHT,
      deadlineMs: PHASE_DEADLINE_MS,
    });
    await consumeThroughput(reader, {
      topic,
      partitions: PARTITIONS,
      maxBytes: FETCH_MAX_BYTES,
      expectedMessages: warmupMessages,
      deadlineMs: PHASE_DEADLINE_MS,
    });
    await client.admin.deleteTopic(topic);
  }

  // Each run produces to a fresh topic, reads it back and deletes it, so every
  // run meets brokers holding the same data (memory storage keeps all of it).
  // Repeats are interleaved (a b c d a b c d ...) to spread any noise from
  // other processes over every configuration instead of one.
  const configs = VALUE_SIZES.flatMap((valueBytes) =>
    ([1, "all"] as const).map((acks) => ({ valueBytes, acks: acks as Acks }))
  );
  const produceRuns = configs.map(() => [] as ProduceRunResult[]);
  const consumeRuns = configs.map(() => [] as ConsumeRunResult[]);
  for (let repeat = 1; repeat <= settings.repeat; repeat++) {
    for (const [i, config] of configs.entries()) {
      const topic = `bench-${config.valueBytes}b-acks-${config.acks}-run-${repeat}`;
      await createTopic(topic);
      progress(
        `run ${repeat}/${settings.repeat}: produce ${settings.messages} × ${config.valueBytes} B ` +
          `with acks=${config.acks}, then read them back`,
      );
      produceRuns[i].push(
        await produceThroughput(client, {
          topic,
          messages: settings.messages,
          valueBytes: config.valueBytes,
          acks: config.acks,
          batchBytes: BATCH_BYTES,
          lingerMs: LINGER_MS,
          chunkMessages: CHUNK_MESSAGES,
          chunksInFlight: CHUNKS_IN_FLIGHT,
          deadlineMs: PHASE_DEADLINE_MS,
        }),
      );
      consumeRuns[i].push(
        await consumeThroughput(reader, {
          topic,
          partitions: PARTITIONS,
          maxBytes: FETCH_MAX_BYTES,
          expectedMessages: settings.messages,
          deadlineMs: PHASE_DEADLINE_MS,
        }),
      );
      await client.admin.deleteTopic(topic);
    }
  }
  const produce: ProduceRow[] = configs.map((config, i) => ({
    valueBytes: config.valueBytes,
    acks: config.acks,
    batchBytes: BATCH_BYTES,
    lingerMs: LINGER_MS,
    partitions: PARTITIONS,
    chunkMessages: CHUNK_MESSAGES,
    chunksInFlight: CHUNKS_IN_FLIGHT,
    result: medianRun(produceRuns[i]),
  }));
  const consume: ConsumeRow[] = configs.map((config, i) => ({
    valueBytes: config.valueBytes,
    producedWithAcks: config.acks,
    partitions: PARTITIONS,
    maxBytes: FETCH_MAX_BYTES,
    result: medianRun(consumeRuns[i]),
  }));

  progress(`produce latency: ${settings.latencySends} sequential sends`);
  await createTopic("bench-latency");
  const latencyOptions = {
    topic: "bench-latency",
    sends: settings.latencySends,
    valueBytes: LATENCY_VALUE_BYTES,
    deadlineMs: PHASE_DEADLINE_MS,
  };
  const latency: LatencyRow = {
    sends: settings.latencySends,
    valueBytes: LATENCY_VALUE_BYTES,
    acks: 1,
    lingerMs: 0,
    result: await produceLatency(client, latencyOptions),
    raw: await rawProduceLatency(client, latencyOptions),
    zeroTimer: await zeroTimerDelay(ZERO_TIMER_SAMPLES),
  };

  progress(`end-to-end latency: ${settings.endToEndMessages} messages`);
  await createTopic("bench-e2e");
  const endToEnd: EndToEndRow = {
    messages: settings.endToEndMessages,
    intervalMs: E2E_INTERVAL_MS,
    valueBytes: LATENCY_VALUE_BYTES,
    maxWaitMs: E2E_MAX_WAIT_MS,
    result: await endToEndLatency(client, {
      topic: "bench-e2e",
      messages: settings.endToEndMessages,
      intervalMs: E2E_INTERVAL_MS,
      valueBytes: LATENCY_VALUE_BYTES,
      maxWaitMs: E2E_MAX_WAIT_MS,
      deadlineMs: PHASE_DEADLINE_MS,
    }),
  };

  return {
    date: new Date().toISOString(),
    mode: settings.quick ? "quick" : "default",
    repeat: settings.repeat,
    machine: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
    cluster: {
      brokers: settings.brokers,
      storage: "memory",
      startupMs: cluster.startupMs,
      partitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
      replicationImplemented: true,
    },
    warmupMessages,
    produce,
    latency,
    consume,
    endToEnd,
    totalMs: 0,
  };
}

async function main(): Promise<number> {
  let settings: Settings | null;
  try {
    settings = parseSettings(Deno.args);
  } catch (err) {
    console.error(`${messageOf(err)}\n\n${USAGE}`);
    return 2;
  }
  if (settings === null) {
    console.log(USAGE);
    return 0;
  }
  const startMs = performance.now();
  progress(`starting a ${settings.brokers}-broker cluster on ports ${settings.basePort}..`);
  let cluster: TestCluster;
  try {
    cluster = await startCluster(settings.basePort, { brokers: settings.brokers });
  } catch (err) {
    console.error(`bench failed: cannot start the cluster: ${messageOf(err)}`);
    return 1;
  }
  progress(`cluster ready in ${cluster.startupMs} ms (${cluster.dir})`);
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= cluster.stop());
  const onSignal = () => {
    progress("interrupted: stopping the cluster");
    stop().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const watchdog = setTimeout(() => {
    progress(`still running after ${WATCHDOG_MS} ms: killing the cluster`);
    cluster.kill().finally(() => Deno.exit(1));
  }, WATCHDOG_MS);
  try {
    const report = await run(settings, cluster);
    report.totalMs = performance.now() - startMs;
    console.log(settings.json ? reportJson(report) : renderReport(report));
    return 0;
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    Deno.removeSignalListener("SIGINT", onSignal);
    progress("stopping the cluster");
    await stop();
  }
}

if (import.meta.main) Deno.exit(await main());
