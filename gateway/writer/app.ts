/**
 * The writer gateway ("producer service", port 3001): produce messages,
 * administer topics and register Avro schemas over HTTP.
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /health`, `GET /metrics` | cluster status; Prometheus text |
 * | `POST /api/v1/messages` | 201 `{topic, partition, offset, timestamp}` |
 * | `POST /api/v1/messages/batch` | 201 / 207 `{topic, results, failed}` |
 * | `GET /api/v1/topics` | 200 `{topics: [{name, partitions, replicationFactor}]}` |
 * | `POST /api/v1/topics` | 201 topic description |
 * | `GET /api/v1/topics/:name` | 200 `{name, partitions, replicationFactor, configs}` |
 * | `DELETE /api/v1/topics/:name` | 204 |
 * | `POST /api/v1/schemas` | 200 `{id, subject, version}` |
 * | `GET /api/v1/schemas` | 200 `{schemas: [{id, subject, version}]}` |
 * | `GET /api/v1/schemas/:id` | 200 `{id, schema}` |
 * | `GET /ui`, `/api/v1/dashboard/*` | the web dashboard (`../ui/routes.ts`) |
 *
 * A message is `{topic, key?, value, headers?, partition?, timestamp?}`;
 * `acks` (0, 1, all; default all) and `format` (json, binary, avro; default
 * json) come from the body or the query (the body wins). Keys, values and
 * headers follow the format rules in `shared/payload.ts`; with avro the
 * value is stored in Confluent's wire format with the schema the body names
 * (`schemaId`, or `schema` registered under `subject`, default
 * `<topic>-value`), keys and headers by the json rules. With `acks=0`
 * nothing is acknowledged, so the answer's offset is null. The timestamp
 * answered is the record's (CreateTime): the body's, or the gateway's clock.
 *
 * A batch writes each message on its own (they share producer batches):
 * 201 when all were written; when only some were, 207 with each failure's
 * error in its place; when all failed for the same reason, that error's
 * status. Bad input anywhere in a batch is a 400 before anything is written.
 * @module
 */
import type { Context, Hono } from "hono";
import { KaError } from "@kafka-analog/lib/errors";
import { GATEWAY_BODY_BYTES_MAX } from "@kafka-analog/lib/limits";
import type {
  Acks,
  AvroWriterSchema,
  GatewayCluster,
  ProducerMessage,
  RecordMetadata,
  TopicDescription,
} from "../shared/cluster.ts";
import { errorBody, errorResponse, invalidField, isAnswerable } from "../shared/errors.ts";
import { createBaseApp, type GatewayAppOptions } from "../shared/http.ts";
import { GATEWAY_BATCH_MESSAGES_MAX } from "../shared/limits.ts";
import type { GatewayMetrics } from "../shared/metrics.ts";
import {
  encodeHeaders,
  encodePayload,
  offsetToJson,
  type PayloadFormat,
} from "../shared/payload.ts";
import { intPathParam, parseBody, parseParam, parseQuery, topicName } from "../shared/schemas.ts";
import { isJsonObject, readJsonBody } from "../shared/validate.ts";
import {
  batchBody,
  type batchMessage,
  messageBody,
  produceQuery,
  schemaBody,
  schemasQuery,
  topicBody,
} from "./schemas.ts";
import type { z } from "zod";
import { createDashboard, type Dashboard, mountDashboard } from "../ui/routes.ts";

/** Options for {@linkcode createWriterApp}. */
export interface WriterAppOptions extends GatewayAppOptions {
  /** Largest request body read; larger ones get 413. Defaults to `GATEWAY_BODY_BYTES_MAX`. */
  bodyBytesMax?: number;
  /** Most messages in one batch; more get 413. Defaults to `GATEWAY_BATCH_MESSAGES_MAX`. */
  batchMessagesMax?: number;
  /** Wall-clock milliseconds for record timestamps; defaults to `Date.now`. */
  clock?: () => number;
  /** The web dashboard at `/ui`; by default one without a console (its data routes answer 503). */
  dashboard?: Dashboard;
}

type Format = "json" | "binary" | "avro";
type BatchMessage = z.output<typeof batchMessage>;

/** One message's outcome in a batch answer. */
type BatchResult =
  | { partition: number; offset: number | string | null; timestamp: number }
  | ReturnType<typeof errorBody>;

/** Builds the writer gateway on `cluster`. */
export function createWriterApp(cluster: GatewayCluster, options: WriterAppOptions = {}): Hono {
  const bodyBytesMax = options.bodyBytesMax ?? GATEWAY_BODY_BYTES_MAX;
  const batchMessagesMax = options.batchMessagesMax ?? GATEWAY_BATCH_MESSAGES_MAX;
  const clock = options.clock ?? Date.now;
  const { app, metrics } = createBaseApp("gateway-writer", cluster, options);

  app.post("/api/v1/messages", async (c) => {
    const query = parseQuery(produceQuery, c.req.query());
    const body = parseBody(messageBody, await readJsonBody(c.req.raw, bodyBytesMax));
    const acks = body.acks ?? acksOf(query.acks);
    const format: Format = body.format ?? query.format;
    const writer = avroWriterOf(body, format);
    const message = await toProducerMessage(cluster, body.topic, body, { format, writer, clock });
    let metadata: RecordMetadata;
    try {
      metadata = await cluster.produce(body.topic, message, { acks });
    } catch (err) {
      if (isAnswerable(err)) metrics.produceErrors.inc({ error: err.errorName });
      throw err;
    }
    metrics.produced.inc({ format, acks: String(acks) });
    return c.json(
      { topic: metadata.topic, ...resultOf(metadata, message.timestamp!, acks) },
      201,
    );
  });

  app.post("/api/v1/messages/batch", async (c) => {
    const query = parseQuery(produceQuery, c.req.query());
    const raw = await readJsonBody(c.req.raw, bodyBytesMax);
    if (
      isJsonObject(raw) && Array.isArray(raw.messages) && raw.messages.length > batchMessagesMax
    ) {
      throw KaError.of(
        "MESSAGE_TOO_LARGE",
        `A batch holds at most ${batchMessagesMax} messages: got ${raw.messages.length}`,
      );
    }
    const body = parseBody(batchBody, raw);
    const acks = body.acks ?? acksOf(query.acks);
    const format: Format = body.format ?? query.format;
    const writer = avroWriterOf(body, format);
    // Structure and base64 are checked for every message before anything is written.
    const payloadFormat: PayloadFormat = format === "binary" ? "binary" : "json";
    body.messages.forEach((m, i) => checkPayloads(m, payloadFormat, `messages[${i}]`));
    return await produceBatch(c, cluster, metrics, {
      topic: body.topic,
      messages: body.messages,
      acks,
      format,
      writer,
      clock,
    });
  });

  app.get("/api/v1/topics", async (c) => {
    const topics = await cluster.listTopics();
    const summaries = topics
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: replicationFactorOf(t),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return c.json({ topics: summaries });
  });

  app.post("/api/v1/topics", async (c) => {
    const body = parseBody(topicBody, await readJsonBody(c.req.raw, bodyBytesMax));
    const created = await cluster.createTopic({
      name: body.name,
      partitions: body.partitions,
      replicationFactor: body.replicationFactor,
      configs: body.configs ?? {},
    });
    c.header("Location", `/api/v1/topics/${encodeURIComponent(created.name)}`);
    return c.json(topicToJson(created), 201);
  });

  app.get("/api/v1/topics/:name", async (c) => {
    const name = parseParam(topicName, "name", c.req.param("name"));
    return c.json(topicToJson(await cluster.describeTopic(name)));
  });

  app.delete("/api/v1/topics/:name", async (c) => {
    const name = parseParam(topicName, "name", c.req.param("name"));
    await cluster.deleteTopic(name);
    return c.body(null, 204);
  });

  app.post("/api/v1/schemas", async (c) => {
    const body = parseBody(schemaBody, await readJsonBody(c.req.raw, bodyBytesMax));
    const registered = await cluster.registerSchema(body.subject, body.schema);
    return c.json(registered);
  });

  app.get("/api/v1/schemas", async (c) => {
    const { subject } = parseQuery(schemasQuery, c.req.query());
    return c.json({ schemas: await cluster.listSchemas(subject) });
  });

  app.get("/api/v1/schemas/:id", async (c) => {
    const id = parseParam(intPathParam(1, 0x7fffffff), "id", c.req.param("id"));
    return c.json({ id, schema: await cluster.schemaById(id) });
  });

  mountDashboard(app, options.dashboard ?? createDashboard(cluster, { console: null }));
  return app;
}

/** Writes a validated batch and answers 201, 207 or the one shared error. */
async function produceBatch(
  c: Context,
  cluster: GatewayCluster,
  metrics: GatewayMetrics,
  batch: {
    topic: string;
    messages: BatchMessage[];
    acks: Acks;
    format: Format;
    writer: AvroWriterSchema | null;
    clock: () => number;
  },
): Promise<Response> {
  const { topic, acks, format } = batch;
  const results: (BatchResult | null)[] = batch.messages.map(() => null);
  const failures: { index: number; error: KaError | Error }[] = [];
  const ready: { index: number; message: ProducerMessage }[] = [];
  // Avro encoding can fail for one message (a value that does not match the schema).
  const encoded = await Promise.allSettled(
    batch.messages.map((m) => toProducerMessage(cluster, topic, m, batch)),
  );
  encoded.forEach((outcome, index) => {
    if (outcome.status === "fulfilled") ready.push({ index, message: outcome.value });
    else failures.push({ index, error: outcome.reason });
  });
  const written = await cluster.produceMany(topic, ready.map((r) => r.message), { acks });
  written.forEach((outcome, i) => {
    const { index, message } = ready[i];
    if (outcome.status === "fulfilled") {
      results[index] = resultOf(outcome.value, message.timestamp!, acks);
    } else {
      failures.push({ index, error: outcome.reason });
    }
  });
  for (const { index, error } of failures) {
    if (!isAnswerable(error)) throw error; // a bug: answered 500 by the error handler
    results[index] = errorBody(error);
    metrics.produceErrors.inc({ error: error.errorName });
  }
  const succeeded = batch.messages.length - failures.length;
  if (succeeded > 0) metrics.produced.inc({ format, acks: String(acks) }, succeeded);
  const body = { topic, results, failed: failures.length };
  if (failures.length === 0) return c.json(body, 201);
  const first = failures[0].error;
  const sameCause = succeeded === 0 && isAnswerable(first) &&
    failures.every((f) => isAnswerable(f.error) && f.error.code === first.code);
  if (sameCause) return errorResponse(c, first, { results, failed: failures.length });
  return c.json(body, 207);
}

/** The answer for one written message. */
function resultOf(
  metadata: RecordMetadata,
  timestamp: number,
  acks: Acks,
): { partition: number; offset: number | string | null; timestamp: number } {
  return {
    partition: metadata.partition,
    offset: acks === 0 || metadata.offset < 0n ? null : offsetToJson(metadata.offset),
    timestamp,
  };
}

/** Checks the base64 of a binary-format message up front, naming the field. */
function checkPayloads(message: BatchMessage, format: PayloadFormat, at: string): void {
  if (format !== "binary") return;
  encodePayload(message.value, "binary", `${at}.value`);
  if (message.key !== undefined) encodePayload(message.key, "binary", `${at}.key`);
  if (message.headers !== undefined) encodeHeaders(message.headers, "binary", at);
}

/** A validated body's message as the producer takes it (Avro-encoded for format avro). */
async function toProducerMessage(
  cluster: GatewayCluster,
  topic: string,
  body: BatchMessage,
  how: { format: Format; writer: AvroWriterSchema | null; clock: () => number },
): Promise<ProducerMessage> {
  const payloadFormat: PayloadFormat = how.format === "binary" ? "binary" : "json";
  const value = how.format === "avro"
    ? body.value === null ? null : await cluster.encodeAvro(topic, body.value, how.writer!)
    : encodePayload(body.value, payloadFormat, "value");
  const message: ProducerMessage = { value, timestamp: body.timestamp ?? how.clock() };
  if (body.key !== undefined) message.key = encodePayload(body.key, payloadFormat, "key");
  if (body.headers !== undefined) message.headers = encodeHeaders(body.headers, payloadFormat);
  if (body.partition !== undefined) message.partition = body.partition;
  return message;
}

/** The Avro schema a body names (format avro), or null; 400s for a wrong combination. */
function avroWriterOf(
  body: { schema?: unknown; schemaId?: number; subject?: string },
  format: Format,
): AvroWriterSchema | null {
  const hasId = body.schemaId !== undefined;
  const hasSchema = body.schema !== undefined;
  if (format !== "avro") {
    for (const field of ["schema", "schemaId", "subject"] as const) {
      if (body[field] !== undefined) throw invalidField(field, "goes with format=avro only");
    }
    return null;
  }
  if (hasId === hasSchema) {
    throw invalidField(
      hasId ? "schema" : "schemaId",
      "exactly one of schemaId and schema is required with format=avro",
    );
  }
  if (hasId) {
    if (body.subject !== undefined) throw invalidField("subject", "goes with schema, not schemaId");
    return { schemaId: body.schemaId! };
  }
  return body.subject === undefined
    ? { schema: body.schema }
    : { schema: body.schema, subject: body.subject };
}

function acksOf(raw: "0" | "1" | "all" | "-1"): Acks {
  return raw === "0" ? 0 : raw === "1" ? 1 : "all";
}

function replicationFactorOf(topic: TopicDescription): number {
  return topic.partitions[0]?.replicas.length ?? 0;
}

/** The JSON form of a topic description. */
function topicToJson(topic: TopicDescription): {
  name: string;
  partitions: TopicDescription["partitions"];
  replicationFactor: number;
  configs: Record<string, string>;
} {
  return {
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: replicationFactorOf(topic),
    configs: topic.configs,
  };
}
