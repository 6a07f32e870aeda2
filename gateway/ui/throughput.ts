/**
 * Live throughput for the dashboard, derived from offsets the console and the
 * brokers already report (no counters of its own):
 *
 * - **produced messages/s** of a topic = how fast its partitions' end offsets
 *   (high watermarks, from ListOffsets) grow;
 * - **consumed messages/s** of a topic = how fast the offsets consumer groups
 *   commit for it grow (from `group describe`, summed over groups), so it
 *   counts consumers that commit, in a group;
 * - **lag** of a group = the sum of its partitions' lag from `group describe`.
 *
 * {@linkcode ratesBetween} turns two {@linkcode OffsetSample}s into one
 * {@linkcode ThroughputPoint} (pure). A {@linkcode ThroughputSampler} takes a
 * sample every interval while at least one listener is subscribed, keeps the
 * last points, and hands each new point to its listeners.
 * @module
 */

/** Offsets read at one instant. Keys: `topic/partition` and `group/topic/partition` (NUL-separated). */
export interface OffsetSample {
  atMs: number;
  /** End offset (high watermark) by topic and partition; a partition that did not answer is absent. */
  endOffsets: Map<string, number>;
  /** Committed offset by group, topic and partition; absent where nothing is committed. */
  committedOffsets: Map<string, number>;
  /** Total lag of each sampled group (partitions without a commit do not count). */
  groupLags: Map<string, number>;
}

/** One topic's rates in a {@linkcode ThroughputPoint}. */
export interface TopicRate {
  topic: string;
  producedPerSec: number;
  consumedPerSec: number;
}

/** What the charts plot at one instant. */
export interface ThroughputPoint {
  atMs: number;
  topics: TopicRate[];
  groups: { group: string; lag: number }[];
}

const SEPARATOR = "\u0000";

/** The key of a partition in {@linkcode OffsetSample.endOffsets}. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}${SEPARATOR}${partition}`;
}

/** The key of a group's partition in {@linkcode OffsetSample.committedOffsets}. */
export function committedKey(group: string, topic: string, partition: number): string {
  return `${group}${SEPARATOR}${topic}${SEPARATOR}${partition}`;
}

/** The topic part of a key made by {@linkcode partitionKey} or {@linkcode committedKey}. */
function topicOfKey(key: string, group: boolean): string {
  const parts = key.split(SEPARATOR);
  return parts[group ? 1 : 0];
}

/**
 * Sums, per topic, how much each key grew from `before` to `after`. A key
 * missing on either side adds nothing (a partition without a leader for a
 * moment, a first commit); a key that went down (a reset, a re-created topic)
 * adds nothing either.
 */
function growthByTopic(
  before: Map<string, number>,
  after: Map<string, number>,
  group: boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of after) {
    const previous = before.get(key);
    if (previous === undefined || value <= previous) continue;
    const topic = topicOfKey(key, group);
    out.set(topic, (out.get(topic) ?? 0) + (value - previous));
  }
  return out;
}

/** Messages per second, rounded to 0.01; 0 for a non-positive interval. */
function perSecond(count: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  return Math.round((count * 1000 / elapsedMs) * 100) / 100;
}

/**
 * The rates between two samples, per topic of `after` (sorted by name), and
 * each group's lag at `after`.
 */
export function ratesBetween(before: OffsetSample, after: OffsetSample): ThroughputPoint {
  const elapsedMs = after.atMs - before.atMs;
  const produced = growthByTopic(before.endOffsets, after.endOffsets, false);
  const consumed = growthByTopic(before.committedOffsets, after.committedOffsets, true);
  const topics = new Set<string>();
  for (const key of after.endOffsets.keys()) topics.add(topicOfKey(key, false));
  for (const topic of consumed.keys()) topics.add(topic);
  return {
    atMs: after.atMs,
    topics: [...topics].sort().map((topic) => ({
      topic,
      producedPerSec: perSecond(produced.get(topic) ?? 0, elapsedMs),
      consumedPerSec: perSecond(consumed.get(topic) ?? 0, elapsedMs),
    })),
    groups: [...after.groupLags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([group, lag]) => ({ group, lag })),
  };
}

/** Runs `fn` after `delayMs`; returns a function that cancels it. */
export type Scheduler = (fn: () => void, delayMs: number) => () => void;

function defaultScheduler(fn: () => void, delayMs: number): () => void {
  const id = setTimeout(fn, delayMs);
  return () => clearTimeout(id);
}

/** Options of {@linkcode ThroughputSampler}. */
export interface ThroughputSamplerOptions {
  /** Reads the offsets now; a rejection skips that sample (reported to `onError`). */
  sample: () => Promise<OffsetSample>;
  intervalMs: number;
  /** Points kept; the oldest go first. */
  historyMax: number;
  /** Defaults to `setTimeout`. */
  schedule?: Scheduler;
  onError?: (err: unknown) => void;
}

/**
 * Samples offsets every `intervalMs` while someone listens (the first
 * listener starts it, the last one leaving stops it) and keeps the last
 * `historyMax` points. One sample at a time: the next is scheduled when the
 * previous one finished.
 */
export class ThroughputSampler {
  readonly #options: ThroughputSamplerOptions;
  readonly #schedule: Scheduler;
  readonly #listeners = new Set<(point: ThroughputPoint) => void>();
  #points: ThroughputPoint[] = [];
  #previous: OffsetSample | null = null;
  #cancel: (() => void) | null = null;
  #running = false;
  #closed = false;

  /** A sampler that has not started yet. */
  constructor(options: ThroughputSamplerOptions) {
    this.#options = options;
    this.#schedule = options.schedule ?? defaultScheduler;
  }

  /** The points kept, oldest first. */
  history(): ThroughputPoint[] {
    return [...this.#points];
  }

  /** Listeners now subscribed. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` with every new point until the returned function is called. */
  subscribe(listener: (point: ThroughputPoint) => void): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    if (!this.#running) {
      this.#running = true;
      // A gap since the last sample would average over time nobody watched: start afresh.
      this.#previous = null;
      this.#cancel = this.#schedule(() => void this.tick(), 0);
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** Takes one sample, adds a point when there is a previous sample, and schedules the next. */
  async tick(): Promise<void> {
    // Called by hand (tests) while one is scheduled: this one replaces it.
    this.#cancel?.();
    this.#cancel = null;
    if (!this.#running) return;
    try {
      const sample = await this.#options.sample();
      if (this.#previous !== null && sample.atMs > this.#previous.atMs) {
        const point = ratesBetween(this.#previous, sample);
        this.#points.push(point);
        if (this.#points.length > this.#options.historyMax) {
          this.#points.splice(0, this.#points.length - this.#options.historyMax);
        }
        for (const listener of [...this.#listeners]) listener(point);
      }
      this.#previous = sample;
    } catch (err) {
      this.#options.onError?.(err);
    }
    if (this.#running && this.#cancel === null) {
      this.#cancel = this.#schedule(() => void this.tick(), this.#options.intervalMs);
    }
  }

  /** Stops sampling for good and drops every listener. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#stop();
  }

  #stop(): void {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = null;
  }
}
