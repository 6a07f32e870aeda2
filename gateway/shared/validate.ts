/**
 * Validation at the HTTP edge, hand-written: each helper takes untrusted input
 * (a body, a body field, a query or path parameter) and returns a typed value
 * or throws a `KaError` — a {@linkcode FieldError} (400) naming the field, 413
 * for an oversized body, 400 for a body that is not JSON. Nothing here trusts
 * a `Content-Length`: bodies are counted while they are read.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { validateTopicName } from "@kafka-analog/lib/cluster";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import { invalidField, invalidParam } from "./errors.ts";

/** A JSON object from a request body. */
export type JsonObject = Record<string, unknown>;

const UNSIGNED_PATTERN = /^[0-9]+$/;
const INT64_MAX = (1n << 63n) - 1n;

function tooLarge(maxBytes: number): KaError {
  return KaError.of("MESSAGE_TOO_LARGE", `Request body is larger than ${maxBytes} bytes`);
}

/**
 * Reads `req`'s body as JSON, refusing more than `maxBytes` (413
 * MESSAGE_TOO_LARGE) whether or not a Content-Length says so. A body that is
 * not UTF-8 JSON is 400 INVALID_REQUEST.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) throw KaError.of("INVALID_REQUEST", "Malformed JSON body: body is empty");
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {/* the client went away; nothing to do */});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw KaError.of("INVALID_REQUEST", "Malformed JSON body: not valid UTF-8");
  }
  if (text.trim() === "") throw KaError.of("INVALID_REQUEST", "Malformed JSON body: body is empty");
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw KaError.of("INVALID_REQUEST", `Malformed JSON body: ${reason}`);
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The body as a JSON object whose keys are all in `allowed`; a stray key is named in the 400. */
export function expectBodyObject(body: unknown, allowed: readonly string[]): JsonObject {
  if (!isJsonObject(body)) {
    throw invalidField("body", "must be a JSON object");
  }
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw invalidField(key, `is not a known field (expected one of ${allowed.join(", ")})`);
    }
  }
  return body;
}

/**
 * Checks a topic name with the cluster's own rule (`validateTopicName`:
 * 1..249 characters of `[A-Za-z0-9._-]`, not "." or ".."), as a 400 naming
 * the body field or path parameter.
 */
export function topicNameOf(value: unknown, field: string, where: "field" | "param"): string {
  const fail = where === "field" ? invalidField : invalidParam;
  if (typeof value !== "string") throw fail(field, "must be a string");
  try {
    validateTopicName(value);
  } catch {
    throw fail(field, "must be 1..249 characters of a-z, A-Z, 0-9, '.', '_' or '-'");
  }
  return value;
}

/** An optional integer body field within `[min, max]`; `undefined` when absent. */
export function optionalIntegerField(
  body: JsonObject,
  field: string,
  range: { min: number; max: number },
): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidField(field, "must be an integer");
  }
  if (value < range.min || value > range.max) {
    throw invalidField(field, `must be between ${range.min} and ${range.max}: got ${value}`);
  }
  return value;
}

/** An optional object of string (or number/boolean, stringified) values; `{}` when absent. */
export function optionalStringMapField(body: JsonObject, field: string): Record<string, string> {
  const value = body[field];
  if (value === undefined) return {};
  if (!isJsonObject(value)) throw invalidField(field, "must be an object of strings");
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") out[key] = entry;
    else if (typeof entry === "number" || typeof entry === "boolean") out[key] = String(entry);
    else throw invalidField(`${field}.${key}`, "must be a string, number or boolean");
  }
  return out;
}

/** A query or path parameter that must be an integer in `[min, max]`; `fallback` when absent. */
export function integerParam(
  raw: string | undefined,
  name: string,
  options: { min: number; max: number; fallback?: number },
): number {
  if (raw === undefined || raw === "") {
    if (options.fallback !== undefined) return options.fallback;
    throw invalidParam(name, "is required");
  }
  if (!UNSIGNED_PATTERN.test(raw) || raw.length > 16) {
    throw invalidParam(name, `must be an integer between ${options.min} and ${options.max}`);
  }
  const value = Number(raw);
  if (value < options.min || value > options.max) {
    throw invalidParam(name, `must be between ${options.min} and ${options.max}: got ${raw}`);
  }
  return value;
}

/** A partition path parameter: 0 ≤ partition < PARTITIONS_MAX. */
export function partitionParam(raw: string | undefined): number {
  return integerParam(raw, "partition", { min: 0, max: PARTITIONS_MAX - 1 });
}

/** An offset parameter: a non-negative 64-bit integer, or "earliest" / "latest". */
export function offsetParam(raw: string | undefined, name: string): bigint | "earliest" | "latest" {
  if (raw === undefined || raw === "") throw invalidParam(name, "is required");
  if (raw === "earliest" || raw === "latest") return raw;
  if (!UNSIGNED_PATTERN.test(raw) || raw.length > 19 || BigInt(raw) > INT64_MAX) {
    throw invalidParam(name, "must be a non-negative 64-bit integer, 'earliest' or 'latest'");
  }
  return BigInt(raw);
}

/** A parameter that must be one of `values`; `fallback` when absent. */
export function enumParam<T extends string>(
  raw: string | undefined,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  if (raw === undefined || raw === "") return fallback;
  const found = values.find((v) => v === raw);
  if (found === undefined) throw invalidParam(name, `must be one of ${values.join(", ")}`);
  return found;
}
