/**
 * The benchmark's report: one value holding every figure with its
 * conditions, printed either as plain cli-table3 tables (no colours) or as
 * JSON.
 * @module
 */
import Table from "cli-table3";
import type { Acks } from "@kafka-analog/clients";
import type { ConsumeRunResult, EndToEndResult, ProduceRunResult } from "./_scenarios.ts";
import { formatCount, formatMs, type LatencySummary, type RepeatedThroughput } from "./_stats.ts";

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
  storage: "memory";
  startupMs: number;
  partitions: number;
  replicationFactor: number;
  /** False while followers do not copy the leader's log. */
  replicationImplemented: boolean;
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
  /** Bare Produce requests on one connection to partition 0's leader, batch pre-encoded. */
  raw: LatencySummary;
  /** Delay of a sequential `setTimeout(fn, 0)` in the bench process. */
  zeroTimer: LatencySummary;
}

/** One consumer-throughput row. */
export interface ConsumeRow {
  valueBytes: number;
  producedWithAcks: Acks;
  partitions: number;
  maxBytes: number;
  result: RepeatedThroughput<ConsumeRunResult>;
}

/** The end-to-end latency figure. */
export interface EndToEndRow {
  messages: number;
  intervalMs: number;
  valueBytes: number;
  maxWaitMs: number;
  result: EndToEndResult;
}

/** Everything one run measured. */
export interface BenchReport {
  date: string;
  mode: "quick" | "default";
  /** Runs of each throughput configuration; tables show the median run. */
  repeat: number;
  machine: MachineInfo;
  cluster: ClusterInfo;
  /** Messages of each value size produced and read back, untimed, first. */
  warmupMessages: number;
  produce: ProduceRow[];
  latency: LatencyRow;
  consume: ConsumeRow[];
  endToEnd: EndToEndRow;
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
      `127.0.0.1, storage = ${cluster.storage}; start-up ${cluster.startupMs} ms ` +
      `(coordinator-measured, all services ready)`,
    `topics: ${cluster.partitions} partitions, replication factor ${cluster.replicationFactor}, ` +
      `one topic per run; client, brokers and coordinator share the same ${machine.cores} cores`,
  );
  if (!cluster.replicationImplemented) {
    lines.push(
      "CAVEAT: replication is not implemented yet: followers do not copy the log, so acks=all " +
        "is acknowledged by the leader alone and currently costs the same as acks=1.",
    );
  }
  lines.push(
    `warm-up: ${formatCount(report.warmupMessages)} messages of each value size produced and ` +
      "read back first (not reported)",
    `throughput: each configuration ran ${report.repeat} time(s), interleaved; each run ` +
      "produces to a fresh topic, reads it back (table 3) and deletes it; the tables show the " +
      "median run and the min–max msgs/s of all runs",
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
      "MiB/s",
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
      r.result.median.payloadMiBPerSec.toFixed(1),
      (r.result.median.elapsedMs / 1000).toFixed(2),
      rangeLabel(r.result),
    ]),
  ));
  if (first) {
    lines.push(
      `   Sent as send() calls of ${formatCount(first.chunkMessages)} messages with at most ` +
        `${first.chunksInFlight} calls unanswered; timed from the first send() to the last ` +
        "acknowledgement (after flush()).",
      "   MiB/s counts value bytes only (no keys, headers or record/batch overhead).",
    );
  }
  const l = report.latency;
  lines.push(
    "",
    `2. Produce latency (${formatCount(l.sends)} sequential single-message sends, ` +
      `${bytesLabel(l.valueBytes)} value, acks=${l.acks}, lingerMs ${l.lingerMs}, keyless)`,
  );
  lines.push(latencyTable([
    ["Producer.send() → ack", l.result],
    ["reference: bare Produce request → response", l.raw],
    ["reference: setTimeout(fn, 0) delay", l.zeroTimer],
  ]));
  lines.push(
    "   The bare request goes on one KafkaConnection to partition 0's leader with the batch " +
      "encoded beforehand; the",
    "   producer with lingerMs 0 still waits for a setTimeout(…, 0) before it sends, which is " +
      "the third row.",
  );
  lines.push(
    "",
    "3. Consumer throughput (each topic of table 1 read back right after it was produced, " +
      "partition after partition, from offset 0, fetch maxWaitMs 0, one reader)",
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
      "MiB/s",
      "msgs/s range",
    ],
    report.consume.map((r) => [
      bytesLabel(r.valueBytes),
      `acks=${r.producedWithAcks}`,
      String(r.partitions),
      bytesLabel(r.maxBytes),
      formatCount(r.result.median.messages),
      formatCount(r.result.median.fetches),
      formatCount(r.result.median.messagesPerSec),
      r.result.median.payloadMiBPerSec.toFixed(1),
      rangeLabel(r.result),
    ]),
  ));
  lines.push("   The reader decodes every record and verifies each batch's CRC-32C.");
  const e = report.endToEnd;
  lines.push(
    "",
    `4. End-to-end latency (${e.messages} messages, 1 every ${e.intervalMs} ms to partition 0, ` +
      `${bytesLabel(e.valueBytes)} value, acks=1, lingerMs 0; reader long-polls with maxWaitMs ` +
      `${e.maxWaitMs})`,
  );
  lines.push(latencyTable([
    ["receive − record timestamp (1 ms resolution)", e.result.byTimestamp],
    ["receive − send, performance.now()", e.result.byMonotonicClock],
  ]));
  lines.push("", `total benchmark time: ${(report.totalMs / 1000).toFixed(1)} s`);
  return lines.join("\n");
}

/** The report as JSON (bigints never occur in it). */
export function reportJson(report: BenchReport): string {
  return JSON.stringify(report, null, 2);
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

function table(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    style: { head: [], border: [] },
  });
  for (const row of rows) t.push(row);
  return t.toString();
}

function rangeLabel(r: RepeatedThroughput): string {
  return `${formatCount(r.messagesPerSecMin)}–${formatCount(r.messagesPerSecMax)}`;
}

function bytesLabel(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
