/**
 * The reader gateway ("consumer service", port 3002): consume over HTTP and
 * WebSocket, look at and reset a group's offsets.
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /health`, `GET /metrics` | cluster status; Prometheus text |
 * | `POST /api/v1/subscriptions` | 201 `{id, group, topics, ...}` |
 * | `GET /api/v1/subscriptions/:id` | 200 the subscription, with its assignment |
 * | `GET /api/v1/subscriptions/:id/messages?max=&timeoutMs=` | 200 `[{topic, partition, offset, key, value, headers, timestamp}]` |
 * | `POST /api/v1/subscriptions/:id/commit` | 200 `{committed: [{topic, partition, offset}]}` |
 * | `DELETE /api/v1/subscriptions/:id` | 204 (leaves the group) |
 * | `GET /api/v1/offsets?group=&topic=` | 200 `{group, topic, partitions: [{partition, committed, end, lag}]}` |
 * | `POST /api/v1/offsets/reset` | 200 `{group, topic, partitions: [{partition, offset}]}` |
 * | `GET /api/v1/stream?topic=&group=&from=&format=` | 101 WebSocket, one JSON frame per message |
 * | `GET /api/v1/topics/:topic/partitions/:partition/messages` | 200 `{messages, nextOffset, highWatermark}` |
 * | `GET /api/v1/topics/:topic/partitions/:partition/offsets` | 200 `{earliest, latest}` |
 *
 * Subscriptions are described in `subscriptions.ts`, streams in `stream.ts`,
 * message formats in `format.ts`. `isolation: read_committed` reads only
 * records of committed transactions (below the last stable offset).
 * @module
 */
import type { Hono } from "hono";
import { KaError } from "@kafka-analog/lib/errors";
import { GATEWAY_FETCH_BYTES_MAX, PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import type { GatewayCluster, MessageSource, PartitionOffset } from "../shared/cluster.ts";
import { GatewayError } from "../shared/errors.ts";
import { createBaseApp, type GatewayAppOptions } from "../shared/http.ts";
import { GATEWAY_STREAMS_MAX } from "../shared/limits.ts";
import { offsetToJson } from "../shared/payload.ts";
import { intPathParam, parseBody, parseParam, parseQuery, topicName } from "../shared/schemas.ts";
import { readJsonBody } from "../shared/validate.ts";
import { BufferedConsumer } from "./buffered_consumer.ts";
import { formatMessage, formatMessages } from "./format.ts";
import {
  commitBody,
  offsetsQuery,
  partitionReadQuery,
  pollQuery,
  resetBody,
  streamQuery,
  subscriptionBody,
} from "./schemas.ts";
import { StreamSession } from "./stream.ts";
import { SubscriptionRegistry } from "./subscriptions.ts";

/** Options for {@linkcode createReaderApp}. */
export interface ReaderAppOptions extends GatewayAppOptions {
  /** Idle time after which a subscription expires. Default 300000 ms. */
  subscriptionIdleMs?: number;
  /** Subscriptions at once (429 beyond). */
  subscriptionsMax?: number;
  /** Streams at once (429 beyond). Defaults to `GATEWAY_STREAMS_MAX`. */
  streamsMax?: number;
  /** Buffered bytes per subscription or stream consumer before it pauses. */
  consumerBufferBytesMax?: number;
  /** Socket bytes queued above which a stream stops sending. */
  wsBufferedBytesMax?: number;
  /** Longest a stream's socket may stay over that bound before it is closed. Default 30000 ms. */
  wsStallTimeoutMs?: number;
  /** Milliseconds for subscription expiry; defaults to `Date.now`. */
  clock?: () => number;
}

/** The reader gateway: its app, and what its process must sweep and close. */
export interface ReaderGateway {
  app: Hono;
  /** The subscriptions (for `sweep`, and tests). */
  subscriptions: SubscriptionRegistry;
  /** Streams open now. */
  streamCount(): number;
  /** Closes idle subscriptions; `main_reader.ts` calls it every second. */
  sweep(): Promise<number>;
  /** Ends every stream and subscription (shutdown). */
  close(): Promise<void>;
}

" ";
"use read_uncommitted (with no transactions, it reads the same committed data)";

/** Builds the reader gateway on `cluster`. */
export function createReaderApp(
  cluster: GatewayCluster,
  options: ReaderAppOptions = {},
): ReaderGateway {
  const { app, logger, metrics } = createBaseApp("gateway-reader", cluster, options, {
    allowQueryToken: (path) => path === "/api/v1/stream",
  });
  const subscriptions = new SubscriptionRegistry(cluster, {
    logger,
    ...(options.subscriptionIdleMs === undefined ? {} : { idleMs: options.subscriptionIdleMs }),
    ...(options.subscriptionsMax === undefined
      ? {}
      : { subscriptionsMax: options.subscriptionsMax }),
    ...(options.consumerBufferBytesMax === undefined
      ? {}
      : { bufferBytesMax: options.consumerBufferBytesMax }),
    ...(options.clock === undefined ? {} : { now: options.clock }),
  });
  const streams = new Set<StreamSession>();
  const streamsMax = options.streamsMax ?? GATEWAY_STREAMS_MAX;
  let closing = false;
  metrics.registry.gauge(
    "gateway_subscriptions",
    "Subscriptions open now.",
    () => subscriptions.size,
  );
  metrics.registry.gauge("gateway_streams", "WebSocket streams open now.", () => streams.size);
  const streamsEnded = metrics.registry.counter(
    "gateway_streams_ended_total",
    "WebSocket streams ended, by reason.",
  );

  app.post("/api/v1/subscriptions", async (c) => {
    const body = parseBody(subscriptionBody, await readJsonBody(c.req.raw, 64 * 1024));
    const view = await subscriptions.create({
      group: body.group,
      topics: [...new Set(body.topics)],
      from: body.from ?? "latest",
      isolation: body.isolation ?? "read_uncommitted",
      autoCommit: body.autoCommit ?? true,
      format: body.format ?? "json",
    });
    c.header("Location", `/api/v1/subscriptions/${view.id}`);
    return c.json(view, 201);
  });

  app.get("/api/v1/subscriptions/:id", async (c) => {
    return c.json(await subscriptions.describe(c.req.param("id")));
  });

  app.get("/api/v1/subscriptions/:id/messages", async (c) => {
    const query = parseQuery(pollQuery, c.req.query());
    const { messages, format } = await subscriptions.poll(c.req.param("id"), {
      max: query.max,
      timeoutMs: query.timeoutMs,
      maxBytes: GATEWAY_FETCH_BYTES_MAX,
    });
    if (messages.length > 0) metrics.consumed.inc({ path: "subscription" }, messages.length);
    return c.json(await formatMessages(cluster, messages, format));
  });

  app.post("/api/v1/subscriptions/:id/commit", async (c) => {
    const raw = await readJsonBody(c.req.raw, 256 * 1024, { optional: true });
    const offsets = raw === undefined ? undefined : parseBody(commitBody, raw).offsets;
    const committed = await subscriptions.commit(c.req.param("id"), offsets);
    return c.json({ committed: committed.map(offsetJson) });
  });

  app.delete("/api/v1/subscriptions/:id", async (c) => {
    await subscriptions.delete(c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/api/v1/offsets", async (c) => {
    const { group, topic } = parseQuery(offsetsQuery, c.req.query());
    const partitions = (await cluster.describeTopic(topic)).partitions.length;
    const [committed, ends] = await Promise.all([
      cluster.committedOffsets(group, topic, partitions),
      Promise.all(
        Array.from({ length: partitions }, (_, p) => cluster.listOffsets(topic, p)),
      ),
    ]);
    return c.json({
      group,
      topic,
      partitions: committed.map((offset, partition) => {
        const end = ends[partition].latest;
        return {
          partition,
          committed: offset === null ? null : offsetToJson(offset),
          end: offsetToJson(end),
          lag: offset === null ? null : offsetToJson(end > offset ? end - offset : 0n),
        };
      }),
    });
  });

  app.post("/api/v1/offsets/reset", async (c) => {
    const body = parseBody(resetBody, await readJsonBody(c.req.raw, 64 * 1024));
    const partitions = (await cluster.describeTopic(body.topic)).partitions.length;
    const bounds = await Promise.all(
      Array.from({ length: partitions }, (_, p) => cluster.listOffsets(body.topic, p)),
    );
    const offsets: PartitionOffset[] = bounds.map(({ earliest, latest }, partition) => {
      const to = body.to;
      // A number outside a partition's log is clamped into it, as Kafka's reset tool does.
      const offset = to === "earliest"
        ? earliest
        : to === "latest"
        ? latest
        : to < earliest
        ? earliest
        : to > latest
        ? latest
        : to;
      return { topic: body.topic, partition, offset };
    });
    await cluster.commitOffsets(body.group, offsets);
    return c.json({
      group: body.group,
      topic: body.topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: offsetToJson(o.offset) })),
    });
  });

  app.get("/api/v1/stream", async (c) => {
    const query = parseQuery(streamQuery, c.req.query());
    checkHandshake(c.req.raw);
    if (closing) throw KaError.of("BROKER_NOT_AVAILABLE", "The gateway is shutting down");
    if (streams.size >= streamsMax) {
      throw KaError.of("THROTTLING_QUOTA_EXCEEDED", `Too many streams: at most ${streamsMax}`);
    }
    let source: MessageSource;
    if (query.group === undefined) {
      source = await cluster.readTopic(query.topic, {
        from: query.from,
        isolation: query.isolation,
      });
    } else {
      await cluster.describeTopic(query.topic); // 404 before upgrading
      source = cluster.joinGroup({
        groupId: query.group,
        topics: [query.topic],
        from: query.from,
        isolation: query.isolation,
      });
    }
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 30 });
    } catch (err) {
      await source.close();
      throw KaError.of("INVALID_REQUEST", `Bad WebSocket handshake: ${(err as Error).message}`);
    }
    const { socket, response } = upgraded;
    const consumer = new BufferedConsumer(source, {
      logger,
      ...(options.consumerBufferBytesMax === undefined
        ? {}
        : { bufferBytesMax: options.consumerBufferBytesMax }),
    });
    const session = new StreamSession(consumer, socket, {
      logger,
      format: (m) => formatMessage(cluster, m, query.format),
      ...(options.wsBufferedBytesMax === undefined
        ? {}
        : { bufferedBytesMax: options.wsBufferedBytesMax }),
      ...(options.wsStallTimeoutMs === undefined
        ? {}
        : { stallTimeoutMs: options.wsStallTimeoutMs }),
      onSent: (count) => metrics.consumed.inc({ path: "stream" }, count),
    });
    streams.add(session);
    const startedMs = Date.now();
    socket.onopen = () => {
      session.run().then((end) => {
        streamsEnded.inc({ reason: end });
        logger.info("stream closed", {
          topic: query.topic,
          group: query.group ?? null,
          reason: end,
          sent: session.sent,
          durationMs: Date.now() - startedMs,
        });
      }, (err) => logger.error("stream failed", { error: err })).finally(() => {
        streams.delete(session);
      });
    };
    socket.onmessage = (event) => void session.receive(event.data);
    socket.onclose = () => session.stop("client closed");
    socket.onerror = () => session.stop("client closed");
    return response;
  });

  const base = "/api/v1/topics/:topic/partitions/:partition";

  app.get(`${base}/messages`, async (c) => {
    const topic = parseParam(topicName, "topic", c.req.param("topic"));
    const partition = parseParam(
      intPathParam(0, PARTITIONS_MAX - 1),
      "partition",
      c.req.param("partition"),
    );
    const query = parseQuery(partitionReadQuery, c.req.query());
    const offset = typeof query.offset === "bigint"
      ? query.offset
      : (await cluster.listOffsets(topic, partition))[query.offset];
    const result = await cluster.fetch(topic, partition, offset, {
      maxMessages: query.limit,
      maxWaitMs: query.maxWaitMs,
    });
    // A broker answers with whole batches, which may start before `offset`.
    const messages = result.messages.filter((m) => m.offset >= offset).slice(0, query.limit);
    const last = messages.at(-1);
    if (messages.length > 0) metrics.consumed.inc({ path: "partition" }, messages.length);
    const json = (await formatMessages(cluster, messages, query.format)).map((m) => ({
      offset: m.offset,
      timestamp: m.timestamp,
      key: m.key,
      value: m.value,
      headers: m.headers,
      ...(m.error === undefined ? {} : { error: m.error }),
    }));
    return c.json({
      messages: json,
      nextOffset: offsetToJson(last === undefined ? offset : last.offset + 1n),
      highWatermark: offsetToJson(result.highWatermark),
    });
  });

  app.get(`${base}/offsets`, async (c) => {
    const topic = parseParam(topicName, "topic", c.req.param("topic"));
    const partition = parseParam(
      intPathParam(0, PARTITIONS_MAX - 1),
      "partition",
      c.req.param("partition"),
    );
    const { earliest, latest } = await cluster.listOffsets(topic, partition);
    return c.json({ earliest: offsetToJson(earliest), latest: offsetToJson(latest) });
  });

  return {
    app,
    subscriptions,
    streamCount: () => streams.size,
    sweep: () => subscriptions.sweep(),
    async close() {
      closing = true;
      for (const s of streams) s.stop("gateway closing");
      await Promise.all([
        subscriptions.closeAll(),
        ...[...streams].map((s) => s.consumer.close()),
      ]);
    },
  };
}

function offsetJson(
  o: PartitionOffset,
): { topic: string; partition: number; offset: number | string } {
  return { topic: o.topic, partition: o.partition, offset: offsetToJson(o.offset) };
}

/**
 * The checks `Deno.upgradeWebSocket` makes, answered as HTTP errors: a
 * request that is not a WebSocket upgrade at all is 426, one with a broken
 * handshake 400 (never a 500).
 */
function checkHandshake(req: Request): void {
  const upgrade = req.headers.get("upgrade");
  if (upgrade === null || upgrade.toLowerCase() !== "websocket") {
    throw new GatewayError(
      "UPGRADE_REQUIRED",
      "GET /api/v1/stream is a WebSocket endpoint: send 'Upgrade: websocket'",
    );
  }
  const connection = (req.headers.get("connection") ?? "").toLowerCase();
  if (!connection.split(",").some((t) => t.trim() === "upgrade")) {
    throw KaError.of(
      "INVALID_REQUEST",
      "Bad WebSocket handshake: 'Connection' must include 'Upgrade'",
    );
  }
  if (req.headers.get("sec-websocket-version") !== "13") {
    throw KaError.of(
      "INVALID_REQUEST",
      "Bad WebSocket handshake: 'Sec-WebSocket-Version' must be 13",
    );
  }
  if (!req.headers.get("sec-websocket-key")) {
    throw KaError.of("INVALID_REQUEST", "Bad WebSocket handshake: 'Sec-WebSocket-Key' is missing");
  }
}
