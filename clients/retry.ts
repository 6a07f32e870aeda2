/**
 * Retry timing for the producer: exponential backoff with jitter, as in
 * Kafka's KIP-580 (`retry.backoff.ms`, `retry.backoff.max.ms`):
 *
 * ```
 * backoff(attempt) = min(maxMs, baseMs · 2^(attempt − 1)) · (1 − J + 2J · random())   J = 0.2
 * ```
 *
 * clamped to `maxMs`, so attempt 1 waits about `baseMs` (±20 %), each next
 * attempt about twice as long, never more than `maxMs`. The jitter spreads
 * the retries of many producers that failed together. `random` is injected
 * (tests pass a constant), never `Math.random` inside the logic.
 * @module
 */

/** Fraction of the backoff that jitter may add or remove. */
export const RETRY_JITTER = 0.2;

/** Inputs of {@linkcode backoffMs}. */
export interface BackoffOptions {
  /** Wait before the first retry (`retry_backoff_ms`). */
  baseMs: number;
  /** Cap (`retry_backoff_max_ms`). */
  maxMs: number;
  /** Returns a number in [0, 1); defaults to Math.random. */
  random?: () => number;
  /** Jitter fraction; default {@linkcode RETRY_JITTER}. */
  jitter?: number;
}

/** Milliseconds to wait before retry number `attempt` (1 = the first retry). */
export function backoffMs(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs } = options;
  if (baseMs <= 0 || maxMs <= 0) return 0;
  const jitter = options.jitter ?? RETRY_JITTER;
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const term = Math.min(maxMs, baseMs * 2 ** exponent);
  const factor = 1 - jitter + 2 * jitter * Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.min(maxMs, Math.round(term * factor)));
}

/** The time source a producer uses; injected in tests. */
export interface ProducerClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: Date.now and setTimeout. */
export const SYSTEM_CLOCK: ProducerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
