/**
 * The chaos harness's moving parts, shared by every scenario: a seeded
 * random source, cluster controls (find a leader, SIGKILL / SIGSTOP /
 * SIGCONT a broker by PID, restart it through the console, wait for a full
 * ISR), writers that record every send in a {@linkcode History}, group
 * consumers that record every poll, and the final drain of every partition
 * from its earliest offset.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import type { Acks, Client, GroupConsumer, PartitionReader } from "@kafka-analog/clients";
import type { TestCluster } from "../_cluster.ts";
import { waitFor } from "../_cluster.ts";
import { type History, type ReadRecord, valueOf } from "./history.ts";

const dec = new TextDecoder();

/** Seeded PRNG (mulberry32): the same seed gives the same fault schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

/** A partition as `topic describe` shows it. */
export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** A service as `status` shows it. */
export interface ServiceView {
  kind: string;
  id: number;
  pid: number;
}

/** Every partition of `topic`. */
export async function describeTopic(cluster: TestCluster, topic: string): Promise<PartitionView[]> {
  const answer = await cluster.console(`topic describe ${topic}`);
  if (!answer.ok) throw new Error(`topic describe ${topic}: ${answer.text}`);
  return (answer.json as { partitions: PartitionView[] }).partitions;
}

/** Every service the coordinator supervises. */
export async function services(cluster: TestCluster): Promise<ServiceView[]> {
  return ((await cluster.console("status")).json as { services: ServiceView[] }).services;
}

/** PID of broker `id` (≤ 0 when it is not running). */
export async function brokerPid(cluster: TestCluster, id: number): Promise<number> {
  return (await services(cluster)).find((s) => s.kind === "broker" && s.id === id)?.pid ?? -1;
}

/**
 * Sends `signal` to broker `id`'s process and returns its PID; `beforeSignal`
 * runs just before (once the PID is known), to time-stamp the fault in a
 * history as close to the signal as possible.
 */
export async function signalBroker(
  cluster: TestCluster,
  id: number,
  signal: Deno.Signal,
  beforeSignal?: () => void,
): Promise<number> {
  const pid = await brokerPid(cluster, id);
  if (pid <= 0) throw new Error(`broker ${id} is not running`);
  beforeSignal?.();
  Deno.kill(pid, signal);
  return pid;
}

/** Starts broker `id` through the console (after a kill), retrying while the supervisor reaps it. */
export async function startBroker(cluster: TestCluster, id: number): Promise<void> {
  await startService(cluster, `broker start ${id}`);
}

/** Runs a console `… start` line until the service runs (the supervisor may still be reaping it). */
export async function startService(cluster: TestCluster, line: string): Promise<void> {
  let last = "";
  for (let attempt = 0; attempt < 50; attempt++) {
    const answer = await cluster.console(line);
    if (answer.ok) return;
    last = answer.text;
    if (/already running/i.test(last)) return;
    await pause(200);
  }
  throw new Error(`${line}: ${last}`);
}

/** Waits until every partition of every topic has a leader and a full ISR. */
export async function waitHealed(
  cluster: TestCluster,
  topics: string[],
  timeoutMs: number,
): Promise<boolean> {
  return await waitFor(async () => {
    for (const topic of topics) {
      const parts = await describeTopic(cluster, topic).catch(() => null);
      if (!parts) return false;
      if (!parts.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)) return false;
    }
    return true;
  }, timeoutMs);
}

/** The broker leading the most partitions of `topic` (ties: lowest id). */
export async function busiestLeader(cluster: TestCluster, topic: string): Promise<number> {
  const led = new Map<number, number>();
  for (const p of await describeTopic(cluster, topic)) {
    if (p.leader >= 0) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
  }
  const sorted = [...led].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (sorted.length === 0) throw new Error(`${topic} has no leader`);
  return sorted[0][0];
}

/** Errors that prove a send was not written (refused before appending). */
const DEFINITE_FAILURES = new Set([
  "NOT_ENOUGH_REPLICAS",
  "MESSAGE_TOO_LARGE",
  "INVALID_TOPIC_EXCEPTION",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "TOPIC_AUTHORIZATION_FAILED",
  "INVALID_REQUIRED_ACKS",
]);

/** Options for {@linkcode runWriters}. */
export interface WriterOptions {
  client: Client;
  history: History;
  topic: string;
  partitions: number;
  /** Number of writer processes (`p0`, `p1`…), each with its own producer. */
  writers: number;
  acks: Acks;
  idempotence?: boolean;
  /** Values per send (round-robin over the partitions). */
  batch: number;
  /** Stop after this many values per writer. */
  valuesMax?: number;
  /** Stop when it aborts. */
  signal: AbortSignal;
  /** Writer ids start here (several writer groups in one history). */
  firstId?: number;
  /** Producer delivery timeout (default 20 s). */
  deliveryTimeoutMs?: number;
  /** Pause between sends (default 0). */
  gapMs?: number;
}

/** What the writers did, by error name. */
export interface WriterStats {
  errors: Map<string, number>;
}

/** Runs writer processes until the signal aborts or each wrote `valuesMax` values. */
export async function runWriters(options: WriterOptions): Promise<WriterStats> {
  const errors = new Map<string, number>();
  const one = async (id: number) => {
    const producer = options.client.producer({
      acks: options.acks,
      idempotence: options.idempotence ?? options.acks === "all",
      lingerMs: 2,
      retries: 1_000,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 500,
      requestTimeoutMs: 5_000,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 20_000,
      maxBlockMs: 10_000,
    });
    const process = `p${id}`;
    let seq = 0;
    try {
      for (let round = 0; round < 10_000_000 && !options.signal.aborted; round++) {
        if (options.valuesMax !== undefined && seq >= options.valuesMax) break;
        const n = Math.min(options.batch, (options.valuesMax ?? Infinity) - seq);
        const values = Array.from({ length: n }, () => valueOf(id, seq++));
        const partitions = values.map((_, i) =>
          (round * options.batch + i + id) % options.partitions
        );
        const base = { process, f: "send" as const, topic: options.topic, values, partitions };
        options.history.add({ ...base, type: "invoke" });
        try {
          const meta = await producer.send(
            options.topic,
            values.map((value, i) => ({ partition: partitions[i], value })),
          );
          options.history.add({ ...base, type: "ok", offsets: meta.map((m) => Number(m.offset)) });
        } catch (err) {
          const name = isKaError(err) ? err.errorName : String((err as Error)?.name ?? err);
          errors.set(name, (errors.get(name) ?? 0) + 1);
          const type = isKaError(err) && DEFINITE_FAILURES.has(err.errorName) ? "fail" : "info";
          options.history.add({ ...base, type, error: `${name}: ${(err as Error)?.message}` });
        }
        if (options.gapMs) await pause(options.gapMs, options.signal);
      }
    } finally {
      await producer.close().catch(() => {});
    }
  };
  const first = options.firstId ?? 0;
  await Promise.all(Array.from({ length: options.writers }, (_, i) => one(first + i)));
  return { errors };
}

/** Options for {@linkcode runGroupConsumers}. */
export interface ConsumerOptions {
  client: Client;
  history: History;
  topic: string;
  groupId: string;
  members: number;
  /** Stop once the members together polled every one of these values (or the signal aborts). */
  until?: () => Set<string>;
  signal: AbortSignal;
  committed?: boolean;
}

/** Runs a consumer group whose members (`c0`…) record every poll and assignment change. */
export async function runGroupConsumers(options: ConsumerOptions): Promise<Set<string>> {
  const seen = new Set<string>();
  const members: GroupConsumer[] = [];
  const stop = new AbortController();
  options.signal.addEventListener("abort", () => stop.abort());
  const one = async (i: number) => {
    const consumer = options.client.groupConsumer({
      groupId: options.groupId,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      autoOffsetReset: "earliest",
      maxWaitMs: 200,
      isolationLevel: options.committed ? "read_committed" : "read_uncommitted",
    });
    members.push(consumer);
    consumer.subscribe([options.topic]);
    const process = `c${i}`;
    let assignment = "";
    for (let round = 0; round < 1_000_000 && !stop.signal.aborted; round++) {
      let batches;
      try {
        batches = await consumer.poll();
      } catch (err) {
        options.history.add({ process, type: "info", f: "poll", error: String(err) });
        await pause(200, stop.signal);
        continue;
      }
      const now = JSON.stringify(consumer.assignment());
      if (now !== assignment) {
        assignment = now;
        options.history.add({ process, type: "ok", f: "assign" });
      }
      const records: ReadRecord[] = [];
      for (const b of batches) {
        for (const m of b.messages) {
          const value = dec.decode(m.value ?? new Uint8Array());
          records.push({ topic: b.topic, partition: b.partition, offset: Number(m.offset), value });
          seen.add(value);
        }
      }
      if (records.length > 0) {
        options.history.add({
          process,
          type: "ok",
          f: "poll",
          records,
          committed: options.committed ?? false,
        });
      }
      const target = options.until?.();
      if (target && target.size > 0 && [...target].every((v) => seen.has(v))) stop.abort();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.members }, (_, i) => one(i)));
  } finally {
    await Promise.all(members.map((m) => m.close().catch(() => {})));
  }
  return seen;
}

/** One partition read from its earliest offset to its end. */
export interface DrainedPartition {
  records: ReadRecord[];
  lastStableOffset: bigint;
  highWatermark: bigint;
}

/**
 * Reads a partition from its earliest offset to its end: the high
 * watermark, or for a read_committed reader the last stable offset once it
 * has caught up with the high watermark (no transaction left open).
 */
export async function drainPartition(
  reader: PartitionReader,
  topic: string,
  partition: number,
  timeoutMs: number,
): Promise<DrainedPartition> {
  const committed = reader.isolationLevel === "read_committed";
  const deadline = Date.now() + timeoutMs;
  const records: ReadRecord[] = [];
  let offset = await reader.listOffset(topic, partition, "earliest");
  let last = { lastStableOffset: -1n, highWatermark: -1n };
  for (let round = 0; round < 1_000_000; round++) {
    let result;
    try {
      result = await reader.fetch({ topic, partition, offset, maxWaitMs: 100 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await pause(200);
      continue;
    }
    for (const m of result.messages) {
      records.push({
        topic,
        partition,
        offset: Number(m.offset),
        value: dec.decode(m.value ?? new Uint8Array()),
      });
    }
    offset = result.nextOffset;
    last = result;
    const end = committed ? result.lastStableOffset : result.highWatermark;
    const settled = !committed || result.lastStableOffset === result.highWatermark;
    if (offset >= end && settled) break;
    if (Date.now() > deadline) {
      throw new Error(
        `${topic}-${partition} not read to its end in ${timeoutMs} ms: at ${offset}, LSO ${result.lastStableOffset}, HW ${result.highWatermark} (${reader.isolationLevel})`,
      );
    }
  }
  return { records, ...last };
}

/** Drains every partition of `topic` into the history as one `drain` op of `process`. */
export async function drainTopic(
  options: {
    client: Client;
    history: History;
    topic: string;
    partitions: number;
    process: string;
    committed?: boolean;
    timeoutMs?: number;
  },
): Promise<ReadRecord[]> {
  await options.client.cluster.refresh();
  const reader = options.client.consumer({
    isolationLevel: options.committed ? "read_committed" : "read_uncommitted",
  });
  const records: ReadRecord[] = [];
  for (let p = 0; p < options.partitions; p++) {
    const drained = await drainPartition(reader, options.topic, p, options.timeoutMs ?? 30_000);
    for (const r of drained.records) records.push(r); // no spread: too many arguments
  }
  options.history.add({
    process: options.process,
    type: "ok",
    f: "drain",
    topic: options.topic,
    records,
    committed: options.committed ?? false,
  });
  return records;
}

/** Options for {@linkcode runGatewayWriter}. */
export interface GatewayWriterOptions {
  /** The writer gateway's base URL, e.g. `http://127.0.0.1:23720`. */
  url: string;
  history: History;
  topic: string;
  partitions: number;
  /** Writer id: values `p<id>-<seq>`, process `g<id>`. */
  id: number;
  batch: number;
  signal: AbortSignal;
}

/**
 * A writer going through the HTTP writer gateway (`POST /api/v1/messages/batch`,
 * acks=all). A refused connection (gateway down) is a certain `fail`; any
 * other error or a partial answer is `info` for the values not acknowledged.
 */
export async function runGatewayWriter(
  options: GatewayWriterOptions,
): Promise<Map<string, number>> {
  const errors = new Map<string, number>();
  const count = (name: string) => errors.set(name, (errors.get(name) ?? 0) + 1);
  const process = `g${options.id}`;
  let seq = 0;
  for (let round = 0; round < 10_000_000 && !options.signal.aborted; round++) {
    const values = Array.from({ length: options.batch }, () => valueOf(options.id, seq++));
    const partitions = values.map((_, i) => (round + i) % options.partitions);
    const base = { process, f: "send" as const, topic: options.topic };
    options.history.add({ ...base, type: "invoke", values, partitions });
    try {
      const response = await fetch(`${options.url}/api/v1/messages/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          topic: options.topic,
          acks: "all",
          messages: values.map((value, i) => ({ value, partition: partitions[i] })),
        }),
        signal: AbortSignal.timeout(40_000),
      });
      const body = await response.json() as {
        results?: ({ partition: number; offset: number } | { error: { name: string } })[];
      };
      const results = body.results ?? [];
      const ok = values.map((_, i) => results[i]).map((r) =>
        r && "offset" in r && typeof r.offset === "number" ? r : null
      );
      const okIdx = ok.flatMap((r, i) => (r ? [i] : []));
      const badIdx = ok.flatMap((r, i) => (r ? [] : [i]));
      if (okIdx.length > 0) {
        options.history.add({
          ...base,
          type: "ok",
          values: okIdx.map((i) => values[i]),
          partitions: okIdx.map((i) => partitions[i]),
          offsets: okIdx.map((i) => ok[i]!.offset),
        });
      }
      if (badIdx.length > 0) {
        count(`HTTP ${response.status}`);
        options.history.add({
          ...base,
          type: "info",
          values: badIdx.map((i) => values[i]),
          partitions: badIdx.map((i) => partitions[i]),
          error: `HTTP ${response.status}`,
        });
      }
    } catch (err) {
      const refused = err instanceof TypeError && /refused/i.test(String(err.message));
      count(refused ? "connection refused" : String((err as Error)?.name ?? err));
      options.history.add({
        ...base,
        type: refused ? "fail" : "info",
        values,
        partitions,
        error: String(err),
      });
      await pause(200, options.signal);
    }
  }
  return errors;
}
