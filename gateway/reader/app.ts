/**
 * The reader gateway ("consumer service", port 3002): read messages and
 * offsets of one partition over HTTP.
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /health` | 200 `{status: "ok", brokers}` or 503 |
 * | `GET /api/v1/topics/:topic/partitions/:partition/messages` | 200 `{messages, nextOffset, highWatermark}` |
 * | `GET /api/v1/topics/:topic/partitions/:partition/offsets` | 200 `{earliest, latest}` |
 *
 * Query of `messages`: `offset` (required: a 64-bit integer, `earliest` or
 * `latest`), `limit` (1..1000, default 100), `maxWaitMs` (0..30000, default
 * 0: answer at once), `format` (`json` default, or `binary`; see
 * `shared/payload.ts`; or `avro`: values are decoded with their writer's
 * schema from the coordinator's registry and returned as JSON — Avro bytes
 * and fixed as base64, keys and headers by the json rules — and a value that
 * is not Avro is a 422 DESERIALIZATION_ERROR naming its offset). Each message is `{offset, timestamp, key, value,
 * headers: [{key, value}]}`. `nextOffset` is the offset to ask for next (the
 * requested one when nothing came back). Offsets are JSON numbers up to
 * 2^53 − 1 and decimal strings above. Invalid parameters are 400s naming
 * the parameter; an unknown topic or partition is 404, an offset outside the
 * log 416.
 * @module
 */
import type { Hono } from "hono";
import { KaError } from "@kafka-analog/lib/errors";
import { FETCH_WAIT_MS_MAX, GATEWAY_FETCH_MESSAGES_MAX } from "@kafka-analog/lib/limits";
import type { ConsumedMessage, GatewayCluster } from "../shared/cluster.ts";
import { createBaseApp, type GatewayAppOptions } from "../shared/http.ts";
import {
  decodePayload,
  encodeBase64,
  offsetToJson,
  PAYLOAD_FORMATS,
  type PayloadFormat,
} from "../shared/payload.ts";
import {
  enumParam,
  integerParam,
  offsetParam,
  partitionParam,
  topicNameOf,
} from "../shared/validate.ts";

/** Options for {@linkcode createReaderApp}. */
export type ReaderAppOptions = GatewayAppOptions;

/** `?format=` of the reader: the payload formats plus avro (values only). */
const READER_FORMATS = [...PAYLOAD_FORMATS, "avro"] as const;

/** Messages returned when `limit` is not given. */
const LIMIT_DEFAULT = 100;

/** Builds the reader gateway on `cluster`. */
export function createReaderApp(cluster: GatewayCluster, options: ReaderAppOptions = {}): Hono {
  const { app } = createBaseApp("gateway-reader", cluster, options);
  const base = "/api/v1/topics/:topic/partitions/:partition";

  app.get(`${base}/messages`, async (c) => {
    const topic = topicNameOf(c.req.param("topic"), "topic", "param");
    const partition = partitionParam(c.req.param("partition"));
    const requested = offsetParam(c.req.query("offset"), "offset");
    const limit = integerParam(c.req.query("limit"), "limit", {
      min: 1,
      max: GATEWAY_FETCH_MESSAGES_MAX,
      fallback: LIMIT_DEFAULT,
    });
    const maxWaitMs = integerParam(c.req.query("maxWaitMs"), "maxWaitMs", {
      min: 0,
      max: FETCH_WAIT_MS_MAX,
      fallback: 0,
    });
    const readerFormat = enumParam(c.req.query("format"), "format", READER_FORMATS, "json");
    const format = readerFormat === "avro" ? "json" : readerFormat;
    const offset = typeof requested === "bigint"
      ? requested
      : (await cluster.listOffsets(topic, partition))[requested];
    const result = await cluster.fetch(topic, partition, offset, { maxMessages: limit, maxWaitMs });
    // A broker answers with whole batches, which may start before `offset`.
    const messages = result.messages.filter((m) => m.offset >= offset).slice(0, limit);
    const last = messages.at(-1);
    const json = messages.map((m) => messageToJson(m, format));
    if (readerFormat === "avro") {
      for (const [i, m] of messages.entries()) {
        json[i].value = m.value === null ? null : toJsonValue(await avroOf(cluster, m));
      }
    }
    return c.json({
      messages: json,
      nextOffset: offsetToJson(last === undefined ? offset : last.offset + 1n),
      highWatermark: offsetToJson(result.highWatermark),
    });
  });

  app.get(`${base}/offsets`, async (c) => {
    const topic = topicNameOf(c.req.param("topic"), "topic", "param");
    const partition = partitionParam(c.req.param("partition"));
    const { earliest, latest } = await cluster.listOffsets(topic, partition);
    return c.json({ earliest: offsetToJson(earliest), latest: offsetToJson(latest) });
  });

  return app;
}

async function avroOf(cluster: GatewayCluster, m: ConsumedMessage): Promise<unknown> {
  try {
    return await cluster.decodeAvro(m.value!);
  } catch (err) {
    if (err instanceof KaError && err.retriable) throw err; // the registry is unreachable
    const reason = err instanceof Error ? err.message : String(err);
    throw KaError.of(
      "DESERIALIZATION_ERROR",
      `Cannot deserialize the value of ${m.topic}-${m.partition} at offset ${m.offset} as Avro: ${reason}`,
    );
  }
}

/** Avro values as JSON: records as objects, bytes as base64, big longs as strings. */
function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return encodeBase64(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

function messageToJson(message: ConsumedMessage, format: PayloadFormat): {
  offset: number | string;
  timestamp: number;
  key: unknown;
  value: unknown;
  headers: { key: string; value: unknown }[];
} {
  return {
    offset: offsetToJson(message.offset),
    timestamp: message.timestamp,
    key: decodePayload(message.key, format),
    value: decodePayload(message.value, format),
    headers: message.headers.map((h) => ({ key: h.key, value: decodePayload(h.value, format) })),
  };
}
