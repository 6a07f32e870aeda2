/**
 * Messages as the reader gateway answers them, in the format a client asked
 * for (`json`, `binary`, `avro`; see `shared/payload.ts` for the first two):
 *
 *     {topic, partition, offset, key, value, headers: [{key, value}], timestamp}
 *
 * With `avro`, values are decoded with their writer's schema from the
 * registry (looked up by the id in the bytes) and returned as JSON; keys and
 * headers follow the json rules. A value that cannot be decoded does not
 * fail the whole answer (the message has been handed over already): it comes
 * back with `value: null` and an `error` `{code, name, message}` naming why.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { ConsumedMessage, GatewayCluster } from "../shared/cluster.ts";
import { avroToJson, decodePayload, offsetToJson } from "../shared/payload.ts";

/** How a reader answers keys, values and headers. */
export type ReadFormat = "json" | "binary" | "avro";

/** One message as JSON. */
export interface JsonMessage {
  topic: string;
  partition: number;
  offset: number | string;
  key: unknown;
  value: unknown;
  headers: { key: string; value: unknown }[];
  timestamp: number;
  /** Why the value could not be decoded (format avro only). */
  error?: { code: number; name: string; message: string };
}

/** Bytes a message holds in memory, roughly (for buffer bounds). */
export function messageBytes(m: ConsumedMessage): number {
  let bytes = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const h of m.headers) bytes += 16 + h.key.length + (h.value?.length ?? 0);
  return bytes;
}

/** `m` as JSON in `format`. */
export async function formatMessage(
  cluster: GatewayCluster,
  m: ConsumedMessage,
  format: ReadFormat,
): Promise<JsonMessage> {
  const payload = format === "binary" ? "binary" : "json";
  const out: JsonMessage = {
    topic: m.topic,
    partition: m.partition,
    offset: offsetToJson(m.offset),
    key: decodePayload(m.key, payload),
    value: null,
    headers: m.headers.map((h) => ({ key: h.key, value: decodePayload(h.value, payload) })),
    timestamp: m.timestamp,
  };
  if (format !== "avro" || m.value === null) {
    out.value = decodePayload(m.value, payload);
    return out;
  }
  try {
    out.value = avroToJson(await cluster.decodeAvro(m.value));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const error = isKaError(err) && err.retriable ? err : KaError.of(
      "DESERIALIZATION_ERROR",
      `Cannot deserialize the value of ${m.topic}-${m.partition} at offset ${m.offset} as Avro: ${reason}`,
    );
    out.error = { code: error.code, name: error.errorName, message: error.message };
  }
  return out;
}

/** Every message of `messages` as JSON, in order. */
export async function formatMessages(
  cluster: GatewayCluster,
  messages: ConsumedMessage[],
  format: ReadFormat,
): Promise<JsonMessage[]> {
  const out: JsonMessage[] = [];
  for (const m of messages) out.push(await formatMessage(cluster, m, format));
  return out;
}
