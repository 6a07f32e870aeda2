/**
 * The web dashboard on the writer gateway:
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /ui`, `GET /ui/app.js`, `GET /ui/style.css` | the page (open: it holds no data) |
 * | `GET /api/v1/dashboard/cluster` | `{services, brokers}` (console `status`, `broker list`) |
 * | `POST /api/v1/dashboard/services/:service/:action` | console `broker N stop`, `producer restart`, ... |
 * | `GET`/`POST /api/v1/dashboard/topics` | console `topic list` / `topic create` |
 * | `GET`/`DELETE /api/v1/dashboard/topics/:name` | console `topic describe` + log start/end offsets / `topic delete` |
 * | `GET /api/v1/dashboard/topics/:name/partitions/:partition/messages` | the latest `limit` messages, newest first |
 * | `GET /api/v1/dashboard/groups`, `GET .../groups/:name` | console `group list` / `group describe` |
 * | `GET /api/v1/dashboard/stream` | server-sent events: `history`, then a `sample` every 2 s |
 *
 * Cluster state and actions come from the coordinator console (see
 * `console_source.ts`); log start/end offsets and messages from the brokers
 * through the gateway's cluster client (ListOffsets, Fetch), like every
 * other gateway route. The `/api/*` routes sit behind the gateway's bearer
 * auth like the rest of the API.
 * @module
 */
import type { Hono } from "hono";
import { z } from "zod";
import { KaError } from "@kafka-analog/lib/errors";
import { withTimeout } from "@kafka-analog/lib/async";
import type { Logger } from "@kafka-analog/lib/log";
import { BROKERS_MAX, GATEWAY_BODY_BYTES_MAX, PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import type { GatewayCluster } from "../shared/cluster.ts";
import { invalidParam } from "../shared/errors.ts";
import { avroToJson, offsetToJson } from "../shared/payload.ts";
import {
  intParam,
  intPathParam,
  parseBody,
  parseParam,
  parseQuery,
  topicName,
} from "../shared/schemas.ts";
import { readJsonBody } from "../shared/validate.ts";
import { GROUP_ID_LENGTH_MAX } from "../shared/limits.ts";
import { PAGE_HTML } from "./assets/page.ts";
import { APP_JS } from "./assets/app_js.ts";
import { STYLE_CSS } from "./assets/style_css.ts";
import {
  ConsoleSource,
  type ConsoleTransport,
  type GroupDescription,
  type ServiceAction,
  type ServiceTarget,
  type TopicListing,
} from "./console_source.ts";
import { type PayloadView, viewPayload, viewValue } from "./format.ts";
import {
  DASHBOARD_BROWSE_FETCHES_MAX,
  DASHBOARD_BROWSE_MESSAGES_MAX,
  DASHBOARD_CONSOLE_ACTION_TIMEOUT_MS,
  DASHBOARD_CONSOLE_READ_TIMEOUT_MS,
  DASHBOARD_HISTORY_SAMPLES_MAX,
  DASHBOARD_PREVIEW_BYTES_MAX,
  DASHBOARD_SAMPLE_INTERVAL_MS,
  DASHBOARD_SAMPLED_GROUPS_MAX,
  DASHBOARD_SAMPLED_TOPICS_MAX,
  DASHBOARD_STREAM_QUEUED_BYTES_MAX,
  DASHBOARD_STREAMS_MAX,
} from "./limits.ts";
import {
  committedKey,
  type OffsetSample,
  partitionKey,
  type Scheduler,
  type ThroughputPoint,
  ThroughputSampler,
} from "./throughput.ts";

/** How long one partition's offsets may take (topic page, sampler) before they count as missing. */
const OFFSETS_WAIT_MS = 3_000;

/** Options of {@linkcode createDashboard}. */
export interface DashboardOptions {
  /** How to reach the coordinator console; null answers every data route 503. */
  console: ConsoleTransport | null;
  logger?: Logger;
  /** Wall-clock milliseconds for samples; defaults to `Date.now`. */
  clock?: () => number;
  /** Sampling interval; defaults to `DASHBOARD_SAMPLE_INTERVAL_MS`. */
  sampleIntervalMs?: number;
  /** Defaults to `setTimeout`. */
  schedule?: Scheduler;
  /** Live streams at once (429 beyond); defaults to `DASHBOARD_STREAMS_MAX`. */
  streamsMax?: number;
}

/** The dashboard's state: its console source, sampler and open streams. */
export interface Dashboard {
  readonly source: ConsoleSource;
  readonly sampler: ThroughputSampler;
  /** Live streams now open. */
  readonly streamCount: number;
  /** Ends every stream and stops sampling (gateway shutdown). */
  close(): void;
}

interface DashboardState extends Dashboard {
  /** Set by `close()`: no new stream is opened after it. */
  readonly closed: boolean;
  readonly cluster: GatewayCluster;
  readonly streams: Set<() => void>;
  readonly streamsMax: number;
  readonly sampleIntervalMs: number;
}

/** The dashboard of `cluster`, asking the console through `options.console`. */
export function createDashboard(cluster: GatewayCluster, options: DashboardOptions): Dashboard {
  const source = new ConsoleSource(options.console, {
    readTimeoutMs: DASHBOARD_CONSOLE_READ_TIMEOUT_MS,
    actionTimeoutMs: DASHBOARD_CONSOLE_ACTION_TIMEOUT_MS,
  });
  const clock = options.clock ?? Date.now;
  const streams = new Set<() => void>();
  let closed = false;
  const sampleIntervalMs = options.sampleIntervalMs ?? DASHBOARD_SAMPLE_INTERVAL_MS;
  const sampler = new ThroughputSampler({
    sample: () => sampleOffsets(cluster, source, clock),
    intervalMs: sampleIntervalMs,
    historyMax: DASHBOARD_HISTORY_SAMPLES_MAX,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    onError: (err) => options.logger?.warn("dashboard sample failed", { error: err }),
  });
  const state: DashboardState = {
    source,
    sampler,
    cluster,
    streams,
    streamsMax: options.streamsMax ?? DASHBOARD_STREAMS_MAX,
    sampleIntervalMs,
    get streamCount() {
      return streams.size;
    },
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      for (const end of [...streams]) end();
      sampler.close();
    },
  };
  return state;
}

/**
 * A partition's log start and end offsets, or REQUEST_TIMED_OUT after
 * `OFFSETS_WAIT_MS`: a partition without a leader must not hold up a page or a sample.
 */
function offsetsWithin(
  cluster: GatewayCluster,
  topic: string,
  partition: number,
): Promise<{ earliest: bigint; latest: bigint }> {
  return withTimeout(
    cluster.listOffsets(topic, partition),
    OFFSETS_WAIT_MS,
    () => KaError.of("REQUEST_TIMED_OUT", `No answer in ${OFFSETS_WAIT_MS} ms`),
  );
}

/** Reads every sampled partition's end offset and every sampled group's commits and lag. */
async function sampleOffsets(
  cluster: GatewayCluster,
  source: ConsoleSource,
  clock: () => number,
): Promise<OffsetSample> {
  const startMs = clock();
  const [topics, groups] = await Promise.all([source.topics(), source.groups()]);
  const endOffsets = new Map<string, number>();
  const sampledTopics = [...topics].sort(byName).slice(0, DASHBOARD_SAMPLED_TOPICS_MAX);
  for (const topic of sampledTopics) {
    const ends = await Promise.allSettled(
      // A partition without a leader must not hold up the whole sample.
      Array.from(
        { length: topic.partitions },
        (_, p) => offsetsWithin(cluster, topic.name, p),
      ),
    );
    ends.forEach((end, p) => {
      if (end.status === "fulfilled") {
        endOffsets.set(partitionKey(topic.name, p), Number(end.value.latest));
      }
    });
  }
  const committedOffsets = new Map<string, number>();
  const groupLags = new Map<string, number>();
  const sampledGroups = groups.map((g) => g.group).sort().slice(0, DASHBOARD_SAMPLED_GROUPS_MAX);
  // One console connection at a time: the console serves CONSOLE_CONNECTIONS_MAX at once.
  for (const name of sampledGroups) {
    let group: GroupDescription;
    try {
      group = await source.group(name);
    } catch {
      continue; // deleted meanwhile, or the console is busy: left out of this sample
    }
    let lag = 0;
    for (const o of group.offsets) {
      if (o.committed !== null) {
        committedOffsets.set(committedKey(group.group, o.topic, o.partition), o.committed);
      }
      lag += o.lag ?? 0;
    }
    groupLags.set(group.group, lag);
  }
  // The offsets were read over [startMs, now]: date them in the middle.
  return { atMs: Math.round((startMs + clock()) / 2), endOffsets, committedOffsets, groupLags };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const ACTIONS = ["stop", "start", "restart"] as const;

/** `broker-N`, `producer` or `consumer`; a 400 naming `service` otherwise. */
export function parseServiceTarget(raw: string): ServiceTarget {
  if (raw === "producer" || raw === "consumer") return { kind: raw };
  const m = /^broker-([0-9]{1,5})$/.exec(raw);
  if (m !== null && Number(m[1]) < BROKERS_MAX) return { kind: "broker", id: Number(m[1]) };
  throw invalidParam("service", `must be broker-N (N < ${BROKERS_MAX}), producer or consumer`);
}

const groupName = z.string().min(1, { error: "must not be empty" }).max(GROUP_ID_LENGTH_MAX, {
  error: `must be at most ${GROUP_ID_LENGTH_MAX} characters`,
});

/** Replication factors the console accepts. */
const replicationFactor = z.int({ error: "must be an integer" }).min(1).max(BROKERS_MAX);

/** `POST /api/v1/dashboard/topics`. */
export const dashboardTopicBody = z.strictObject({
  name: topicName,
  partitions: z.int({ error: "must be an integer" }).min(1).max(PARTITIONS_MAX).optional(),
  replicationFactor: replicationFactor.optional(),
  /** retention.ms: -1 keeps messages forever. */
  retentionMs: z.int({ error: "must be an integer" }).min(-1).max(Number.MAX_SAFE_INTEGER)
    .optional(),
});

const messagesQuery = z.object({
  limit: intParam(1, DASHBOARD_BROWSE_MESSAGES_MAX, 20),
});

/** A partition of `topic describe` with its log start and end offsets. */
interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
  logStartOffset: number | string | null;
  logEndOffset: number | string | null;
  /** Why the offsets are null (no leader, timed out). */
  offsetsError?: string;
}

async function topicWithOffsets(
  cluster: GatewayCluster,
  topic: TopicListing,
): Promise<{ name: string; configs: Record<string, string>; partitions: PartitionState[] }> {
  const partitions = await Promise.all(topic.partitions.map(async (p) => {
    const state: PartitionState = {
      partition: p.partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      leaderEpoch: p.leaderEpoch,
      logStartOffset: null,
      logEndOffset: null,
    };
    try {
      const { earliest, latest } = await offsetsWithin(cluster, topic.name, p.partition);
      state.logStartOffset = offsetToJson(earliest);
      state.logEndOffset = offsetToJson(latest);
    } catch (err) {
      state.offsetsError = err instanceof KaError ? err.errorName : String(err);
    }
    return state;
  }));
  return { name: topic.name, configs: topic.configs, partitions };
}

/** One message as the browser shows it. */
interface BrowsedMessage {
  offset: number | string;
  timestamp: number;
  key: PayloadView;
  value: PayloadView;
  headers: { key: string; value: PayloadView }[];
}

/** The latest `limit` messages of a partition, newest first. */
async function latestMessages(
  cluster: GatewayCluster,
  topic: string,
  partition: number,
  limit: number,
): Promise<{ logStartOffset: bigint; logEndOffset: bigint; messages: BrowsedMessage[] }> {
  const { earliest, latest } = await cluster.listOffsets(topic, partition);
  let offset = latest - BigInt(limit) > earliest ? latest - BigInt(limit) : earliest;
  const read: BrowsedMessage[] = [];
  const preview = { previewBytesMax: DASHBOARD_PREVIEW_BYTES_MAX };
  const decodeAvro = async (bytes: Uint8Array) => avroToJson(await cluster.decodeAvro(bytes));
  for (let i = 0; i < DASHBOARD_BROWSE_FETCHES_MAX && offset < latest && read.length < limit; i++) {
    const { messages } = await cluster.fetch(topic, partition, offset, {
      maxMessages: limit - read.length,
      maxWaitMs: 0,
    });
    if (messages.length === 0) break;
    for (const m of messages) {
      if (m.offset >= latest) break;
      read.push({
        offset: offsetToJson(m.offset),
        timestamp: m.timestamp,
        key: viewPayload(m.key, preview),
        value: await viewValue(m.value, { ...preview, decodeAvro }),
        headers: m.headers.map((h) => ({ key: h.key, value: viewPayload(h.value, preview) })),
      });
    }
    offset = messages[messages.length - 1].offset + 1n;
  }
  return { logStartOffset: earliest, logEndOffset: latest, messages: read.reverse() };
}

/** One server-sent event. */
function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Adds the dashboard's routes to the writer gateway's `app`. */
export function mountDashboard(app: Hono, dashboard: Dashboard): void {
  const state = dashboard as DashboardState;
  const { source, cluster, sampler } = state;

  app.get("/ui", (c) => c.html(PAGE_HTML, 200, securityHeaders()));
  app.get("/ui/app.js", (c) =>
    c.body(APP_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      ...securityHeaders(),
    }));
  app.get(
    "/ui/style.css",
    (c) =>
      c.body(STYLE_CSS, 200, { "content-type": "text/css; charset=utf-8", ...securityHeaders() }),
  );

  app.get("/api/v1/dashboard/cluster", async (c) => {
    const [services, brokers] = await Promise.all([source.status(), source.brokers()]);
    return c.json({ services, brokers });
  });

  app.post("/api/v1/dashboard/services/:service/:action", async (c) => {
    const target = parseServiceTarget(c.req.param("service"));
    const action = parseParam(
      z.enum(ACTIONS, { error: "must be one of stop, start, restart" }),
      "action",
      c.req.param("action"),
    ) as ServiceAction;
    return c.json(await source.act(target, action));
  });

  app.get("/api/v1/dashboard/topics", async (c) => {
    return c.json({ topics: [...await source.topics()].sort(byName) });
  });

  app.post("/api/v1/dashboard/topics", async (c) => {
    const body = parseBody(
      dashboardTopicBody,
      await readJsonBody(c.req.raw, GATEWAY_BODY_BYTES_MAX),
    );
    const topic = await source.createTopic(body);
    c.header("Location", `/api/v1/dashboard/topics/${encodeURIComponent(topic.name)}`);
    return c.json({ topic }, 201);
  });

  app.get("/api/v1/dashboard/topics/:name", async (c) => {
    const name = parseParam(topicName, "name", c.req.param("name"));
    return c.json(await topicWithOffsets(cluster, await source.topic(name)));
  });

  app.delete("/api/v1/dashboard/topics/:name", async (c) => {
    const name = parseParam(topicName, "name", c.req.param("name"));
    await source.deleteTopic(name);
    return c.body(null, 204);
  });

  app.get("/api/v1/dashboard/topics/:name/partitions/:partition/messages", async (c) => {
    const name = parseParam(topicName, "name", c.req.param("name"));
    const partition = parseParam(
      intPathParam(0, PARTITIONS_MAX - 1),
      "partition",
      c.req.param("partition"),
    );
    const { limit } = parseQuery(messagesQuery, c.req.query());
    const result = await latestMessages(cluster, name, partition, limit);
    return c.json({
      topic: name,
      partition,
      logStartOffset: offsetToJson(result.logStartOffset),
      logEndOffset: offsetToJson(result.logEndOffset),
      messages: result.messages,
    });
  });

  app.get("/api/v1/dashboard/groups", async (c) => {
    return c.json({ groups: await source.groups() });
  });

  app.get("/api/v1/dashboard/groups/:name", async (c) => {
    const name = parseParam(groupName, "name", c.req.param("name"));
    return c.json(await source.group(name));
  });

  app.get("/api/v1/dashboard/stream", () => {
    // After close() the sampler is stopped: a new stream would never send nor end.
    if (state.closed) {
      throw KaError.of("COORDINATOR_NOT_AVAILABLE", "The dashboard is shutting down");
    }
    if (state.streams.size >= state.streamsMax) {
      throw KaError.of(
        "THROTTLING_QUOTA_EXCEEDED",
        `At most ${state.streamsMax} dashboard streams at once`,
      );
    }
    const encoder = new TextEncoder();
    let end = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let queuedBytes = 0;
        let unsubscribe = () => {};
        end = () => {
          unsubscribe();
          state.streams.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed or cancelled.
          }
        };
        const send = (event: string, data: unknown) => {
          const chunk = encoder.encode(sseEvent(event, data));
          queuedBytes = (controller.desiredSize ?? 0) < 0 ? queuedBytes + chunk.length : 0;
          // A client that stopped reading is dropped rather than buffered for.
          if (queuedBytes > DASHBOARD_STREAM_QUEUED_BYTES_MAX) return end();
          controller.enqueue(chunk);
        };
        state.streams.add(end);
        send("history", { intervalMs: state.sampleIntervalMs, points: sampler.history() });
        unsubscribe = sampler.subscribe((point: ThroughputPoint) => send("sample", point));
      },
      cancel() {
        end();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  });
}

/** The page loads only its own script and style: nothing from elsewhere can run. */
function securityHeaders(): Record<string, string> {
  return {
    "content-security-policy":
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
      "connect-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}
