/**
 * The writer gateway ("producer service", port 3001): produce messages and
 * administer topics over HTTP.
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /health` | 200 `{status: "ok", brokers}` or 503 |
 * | `POST /api/v1/messages?acks=0\|1\|all&format=json\|binary\|avro` | 201 `{topic, partition, offset}` |
 * | `GET /api/v1/topics` | 200 `{topics: [{name, partitions, replicationFactor}]}` |
 * | `POST /api/v1/topics` | 201 topic description |
 * | `GET /api/v1/topics/:name` | 200 topic description |
 * | `DELETE /api/v1/topics/:name` | 204 |
 *
 * A message body is `{topic, key?, value, headers?, partition?, timestamp?}`;
 * keys, values and headers follow the `format` rules in `shared/payload.ts`.
 * With `format=avro` the body also names the value's Avro schema: either
 * `schemaId` (an id from the coordinator's registry) or `schema` (registered
 * under `subject`, default `<topic>-value`, unless it already is); the value
 * is stored as magic byte 0 + 4-byte schema id + Avro binary (a JSON `null`
 * value stays a tombstone), while key and headers follow the json rules. A
 * value that does not match the schema is a 400 SERIALIZATION_ERROR, an
 * invalid schema a 400 INVALID_SCHEMA, an unknown id a 404 SCHEMA_NOT_FOUND.
 * `acks` defaults to `all`; with `acks=0` nothing is acknowledged, so the
 * answer's offset is -1. Offsets are JSON numbers up to 2^53 − 1 and decimal
 * strings above. A topic body is `{name, partitions?, replicationFactor?,
 * configs?}`. Errors are JSON `{error: {code, name, message, retriable,
 * field?}}` with the status from the error table (`shared/errors.ts`).
 * @module
 */
import type { Hono } from "hono";
import { GATEWAY_BODY_BYTES_MAX, PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import type { Acks, GatewayCluster, ProducerMessage, TopicDescription } from "../shared/cluster.ts";
import { invalidField, invalidParam } from "../shared/errors.ts";
import { createBaseApp, type GatewayAppOptions } from "../shared/http.ts";
import { encodeHeaders, encodePayload, offsetToJson, PAYLOAD_FORMATS } from "../shared/payload.ts";
import {
  enumParam,
  expectBodyObject,
  optionalIntegerField,
  optionalStringMapField,
  readJsonBody,
  topicNameOf,
} from "../shared/validate.ts";

/** Options for {@linkcode createWriterApp}. */
export interface WriterAppOptions extends GatewayAppOptions {
  /** Largest request body read; larger ones get 413. Defaults to `GATEWAY_BODY_BYTES_MAX`. */
  bodyBytesMax?: number;
}

const MESSAGE_FIELDS = ["topic", "key", "value", "headers", "partition", "timestamp"] as const;
const AVRO_MESSAGE_FIELDS = [...MESSAGE_FIELDS, "schemaId", "schema", "subject"] as const;
/** `?format=` of the writer: the payload formats plus avro (values only). */
const WRITER_FORMATS = [...PAYLOAD_FORMATS, "avro"] as const;
const TOPIC_FIELDS = ["name", "partitions", "replicationFactor", "configs"] as const;
/** Kafka's replication factor is an INT16. */
const REPLICATION_FACTOR_MAX = 32_767;

/** Builds the writer gateway on `cluster`. */
export function createWriterApp(cluster: GatewayCluster, options: WriterAppOptions = {}): Hono {
  const bodyBytesMax = options.bodyBytesMax ?? GATEWAY_BODY_BYTES_MAX;
  const { app } = createBaseApp("gateway-writer", cluster, options);

  app.post("/api/v1/messages", async (c) => {
    const acks = acksParam(c.req.query("acks"));
    const writerFormat = enumParam(c.req.query("format"), "format", WRITER_FORMATS, "json");
    const format = writerFormat === "avro" ? "json" : writerFormat;
    const body = expectBodyObject(
      await readJsonBody(c.req.raw, bodyBytesMax),
      writerFormat === "avro" ? AVRO_MESSAGE_FIELDS : MESSAGE_FIELDS,
    );
    const topic = topicNameOf(body.topic, "topic", "field");
    if (body.value === undefined) throw invalidField("value", "is required (null for a tombstone)");
    const message: ProducerMessage = {
      value: writerFormat === "avro"
        ? await avroValue(cluster, topic, body)
        : encodePayload(body.value, format, "value"),
    };
    if (body.key !== undefined) message.key = encodePayload(body.key, format, "key");
    if (body.headers !== undefined) message.headers = encodeHeaders(body.headers, format);
    const partition = optionalIntegerField(body, "partition", { min: 0, max: PARTITIONS_MAX - 1 });
    if (partition !== undefined) message.partition = partition;
    const timestamp = optionalIntegerField(body, "timestamp", {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    if (timestamp !== undefined) message.timestamp = timestamp;
    const metadata = await cluster.produce(topic, message, { acks });
    return c.json({
      topic: metadata.topic,
      partition: metadata.partition,
      offset: offsetToJson(metadata.offset),
    }, 201);
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
    const body = expectBodyObject(await readJsonBody(c.req.raw, bodyBytesMax), TOPIC_FIELDS);
    const name = topicNameOf(body.name, "name", "field");
    const partitions = optionalIntegerField(body, "partitions", { min: 1, max: PARTITIONS_MAX });
    const replicationFactor = optionalIntegerField(body, "replicationFactor", {
      min: 1,
      max: REPLICATION_FACTOR_MAX,
    });
    const configs = optionalStringMapField(body, "configs");
    const created = await cluster.createTopic({ name, partitions, replicationFactor, configs });
    c.header("Location", `/api/v1/topics/${encodeURIComponent(created.name)}`);
    return c.json(topicToJson(created), 201);
  });

  app.get("/api/v1/topics/:name", async (c) => {
    const name = topicNameOf(c.req.param("name"), "name", "param");
    return c.json(topicToJson(await cluster.describeTopic(name)));
  });

  app.delete("/api/v1/topics/:name", async (c) => {
    const name = topicNameOf(c.req.param("name"), "name", "param");
    await cluster.deleteTopic(name);
    return c.body(null, 204);
  });

  return app;
}

/** The Avro wire bytes of `body.value`, with the schema the body names. */
async function avroValue(
  cluster: GatewayCluster,
  topic: string,
  body: Record<string, unknown>,
): Promise<Uint8Array | null> {
  const hasId = body.schemaId !== undefined;
  const hasSchema = body.schema !== undefined;
  if (hasId === hasSchema) {
    throw invalidField(
      hasId ? "schema" : "schemaId",
      "exactly one of schemaId and schema is required with format=avro",
    );
  }
  if (body.subject !== undefined && (typeof body.subject !== "string" || body.subject === "")) {
    throw invalidField("subject", "must be a non-empty string");
  }
  if (hasId) {
    const id = body.schemaId;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1 || id > 0x7fffffff) {
      throw invalidField("schemaId", "must be a positive 32-bit integer");
    }
    if (body.subject !== undefined) throw invalidField("subject", "goes with schema, not schemaId");
    return body.value === null
      ? null
      : await cluster.encodeAvro(topic, body.value, { schemaId: id });
  }
  const schema = body.schema;
  if (typeof schema !== "string" && (typeof schema !== "object" || schema === null)) {
    throw invalidField("schema", "must be an Avro schema (object, array or type name)");
  }
  if (body.value === null) return null;
  return await cluster.encodeAvro(
    topic,
    body.value,
    body.subject === undefined ? { schema } : { schema, subject: body.subject as string },
  );
}

/** `?acks=`: "0", "1", "all" or "-1" (Kafka's spelling of all); defaults to all. */
function acksParam(raw: string | undefined): Acks {
  switch (raw) {
    case undefined:
    case "":
    case "all":
    case "-1":
      return "all";
    case "0":
      return 0;
    case "1":
      return 1;
    default:
      throw invalidParam("acks", "must be 0, 1 or all");
  }
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
