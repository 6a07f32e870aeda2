/**
 * `deno task bench`: starts a real cluster (coordinator, brokers and gateways
 * as separate processes, in a temporary directory, on ports from 22000),
 * measures through the client library: producer throughput for acks 0/1/all
 * × linger 0/5 ms × 100 B/1 KiB (issue #13), produce latency, consumer
 * throughput, end-to-end latency at a fixed 20,000 msgs/s (acks=all, linger
 * 0), a sustained 10 s acks=all produce, the per-message producer matrix
 * (acks × linger, issue #3) with the acks=1 / acks=all comparison (issue #4),
 * group-consumer throughput and rebalance time (issue #5), and disk against
 * memory storage with and without an fsync per batch (issue #7, on a second
 * cluster from port 22500); prints tables and a targets summary (or, with
 * `--json`, one JSON object per scenario) and always stops the clusters.
 *
 * ```sh
 * deno task bench                      # about 5 minutes on 2 cores
 * deno task bench --quick              # under a minute (no tables 5-8)
 * deno task bench --full               # issue sizes: 1,000,000 messages per matrix row
 * deno task bench --storage disk       # the same report on a disk-storage cluster
 * deno task bench --quick --json > bench.jsonl
 * ```
 *
 * Progress goes to stderr; the report goes to stdout.
 * @module
 */
import { parseArgs } from "node:util";
import type { Acks, Client } from "@kafka-analog/clients";
import { startCluster, type TestCluster } from "../test/_cluster.ts";
import {
  ackEveryPartition,
  type ConsumeRunResult,
  consumeThroughput,
  fixedRateEndToEnd,
  produceLatency,
  type ProduceRunResult,
  produceThroughput,
  rawProduceLatency,
  zeroTimerDelay,
} from "./_scenarios.ts";
import {
  type GroupConsumeResult,
  groupConsumeThroughput,
  rebalanceAfterLeave,
  type RebalanceResult,
} from "./_groups.ts";
import { medianRun } from "./_stats.ts";
import {
  measureStorageRows,
  type StorageSection,
  type StorageSize,
  type StorageTableOptions,
  warmUpStorage,
} from "./_storage.ts";
import {
  type BenchReport,
  type ConsumeRow,
  type FixedRateRow,
  type GroupSection,
  type LatencyRow,
  type ProducerMatrix,
  type ProduceRow,
  renderReport,
  reportJsonLines,
  type SustainedRow,
} from "./_report.ts";
import { MATRIX_VALUE_BYTES, MATRIX_WINDOW, runProducerMatrix } from "./producer_bench.ts";

const USAGE = `Usage: deno task bench [--quick | --full] [--storage memory|disk] [--messages N]
                        [--repeat N] [--producer-messages N] [--group-messages N]
                        [--brokers N] [--port N] [--storage-port N] [--skip-storage] [--json]

  --quick                a < 60 s run: fewer messages everywhere, 1 run of everything, 5 s per
                         sustained row, 3 s of end-to-end latency, no tables 5-8
  --full                 the issues' sizes (~9 min): 1,000,000 messages per producer-matrix
                         run (3 runs per row), 1,000,000 for the group consumers, 5 runs of
                         tables 1/3 and 7, 10 rebalance runs per heartbeat
  --storage KIND         the main cluster's storage, memory (default) or disk (segment files
                         in its temporary directory, default flush policy)
  --messages N           messages per producer-throughput run, table 1 (acks 0/1/all × linger
                         0/5 × 100 B/1 KiB; default 200,000; quick 30,000; 1,000..5,000,000)
  --repeat N             runs of each table-1/3 configuration, median reported (default 3;
                         quick 1; full 5; 1..10)
  --producer-messages N  messages per producer-matrix run, table 5 (default 200,000; quick
                         50,000; full 1,000,000; 1,000..10,000,000); 3 runs per row (quick 1)
  --group-messages N     messages the group consumers read, table 7 (default 500,000; quick
                         100,000; full 1,000,000; 1,000..5,000,000)
  --brokers N            brokers in the cluster (default 5; 2..10)
  --port N               base port (default 22000; the cluster uses base..base+30)
  --storage-port N       base port of table 9's second cluster (default 22500): disk storage,
                         or memory storage with --storage disk; stopped and removed after it
  --skip-storage         leave out table 9 (issue #7: disk vs memory storage, default flush
                         and flush.messages=1; 100,000 × 100 B and 50,000 × 1 KiB per run,
                         2 runs per row; quick 20,000 / 10,000, 1 run; full 200,000 / 100,000,
                         3 runs)
  --json                 one JSON object per scenario (every row of every table) on stdout:
                         {"scenario","msgs_per_s","mb_per_s","p50_ms","p99_ms","p999_ms",
                         "conditions":{...}}; progress stays on stderr
`;

const PARTITIONS = 10;
const VALUE_SIZES = [100, 1024];
/** Messages per value size produced and read back, untimed, before the first timed run. */
const WARMUP_MESSAGES_MAX = 50_000;
const REPLICATION_FACTOR = 2;
const BATCH_BYTES = 16_384;
/**
 * The larger batch size some rows also run with (table 1's 100 B acks=1 and 1 KiB acks=all at
 * linger 5, and the sustained run): per-request costs dominate at 16 KiB (docs/performance.md).
 */
const LARGE_BATCH_BYTES = 65_536;
/**
 * Table 4b's fixed-duration runs: issue #13's acks=all target with both batch sizes, and the
 * acks=1 and 1 KiB targets over the same length (table 1's runs last well under a second).
 */
const SUSTAINED_RUNS: readonly { valueBytes: number; acks: Acks; batchBytes: number }[] = [
  { valueBytes: 100, acks: "all", batchBytes: BATCH_BYTES },
  { valueBytes: 100, acks: "all", batchBytes: LARGE_BATCH_BYTES },
  { valueBytes: 100, acks: 1, batchBytes: LARGE_BATCH_BYTES },
  { valueBytes: 1024, acks: "all", batchBytes: LARGE_BATCH_BYTES },
];
const LINGER_MS = 5;
const CHUNK_MESSAGES = 1_000;
const CHUNKS_IN_FLIGHT = 8;
const FETCH_MAX_BYTES = 1024 * 1024;
const LATENCY_VALUE_BYTES = 100;
const ZERO_TIMER_SAMPLES = 200;
/** Table 1's acks and lingers (× VALUE_SIZES): issue #13's produce matrix. */
const PRODUCE_ACKS: readonly Acks[] = [0, 1, "all"];
const PRODUCE_LINGERS_MS = [0, 5];
/** Issue #13's end-to-end conditions: a steady 20,000 msgs/s, acks=all, linger 0. */
const E2E_RATE_PER_SEC = 20_000;
const E2E_WARMUP_MS = 1_000;
const E2E_MAX_WAIT_MS = 500;
/** Group members' long-poll wait, heartbeat and session timeout (the client defaults). */
const GROUP_MAX_WAIT_MS = 500;
const GROUP_HEARTBEAT_MS = 3_000;
const GROUP_SESSION_TIMEOUT_MS = 10_000;
const GROUP_MAX_BYTES_PER_PARTITION = 1024 * 1024;
/** Group sizes whose throughput is compared. */
const GROUP_SIZES = [1, 3];
/** Heartbeat intervals the rebalance is measured with: the client default and a short one. */
const REBALANCE_HEARTBEATS_MS = [3_000, 500];
/** Table 9's value sizes and messages per run: default, quick, full. */
const STORAGE_SIZES: Record<Settings["mode"], StorageSize[]> = {
  default: [{ valueBytes: 100, messages: 100_000 }, { valueBytes: 1024, messages: 50_000 }],
  quick: [{ valueBytes: 100, messages: 20_000 }, { valueBytes: 1024, messages: 10_000 }],
  full: [{ valueBytes: 100, messages: 200_000 }, { valueBytes: 1024, messages: 100_000 }],
};
/** Messages of each value size and acks that warm table 9's fresh cluster up. */
const STORAGE_WARMUP_MESSAGES = 20_000;
/** Any single phase failing to finish in this long fails the run. */
const PHASE_DEADLINE_MS = 120_000;
/** The whole run is abandoned (cluster killed) after this long. */
const WATCHDOG_MS = 1_200_000;

interface Settings {
  mode: "quick" | "default" | "full";
  messages: number;
  producerMessages: number;
  groupMessages: number;
  producerRepeat: number;
  groupRepeat: number;
  rebalanceRepeat: number;
  latencySends: number;
  /** Measured seconds of the fixed-rate end-to-end run (ms). */
  endToEndMs: number;
  /** Length of the sustained acks=all produce run (ms). */
  sustainedMs: number;
  /** Tables 5-8 (per-message producer matrix, groups); left out by --quick. */
  legacyTables: boolean;
  repeat: number;
  brokers: number;
  basePort: number;
  storage: "memory" | "disk";
  /** Table 9; null with --skip-storage. */
  storageTable: {
    basePort: number;
    sizes: StorageSize[];
    repeat: number;
    latencySends: number;
  } | null;
  json: boolean;
}

function parseSettings(args: string[]): Settings | null {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      messages: { type: "string" },
      repeat: { type: "string" },
      "producer-messages": { type: "string" },
      "group-messages": { type: "string" },
      brokers: { type: "string" },
      port: { type: "string" },
      storage: { type: "string" },
      "storage-port": { type: "string" },
      "skip-storage": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  if (values.quick && values.full) throw new UsageError("--quick and --full exclude each other");
  const mode = values.quick ? "quick" : values.full ? "full" : "default";
  const quick = mode === "quick";
  const full = mode === "full";
  const storage = values.storage ?? "memory";
  if (storage !== "memory" && storage !== "disk") {
    throw new UsageError(`Invalid flag '--storage': must be memory or disk, got '${storage}'`);
  }
  const basePort = intFlag("port", values.port, 22_000, 1_024, 65_000);
  const storagePort = intFlag("storage-port", values["storage-port"], 22_500, 1_024, 65_000);
  if (!values["skip-storage"] && Math.abs(storagePort - basePort) <= 30) {
    throw new UsageError(
      `'--storage-port ${storagePort}' overlaps the main cluster's ports ${basePort}..` +
        `${basePort + 30}`,
    );
  }
  return {
    mode,
    messages: intFlag("messages", values.messages, quick ? 30_000 : 200_000, 1_000, 5_000_000),
    producerMessages: intFlag(
      "producer-messages",
      values["producer-messages"],
      quick ? 50_000 : full ? 1_000_000 : 200_000,
      1_000,
      10_000_000,
    ),
    groupMessages: intFlag(
      "group-messages",
      values["group-messages"],
      quick ? 100_000 : full ? 1_000_000 : 500_000,
      1_000,
      5_000_000,
    ),
    producerRepeat: quick ? 1 : 3,
    groupRepeat: quick ? 1 : full ? 5 : 3,
    rebalanceRepeat: quick ? 1 : full ? 10 : 5,
    latencySends: quick ? 300 : 2_000,
    endToEndMs: quick ? 3_000 : 10_000,
    sustainedMs: quick ? 5_000 : 10_000,
    legacyTables: !quick,
    repeat: intFlag("repeat", values.repeat, quick ? 1 : full ? 5 : 3, 1, 10),
    // The cluster's default replication factor (2) needs at least 2 brokers.
    brokers: intFlag("brokers", values.brokers, 5, 2, 10),
    basePort,
    storage,
    storageTable: values["skip-storage"] ? null : {
      basePort: storagePort,
      sizes: STORAGE_SIZES[mode],
      repeat: quick ? 1 : full ? 3 : 2,
      latencySends: quick ? 100 : 300,
    },
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

/**
 * Every measurement on the main cluster, then table 9 (which starts its second
 * cluster and adds it to `extraClusters`, so that an interrupt stops it too).
 */
async function run(
  settings: Settings,
  cluster: TestCluster,
  extraClusters: TestCluster[],
): Promise<BenchReport> {
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
    // Until the followers fetch the new partitions their high watermarks stand still.
    await ackEveryPartition(client, topic, PARTITIONS, PHASE_DEADLINE_MS);
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
      startOffset: 1n,
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
  const configs = [
    ...VALUE_SIZES.flatMap((valueBytes) =>
      PRODUCE_ACKS.flatMap((acks) =>
        PRODUCE_LINGERS_MS.map((lingerMs) => ({
          valueBytes,
          acks,
          lingerMs,
          batchBytes: BATCH_BYTES,
        }))
      )
    ),
    { valueBytes: 100, acks: 1 as Acks, lingerMs: LINGER_MS, batchBytes: LARGE_BATCH_BYTES },
    { valueBytes: 1024, acks: "all" as Acks, lingerMs: LINGER_MS, batchBytes: LARGE_BATCH_BYTES },
  ];
  const produceRuns = configs.map(() => [] as ProduceRunResult[]);
  const consumeRuns = configs.map(() => [] as ConsumeRunResult[]);
  const primeMs: number[] = [];
  for (let repeat = 1; repeat <= settings.repeat; repeat++) {
    for (const [i, config] of configs.entries()) {
      const topic = `bench-${config.valueBytes}b-acks-${config.acks}-linger-${config.lingerMs}-` +
        `batch-${config.batchBytes}-run-${repeat}`;
      await createTopic(topic);
      primeMs.push(await ackEveryPartition(client, topic, PARTITIONS, PHASE_DEADLINE_MS));
      progress(
        `run ${repeat}/${settings.repeat}, ${i + 1}/${configs.length}: produce ` +
          `${settings.messages} × ${config.valueBytes} B with acks=${config.acks} linger ` +
          `${config.lingerMs} ms batchBytes ${config.batchBytes}, then read them back`,
      );
      produceRuns[i].push(
        await produceThroughput(client, {
          topic,
          messages: settings.messages,
          valueBytes: config.valueBytes,
          acks: config.acks,
          batchBytes: config.batchBytes,
          lingerMs: config.lingerMs,
          chunkMessages: CHUNK_MESSAGES,
          chunksInFlight: CHUNKS_IN_FLIGHT,
          deadlineMs: PHASE_DEADLINE_MS,
        }),
      );
      consumeRuns[i].push(
        await consumeThroughput(reader, {
          topic,
          partitions: PARTITIONS,
          startOffset: 1n, // past the priming message
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
    batchBytes: config.batchBytes,
    lingerMs: config.lingerMs,
    partitions: PARTITIONS,
    chunkMessages: CHUNK_MESSAGES,
    chunksInFlight: CHUNKS_IN_FLIGHT,
    result: medianRun(produceRuns[i]),
  }));
  const consume: ConsumeRow[] = configs.map((config, i) => ({
    valueBytes: config.valueBytes,
    producedWithAcks: config.acks,
    producedWithLingerMs: config.lingerMs,
    producedWithBatchBytes: config.batchBytes,
    partitions: PARTITIONS,
    maxBytes: FETCH_MAX_BYTES,
    result: medianRun(consumeRuns[i]),
  }));

  progress(`produce latency: ${settings.latencySends} sequential sends, acks=1 and acks=all`);
  await createTopic("bench-latency");
  await ackEveryPartition(client, "bench-latency", PARTITIONS, PHASE_DEADLINE_MS);
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
    acksAll: await produceLatency(client, { ...latencyOptions, acks: "all" }),
    raw: await rawProduceLatency(client, latencyOptions),
    zeroTimer: await zeroTimerDelay(ZERO_TIMER_SAMPLES),
  };

  progress(
    `end-to-end latency: ${E2E_RATE_PER_SEC} msgs/s for ${E2E_WARMUP_MS} ms (warm-up) + ` +
      `${settings.endToEndMs} ms, acks=all, linger 0`,
  );
  await createTopic("bench-e2e");
  await ackEveryPartition(client, "bench-e2e", PARTITIONS, PHASE_DEADLINE_MS);
  const e2eConditions = {
    ratePerSec: E2E_RATE_PER_SEC,
    durationMs: settings.endToEndMs,
    warmupMs: E2E_WARMUP_MS,
    valueBytes: LATENCY_VALUE_BYTES,
    acks: "all" as const,
    lingerMs: 0,
    maxWaitMs: E2E_MAX_WAIT_MS,
    partitions: PARTITIONS,
  };
  const endToEnd: FixedRateRow = {
    ...e2eConditions,
    result: await fixedRateEndToEnd(cluster.client(), cluster.client(), {
      ...e2eConditions,
      topic: "bench-e2e",
      deadlineMs: PHASE_DEADLINE_MS,
    }),
  };
  await client.admin.deleteTopic("bench-e2e");

  const sustained: SustainedRow[] = [];
  for (const { valueBytes, acks, batchBytes } of SUSTAINED_RUNS) {
    progress(
      `sustained produce: ${valueBytes} B, acks=${acks}, batchBytes ${batchBytes}, for ` +
        `${settings.sustainedMs} ms`,
    );
    const topic = `bench-sustained-${valueBytes}b-acks-${acks}-batch-${batchBytes}`;
    await createTopic(topic);
    await ackEveryPartition(client, topic, PARTITIONS, PHASE_DEADLINE_MS);
    const sustainedConditions = {
      valueBytes,
      acks,
      batchBytes,
      lingerMs: LINGER_MS,
      partitions: PARTITIONS,
      chunkMessages: CHUNK_MESSAGES,
      chunksInFlight: CHUNKS_IN_FLIGHT,
      durationMs: settings.sustainedMs,
    };
    sustained.push({
      ...sustainedConditions,
      result: await produceThroughput(client, {
        ...sustainedConditions,
        topic,
        messages: 100_000_000,
        deadlineMs: settings.sustainedMs + PHASE_DEADLINE_MS,
      }),
    });
    // Memory storage keeps everything: free it before the next run.
    await client.admin.deleteTopic(topic);
  }

  const producerMatrix: ProducerMatrix | null = settings.legacyTables
    ? await runProducerMatrix(client, {
      messages: settings.producerMessages,
      window: MATRIX_WINDOW,
      repeat: settings.producerRepeat,
      progress,
    })
    : null;
  const groups = settings.legacyTables ? await runGroups(client, settings) : null;
  const storage = settings.storageTable === null
    ? null
    : await runStorageTable(client, settings, extraClusters);

  return {
    date: new Date().toISOString(),
    mode: settings.mode,
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
      storage: settings.storage,
      startupMs: cluster.startupMs,
      partitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
    },
    warmupMessages,
    primeMs,
    produce,
    latency,
    consume,
    endToEnd,
    sustained,
    producerMatrix,
    groups,
    storage,
    totalMs: 0,
  };
}

/**
 * Table 9 (issue #7): starts a second cluster with the storage the main
 * cluster does not use, warms it up, runs the rows of both storages
 * interleaved (the idle cluster waits meanwhile), and stops the second
 * cluster, which removes its temporary directory.
 */
async function runStorageTable(
  mainClient: Client,
  settings: Settings,
  extraClusters: TestCluster[],
): Promise<StorageSection> {
  const table = settings.storageTable;
  if (table === null) throw new Error("table 9 is not configured");
  const extraStorage = settings.storage === "memory" ? "disk" : "memory";
  progress(
    `storage: starting a ${settings.brokers}-broker ${extraStorage}-storage cluster on ports ` +
      `${table.basePort}..`,
  );
  const extra = await startCluster(table.basePort, {
    brokers: settings.brokers,
    storage: extraStorage,
  });
  extraClusters.push(extra);
  try {
    progress(`storage: ${extraStorage} cluster ready in ${extra.startupMs} ms (${extra.dir})`);
    const extraClient = extra.client();
    const common: Omit<StorageTableOptions, "clients"> = {
      sizes: table.sizes,
      repeat: table.repeat,
      latencySends: table.latencySends,
      partitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
      batchBytes: BATCH_BYTES,
      lingerMs: LINGER_MS,
      chunkMessages: CHUNK_MESSAGES,
      chunksInFlight: CHUNKS_IN_FLIGHT,
      deadlineMs: PHASE_DEADLINE_MS,
      progress,
    };
    const warmupMessages = Math.min(
      STORAGE_WARMUP_MESSAGES,
      ...table.sizes.map((s) => s.messages),
    );
    progress(`storage: warm-up of the ${extraStorage} cluster, ${warmupMessages} messages each`);
    await warmUpStorage(extraClient, { ...common, messages: warmupMessages });
    const rows = await measureStorageRows({
      ...common,
      clients: extraStorage === "disk"
        ? { memory: mainClient, disk: extraClient }
        : { memory: extraClient, disk: mainClient },
    });
    return {
      sizes: table.sizes,
      repeat: table.repeat,
      latencySends: table.latencySends,
      partitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
      batchBytes: BATCH_BYTES,
      lingerMs: LINGER_MS,
      chunkMessages: CHUNK_MESSAGES,
      chunksInFlight: CHUNKS_IN_FLIGHT,
      extraCluster: { storage: extraStorage, basePort: table.basePort, startupMs: extra.startupMs },
      warmupMessages,
      rows,
    };
  } finally {
    progress(`storage: stopping the ${extraStorage} cluster`);
    extraClusters.splice(extraClusters.indexOf(extra), 1);
    await extra.stop();
  }
}

/**
 * The delay between the leaving member's last poll and its `close()` in
 * rebalance run `run` of `runs`: stratified over the heartbeat interval
 * ((run − ½)/runs of it), plus a golden-ratio step over the poll cycle
 * (maxWaitMs), so the runs sample both phases evenly even when the heartbeat
 * interval is a multiple of the poll cycle.
 */
export function closeDelayMs(
  run: number,
  runs: number,
  heartbeatIntervalMs: number,
  maxWaitMs: number,
): number {
  const golden = (run * 0.6180339887) % 1;
  return Math.round(heartbeatIntervalMs * (run - 0.5) / runs + maxWaitMs * golden);
}

/**
 * Issue #5: fills one topic, reads it with fresh groups of each size in
 * {@linkcode GROUP_SIZES} (repeats interleaved), then measures the rebalance
 * after one of 3 members leaves, with each heartbeat interval in
 * {@linkcode REBALANCE_HEARTBEATS_MS}.
 */
async function runGroups(client: Client, settings: Settings): Promise<GroupSection> {
  const topic = "bench-groups";
  await client.admin.createTopic({
    name: topic,
    partitions: PARTITIONS,
    replicationFactor: REPLICATION_FACTOR,
  });
  progress(`groups: filling ${topic} with ${settings.groupMessages} × ${MATRIX_VALUE_BYTES} B`);
  const prefill = await produceThroughput(client, {
    topic,
    messages: settings.groupMessages,
    valueBytes: MATRIX_VALUE_BYTES,
    acks: 1,
    batchBytes: BATCH_BYTES,
    lingerMs: LINGER_MS,
    chunkMessages: CHUNK_MESSAGES,
    chunksInFlight: CHUNKS_IN_FLIGHT,
    deadlineMs: PHASE_DEADLINE_MS,
  });
  const messagesPerPartition = Array.from(
    { length: PARTITIONS },
    (_, p) => prefill.perPartition[p] ?? 0,
  );
  // close() can take up to a heartbeat interval; those waits overlap the next run.
  const pendingCloses: Promise<void>[] = [];
  const member = {
    maxWaitMs: GROUP_MAX_WAIT_MS,
    heartbeatIntervalMs: GROUP_HEARTBEAT_MS,
    sessionTimeoutMs: GROUP_SESSION_TIMEOUT_MS,
  };
  const runs = GROUP_SIZES.map(() => [] as GroupConsumeResult[]);
  for (let repeat = 1; repeat <= settings.groupRepeat; repeat++) {
    for (const [i, members] of GROUP_SIZES.entries()) {
      progress(
        `groups: run ${repeat}/${settings.groupRepeat}: ${members} member(s) read ` +
          `${settings.groupMessages} messages`,
      );
      runs[i].push(
        await groupConsumeThroughput(client, {
          ...member,
          topic,
          messagesPerPartition,
          groupId: `bench-group-${members}-run-${repeat}`,
          members,
          deadlineMs: PHASE_DEADLINE_MS,
          pendingCloses,
        }),
      );
    }
  }
  const rebalanceRuns = REBALANCE_HEARTBEATS_MS.map(() => [] as RebalanceResult[]);
  for (let repeat = 1; repeat <= settings.rebalanceRepeat; repeat++) {
    for (const [i, heartbeatIntervalMs] of REBALANCE_HEARTBEATS_MS.entries()) {
      progress(
        `groups: run ${repeat}/${settings.rebalanceRepeat}: rebalance after close(), heartbeat ` +
          `${heartbeatIntervalMs} ms`,
      );
      rebalanceRuns[i].push(
        await rebalanceAfterLeave(client, {
          ...member,
          heartbeatIntervalMs,
          closeDelayMs: closeDelayMs(
            repeat,
            settings.rebalanceRepeat,
            heartbeatIntervalMs,
            GROUP_MAX_WAIT_MS,
          ),
          topic,
          partitions: PARTITIONS,
          groupId: `bench-rebalance-hb-${heartbeatIntervalMs}-run-${repeat}`,
          deadlineMs: PHASE_DEADLINE_MS,
          pendingCloses,
        }),
      );
    }
  }
  await Promise.all(pendingCloses);
  await client.admin.deleteTopic(topic);
  return {
    messages: settings.groupMessages,
    valueBytes: MATRIX_VALUE_BYTES,
    partitions: PARTITIONS,
    prefill,
    ...member,
    maxBytesPerPartition: GROUP_MAX_BYTES_PER_PARTITION,
    throughput: GROUP_SIZES.map((members, i) => ({ members, result: medianRun(runs[i]) })),
    rebalance: REBALANCE_HEARTBEATS_MS.map((heartbeatIntervalMs, i) => ({
      heartbeatIntervalMs,
      sessionTimeoutMs: GROUP_SESSION_TIMEOUT_MS,
      maxWaitMs: GROUP_MAX_WAIT_MS,
      runs: rebalanceRuns[i],
    })),
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
  progress(
    `starting a ${settings.brokers}-broker ${settings.storage}-storage cluster on ports ` +
      `${settings.basePort}..`,
  );
  let cluster: TestCluster;
  try {
    cluster = await startCluster(settings.basePort, {
      brokers: settings.brokers,
      storage: settings.storage,
    });
  } catch (err) {
    console.error(`bench failed: cannot start the cluster: ${messageOf(err)}`);
    return 1;
  }
  progress(`cluster ready in ${cluster.startupMs} ms (${cluster.dir})`);
  // Table 9's second cluster, while it runs.
  const extraClusters: TestCluster[] = [];
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= cluster.stop());
  const onSignal = () => {
    progress("interrupted: stopping the cluster(s)");
    Promise.allSettled([stop(), ...extraClusters.map((c) => c.stop())])
      .finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const watchdog = setTimeout(() => {
    progress(`still running after ${WATCHDOG_MS} ms: killing the cluster(s)`);
    Promise.allSettled([cluster.kill(), ...extraClusters.map((c) => c.kill())])
      .finally(() => Deno.exit(1));
  }, WATCHDOG_MS);
  try {
    const report = await run(settings, cluster, extraClusters);
    report.totalMs = performance.now() - startMs;
    console.log(settings.json ? reportJsonLines(report) : renderReport(report));
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
