/**
 * Small, pure helpers for the benchmark: percentiles of latency samples and
 * rates. Kept apart from `main.ts` so they can be unit-tested without a
 * cluster.
 * @module
 */

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

/**
 * The nearest-rank percentile `p` (0 < p ≤ 100) of `sorted`, which must be
 * sorted ascending and non-empty.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of no samples");
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  // p × n first: (p / 100) × n picks up rounding error (99.9 / 100 × 2000 = 1998.0000000000002).
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * p50/p90/p99/p99.9/max/mean of `samplesMs` (any order; the input is not
 * modified). Sorts a `Float64Array` copy, so a million samples take well
 * under a second.
 */
export function summarize(samplesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted[sorted.length - 1],
    meanMs: sum / sorted.length,
  };
}

/** A throughput figure: messages and payload bytes moved in `elapsedMs`. */
export interface Throughput {
  messages: number;
  payloadBytes: number;
  elapsedMs: number;
  messagesPerSec: number;
  /** Value bytes only (keys, headers and record overhead are not counted). */
  payloadMiBPerSec: number;
}

/** Rates for `messages` messages of `payloadBytes` total value bytes in `elapsedMs`. */
export function throughput(messages: number, payloadBytes: number, elapsedMs: number): Throughput {
  const seconds = Math.max(elapsedMs, 1e-3) / 1000;
  return {
    messages,
    payloadBytes,
    elapsedMs,
    messagesPerSec: messages / seconds,
    payloadMiBPerSec: payloadBytes / (1024 * 1024) / seconds,
  };
}

/** Formats an integer-ish rate with thousands separators: 123456.7 → "123,457". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Formats milliseconds with two decimals below 10 ms and one above. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** Throughput of repeated runs of one configuration. */
export interface RepeatedThroughput<T extends Throughput = Throughput> {
  runs: T[];
  /** The run with the median messages/s (the lower middle one for an even count). */
  median: T;
  messagesPerSecMin: number;
  messagesPerSecMax: number;
}

/** Summarizes repeated runs by their median messages/s; `runs` must not be empty. */
export function medianRun<T extends Throughput>(runs: readonly T[]): RepeatedThroughput<T> {
  if (runs.length === 0) throw new RangeError("median of no runs");
  const sorted = [...runs].sort((a, b) => a.messagesPerSec - b.messagesPerSec);
  return {
    runs: [...runs],
    median: sorted[Math.floor((sorted.length - 1) / 2)],
    messagesPerSecMin: sorted[0].messagesPerSec,
    messagesPerSecMax: sorted[sorted.length - 1].messagesPerSec,
  };
}
