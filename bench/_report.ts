/**
 * The benchmark's report: one value holding every figure with its
 * conditions, printed either as plain cli-table3 tables (no colours) or as
 * JSON lines (one object per table row, each naming its table).
 * @module
 */
import Table from "cli-table3";
import type { Acks } from "@kafka-analog/clients";
import type {
  ConsumeRunResult,
  FixedRateResult,
  ProduceRunResult,
  SendLatencyRunResult,
} from "./_scenarios.ts";
import type { GroupConsumeResult, RebalanceResult } from "./_groups.ts";
import { memoryRowFor, type StorageSection } from "./_storage.ts";
import {
  formatCount,
  formatMs,
  type LatencySummary,
  percentile,
  type RepeatedThroughput,
} from "./_stats.ts";

/** Where and on what the benchmark ran. */
export interface MachineInfo {
  cores: number;
  deno: string;
  v8: string;
  typescript: string;
  os: string;
  arch: string;
}

/** The cluster the benchmark ran against. */
export interface ClusterInfo {
  brokers: number;
  storage: "memory" | "disk";
  startupMs: number;
  partitions: number;
  replicationFactor: number;
}

/** One producer-throughput row. */
export interface ProduceRow {
  valueBytes: number;
  acks: Acks;
  batchBytes: number;
  lingerMs: number;
  partitions: number;
  chunkMessages: number;
  chunksInFlight: number;
  result: RepeatedThroughput<ProduceRunResult>;
}

/** The sequential produce-latency figure. */
export interface LatencyRow {
  sends: number;
  valueBytes: number;
  acks: Acks;
  lingerMs: number;
  result: LatencySummary;
  /** The same with acks=all (idempotent, the default for acks=all). */
  acksAll: LatencySummary;
  /** Bare Produce requests on one connection to partition 0's leader, batch pre-encoded. */
  raw: LatencySummary;
  /** Delay of a sequential `setTimeout(fn, 0)` in the bench process. */
  zeroTimer: LatencySummary;
}

/** One consumer-throughput row. */
export interface ConsumeRow {
  valueBytes: number;
  producedWithAcks: Acks;
  producedWithLingerMs: number;
  producedWithBatchBytes: number;
  partitions: number;
  maxBytes: number;
  result: RepeatedThroughput<ConsumeRunResult>;
}

/** End-to-end latency at a fixed rate (issue #13). */
export interface FixedRateRow {
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  valueBytes: number;
  acks: Acks;
  lingerMs: number;
  maxWaitMs: number;
  partitions: number;
  result: FixedRateResult;
}

/** The sustained (fixed-duration) acks=all produce run (issue #13). */
export interface SustainedRow {
  valueBytes: number;
  acks: Acks;
  batchBytes: number;
  lingerMs: number;
  partitions: number;
  chunkMessages: number;
  chunksInFlight: number;
  durationMs: number;
  result: ProduceRunResult;
}

/** One configuration of the producer matrix (issue #3). */
export interface MatrixRow {
  acks: Acks;
  lingerMs: number;
  /** "default": on for acks=all, off otherwise; "off": turned off explicitly. */
  idempotence: "default" | "off";
  /** Untimed, per run: the first acks=all message to each partition of the fresh topic. */
  primeMs: number[];
  /** Untimed, per run: an acks=all message to each partition after the last acknowledgement. */
  drainMs: number[];
  /** The runs; the median one by msgs/s. */
  throughput: RepeatedThroughput<SendLatencyRunResult>;
  /** Send → ack of every message of every run (pooled). */
  latency: LatencySummary;
}

/** The producer matrix: per-message sends, acks × linger (issue #3). */
export interface ProducerMatrix {
  messages: number;
  valueBytes: number;
  partitions: number;
  replicationFactor: number;
  /** Messages awaiting their acknowledgement at most. */
  window: number;
  /** Runs of each configuration. */
  repeat: number;
  rows: MatrixRow[];
}

/** One group size of the group-consumer throughput (issue #5). */
export interface GroupRow {
  members: number;
  result: RepeatedThroughput<GroupConsumeResult>;
}

/** Group-consumer throughput and rebalance time (issue #5). */
export interface GroupSection {
  messages: number;
  valueBytes: number;
  partitions: number;
  /** How the topic was filled (chunked sends, acks=1). */
  prefill: ProduceRunResult;
  maxWaitMs: number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  maxBytesPerPartition: number;
  throughput: GroupRow[];
  rebalance: RebalanceRow[];
}

/** Repeated rebalance measurements with one heartbeat interval. */
export interface RebalanceRow {
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  maxWaitMs: number;
  runs: RebalanceResult[];
}

/** Everything one run measured. */
export interface BenchReport {
  date: string;
  mode: "quick" | "default" | "full";
  /** Runs of each throughput configuration; tables show the median run. */
  repeat: number;
  machine: MachineInfo;
  cluster: ClusterInfo;
  /** Messages of each value size produced and read back, untimed, first. */
  warmupMessages: number;
  /** Priming time of each table-1 topic (see `ackEveryPartition`). */
  primeMs: number[];
  produce: ProduceRow[];
  latency: LatencyRow;
  consume: ConsumeRow[];
  endToEnd: FixedRateRow;
  /** One per batch size. */
  sustained: SustainedRow[];
  /** Tables 5-6; null when left out (--quick). */
  producerMatrix: ProducerMatrix | null;
  /** Tables 7-8; null when left out (--quick). */
  groups: GroupSection | null;
  /** Table 9: disk vs memory storage (issue #7); null when skipped. */
  storage: StorageSection | null;
  totalMs: number;
}

/** The report as plain text tables with their conditions and caveats. */
export function renderReport(report: BenchReport): string {
  const { machine, cluster } = report;
  const first = report.produce[0];
  const lines: string[] = [];
  lines.push(
    `kafka-analog benchmark (${report.mode}), ${report.date}`,
    `machine: ${machine.cores} cores (navigator.hardwareConcurrency), ${machine.os}/${machine.arch}, ` +
      `deno ${machine.deno} (v8 ${machine.v8}, typescript ${machine.typescript})`,
    `cluster: coordinator + ${cluster.brokers} brokers + 2 gateways, separate processes on ` +
      `127.0.0.1, storage = ${storageLabel(cluster.storage)}; start-up ${cluster.startupMs} ms ` +
      `(coordinator-measured, all services ready)`,
    `topics: ${cluster.partitions} partitions, replication factor ${cluster.replicationFactor}, ` +
      `one topic per run; client, brokers and coordinator share the same ${machine.cores} cores`,
  );
  lines.push(
    `warm-up: ${formatCount(report.warmupMessages)} messages of each value size produced and ` +
      "read back first (not reported)",
    `throughput: each configuration ran ${report.repeat} time(s), interleaved; each run ` +
      "produces to a fresh topic, reads it back (table 3) and deletes it; the tables show the " +
      "median run and the min–max msgs/s of all runs",
    `priming: each table-1 topic got one acks=all message per partition before its run (untimed, ` +
      `read back from offset 1): ${primeLabel(report.primeMs)}`,
    "",
    "1. Producer throughput (one producer, keyless = round-robin over partitions)",
  );
  lines.push(table(
    [
      "value",
      "acks",
      "messages",
      "batchBytes",
      "linger ms",
      "partitions",
      "msgs/s",
      "MB/s",
      "elapsed s",
      "msgs/s range",
    ],
    report.produce.map((r) => [
      bytesLabel(r.valueBytes),
      String(r.acks),
      formatCount(r.result.median.messages),
      String(r.batchBytes),
      String(r.lingerMs),
      String(r.partitions),
      formatCount(r.result.median.messagesPerSec),
      megabytesPerSec(r.result.median).toFixed(1),
      (r.result.median.elapsedMs / 1000).toFixed(2),
      rangeLabel(r.result),
    ]),
  ));
  if (first) {
    lines.push(
      `   Sent as send() calls of ${formatCount(first.chunkMessages)} messages with at most ` +
        `${first.chunksInFlight} calls unanswered; timed from the first send() to the last ` +
        "acknowledgement (after flush()); acks=0: until the last request was written.",
      "   MB/s = 10^6 value bytes/s (no keys, headers or record/batch overhead).",
    );
  }
  const l = report.latency;
  lines.push(
    "",
    `2. Produce latency (${formatCount(l.sends)} sequential single-message sends, ` +
      `${bytesLabel(l.valueBytes)} value, acks=${l.acks} unless stated, lingerMs ${l.lingerMs}, ` +
      "keyless)",
  );
  lines.push(latencyTable([
    ["Producer.send() → ack", l.result],
    ["Producer.send() → ack, acks=all (idempotent)", l.acksAll],
    ["reference: bare Produce request → response", l.raw],
    ["reference: setTimeout(fn, 0) delay", l.zeroTimer],
  ]));
  lines.push(
    "   The bare request goes on one KafkaConnection to partition 0's leader with the batch " +
      "encoded beforehand. The",
    "   last row is what a producer that waited for a zero timer before sending would add to " +
      "every send.",
  );
  lines.push(
    "",
    "3. Consumer throughput (each topic of table 1 read back right after it was produced, " +
      "partition after partition, from offset 1 (past the priming message), fetch maxWaitMs 0, " +
      "one reader)",
  );
  lines.push(table(
    [
      "value",
      "produced with",
      "partitions",
      "maxBytes",
      "messages",
      "fetches",
      "msgs/s",
      "MB/s",
      "msgs/s range",
    ],
    report.consume.map((r) => [
      bytesLabel(r.valueBytes),
      `acks=${r.producedWithAcks}, linger ${r.producedWithLingerMs}` +
      (r.producedWithBatchBytes === 16_384
        ? ""
        : `, batch ${bytesLabel(r.producedWithBatchBytes)}`),
      String(r.partitions),
      bytesLabel(r.maxBytes),
      formatCount(r.result.median.messages),
      formatCount(r.result.median.fetches),
      formatCount(r.result.median.messagesPerSec),
      megabytesPerSec(r.result.median).toFixed(1),
      rangeLabel(r.result),
    ]),
  ));
  lines.push("   The reader decodes every record and verifies each batch's CRC-32C.");
  const e = report.endToEnd;
  lines.push(
    "",
    `4. End-to-end latency at a fixed rate: ${formatCount(e.ratePerSec)} msgs/s for ` +
      `${(e.durationMs / 1000).toFixed(0)} s (after ${(e.warmupMs / 1000).toFixed(0)} s not ` +
      `counted), ${bytesLabel(e.valueBytes)} keyless values over ${e.partitions} partitions, ` +
      `acks=${e.acks}, lingerMs ${e.lingerMs}`,
  );
  lines.push(latencyTable([
    ["scheduled send → delivered to the reader", e.result.latency],
    ["scheduled send → producer ack (acks=all)", e.result.ackLatency],
  ]));
  lines.push(
    `   Sent: ${formatCount(e.result.achievedPerSec)} msgs/s achieved, each message its own ` +
      `send() on an absolute schedule (${formatCount(e.result.lateSends)} sends > 5 ms late); ` +
      "latency counts from the",
    "   scheduled time (no coordinated omission). The reader (another client) long-polls every " +
      `partition, one Fetch per leader, maxWaitMs ${e.maxWaitMs}; it sees only what the`,
    "   follower has too (high watermark), so this includes replication. p999 is the " +
      "nearest-rank 99.9th percentile of all samples.",
  );
  const su0 = report.sustained[0];
  if (su0) {
    lines.push(
      "",
      `4b. Sustained produce: each row for ${(su0.durationMs / 1000).toFixed(0)} s into a fresh ` +
        `topic (linger ${su0.lingerMs} ms, send() calls of ${
          formatCount(su0.chunkMessages)
        } with ` +
        `${su0.chunksInFlight} in flight)`,
      table(
        [
          "value",
          "acks",
          "batchBytes",
          "messages",
          "elapsed s",
          "msgs/s",
          "MB/s",
          "slowest second",
          "fastest second",
        ],
        report.sustained.map((su) => [
          bytesLabel(su.valueBytes),
          String(su.acks),
          String(su.batchBytes),
          formatCount(su.result.messages),
          (su.result.elapsedMs / 1000).toFixed(2),
          formatCount(su.result.messagesPerSec),
          megabytesPerSec(su.result).toFixed(1),
          su.result.perSecond.length > 0 ? formatCount(Math.min(...su.result.perSecond)) : "",
          su.result.perSecond.length > 0 ? formatCount(Math.max(...su.result.perSecond)) : "",
        ]),
      ),
      "   One run per row; slowest/fastest second: messages acknowledged in each whole second.",
    );
  }
  if (report.producerMatrix !== null) {
    lines.push("", ...renderProducerMatrix(report.producerMatrix));
    lines.push("", ...renderReplicationCost(report.producerMatrix, 6, l));
  } else {
    lines.push("", "5-6. Per-message producer matrix: left out (--quick)");
  }
  if (report.groups !== null) lines.push("", ...renderGroups(report.groups));
  else lines.push("", "7-8. Consumer groups and rebalance: left out (--quick)");
  if (report.storage) lines.push("", ...renderStorage(report.storage, cluster));
  lines.push("", ...renderTargets(targetRows(report)));
  lines.push("", `total benchmark time: ${(report.totalMs / 1000).toFixed(1)} s`);
  return lines.join("\n");
}

/** One line of the targets summary: an issue #13 target against its measurement. */
export interface TargetRow {
  /** What is measured. */
  target: string;
  /** The goal, as text ("≥ 500,000 msgs/s"). */
  goal: string;
  /** The measured figure, as text. */
  measured: string;
  /** The measured number, in the goal's unit. */
  value: number;
  met: boolean;
  /** The scenario (JSON `scenario`) the figure comes from. */
  scenario: string;
}

/** Issue #13's targets against this report's figures. */
export function targetRows(report: BenchReport): TargetRow[] {
  const rows: TargetRow[] = [];
  const at = (
    target: string,
    goal: string,
    value: number,
    unit: string,
    ok: boolean,
    scenario: string,
  ) =>
    rows.push({
      target,
      goal,
      measured: `${unit === "ms" ? formatMs(value) : formatCount(value)} ${unit}`,
      value,
      met: ok,
      scenario,
    });
  const sustainedAll = report.sustained.filter((r) => r.acks === "all" && r.valueBytes === 100);
  if (sustainedAll.length > 0) {
    const su = sustainedAll.reduce((a, b) =>
      b.result.messagesPerSec > a.result.messagesPerSec ? b : a
    );
    at(
      `produce acks=all, sustained ${(su.durationMs / 1000).toFixed(0)} s (best batchBytes: ` +
        `${su.batchBytes})`,
      "≥ 500,000 msgs/s for 10 s",
      su.result.messagesPerSec,
      "msgs/s",
      su.result.messagesPerSec >= 500_000 && su.durationMs >= 10_000,
      sustainedScenario(su),
    );
  }
  // Table 1's rows (median run) and table 4b's sustained rows compete; the best one is shown.
  const candidates = (valueBytes: number, acks: Acks) =>
    [
      ...report.produce.filter((r) => r.acks === acks && r.valueBytes === valueBytes).map((r) => ({
        what: `table 1, linger ${r.lingerMs} ms, batchBytes ${r.batchBytes}`,
        messagesPerSec: r.result.median.messagesPerSec,
        megabytesPerSec: megabytesPerSec(r.result.median),
        scenario: produceScenario(r),
      })),
      ...report.sustained.filter((r) => r.acks === acks && r.valueBytes === valueBytes).map((
        r,
      ) => ({
        what: `sustained ${(r.durationMs / 1000).toFixed(0)} s, batchBytes ${r.batchBytes}`,
        messagesPerSec: r.result.messagesPerSec,
        megabytesPerSec: megabytesPerSec(r.result),
        scenario: sustainedScenario(r),
      })),
    ].sort((a, b) => b.messagesPerSec - a.messagesPerSec);
  const acks1 = candidates(100, 1)[0];
  if (acks1) {
    at(
      `produce acks=1, 100 B (best: ${acks1.what})`,
      "≥ 1,000,000 msgs/s",
      acks1.messagesPerSec,
      "msgs/s",
      acks1.messagesPerSec >= 1_000_000,
      acks1.scenario,
    );
  }
  const consume100 = report.consume.filter((r) => r.valueBytes === 100);
  if (consume100.length > 0) {
    const sorted = [...consume100].sort((a, b) =>
      a.result.median.messagesPerSec - b.result.median.messagesPerSec
    );
    const r = sorted[Math.floor((sorted.length - 1) / 2)];
    at(
      `consume, 100 B (median of the ${sorted.length} table-3 rows)`,
      "≥ 1,500,000 msgs/s",
      r.result.median.messagesPerSec,
      "msgs/s",
      r.result.median.messagesPerSec >= 1_500_000,
      consumeScenario(r),
    );
  }
  const e = report.endToEnd;
  const e2eName = `end-to-end p50 at ${formatCount(e.ratePerSec)} msgs/s, acks=${e.acks}, ` +
    `linger ${e.lingerMs}`;
  at(e2eName, "≤ 2 ms", e.result.latency.p50Ms, "ms", e.result.latency.p50Ms <= 2, e2eScenario(e));
  at(
    e2eName.replace("p50", "p99"),
    "≤ 10 ms",
    e.result.latency.p99Ms,
    "ms",
    e.result.latency.p99Ms <= 10,
    e2eScenario(e),
  );
  const kib = candidates(1024, "all")[0];
  if (kib) {
    at(
      `produce acks=all, 1 KiB (best: ${kib.what})`,
      "≥ 150 MB/s",
      kib.megabytesPerSec,
      "MB/s",
      kib.megabytesPerSec >= 150,
      kib.scenario,
    );
  }
  return rows;
}

/** The targets summary table. */
export function renderTargets(rows: TargetRow[]): string[] {
  return [
    "Targets (issue #13; MB = 10^6 value bytes)",
    table(
      ["target", "goal", "measured", "met"],
      rows.map((r) => [r.target, r.goal, r.measured, r.met ? "met" : "MISSED"]),
    ),
  ];
}

/** "/batch=N" for batch sizes other than the default 16 KiB (scenario ids). */
function batchSuffix(batchBytes: number): string {
  return batchBytes === 16_384 ? "" : `/batch=${batchBytes}`;
}

function sizeLabel(bytes: number): string {
  return bytesLabel(bytes).replace(" ", "");
}

function produceScenario(r: ProduceRow): string {
  return `produce/${sizeLabel(r.valueBytes)}/acks=${r.acks}/linger=${r.lingerMs}` +
    batchSuffix(r.batchBytes);
}

function consumeScenario(r: ConsumeRow): string {
  return `consume/${sizeLabel(r.valueBytes)}/produced-acks=${r.producedWithAcks}` +
    `/linger=${r.producedWithLingerMs}${batchSuffix(r.producedWithBatchBytes)}`;
}

function e2eScenario(e: FixedRateRow): string {
  return `end-to-end/${e.ratePerSec}-per-s/acks=${e.acks}/linger=${e.lingerMs}`;
}

function sustainedScenario(su: SustainedRow): string {
  return `produce-sustained/${sizeLabel(su.valueBytes)}/acks=${su.acks}/` +
    `${(su.durationMs / 1000).toFixed(0)}s${batchSuffix(su.batchBytes)}`;
}

/** Section 5: the producer matrix table and its conditions. */
export function renderProducerMatrix(m: ProducerMatrix, number = 5): string[] {
  return [
    `${number}. Producer matrix (issue #3): ${formatCount(m.messages)} messages per run, ` +
    `${m.repeat} run(s) per configuration (interleaved), ${bytesLabel(m.valueBytes)} values, ` +
    `one send() per message, at most ${formatCount(m.window)} unacknowledged; ` +
    `${m.partitions} partitions, RF ${m.replicationFactor}`,
    table(
      [
        "acks",
        "linger ms",
        "idempotent",
        "messages",
        "msgs/s",
        "MB/s",
        "msgs/s range",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "max ms",
        "drain ms",
      ],
      m.rows.map((r) => [
        String(r.acks),
        String(r.lingerMs),
        String(r.throughput.median.idempotent),
        formatCount(r.throughput.median.messages),
        formatCount(r.throughput.median.messagesPerSec),
        megabytesPerSec(r.throughput.median).toFixed(1),
        rangeLabel(r.throughput),
        formatMs(r.latency.p50Ms),
        formatMs(r.latency.p99Ms),
        formatMs(r.latency.p999Ms),
        formatMs(r.latency.maxMs),
        formatCount(median(r.drainMs)),
      ]),
    ),
    "   msgs/s and MB/s (10^6 value bytes/s): the median run. Latency per message, over the " +
    "messages of all runs: send()",
    "   called → its promise resolved (acks=0: once its request was written), so it includes " +
    "the wait in the producer's",
    "   queue behind the window. Runs alternate forward and backward through the rows. Untimed " +
    "around each run: the",
    "   fresh topic is primed with one acks=all message per partition (so the followers fetch it; " +
    `${primeLabel(m.rows.flatMap((r) => r.primeMs))}), and`,
    "   afterwards drained the same way: drain ms (median) is how long the brokers still " +
    "worked after the last ack (acks=0!).",
  ];
}

function median(values: number[]): number {
  return values.length === 0 ? NaN : percentile(Float64Array.from(values).sort(), 50);
}

/** "p50 X ms, max Y ms over N topics" of priming times. */
export function primeLabel(primeMs: number[]): string {
  if (primeMs.length === 0) return "no samples";
  const sorted = Float64Array.from(primeMs).sort();
  return `p50 ${formatCount(percentile(sorted, 50))} ms, max ${
    formatCount(sorted[sorted.length - 1])
  } ms over ${primeMs.length} topics`;
}

/**
 * Section 6: acks=1 against acks=all, from the matrix (issue #4), plus the
 * unloaded sequential latencies of table 2 when given.
 */
export function renderReplicationCost(
  m: ProducerMatrix,
  number = 6,
  unloaded?: LatencyRow,
): string[] {
  const rows = replicationCost(m);
  const lines = [
    `${number}. Replication cost (issue #4): acks=1 (leader only) vs acks=all (leader + the ` +
    `follower, RF ${m.replicationFactor}), from table ${number - 1} (median msgs/s, pooled p99)`,
    table(
      [
        "linger ms",
        "acks=all",
        "acks=1 msgs/s",
        "acks=all msgs/s",
        "all / 1",
        "acks=1 p99 ms",
        "acks=all p99 ms",
        "p99 Δ ms",
      ],
      rows.map((r) => [
        String(r.lingerMs),
        r.acksAllIdempotent ? "idempotent" : "idempotence off",
        formatCount(r.acks1MessagesPerSec),
        formatCount(r.acksAllMessagesPerSec),
        `${(r.throughputRatio * 100).toFixed(0)}%`,
        formatMs(r.acks1P99Ms),
        formatMs(r.acksAllP99Ms),
        signedMs(r.p99DeltaMs),
      ]),
    ),
  ];
  const idempotent = rows.filter((r) => r.acksAllIdempotent);
  if (idempotent.length > 0) {
    const ratios = idempotent.map((r) => r.throughputRatio * 100);
    const deltas = idempotent.map((r) => r.p99DeltaMs);
    lines.push(
      `   Summary: acks=all (idempotent) ran at ${rangeOf(ratios, 0)}% of acks=1's msgs/s and ` +
        `its p99 moved by ${rangeOf(deltas, 1, true)} ms across lingers ` +
        `${idempotent.map((r) => r.lingerMs).join("/")} ms.`,
    );
  }
  if (unloaded) {
    lines.push(
      "   Unloaded (table 2, one message at a time): send → ack p50/p99 " +
        `${formatMs(unloaded.result.p50Ms)}/${formatMs(unloaded.result.p99Ms)} ms with acks=1, ` +
        `${formatMs(unloaded.acksAll.p50Ms)}/${formatMs(unloaded.acksAll.p99Ms)} ms with ` +
        "acks=all: the follower's fetch round trip. Under the matrix's load the latency is " +
        "mostly queueing",
      "   (p50 ≈ window ÷ msgs/s, Little's law), so there the acks=all cost shows as lower " +
        "msgs/s more than as added ms.",
    );
  }
  return lines;
}

/** One line of the replication-cost table. */
export interface ReplicationCostRow {
  lingerMs: number;
  acksAllIdempotent: boolean;
  acks1MessagesPerSec: number;
  acksAllMessagesPerSec: number;
  /** acks=all msgs/s ÷ acks=1 msgs/s. */
  throughputRatio: number;
  acks1P99Ms: number;
  acksAllP99Ms: number;
  p99DeltaMs: number;
}

/** Pairs each acks=all row of the matrix with the acks=1 row of the same linger. */
export function replicationCost(m: ProducerMatrix): ReplicationCostRow[] {
  const out: ReplicationCostRow[] = [];
  for (const all of m.rows.filter((r) => r.acks === "all")) {
    const one = m.rows.find((r) => r.acks === 1 && r.lingerMs === all.lingerMs);
    if (!one) continue;
    out.push({
      lingerMs: all.lingerMs,
      acksAllIdempotent: all.throughput.median.idempotent === true,
      acks1MessagesPerSec: one.throughput.median.messagesPerSec,
      acksAllMessagesPerSec: all.throughput.median.messagesPerSec,
      throughputRatio: all.throughput.median.messagesPerSec /
        one.throughput.median.messagesPerSec,
      acks1P99Ms: one.latency.p99Ms,
      acksAllP99Ms: all.latency.p99Ms,
      p99DeltaMs: all.latency.p99Ms - one.latency.p99Ms,
    });
  }
  return out;
}

/** Sections 7 and 8: group-consumer throughput and rebalance time. */
export function renderGroups(g: GroupSection, number = 7): string[] {
  const repeats = g.throughput[0]?.result.runs.length ?? 0;
  const lines = [
    `${number}. Group-consumer throughput (issue #5): ${formatCount(g.messages)} messages of ` +
    `${bytesLabel(g.valueBytes)} pre-filled in a ${g.partitions}-partition topic ` +
    `(${formatCount(g.prefill.messagesPerSec)} msgs/s to fill), read to the end by a fresh group`,
    `   All members run in the bench process (one event loop, one core at most). maxWaitMs ` +
    `${g.maxWaitMs}, heartbeat ${g.heartbeatIntervalMs} ms, maxBytesPerPartition ` +
    `${bytesLabel(g.maxBytesPerPartition)}; median of ${repeats} run(s), interleaved`,
    table(
      [
        "members",
        "partitions each",
        "messages",
        "msgs/s",
        "MiB/s",
        "elapsed s",
        "msgs/s range",
        "batches",
        "join ms",
      ],
      g.throughput.map((r) => [
        String(r.members),
        r.result.median.partitionsPerMember.join("/"),
        formatCount(r.result.median.messages),
        formatCount(r.result.median.messagesPerSec),
        r.result.median.payloadMiBPerSec.toFixed(1),
        (r.result.median.elapsedMs / 1000).toFixed(2),
        rangeLabel(r.result),
        formatCount(r.result.median.batches),
        formatCount(r.result.median.joinMs),
      ]),
    ),
    "   Members join with every partition paused; the clock starts when the group is stable and " +
    "the partitions are",
    "   resumed (join ms, not timed, is first poll → stable) and stops when the last message " +
    "reaches eachBatch.",
    "",
    `${number + 1}. Rebalance after close() (issue #5): a stable group of 3 on an idle topic; ` +
    "one member stops polling and calls close()",
    "   (commit + LeaveGroup); timed until both others own all " +
    `${g.partitions} partitions in a newer generation. The members' heartbeats and idle long ` +
    "polls run in step,",
    "   so the delay between the leaver's last poll and its close() is spread over the " +
    "heartbeat interval and the poll",
    "   cycle (main.ts closeDelayMs) to sample the phases evenly; each run's delay is listed.",
    table(
      [
        "heartbeat ms",
        "session ms",
        "maxWaitMs",
        "runs",
        "rebalance ms p50",
        "min ms",
        "max ms",
        "close() ms p50",
        "partitions after",
      ],
      g.rebalance.map((r) => {
        const rebalance = Float64Array.from(r.runs.map((x) => x.rebalanceMs)).sort();
        const close = Float64Array.from(r.runs.map((x) => x.closeMs)).sort();
        return [
          String(r.heartbeatIntervalMs),
          String(r.sessionTimeoutMs),
          String(r.maxWaitMs),
          String(r.runs.length),
          formatCount(percentile(rebalance, 50)),
          formatCount(rebalance[0]),
          formatCount(rebalance[rebalance.length - 1]),
          formatMs(percentile(close, 50)),
          r.runs[0]?.partitionsAfter.join("/") ?? "",
        ];
      }),
    ),
    ...g.rebalance.map((r) =>
      `   heartbeat ${r.heartbeatIntervalMs} ms, each run as close() delay → rebalance ms: ` +
      r.runs.map((x) => `${Math.round(x.closeDelayMs)} → ${Math.round(x.rebalanceMs)}`)
        .join(", ")
    ),
    "   The survivors learn of the rebalance from their next heartbeat (REBALANCE_IN_PROGRESS), " +
    "then rejoin once their",
    "   current long poll (≤ maxWaitMs) returns. A SIGKILLed member is only noticed after the " +
    "session timeout instead",
    "   (test/integration/groups_test.ts: about 3.4 s with a 3 s session timeout).",
  ];
  return lines;
}

/**
 * Section 9: disk storage with the default flush policy and with an fsync
 * per batch, beside memory storage (issue #7). `main` is the report's main
 * cluster, which ran the rows of its own storage.
 */
export function renderStorage(s: StorageSection, main?: ClusterInfo, number = 9): string[] {
  const sizes = s.sizes.map((x) => `${formatCount(x.messages)} × ${bytesLabel(x.valueBytes)}`);
  const mainStorage = s.extraCluster.storage === "disk" ? "memory" : "disk";
  return [
    `${number}. Disk storage: throughput with acks=1 and acks=all, default flush policy vs fsync ` +
    "every batch (topic config flush.messages=1)",
    `   ${sizes.join(" and ")} per run, ${s.repeat} run(s) per row (interleaved over all rows), ` +
    `${s.partitions} partitions, RF ${s.replicationFactor}, batchBytes ${s.batchBytes}, ` +
    `lingerMs ${s.lingerMs}, as table 1`,
    table(
      [
        "value",
        "acks",
        "storage",
        "messages",
        "msgs/s",
        "MiB/s",
        "of memory",
        "msgs/s range",
        "sends",
        "p50 ms",
        "p99 ms",
      ],
      s.rows.map((r) => {
        const memory = memoryRowFor(s.rows, r);
        const t = r.throughput.median;
        return [
          bytesLabel(r.valueBytes),
          String(r.acks),
          r.label,
          formatCount(t.messages),
          formatCount(t.messagesPerSec),
          t.payloadMiBPerSec.toFixed(1),
          memory
            ? `${(t.messagesPerSec / memory.throughput.median.messagesPerSec * 100).toFixed(0)}%`
            : "",
          rangeLabel(r.throughput),
          formatCount(r.latency.samples),
          formatMs(r.latency.p50Ms),
          formatMs(r.latency.p99Ms),
        ];
      }),
    ),
    `   msgs/s and MiB/s: chunked sends as in table 1 (${
      s.repeat === 2 ? "the slower of the 2 runs" : "the median run"
    }). p50/p99: sequential single-message sends (lingerMs 0,`,
    "   each awaited before the next) with the row's acks and value size, on the same topic " +
    "right after its throughput run.",
    `   "of memory": msgs/s as a share of the memory row with the same value and acks. Two ` +
    `clusters ran side by side, the idle one`,
    `   waiting: the ${mainStorage} rows on the main cluster${
      main ? ` (${main.brokers} brokers)` : ""
    }, the ${s.extraCluster.storage} rows on one started ` +
    `for this table on ports from ${s.extraCluster.basePort}`,
    `   (start-up ${s.extraCluster.startupMs} ms, warmed up with ${
      formatCount(s.warmupMessages)
    } messages per value size and acks, its temporary directory removed afterwards).`,
    "   Disk: segment files under /tmp; default flush = page cache only (no fsync on the produce " +
    "path), flush.messages=1 =",
    "   an fsync after every appended batch, on the leader and on the follower (acks=all waits " +
    "for the follower's too).",
    `   Priming of the fresh topics: ${primeLabel(s.rows.flatMap((r) => r.primeMs))}.`,
  ];
}

/** One JSON line of `--json`: a scenario, its figures, and everything it ran under. */
export interface ScenarioJson {
  scenario: string;
  msgs_per_s: number | null;
  mb_per_s: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  conditions: Record<string, unknown>;
}

/**
 * The report as JSON lines, one object per scenario (every row of every
 * table), each exactly `{"scenario","msgs_per_s","mb_per_s","p50_ms",
 * "p99_ms","p999_ms","conditions"}`: figures that a scenario does not measure
 * are null, and `conditions` holds the rest (its table, the machine and
 * cluster, run counts, ranges, and for rows with an issue #13 target the
 * target and whether it was met). MB = 10^6 value bytes.
 */
export function reportJsonLines(report: BenchReport): string {
  return scenarioObjects(report).map((o) => JSON.stringify(o)).join("\n");
}

/** The scenario objects of {@linkcode reportJsonLines}. */
export function scenarioObjects(report: BenchReport): ScenarioJson[] {
  const out: ScenarioJson[] = [];
  const common = {
    date: report.date,
    mode: report.mode,
    machine: report.machine,
    cluster: report.cluster,
  };
  const targets = targetRows(report);
  const push = (
    scenario: string,
    figures: { msgs?: number; mb?: number; latency?: LatencySummary },
    conditions: Record<string, unknown>,
  ) => {
    const met = targets.filter((t) => t.scenario === scenario);
    out.push({
      scenario,
      msgs_per_s: figures.msgs ?? null,
      mb_per_s: figures.mb ?? null,
      p50_ms: figures.latency?.p50Ms ?? null,
      p99_ms: figures.latency?.p99Ms ?? null,
      p999_ms: figures.latency?.p999Ms ?? null,
      conditions: {
        ...conditions,
        ...(met.length > 0
          ? { targets: met.map((t) => ({ target: t.target, goal: t.goal, met: t.met })) }
          : {}),
        ...common,
      },
    });
  };
  for (const r of report.produce) {
    push(produceScenario(r), {
      msgs: r.result.median.messagesPerSec,
      mb: megabytesPerSec(r.result.median),
    }, {
      table: "producer-throughput",
      valueBytes: r.valueBytes,
      acks: String(r.acks),
      batchBytes: r.batchBytes,
      lingerMs: r.lingerMs,
      partitions: r.partitions,
      chunkMessages: r.chunkMessages,
      chunksInFlight: r.chunksInFlight,
      ...repeatedJson(r.result),
    });
  }
  for (const r of report.consume) {
    push(consumeScenario(r), {
      msgs: r.result.median.messagesPerSec,
      mb: megabytesPerSec(r.result.median),
    }, {
      table: "consumer-throughput",
      valueBytes: r.valueBytes,
      producedWithAcks: String(r.producedWithAcks),
      producedWithLingerMs: r.producedWithLingerMs,
      producedWithBatchBytes: r.producedWithBatchBytes,
      partitions: r.partitions,
      maxBytes: r.maxBytes,
      fetches: r.result.median.fetches,
      ...repeatedJson(r.result),
    });
  }
  const l = report.latency;
  for (
    const [measure, summary, acks] of [
      ["producer-send", l.result, String(l.acks)],
      ["producer-send-acks-all", l.acksAll, "all"],
      ["bare-produce-request", l.raw, "1"],
      ["settimeout-0", l.zeroTimer, null],
    ] as const
  ) {
    push(`produce-latency/${measure}`, { latency: summary }, {
      table: "produce-latency",
      sends: l.sends,
      valueBytes: l.valueBytes,
      acks,
      lingerMs: l.lingerMs,
      ...summary,
    });
  }
  const e = report.endToEnd;
  push(e2eScenario(e), {
    msgs: e.result.achievedPerSec,
    mb: e.result.achievedPerSec * e.valueBytes / 1e6,
    latency: e.result.latency,
  }, {
    table: "end-to-end-latency",
    ratePerSec: e.ratePerSec,
    durationMs: e.durationMs,
    warmupMs: e.warmupMs,
    valueBytes: e.valueBytes,
    acks: String(e.acks),
    lingerMs: e.lingerMs,
    maxWaitMs: e.maxWaitMs,
    partitions: e.partitions,
    messages: e.result.messages,
    lateSends: e.result.lateSends,
    latency: e.result.latency,
    ackLatency: e.result.ackLatency,
  });
  for (const su of report.sustained) {
    push(sustainedScenario(su), {
      msgs: su.result.messagesPerSec,
      mb: megabytesPerSec(su.result),
    }, {
      table: "sustained-produce",
      valueBytes: su.valueBytes,
      acks: String(su.acks),
      batchBytes: su.batchBytes,
      lingerMs: su.lingerMs,
      partitions: su.partitions,
      chunkMessages: su.chunkMessages,
      chunksInFlight: su.chunksInFlight,
      durationMs: su.durationMs,
      messages: su.result.messages,
      elapsedMs: su.result.elapsedMs,
      perSecond: su.result.perSecond,
    });
  }
  const m = report.producerMatrix;
  if (m !== null) {
    for (const r of m.rows) {
      const { table: _table, ...rest } = matrixRowJson(m, r) as Record<string, unknown>;
      push(
        `producer-matrix/acks=${r.acks}/linger=${r.lingerMs}/idempotence=${r.idempotence}`,
        {
          msgs: r.throughput.median.messagesPerSec,
          mb: megabytesPerSec(r.throughput.median),
          latency: r.latency,
        },
        { table: "producer-matrix", ...rest },
      );
    }
    for (const r of replicationCost(m)) {
      push(`replication-cost/linger=${r.lingerMs}`, {}, { table: "replication-cost", ...r });
    }
  }
  const g = report.groups;
  if (g !== null) {
    for (const r of g.throughput) {
      push(`group-consume/${r.members}-members`, {
        msgs: r.result.median.messagesPerSec,
        mb: megabytesPerSec(r.result.median),
      }, {
        table: "group-consumer-throughput",
        members: r.members,
        partitions: g.partitions,
        valueBytes: g.valueBytes,
        inProcess: true,
        maxWaitMs: g.maxWaitMs,
        heartbeatIntervalMs: g.heartbeatIntervalMs,
        maxBytesPerPartition: g.maxBytesPerPartition,
        partitionsPerMember: r.result.median.partitionsPerMember,
        batches: r.result.median.batches,
        joinMs: r.result.median.joinMs,
        ...repeatedJson(r.result),
      });
    }
    for (const r of g.rebalance) {
      push(`rebalance-after-close/heartbeat=${r.heartbeatIntervalMs}ms`, {}, {
        table: "rebalance-after-close",
        members: 3,
        partitions: g.partitions,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        sessionTimeoutMs: r.sessionTimeoutMs,
        maxWaitMs: r.maxWaitMs,
        rebalanceMsP50: percentile(Float64Array.from(r.runs.map((x) => x.rebalanceMs)).sort(), 50),
        runs: r.runs,
      });
    }
  }
  if (report.storage) {
    const st = report.storage;
    for (const r of st.rows) {
      const memory = memoryRowFor(st.rows, r);
      push(
        `storage/${r.label.replaceAll(/[^a-z0-9.=]+/gi, "-")}/` +
          `${sizeLabel(r.valueBytes)}/acks=${r.acks}`,
        {
          msgs: r.throughput.median.messagesPerSec,
          mb: megabytesPerSec(r.throughput.median),
          latency: r.latency,
        },
        {
          table: "disk-storage",
          valueBytes: r.valueBytes,
          acks: String(r.acks),
          storage: r.storage,
          policy: r.label,
          topicConfigs: r.topicConfigs,
          partitions: st.partitions,
          replicationFactor: st.replicationFactor,
          batchBytes: st.batchBytes,
          lingerMs: st.lingerMs,
          chunkMessages: st.chunkMessages,
          chunksInFlight: st.chunksInFlight,
          ...repeatedJson(r.throughput),
          ofMemory: memory
            ? r.throughput.median.messagesPerSec / memory.throughput.median.messagesPerSec
            : null,
          latencyNote: "p50/p99/p999: sequential single-message sends after the run",
          latencySends: r.latency.samples,
          primeMs: r.primeMs,
          cluster: r.storage === st.extraCluster.storage ? "extra" : "main",
        },
      );
    }
  }
  return out;
}

/** One producer-matrix row as a JSON object (also `producer_bench.ts --json`'s line). */
export function matrixRowJson(m: ProducerMatrix, r: MatrixRow): object {
  return {
    table: "producer-matrix",
    acks: String(r.acks),
    lingerMs: r.lingerMs,
    idempotent: r.throughput.median.idempotent,
    messages: r.throughput.median.messages,
    runs: m.repeat,
    valueBytes: m.valueBytes,
    partitions: m.partitions,
    replicationFactor: m.replicationFactor,
    window: m.window,
    elapsedMs: r.throughput.median.elapsedMs,
    messagesPerSec: r.throughput.median.messagesPerSec,
    megabytesPerSec: megabytesPerSec(r.throughput.median),
    messagesPerSecMin: r.throughput.messagesPerSecMin,
    messagesPerSecMax: r.throughput.messagesPerSecMax,
    runsMessagesPerSec: r.throughput.runs.map((x) => x.messagesPerSec),
    latencyMsP50: r.latency.p50Ms,
    latencyMsP99: r.latency.p99Ms,
    latencyMsP999: r.latency.p999Ms,
    latencyMsMax: r.latency.maxMs,
    latencyMsMean: r.latency.meanMs,
    latencySamples: r.latency.samples,
    primeMs: r.primeMs,
    drainMs: r.drainMs,
  };
}

function repeatedJson(r: RepeatedThroughput): object {
  return {
    messages: r.median.messages,
    payloadBytes: r.median.payloadBytes,
    elapsedMs: r.median.elapsedMs,
    messagesPerSec: r.median.messagesPerSec,
    payloadMiBPerSec: r.median.payloadMiBPerSec,
    messagesPerSecMin: r.messagesPerSecMin,
    messagesPerSecMax: r.messagesPerSecMax,
    runsMessagesPerSec: r.runs.map((x) => x.messagesPerSec),
  };
}

function megabytesPerSec(t: { payloadBytes: number; elapsedMs: number }): number {
  return t.payloadBytes / 1e6 / (Math.max(t.elapsedMs, 1e-3) / 1000);
}

function signedMs(ms: number): string {
  return `${ms >= 0 ? "+" : "−"}${formatMs(Math.abs(ms))}`;
}

function rangeOf(values: number[], digits: number, signed = false): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (x: number) => (x < 0 ? "−" : signed ? "+" : "") + Math.abs(x).toFixed(digits);
  return lo === hi ? f(lo) : `${f(lo)} to ${f(hi)}`;
}

function latencyTable(rows: [string, LatencySummary][]): string {
  return table(
    ["measure", "samples", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"],
    rows.map(([name, s]) => [
      name,
      formatCount(s.samples),
      formatMs(s.p50Ms),
      formatMs(s.p90Ms),
      formatMs(s.p99Ms),
      formatMs(s.maxMs),
      formatMs(s.meanMs),
    ]),
  );
}

/** A plain cli-table3 table (no colours, no row separators). */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    style: { head: [], border: [] },
  });
  for (const row of rows) t.push(row);
  return t.toString();
}

function storageLabel(storage: "memory" | "disk"): string {
  return storage === "disk"
    ? "disk (segment files under /tmp, default flush policy: no forced fsync)"
    : "memory";
}

function rangeLabel(r: RepeatedThroughput): string {
  return `${formatCount(r.messagesPerSecMin)}–${formatCount(r.messagesPerSecMax)}`;
}

function bytesLabel(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
