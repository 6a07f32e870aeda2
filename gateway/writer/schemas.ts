/**
 * The zod schemas of the writer gateway's bodies and queries. What they
 * accept is what `docs/openapi.yaml` describes.
 * @module
 */
import { z } from "zod";
import { PARTITIONS_MAX, SCHEMA_BYTES_MAX, SUBJECT_BYTES_MAX } from "@kafka-analog/lib/limits";
import { enumParam, formatName, partitionNumber, topicName } from "../shared/schemas.ts";

/** Kafka's replication factor is an INT16. */
const REPLICATION_FACTOR_MAX = 32_767;

const encoder = new TextEncoder();

/** `acks` in a body: 0, 1, "all" or -1 (Kafka's spelling of all), as numbers or strings. */
export const acksValue = z.union([
  z.literal(0),
  z.literal(1),
  z.literal(-1),
  z.literal("0"),
  z.literal("1"),
  z.literal("-1"),
  z.literal("all"),
], { error: "must be 0, 1 or all" }).transform((v) =>
  v === 0 || v === "0" ? 0 as const : v === 1 || v === "1" ? 1 as const : "all" as const
);

/** The query of both produce routes: `?acks=` and `?format=` (a body field wins). */
export const produceQuery = z.object({
  acks: enumParam(["0", "1", "all", "-1"], "all"),
  format: enumParam(["json", "binary", "avro"], "json"),
});

/** Headers: `[{key, value}]` (keys may repeat) or `{key: value}`. */
const headers = z.union([
  z.array(z.strictObject({ key: z.string({ error: "must be a string" }), value: z.unknown() })),
  z.record(z.string(), z.unknown()),
], { error: "must be an array of {key, value} or an object" });

const timestamp = z.int({ error: "must be an integer (ms since the epoch)" }).min(0, {
  error: "must be at least 0",
});

/** The fields of one message, in a single produce or in a batch. */
const messageFields = {
  key: z.unknown().optional(),
  value: z.unknown(),
  headers: headers.optional(),
  partition: partitionNumber.optional(),
  timestamp: timestamp.optional(),
};

/** Which Avro schema values use (format avro). */
const avroFields = {
  schema: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
    error: "must be an Avro schema (object, array, type name or JSON text)",
  }).optional(),
  schemaId: z.int({ error: "must be an integer" }).min(1).max(0x7fffffff).optional(),
  subject: z.string().min(1, { error: "must not be empty" }).optional(),
};

/** `POST /api/v1/messages` */
export const messageBody = z.strictObject({
  topic: topicName,
  ...messageFields,
  acks: acksValue.optional(),
  format: formatName.optional(),
  ...avroFields,
});

/** One message of a batch. */
export const batchMessage = z.strictObject(messageFields);

/** `POST /api/v1/messages/batch` (the message count is checked before this, for a 413). */
export const batchBody = z.strictObject({
  topic: topicName,
  messages: z.array(batchMessage, { error: "must be an array of messages" }).min(1, {
    error: "must hold at least one message",
  }),
  acks: acksValue.optional(),
  format: formatName.optional(),
  ...avroFields,
});

/** `POST /api/v1/topics` */
export const topicBody = z.strictObject({
  name: topicName,
  partitions: z.int({ error: "must be an integer" }).min(1).max(PARTITIONS_MAX).optional(),
  replicationFactor: z.int({ error: "must be an integer" }).min(1).max(REPLICATION_FACTOR_MAX)
    .optional(),
  configs: z.record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean()], {
      error: "must be a string, number or boolean",
    }).transform(String),
  ).optional(),
});

/** `POST /api/v1/schemas`: the Avro schema as JSON text, Confluent-style. */
export const schemaBody = z.strictObject({
  subject: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).refine(
    (s) => encoder.encode(s).length <= SUBJECT_BYTES_MAX,
    { error: `must be at most ${SUBJECT_BYTES_MAX} bytes` },
  ),
  schema: z.string({ error: "must be the Avro schema as a JSON string" }).min(1).refine(
    (s) => encoder.encode(s).length <= SCHEMA_BYTES_MAX,
    { error: `must be at most ${SCHEMA_BYTES_MAX} bytes` },
  ),
});

/** `GET /api/v1/schemas?subject=` */
export const schemasQuery = z.object({ subject: z.string().min(1).optional() });
