/**
 * The zod schemas of the reader gateway's bodies and queries. What they
 * accept is what `docs/openapi.yaml` describes.
 * @module
 */
import { z } from "zod";
import { FETCH_WAIT_MS_MAX, GATEWAY_FETCH_MESSAGES_MAX } from "@kafka-analog/lib/limits";
import {
  GATEWAY_POLL_MESSAGES_MAX,
  GATEWAY_POLL_WAIT_MS_MAX,
  GATEWAY_SUBSCRIPTION_TOPICS_MAX,
  GROUP_ID_LENGTH_MAX,
} from "../shared/limits.ts";
import {
  enumParam,
  formatName,
  intParam,
  offsetValue,
  partitionNumber,
  topicName,
} from "../shared/schemas.ts";

const INT64_MAX = (1n << 63n) - 1n;

/** A consumer group id: 1..255 characters. */
export const groupId = z.string({ error: "must be a string" }).min(1, {
  error: "must not be empty",
}).max(GROUP_ID_LENGTH_MAX, { error: `must be at most ${GROUP_ID_LENGTH_MAX} characters` });

/** Where a reader without a committed offset starts. */
export const fromName = z.enum(["earliest", "latest"], { error: "must be earliest or latest" });

/** Isolation levels; read_committed is refused until transactions exist. */
export const isolationName = z.enum(["read_committed", "read_uncommitted"], {
  error: "must be read_committed or read_uncommitted",
});

/** `POST /api/v1/subscriptions` */
export const subscriptionBody = z.strictObject({
  group: groupId,
  topics: z.array(topicName, { error: "must be an array of topic names" }).min(1, {
    error: "must name at least one topic",
  }).max(GATEWAY_SUBSCRIPTION_TOPICS_MAX, {
    error: `must name at most ${GATEWAY_SUBSCRIPTION_TOPICS_MAX} topics`,
  }),
  from: fromName.optional(),
  autoCommit: z.boolean({ error: "must be true or false" }).optional(),
  isolation: isolationName.optional(),
  format: formatName.optional(),
});

/** `GET /api/v1/subscriptions/:id/messages?max=&timeoutMs=` */
export const pollQuery = z.object({
  max: intParam(1, GATEWAY_POLL_MESSAGES_MAX, 100),
  timeoutMs: intParam(0, GATEWAY_POLL_WAIT_MS_MAX, 1_000),
});

/** One explicit offset to commit: the next offset to read. */
export const commitOffset = z.strictObject({
  topic: topicName,
  partition: partitionNumber,
  offset: offsetValue,
});

/** `POST /api/v1/subscriptions/:id/commit` (the body is optional). */
export const commitBody = z.strictObject({
  offsets: z.array(commitOffset, { error: "must be an array of {topic, partition, offset}" }).min(
    1,
    { error: "must hold at least one offset" },
  ),
});

/** `GET /api/v1/offsets?group=&topic=` */
export const offsetsQuery = z.object({ group: groupId, topic: topicName });

/** `POST /api/v1/offsets/reset` */
export const resetBody = z.strictObject({
  group: groupId,
  topic: topicName,
  to: z.union([z.literal("earliest"), z.literal("latest"), offsetValue], {
    error: "must be earliest, latest or an offset",
  }),
});

/** `GET /api/v1/stream?topic=&group=&from=&format=&isolation=` */
export const streamQuery = z.object({
  topic: topicName,
  group: groupId.optional(),
  from: enumParam(["earliest", "latest"], "latest"),
  format: enumParam(["json", "binary", "avro"], "json"),
  isolation: enumParam(["read_committed", "read_uncommitted"], "read_uncommitted"),
  access_token: z.string().optional(),
});

/** `offset` of the per-partition read: an integer, `earliest` or `latest`. */
const offsetParam = z.string({ error: "is required" }).transform((raw, ctx) => {
  if (raw === "earliest" || raw === "latest") return raw;
  if (/^[0-9]{1,19}$/.test(raw) && BigInt(raw) <= INT64_MAX) return BigInt(raw);
  ctx.addIssue({ code: "custom", message: "must be an offset, earliest or latest" });
  return z.NEVER;
});

/** `GET /api/v1/topics/:topic/partitions/:partition/messages` */
export const partitionReadQuery = z.object({
  offset: offsetParam,
  limit: intParam(1, GATEWAY_FETCH_MESSAGES_MAX, 100),
  maxWaitMs: intParam(0, FETCH_WAIT_MS_MAX, 0),
  format: enumParam(["json", "binary", "avro"], "json"),
});
