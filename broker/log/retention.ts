/**
 * Retention and the broker's log upkeep. Each partition keeps data by age
 * (`retention.ms`) and size (`retention.bytes`) — the topic's configs, else
 * the broker's `retention_ms` / `retention_bytes`; −1 means unlimited. The
 * log deletes whole closed segments (memory: whole batches), oldest first,
 * never the active segment and never data at or above the high watermark,
 * and its log start offset moves up; fetches below it then get
 * OFFSET_OUT_OF_RANGE from the fetch handler.
 *
 * {@linkcode runLogMaintenance} is the background task a broker runs: every
 * tick it lets each log fsync if its `flush.ms` is due, and every
 * `retentionIntervalMs` (5 s) it applies retention. Clock and sleep are
 * injectable; {@linkcode applyRetentionAll} is the one pass, for tests.
 * @module
 */
import { sleep as realSleep } from "@kafka-analog/lib/async";
import { isKaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type { PartitionLog, RetentionPolicy } from "./partition_log.ts";

/** The broker's retention defaults (`broker.retention_ms`, `broker.retention_bytes`). */
export interface RetentionDefaults {
  retentionMs: number;
  retentionBytes: number;
}

/** A partition log the upkeep task looks after. */
export interface MaintainedLog {
  /** `topic-partition`, for log lines. */
  name: string;
  log: PartitionLog;
  /** The topic's configs. */
  configs: Record<string, string>;
  /** Only data below this may be deleted. */
  highWatermark: bigint;
}

/**
 * The retention policy of one partition now: topic configs over broker
 * defaults. A config that is not an integer ≥ −1 falls back to the default.
 */
export function retentionPolicyOf(
  configs: Record<string, string>,
  defaults: RetentionDefaults,
  at: { nowMs: number; maxOffset: bigint },
): RetentionPolicy {
  return {
    nowMs: at.nowMs,
    retentionMs: limitConfig(configs["retention.ms"], defaults.retentionMs),
    retentionBytes: limitConfig(configs["retention.bytes"], defaults.retentionBytes),
    maxOffset: at.maxOffset,
  };
}

function limitConfig(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= -1 ? n : fallback;
}

/**
 * Applies retention to every log once; logs what each deleted. A storage
 * error on one partition is logged and the others still run. Returns the
 * bytes deleted in all.
 */
export function applyRetentionAll(
  targets: Iterable<MaintainedLog>,
  options: { defaults: RetentionDefaults; nowMs: number; logger: Logger },
): number {
  let deletedBytes = 0;
  for (const target of targets) {
    const policy = retentionPolicyOf(target.configs, options.defaults, {
      nowMs: options.nowMs,
      maxOffset: target.highWatermark,
    });
    if (policy.retentionMs < 0 && policy.retentionBytes < 0) continue;
    try {
      const result = target.log.applyRetention(policy);
      if (result.deletedUnits === 0) continue;
      deletedBytes += result.deletedBytes;
      options.logger.info("retention deleted old data", {
        partition: target.name,
        deletedBytes: result.deletedBytes,
        deletedUnits: result.deletedUnits,
        logStartOffset: result.logStartOffset,
      });
    } catch (err) {
      if (!isKaError(err)) throw err;
      options.logger.error("retention failed", { partition: target.name, reason: err.message });
    }
  }
  return deletedBytes;
}

/** Options for {@linkcode runLogMaintenance}. */
export interface LogMaintenanceOptions {
  /** The logs to look after now (asked afresh every tick). */
  targets: () => Iterable<MaintainedLog>;
  defaults: RetentionDefaults;
  logger: Logger;
  /** Stops the task. */
  signal: AbortSignal;
  /** Default `Date.now`. */
  now?: () => number;
  /** How often retention runs; default 5000 ms. */
  retentionIntervalMs?: number;
  /** How often `flush.ms` is checked (one tick); default 1000 ms. */
  tickMs?: number;
  /** Default: a timer that `signal` cuts short. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The broker's background log upkeep: flushes logs whose `flush.ms` is due
 * every tick and applies retention every `retentionIntervalMs` (at once on
 * start, then periodically). Resolves when `signal` aborts.
 */
export async function runLogMaintenance(options: LogMaintenanceOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const retentionIntervalMs = options.retentionIntervalMs ?? 5000;
  const tickMs = options.tickMs ?? 1000;
  let lastRetentionMs = Number.NEGATIVE_INFINITY;
  while (!options.signal.aborted) {
    const nowMs = now();
    for (const target of options.targets()) {
      try {
        target.log.flush(nowMs);
      } catch (err) {
        if (!isKaError(err)) throw err;
        options.logger.error("flush failed", { partition: target.name, reason: err.message });
      }
    }
    if (nowMs - lastRetentionMs >= retentionIntervalMs) {
      lastRetentionMs = nowMs;
      applyRetentionAll(options.targets(), {
        defaults: options.defaults,
        nowMs,
        logger: options.logger,
      });
    }
    await sleep(tickMs, options.signal);
  }
}
