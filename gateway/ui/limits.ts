/**
 * The dashboard's maxima (next to the gateways' own in `../shared/limits.ts`):
 * how often and how much the throughput sampler asks the cluster, how much
 * history it keeps, how many live streams it serves and how much of a
 * message the browser shows. Every one bounds a queue, a loop or a buffer.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";

/** How often the throughput sampler reads end and committed offsets while someone watches. */
export const DASHBOARD_SAMPLE_INTERVAL_MS = 2_000;
/** Samples kept for the charts: 150 × 2 s = the last 5 minutes. */
export const DASHBOARD_HISTORY_SAMPLES_MAX = 150;
/** Live streams (`GET /api/v1/dashboard/stream`) served at once; the next one gets 429. */
export const DASHBOARD_STREAMS_MAX = 16;
/** Topics the sampler reads end offsets of (the first ones by name). */
export const DASHBOARD_SAMPLED_TOPICS_MAX = 50;
/** Groups the sampler describes for consume rates and lag (the first ones by name). */
export const DASHBOARD_SAMPLED_GROUPS_MAX = 20;
/** Messages the message browser shows at most (`limit`). */
export const DASHBOARD_BROWSE_MESSAGES_MAX = 100;
/** Fetches one message-browser request makes at most (a fetch may return fewer messages). */
export const DASHBOARD_BROWSE_FETCHES_MAX = 10;
/** Bytes of one key or value the browser shows (hex or text); the rest is cut. */
export const DASHBOARD_PREVIEW_BYTES_MAX = 4_096;
/** Longest a read-only console command (status, describe, list) may take. */
export const DASHBOARD_CONSOLE_READ_TIMEOUT_MS = 10_000;
/** Longest an action (stop, start, restart, create, delete) may take: restarts wait for the process (below the gateway's 60 s request timeout). */
export const DASHBOARD_CONSOLE_ACTION_TIMEOUT_MS = 45_000;
/** Bytes a stream's client may fall behind (queued events) before it is dropped. */
export const DASHBOARD_STREAM_QUEUED_BYTES_MAX = 1024 * 1024;

assert(
  DASHBOARD_CONSOLE_READ_TIMEOUT_MS <= DASHBOARD_CONSOLE_ACTION_TIMEOUT_MS,
  "reads must not wait longer than actions",
);
assert(
  DASHBOARD_SAMPLE_INTERVAL_MS * DASHBOARD_HISTORY_SAMPLES_MAX >= 60_000,
  "the charts must cover at least a minute",
);
assert(
  DASHBOARD_BROWSE_FETCHES_MAX >= 1 && DASHBOARD_BROWSE_MESSAGES_MAX >= 1,
  "the browser must read something",
);
