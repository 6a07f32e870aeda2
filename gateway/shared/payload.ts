/**
 * How HTTP bodies become message bytes and back, in the two formats a client
 * picks with `?format=`:
 *
 * **json** (default)
 * - Writing: a string is stored as its UTF-8 bytes, as is (`"hi"` → `hi`);
 *   `null` is stored as a null key/value (a tombstone for values); any other
 *   JSON value is stored as its `JSON.stringify` text (`{"a":1}` → `{"a":1}`,
 *   `42` → `42`).
 * - Reading: the bytes are decoded as UTF-8 (invalid sequences become U+FFFD,
 *   so read non-text data with `format=binary`); if the text is JSON it is
 *   returned parsed, otherwise as the string. A bare number is returned parsed
 *   only when that loses nothing (`12345678901234567890` and `1.0` stay
 *   strings). So a stored JSON object comes back as that object, and plain
 *   text comes back as a string — but the string `"42"` written as a value
 *   comes back as the number 42.
 *
 * **binary**
 * - Keys, values and header values are standard base64 strings (with
 *   padding) or `null`; anything else is a 400 naming the field.
 *
 * Offsets are JSON numbers while they are safe integers (≤ 2^53 − 1) and
 * decimal strings above that: see {@linkcode offsetToJson}.
 * @module
 */
import type { MessageHeader } from "@kafka-analog/clients/types";
import { invalidField } from "./errors.ts";
import { isJsonObject } from "./validate.ts";

/** How keys, values and header values travel in HTTP bodies. */
export type PayloadFormat = "json" | "binary";

/** Every {@linkcode PayloadFormat}, for validating `?format=`. */
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ["json", "binary"];

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one key/value/header value from a body; `field` names it in a 400. */
export function encodePayload(
  value: unknown,
  format: PayloadFormat,
  field: string,
): Uint8Array | null {
  if (value === null) return null;
  if (format === "binary") {
    if (typeof value !== "string") throw invalidField(field, "must be a base64 string or null");
    return decodeBase64(value, field);
  }
  if (typeof value === "string") return encoder.encode(value);
  // Only JSON values reach here (they came out of JSON.parse).
  return encoder.encode(JSON.stringify(value));
}

/** Decodes stored bytes for a response body, per the module's rules. */
export function decodePayload(bytes: Uint8Array | null, format: PayloadFormat): unknown {
  if (bytes === null) return null;
  if (format === "binary") return encodeBase64(bytes);
  const text = decoder.decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof parsed === "number" && String(parsed) !== text.trim()) return text;
  return parsed;
}

/**
 * Reads a `headers` body field: either an array of `{key, value}` (keys may
 * repeat) or an object `{key: value}`. Values follow {@linkcode encodePayload};
 * `at` prefixes the field names of 400s (`messages[2]` → `messages[2].headers[0].value`).
 */
export function encodeHeaders(value: unknown, format: PayloadFormat, at = ""): MessageHeader[] {
  const name = at === "" ? "headers" : `${at}.headers`;
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    return value.map((entry, i) => {
      const field = `${name}[${i}]`;
      if (!isJsonObject(entry)) throw invalidField(field, "must be an object {key, value}");
      for (const k of Object.keys(entry)) {
        if (k !== "key" && k !== "value") {
          throw invalidField(`${field}.${k}`, "is not a known field");
        }
      }
      if (typeof entry.key !== "string") throw invalidField(`${field}.key`, "must be a string");
      if (entry.value === undefined) throw invalidField(`${field}.value`, "is required");
      return { key: entry.key, value: encodePayload(entry.value, format, `${field}.value`) };
    });
  }
  if (isJsonObject(value)) {
    return Object.entries(value).map(([key, v]) => ({
      key,
      value: encodePayload(v, format, `${name}.${key}`),
    }));
  }
  throw invalidField(name, "must be an array of {key, value} or an object");
}

/** A decoded Avro value as JSON: records as objects, bytes/fixed as base64, big longs as strings. */
export function avroToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return encodeBase64(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(avroToJson);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), avroToJson(v)]));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, avroToJson(v)]));
  }
  return value;
}

/** Strict standard base64 (padded) → bytes; anything else is a 400 naming `field`. */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64_PATTERN.test(text)) {
    throw invalidField(field, "must be valid base64 (standard alphabet, padded)");
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes → standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  const CHUNK = 0x8000;
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** An offset for JSON: a number while it is a safe integer, else its decimal string. */
export function offsetToJson(offset: bigint): number | string {
  return offset >= BigInt(Number.MIN_SAFE_INTEGER) && offset <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(offset)
    : offset.toString();
}
