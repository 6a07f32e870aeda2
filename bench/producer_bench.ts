/**
 * The producer benchmark: starts a real cluster (coordinator, 5 brokers, 2
 * gateways as separate processes, in a temporary directory, on ports from
 * 22100), creates a 10-partition topic with replication factor 2 per run,
 * and sends `--messages` keyless messages of 100 bytes through one producer
 * for every combination of acks 0 / 1 / all and linger 0 / 5 / 100 ms. It
 * reports messages/s, MB/s (10^6 value bytes per second) and the p50, p99
 * and p999 send latency — from the `send` call of a message to its
 * acknowledgement (for acks=0: to the moment its request was written) —
 * and always stops the cluster.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=. --allow-write=/tmp \
 *   --allow-run=$(deno eval --quiet 'console.log(Deno.execPath())') bench/producer_bench.ts
 * deno run ... bench/producer_bench.ts --quick            # 50,000 messages per run
 * deno run ... bench/producer_bench.ts --messages 200000 --json > producer.jsonl
 * ```
 *
 * Each message is its own `send` call, as in Kafka's producer-perf-test; at
 * most `--window` messages await their acknowledgement at once (beyond that
 * the benchmark waits), so latency measures the pipeline, not an unbounded
 * queue. acks=all runs use idempotence when the cluster serves it (the
 * `idempotent` field says). With `--json` each run is one JSON object per
 * line on stdout; progress goes to stderr.
 * @module
 */
import { parseArgs } from "node:util";
import type { Acks, Client } from "@kafka-analog/clients";
import { startCluster } from "../test/_cluster.ts";
import { percentile } from "./_stats.ts";

const USAGE = `Usage: bench/producer_bench.ts [--quick] [--messages N] [--window N] [--port N]
                              [--brokers N] [--json]

  --quick        50,000 messages per run (about 1 minute in all)
  --messages N   messages per run (default 1,000,000; 1,000..10,000,000)
  --window N     messages awaiting acknowledgement at most (default 10,000)
  --brokers N    brokers in the cluster (default 5; 2..10)
  --port N       base port (default 22100; the cluster uses base..base+30)
  --json         one JSON object per run and line on stdout
`;

const PARTITIONS = 10;
const REPLICATION_FACTOR = 2;
const VALUE_BYTES = 100;
const ACKS: Acks[] = [0, 1, "all"];
const LINGERS_MS = [0, 5, 100];
/** One run failing to finish in this long fails the benchmark. */
const RUN_DEADLINE_MS = 600_000;

/** Settings from the command line. */
export interface ProducerBenchSettings {
  messages: number;
  window: number;
  brokers: number;
  basePort: number;
  json: boolean;
}

/** One run's result: the JSON line. */
export interface ProducerBenchRow {
  acks: string;
  lingerMs: number;
  messages: number;
  valueBytes: number;
  partitions: number;
  replicationFactor: number;
  idempotent: boolean | null;
  elapsedMs: number;
  messagesPerSec: number;
  megabytesPerSec: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsP999: number;
  latencyMsMax: number;
}

/** Parses the command line (see USAGE); bad values throw an Error naming the flag. */
export function parseProducerBenchArgs(args: string[]): ProducerBenchSettings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      messages: { type: "string" },
      window: { type: "string" },
      brokers: { type: "string" },
      port: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error("--help was given");
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
  return {
    messages: int(
      values.messages,
      values.quick ? 50_000 : 1_000_000,
      1_000,
      10_000_000,
      "messages",
    ),
    window: int(values.window, 10_000, 1, 1_000_000, "window"),
    brokers: int(values.brokers, 5, 2, 10, "brokers"),
    basePort: int(values.port, 22_100, 1024, 65_000, "port"),
    json: values.json,
  };
}

/** Sends `messages` messages one `send` each, at most `window` unacknowledged. */
async function runOnce(
  client: Client,
  topic: string,
  acks: Acks,
  lingerMs: number,
  settings: ProducerBenchSettings,
): Promise<ProducerBenchRow> {
  const producer = client.producer({ acks, lingerMs });
  const value = new Uint8Array(VALUE_BYTES).fill(0x61);
  const message = [{ value }];
  const latencies = new Float64Array(settings.messages);
  let acknowledged = 0;
  let outstanding = 0;
  let failure: unknown = null;
  let wakeSender: (() => void) | null = null;
  const startMs = performance.now();
  for (let i = 0; i < settings.messages && failure === null; i++) {
    if (performance.now() - startMs > RUN_DEADLINE_MS) {
      throw new Error(`${topic}: not done after ${RUN_DEADLINE_MS} ms`);
    }
    while (outstanding >= settings.window && failure === null) {
      await new Promise<void>((resolve) => (wakeSender = resolve));
    }
    const sentAt = performance.now();
    outstanding++;
    producer.send(topic, message).then(
      () => {
        latencies[i] = performance.now() - sentAt;
        acknowledged++;
      },
      (err) => void (failure ??= err),
    ).finally(() => {
      outstanding--;
      const wake = wakeSender;
      wakeSender = null;
      wake?.();
    });
  }
  await producer.flush();
  while (outstanding > 0) await new Promise<void>((resolve) => (wakeSender = resolve));
  const elapsedMs = performance.now() - startMs;
  const idempotent = producer.idempotent;
  await producer.close();
  if (failure !== null) throw failure;
  if (acknowledged !== settings.messages) {
    throw new Error(`${topic}: ${acknowledged} of ${settings.messages} sends resolved`);
  }
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    acks: String(acks),
    lingerMs,
    messages: settings.messages,
    valueBytes: VALUE_BYTES,
    partitions: PARTITIONS,
    replicationFactor: REPLICATION_FACTOR,
    idempotent,
    elapsedMs: Math.round(elapsedMs),
    messagesPerSec: Math.round(settings.messages / (elapsedMs / 1000)),
    megabytesPerSec: round(settings.messages * VALUE_BYTES / 1e6 / (elapsedMs / 1000)),
    latencyMsP50: round(percentile(sorted, 50)),
    latencyMsP99: round(percentile(sorted, 99)),
    latencyMsP999: round(percentile(sorted, 99.9)),
    latencyMsMax: round(sorted[sorted.length - 1]),
  };
}

function renderRow(r: ProducerBenchRow): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  return [
    pad(r.acks, 4),
    pad(r.lingerMs, 6),
    pad(r.messages.toLocaleString("en-US"), 10),
    pad(r.messagesPerSec.toLocaleString("en-US"), 10),
    pad(r.megabytesPerSec.toFixed(2), 7),
    pad(r.latencyMsP50.toFixed(2), 8),
    pad(r.latencyMsP99.toFixed(2), 8),
    pad(r.latencyMsP999.toFixed(2), 8),
    pad(String(r.idempotent), 10),
  ].join("  ");
}

const HEADER = [
  "acks".padStart(4),
  "linger".padStart(6),
  "messages".padStart(10),
  "msg/s".padStart(10),
  "MB/s".padStart(7),
  "p50 ms".padStart(8),
  "p99 ms".padStart(8),
  "p999 ms".padStart(8),
  "idempotent".padStart(10),
].join("  ");

/** Runs every acks × linger combination on one cluster; returns the rows. */
export async function runProducerBench(
  settings: ProducerBenchSettings,
): Promise<ProducerBenchRow[]> {
  console.error(
    `starting a ${settings.brokers}-broker cluster on ports from ${settings.basePort}...`,
  );
  const cluster = await startCluster(settings.basePort, { brokers: settings.brokers });
  const rows: ProducerBenchRow[] = [];
  try {
    const client = cluster.client();
    if (!settings.json) console.log(HEADER);
    for (const acks of ACKS) {
      for (const lingerMs of LINGERS_MS) {
        const topic = `bench-acks${acks}-linger${lingerMs}`;
        await client.admin.createTopic({
          name: topic,
          partitions: PARTITIONS,
          replicationFactor: REPLICATION_FACTOR,
        });
        console.error(`${topic}: sending ${settings.messages.toLocaleString("en-US")} messages...`);
        const row = await runOnce(client, topic, acks, lingerMs, settings);
        rows.push(row);
        console.log(settings.json ? JSON.stringify(row) : renderRow(row));
        await client.admin.deleteTopic(topic); // frees the brokers' memory for the next run
      }
    }
  } finally {
    await cluster.stop();
  }
  return rows;
}

if (import.meta.main) {
  if (Deno.args.includes("--help")) {
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
