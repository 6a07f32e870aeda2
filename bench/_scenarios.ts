/**
 * The benchmark's measurements, each against a real cluster through the
 * client library: producer throughput, sequential produce latency, consumer
 * throughput, end-to-end latency and the per-message producer matrix
 * (consumer groups are in `_groups.ts`). Every loop is bounded by a message
 * count and by a deadline, so a stuck cluster ends the run with an error
 * instead of hanging it.
 * @module
 */
import type { Acks, Client, PartitionReader, RecordMetadata } from "@kafka-analog/clients";
import { sleep, withTimeout } from "@kafka-analog/lib/async";
import { KafkaConnection } from "@kafka-analog/lib/net";
import { ApiKey, encodeRecordBatch } from "@kafka-analog/lib/protocol";
import { type LatencySummary, summarize, type Throughput, throughput } from "./_stats.ts";

/** Conditions of one producer-throughput run. */
export interface ProduceRunOptions {
  topic: string;
  messages: number;
  valueBytes: number;
  acks: Acks;
  batchBytes: number;
  lingerMs: number;
  /** Messages per `send` call. */
  chunkMessages: number;
  /** `send` calls awaiting their answers at once, at most. */
  chunksInFlight: number;
  /** The run fails if it takes longer than this. */
  deadlineMs: number;
  /**
   * Sustained mode: keep sending for this long (`messages` is then only a
   * cap), then wait for the last acknowledgement.
   */
  durationMs?: number;
}

/** Result of a producer-throughput run. */
export interface ProduceRunResult extends Throughput {
  /** Messages acknowledged per partition. */
  perPartition: number[];
  /** Messages acknowledged in each whole second of the run (the last, partial one left out). */
  perSecond: number[];
}

/**
 * Sends `messages` keyless messages of `valueBytes` bytes (round-robin over
 * the topic's partitions) from one producer, as `send` calls of
 * `chunkMessages` with at most `chunksInFlight` unanswered, and times it from
 * the first `send` to the last acknowledgement.
 */
export async function produceThroughput(
  client: Client,
  options: ProduceRunOptions,
): Promise<ProduceRunResult> {
  const producer = client.producer({
    acks: options.acks,
    batchBytes: options.batchBytes,
    lingerMs: options.lingerMs,
  });
  const value = filledValue(options.valueBytes);
  // The same message objects are passed to every call: the producer copies
  // the bytes into its record batches and keeps no reference to the objects.
  const chunk = Array.from({ length: options.chunkMessages }, () => ({ value }));
  const perPartition: number[] = [];
  const perSecond: number[] = [];
  const count = (metas: RecordMetadata[]) => {
    for (const m of metas) perPartition[m.partition] = (perPartition[m.partition] ?? 0) + 1;
    const second = Math.floor((performance.now() - startMs) / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + metas.length;
  };
  const inFlight = new Set<Promise<void>>();
  // The first failed send; kept here so that no rejection goes unhandled.
  let failure: { err: unknown } | null = null;
  const startMs = performance.now();
  const durationMs = options.durationMs ?? Infinity;
  let sent = 0;
  while (
    sent < options.messages && failure === null && performance.now() - startMs < durationMs
  ) {
    checkDeadline(startMs, options.deadlineMs, `producing to ${options.topic}`);
    const n = Math.min(options.chunkMessages, options.messages - sent);
    const task: Promise<void> = producer
      .send(options.topic, n === chunk.length ? chunk : chunk.slice(0, n))
      .then(count, (err) => void (failure ??= { err }))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    sent += n;
    if (inFlight.size >= options.chunksInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== null) throw (failure as { err: unknown }).err;
  await producer.flush();
  const elapsedMs = performance.now() - startMs;
  const acknowledged = perPartition.reduce((a, b) => a + (b ?? 0), 0);
  if (acknowledged !== sent) {
    throw new Error(`${options.topic}: ${acknowledged} of ${sent} messages were acknowledged`);
  }
  const wholeSeconds = Math.floor(elapsedMs / 1000);
  return {
    ...throughput(sent, sent * options.valueBytes, elapsedMs),
    perPartition: Array.from(perPartition, (n) => n ?? 0),
    perSecond: Array.from({ length: wholeSeconds }, (_, i) => perSecond[i] ?? 0),
  };
}

/**
 * Sends one message to each partition of `topic` with acks=all and waits for
 * every acknowledgement; returns the milliseconds it took. Used two ways:
 *
 * - to prime a fresh topic: afterwards each partition's follower is fetching
 *   it, so a timed run does not include the wait for followers to pick up a
 *   new partition (their fetch already parked at the leader does not cover
 *   it: up to the 500 ms fetch wait). The messages land at offset 0.
 * - to drain after a run: the producer shares the client's connections, and
 *   a broker answers a connection's requests in order, so once these are
 *   acknowledged (and replicated) every request sent before them has been
 *   handled, including acks=0 ones nobody waited for.
 */
export async function ackEveryPartition(
  client: Client,
  topic: string,
  partitions: number,
  deadlineMs: number,
): Promise<number> {
  const producer = client.producer({ acks: "all", lingerMs: 0 });
  const startMs = performance.now();
  try {
    await withTimeout(
      producer.send(
        topic,
        Array.from({ length: partitions }, (_, partition) => ({ value: "mark", partition })),
      ),
      deadlineMs,
      () =>
        new Error(
          `Benchmark deadline of ${deadlineMs} ms passed while sending acks=all to every ` +
            `partition of ${topic}`,
        ),
    );
    return performance.now() - startMs;
  } finally {
    await producer.close().catch(() => {});
  }
}

/** Conditions of one producer-matrix run (issue #3). */
export interface SendLatencyRunOptions {
  topic: string;
  messages: number;
  valueBytes: number;
  acks: Acks;
  lingerMs: number;
  /** false turns idempotence off; undefined keeps the producer's default (on for acks=all). */
  idempotence?: boolean;
  /** Messages awaiting their acknowledgement at most; beyond that the run waits. */
  window: number;
  /** The run fails if it takes longer than this. */
  deadlineMs: number;
}

/** Result of a producer-matrix run. */
export interface SendLatencyRunResult extends Throughput {
  /** Whether the producer stamped sequence numbers (null: not decided yet). */
  idempotent: boolean | null;
  /** Per message: `send` call → its promise resolved (acks=0: the request was written). */
  latency: LatencySummary;
}

/** A producer-matrix run: its result and every message's latency, in send order. */
export interface SendLatencyRun {
  result: SendLatencyRunResult;
  samplesMs: Float64Array;
}

/**
 * Sends `messages` keyless messages of `valueBytes` bytes, each as its own
 * `send` call (as Kafka's producer-perf-test does), with at most `window`
 * unacknowledged, and records each message's send → acknowledgement time.
 * Timed from the first `send` to the last acknowledgement (after `flush()`).
 */
export async function sendLatencyRun(
  client: Client,
  options: SendLatencyRunOptions,
): Promise<SendLatencyRun> {
  const producer = client.producer({
    acks: options.acks,
    lingerMs: options.lingerMs,
    ...(options.idempotence === undefined ? {} : { idempotence: options.idempotence }),
  });
  const message = [{ value: filledValue(options.valueBytes) }];
  const latenciesMs = new Float64Array(options.messages);
  let acknowledged = 0;
  let outstanding = 0;
  // The first failed send; kept here so that no rejection goes unhandled.
  let failure: { err: unknown } | null = null;
  let wakeSender: (() => void) | null = null;
  const wake = () => {
    const w = wakeSender;
    wakeSender = null;
    w?.();
  };
  let elapsedMs = 0;
  let timedOut: () => void = () => {};
  const deadlinePassed = new Promise<void>((resolve) => (timedOut = resolve));
  const startMs = performance.now();
  // A stalled cluster fails the run instead of leaving the waits below waiting.
  const watchdog = setInterval(() => {
    if (performance.now() - startMs > options.deadlineMs) {
      failure ??= {
        err: new Error(
          `Benchmark deadline of ${options.deadlineMs} ms passed while producing to ${options.topic}`,
        ),
      };
      wake();
      timedOut();
    }
  }, 250);
  try {
    for (let i = 0; i < options.messages && failure === null; i++) {
      while (outstanding >= options.window && failure === null) {
        await new Promise<void>((resolve) => (wakeSender = resolve));
      }
      if (failure !== null) break;
      const sentAtMs = performance.now();
      outstanding++;
      producer.send(options.topic, message).then(
        () => {
          latenciesMs[i] = performance.now() - sentAtMs;
          acknowledged++;
          outstanding--;
          wake();
        },
        (err) => {
          failure ??= { err };
          outstanding--;
          wake();
        },
      );
    }
    if (failure === null) await Promise.race([producer.flush(), deadlinePassed]);
    while (outstanding > 0 && failure === null) {
      await new Promise<void>((resolve) => (wakeSender = resolve));
    }
    elapsedMs = performance.now() - startMs;
  } finally {
    clearInterval(watchdog);
    if (failure === null) await producer.close();
    else void producer.close().catch(() => {});
  }
  if (failure !== null) throw (failure as { err: unknown }).err;
  if (acknowledged !== options.messages) {
    throw new Error(`${options.topic}: ${acknowledged} of ${options.messages} sends resolved`);
  }
  return {
    result: {
      ...throughput(options.messages, options.messages * options.valueBytes, elapsedMs),
      idempotent: producer.idempotent,
      latency: summarize(latenciesMs),
    },
    samplesMs: latenciesMs,
  };
}

/** Conditions of the sequential produce-latency run. */
export interface ProduceLatencyOptions {
  topic: string;
  sends: number;
  valueBytes: number;
  deadlineMs: number;
  /** Default 1 (the bare-request reference always uses 1). */
  acks?: Acks;
}

/**
 * Sends one message at a time with `lingerMs` 0 and `acks` (default 1),
 * awaiting each acknowledgement before the next send; each sample is one
 * `send` call.
 */
export async function produceLatency(
  client: Client,
  options: ProduceLatencyOptions,
): Promise<LatencySummary> {
  return summarize(await produceLatencySamples(client, options));
}

/**
 * {@linkcode produceLatency}'s samples, in send order (ms per `send` call),
 * for callers that pool several runs. The producer is closed afterwards.
 */
export async function produceLatencySamples(
  client: Client,
  options: ProduceLatencyOptions,
): Promise<number[]> {
  const producer = client.producer({ acks: options.acks ?? 1, lingerMs: 0 });
  try {
    const message = [{ value: filledValue(options.valueBytes) }];
    const samplesMs: number[] = [];
    const startMs = performance.now();
    for (let i = 0; i < options.sends; i++) {
      checkDeadline(startMs, options.deadlineMs, "measuring produce latency");
      const t0 = performance.now();
      await producer.send(options.topic, message);
      samplesMs.push(performance.now() - t0);
    }
    return samplesMs;
  } finally {
    await producer.close().catch(() => {});
  }
}

/** Produce version the client library speaks (clients/cluster.ts `VERSIONS.produce`). */
const PRODUCE_VERSION = 8;

/**
 * Reference for {@linkcode produceLatency}: the same sequential acks=1
 * single-record produce, but as bare Produce requests on one
 * {@linkcode KafkaConnection} to the leader of partition 0, with the batch
 * encoded before the clock starts. The difference to `produceLatency` is the
 * producer's own overhead.
 */
export async function rawProduceLatency(
  client: Client,
  options: ProduceLatencyOptions,
): Promise<LatencySummary> {
  const leader = await client.cluster.leaderOf(options.topic, 0);
  const broker = client.cluster.brokers().find((b) => b.nodeId === leader);
  if (!broker) throw new Error(`Leader ${leader} of ${options.topic}-0 is not in the metadata`);
  const conn = await KafkaConnection.open(`${broker.host}:${broker.port}`, { clientId: "bench" });
  try {
    const value = filledValue(options.valueBytes);
    const samplesMs: number[] = [];
    const startMs = performance.now();
    for (let i = 0; i < options.sends; i++) {
      checkDeadline(startMs, options.deadlineMs, "measuring raw produce latency");
      const now = Date.now();
      const records = encodeRecordBatch([{ key: null, value, headers: [], timestamp: now }], {
        timestamp: now,
      });
      const t0 = performance.now();
      const response = await conn.request(ApiKey.Produce, PRODUCE_VERSION, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [{ name: options.topic, partitionData: [{ index: 0, records }] }],
      });
      samplesMs.push(performance.now() - t0);
      const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
      if (errorCode !== 0) {
        throw new Error(`Raw produce to ${options.topic}-0 got error ${errorCode}`);
      }
    }
    return summarize(samplesMs);
  } finally {
    conn.close();
  }
}

/** How late `setTimeout(fn, 0)` fires in this process: `samples` sequential timers. */
export async function zeroTimerDelay(samples: number): Promise<LatencySummary> {
  const samplesMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    samplesMs.push(performance.now() - t0);
  }
  return summarize(samplesMs);
}

/** Conditions of one consumer-throughput run. */
export interface ConsumeRunOptions {
  topic: string;
  partitions: number;
  /** Offset each partition is read from (1 after {@linkcode ackEveryPartition}; default 0). */
  startOffset?: bigint;
  maxBytes: number;
  /** Messages the topic holds; the run fails if it reads a different number. */
  expectedMessages: number;
  deadlineMs: number;
}

/** Result of a consumer-throughput run. */
export interface ConsumeRunResult extends Throughput {
  fetches: number;
}

/**
 * Waits (untimed) until the high watermarks cover `expectedMessages`, then
 * reads the whole topic back, partition after partition, from `startOffset`
 * to the high watermark, with fetches of at most `maxBytes` that never wait.
 * Pass the same `reader` to every run so its connections are already open;
 * its metadata for the topic is loaded before the clock starts.
 */
export async function consumeThroughput(
  reader: PartitionReader,
  options: ConsumeRunOptions,
): Promise<ConsumeRunResult> {
  // Untimed: wait until the high watermarks cover every message (an acks=1
  // produce is answered before the follower has fetched, and readers only see
  // what every in-sync replica has).
  const readyStartMs = performance.now();
  while (true) {
    checkDeadline(
      readyStartMs,
      options.deadlineMs,
      `waiting for ${options.topic} to be replicated`,
    );
    let visible = 0;
    for (let partition = 0; partition < options.partitions; partition++) {
      const hw = await reader.listOffset(options.topic, partition, "latest");
      visible += Number(hw - (options.startOffset ?? 0n));
    }
    if (visible >= options.expectedMessages) break;
    await sleep(5);
  }
  let messages = 0;
  let payloadBytes = 0;
  let fetches = 0;
  // Every fetch but the last of a partition returns at least one message.
  const fetchesMax = options.expectedMessages + 2 * options.partitions;
  const startMs = performance.now();
  for (let partition = 0; partition < options.partitions; partition++) {
    let offset = options.startOffset ?? 0n;
    while (true) {
      checkDeadline(startMs, options.deadlineMs, `reading ${options.topic}`);
      if (++fetches > fetchesMax) throw new Error(`${options.topic}: too many fetches`);
      const result = await reader.fetch({
        topic: options.topic,
        partition,
        offset,
        maxWaitMs: 0,
        maxBytes: options.maxBytes,
      });
      for (const m of result.messages) payloadBytes += m.value?.length ?? 0;
      messages += result.messages.length;
      if (result.nextOffset >= result.highWatermark) break;
      if (result.nextOffset <= offset) {
        throw new Error(`${options.topic}-${partition}: no progress at offset ${offset}`);
      }
      offset = result.nextOffset;
    }
  }
  const elapsedMs = performance.now() - startMs;
  if (messages !== options.expectedMessages) {
    throw new Error(`${options.topic}: read ${messages} of ${options.expectedMessages} messages`);
  }
  return { ...throughput(messages, payloadBytes, elapsedMs), fetches };
}

/** Conditions of the end-to-end latency run. */
export interface EndToEndOptions {
  topic: string;
  messages: number;
  intervalMs: number;
  valueBytes: number;
  /** Long-poll wait of the reader's fetches. */
  maxWaitMs: number;
  deadlineMs: number;
}

/** End-to-end latency, two ways. */
export interface EndToEndResult {
  /** Receive time (Date.now()) − the record's timestamp: whole milliseconds. */
  byTimestamp: LatencySummary;
  /** Receive time − send time, both from performance.now() (the same process). */
  byMonotonicClock: LatencySummary;
}

/**
 * One reader long-polls partition 0 while a producer (acks=1, lingerMs 0)
 * sends one message to partition 0 every `intervalMs`. Both run in this
 * process, so the record timestamp and the receive time share a clock; the
 * message value carries a `performance.now()` send time for a sub-millisecond
 * figure too.
 */
export async function endToEndLatency(
  client: Client,
  options: EndToEndOptions,
): Promise<EndToEndResult> {
  const reader = client.consumer();
  const producer = client.producer({ acks: 1, lingerMs: 0 });
  const startOffset = await reader.listOffset(options.topic, 0, "latest");
  const byTimestamp: number[] = [];
  const byMonotonicClock: number[] = [];
  const startMs = performance.now();
  const decoder = new TextDecoder();
  const padding = "x".repeat(Math.max(0, options.valueBytes - 24));
  // The first failure on either side; the other side stops at its next step.
  let failure: { err: unknown } | null = null;
  const fail = (err: unknown) => void (failure ??= { err });

  const read = (async () => {
    let offset = startOffset;
    while (byTimestamp.length < options.messages && failure === null) {
      checkDeadline(startMs, options.deadlineMs, "measuring end-to-end latency");
      const result = await reader.fetch({
        topic: options.topic,
        partition: 0,
        offset,
        maxWaitMs: options.maxWaitMs,
      });
      const nowMs = Date.now();
      const nowMonotonicMs = performance.now();
      for (const m of result.messages) {
        byTimestamp.push(nowMs - m.timestamp);
        const sentAt = Number.parseFloat(decoder.decode(m.value ?? new Uint8Array()));
        byMonotonicClock.push(nowMonotonicMs - sentAt);
      }
      offset = result.nextOffset;
    }
  })().catch(fail);

  const sends: Promise<unknown>[] = [];
  const write = (async () => {
    for (let i = 0; i < options.messages && failure === null; i++) {
      // Absolute schedule, so a slow send does not push every later one back.
      const dueMs = startMs + (i + 1) * options.intervalMs;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      checkDeadline(startMs, options.deadlineMs, "sending end-to-end messages");
      const sentAt = performance.now();
      sends.push(
        producer.send(options.topic, [{
          value: `${sentAt.toFixed(3)} ${padding}`,
          partition: 0,
          timestamp: Date.now(),
        }]).catch(fail),
      );
    }
    await Promise.all(sends);
  })().catch(fail);

  await Promise.all([read, write]);
  if (failure !== null) throw (failure as { err: unknown }).err;
  return { byTimestamp: summarize(byTimestamp), byMonotonicClock: summarize(byMonotonicClock) };
}

/** Conditions of the fixed-rate end-to-end latency run. */
export interface FixedRateOptions {
  topic: string;
  partitions: number;
  /** Messages per second the producer sends, on an absolute schedule. */
  ratePerSec: number;
  /** Measured time; the first `warmupMs` of sending before it is not counted. */
  durationMs: number;
  warmupMs: number;
  valueBytes: number;
  acks: Acks;
  lingerMs: number;
  /** Long-poll wait of the reader's fetches. */
  maxWaitMs: number;
  deadlineMs: number;
}

/** Result of the fixed-rate end-to-end run. */
export interface FixedRateResult {
  /** Intended send time (schedule) → delivered to the reader, per measured message. */
  latency: LatencySummary;
  /** Intended send time → the producer's `send()` resolved (acknowledged), per measured message. */
  ackLatency: LatencySummary;
  /** Messages measured (sent after the warm-up). */
  messages: number;
  /** Messages per second actually sent in the measured window. */
  achievedPerSec: number;
  /** Send calls that were behind schedule by more than LATE_SEND_MS when made. */
  lateSends: number;
}

/** A fixed-rate send made this long after its scheduled time counts as late. */
const LATE_SEND_MS = 5;
/** How often the fixed-rate sender wakes up to send what is due. */
const FIXED_RATE_TICK_MS = 1;

/**
 * End-to-end latency at a fixed rate: a producer (its own client) sends
 * `ratePerSec` keyless messages a second on an absolute schedule, each as its
 * own `send()`, while a reader (another client) long-polls every partition,
 * one fetch loop per leader broker. Each value carries its scheduled send
 * time (`performance.now()`, same process), and latency is measured from that
 * schedule, not from when the call was made, so a stalled sender counts
 * against the figure (no coordinated omission).
 */
export async function fixedRateEndToEnd(
  producerClient: Client,
  readerClient: Client,
  options: FixedRateOptions,
): Promise<FixedRateResult> {
  const producer = producerClient.producer({ acks: options.acks, lingerMs: options.lingerMs });
  const reader = readerClient.consumer();
  const total = Math.round(options.ratePerSec * (options.warmupMs + options.durationMs) / 1000);
  const warmupMessages = Math.round(options.ratePerSec * options.warmupMs / 1000);
  const samples = new Float64Array(total - warmupMessages);
  const ackSamples = new Float64Array(total - warmupMessages);
  let received = 0;
  let measured = 0;
  let failure: { err: unknown } | null = null;
  const fail = (err: unknown) => void (failure ??= { err });
  const byLeader = new Map<number, { topic: string; partition: number; offset: bigint }[]>();
  for (let partition = 0; partition < options.partitions; partition++) {
    const leader = await readerClient.cluster.leaderOf(options.topic, partition);
    const offset = await reader.listOffset(options.topic, partition, "latest");
    byLeader.set(leader, [
      ...(byLeader.get(leader) ?? []),
      { topic: options.topic, partition, offset },
    ]);
  }
  const startMs = performance.now() + 20;
  const intervalMs = 1000 / options.ratePerSec;
  const reads = [...byLeader.values()].map(async (requests) => {
    while (received < total && failure === null) {
      checkDeadline(startMs, options.deadlineMs, "measuring fixed-rate end-to-end latency");
      const results = await reader.fetchMany(requests, { maxWaitMs: options.maxWaitMs });
      const nowMs = performance.now();
      for (const [i, r] of results.entries()) {
        if (r.errorCode !== 0) {
          throw new Error(`fetch of ${r.topic}-${r.partition}: ${r.errorMessage}`);
        }
        for (const m of r.messages) {
          const value = m.value;
          if (value === null || value.length < 12) throw new Error("end-to-end value too short");
          const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
          const seq = view.getUint32(0);
          const dueMs = view.getFloat64(4);
          received++;
          if (seq >= warmupMessages) {
            samples[seq - warmupMessages] = nowMs - dueMs;
            measured++;
          }
        }
        requests[i] = { ...requests[i], offset: r.nextOffset };
      }
    }
  }).map((p) => p.catch(fail));
  let lateSends = 0;
  let measuredStartMs = 0;
  let measuredEndMs = 0;
  const sends: Promise<unknown>[] = [];
  const write = (async () => {
    let next = 0;
    while (next < total && failure === null) {
      const nowMs = performance.now();
      checkDeadline(startMs, options.deadlineMs, "sending fixed-rate messages");
      // Everything due by now goes out, each message as its own send().
      while (next < total && startMs + next * intervalMs <= nowMs) {
        const dueMs = startMs + next * intervalMs;
        if (nowMs - dueMs > LATE_SEND_MS) lateSends++;
        if (next === warmupMessages) measuredStartMs = nowMs;
        const value = new Uint8Array(Math.max(12, options.valueBytes));
        const view = new DataView(value.buffer);
        view.setUint32(0, next);
        view.setFloat64(4, dueMs);
        const seq = next;
        sends.push(
          producer.send(options.topic, [{ value }]).then(() => {
            if (seq >= warmupMessages) ackSamples[seq - warmupMessages] = performance.now() - dueMs;
          }, fail),
        );
        next++;
      }
      measuredEndMs = nowMs;
      const waitMs = startMs + next * intervalMs - performance.now();
      await sleep(Math.max(FIXED_RATE_TICK_MS, waitMs));
    }
    await Promise.all(sends);
  })().catch(fail);
  await write;
  await Promise.all(reads);
  await producer.close().catch(() => {});
  if (failure !== null) throw (failure as { err: unknown }).err;
  if (measured !== samples.length) {
    throw new Error(
      `${options.topic}: received ${measured} of ${samples.length} measured messages`,
    );
  }
  const sentMeasured = total - warmupMessages;
  return {
    latency: summarize(samples),
    ackLatency: summarize(ackSamples),
    messages: sentMeasured,
    achievedPerSec: sentMeasured / Math.max((measuredEndMs - measuredStartMs) / 1000, 1e-3),
    lateSends,
  };
}

/** A value of `bytes` bytes (printable, so a dump of the log stays readable). */
export function filledValue(bytes: number): Uint8Array {
  const value = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) value[i] = 97 + (i % 26);
  return value;
}

/** Throws when more than `deadlineMs` passed since `startMs`. */
export function checkDeadline(startMs: number, deadlineMs: number, what: string): void {
  if (performance.now() - startMs > deadlineMs) {
    throw new Error(`Benchmark deadline of ${deadlineMs} ms passed while ${what}`);
  }
}
