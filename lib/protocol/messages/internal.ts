/**
 * The cluster's own APIs (keys ≥ 1000: BrokerRegistration, BrokerHeartbeat,
 * UpdateMetadata, ClusterMetadata, AlterPartition, ConsoleCommand), version 0.
 * They share one body shape for requests and responses: a JSON document
 * carried as BYTES, so the control plane can evolve its payloads without new
 * byte layouts. The payload shapes themselves are defined by their users.
 *
 * ```
 * InternalBody (v0) =>
 *   payload bytes       int32 length + UTF-8 JSON
 * ```
 *
 * JSON cannot hold every value we send, so two tagged objects extend it:
 * - a `bigint` is written as `{"$bigint": "<decimal>"}`;
 * - a `Uint8Array` is written as `{"$bytes": "<base64>"}`.
 * Decoding turns exactly those one-key objects back into `bigint` and
 * `Uint8Array`, so both survive a round trip. `undefined` payloads become
 * `null`; Maps, Sets and class instances are not supported (use plain objects).
 * Malformed JSON throws KaError INVALID_REQUEST.
 * @module
 */
import { KaError } from "../../errors.ts";
import type { Reader, Writer } from "../codec.ts";

/** The request and response body of every internal API. */
export interface InternalBody {
  payload: unknown;
}

const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder("utf-8", { fatal: true });
const BIGINT_TAG = "$bigint";
const BYTES_TAG = "$bytes";
const BASE64_CHUNK_BYTES = 0x8000;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK_BYTES) {
    binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_CHUNK_BYTES));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return { [BIGINT_TAG]: value.toString() };
  if (value instanceof Uint8Array) return { [BYTES_TAG]: toBase64(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const tagged = (value as Record<string, unknown>)[keys[0]];
  if (typeof tagged !== "string") return value;
  if (keys[0] === BIGINT_TAG) {
    if (!/^-?\d{1,40}$/.test(tagged)) throw new SyntaxError(`bad ${BIGINT_TAG} value`);
    return BigInt(tagged);
  }
  if (keys[0] === BYTES_TAG) return fromBase64(tagged);
  return value;
}

/** Serializes `payload` as UTF-8 JSON with tagged bigints and bytes. */
export function encodeJsonPayload(payload: unknown): Uint8Array {
  const text = JSON.stringify(payload === undefined ? null : payload, replacer);
  return TEXT_ENCODER.encode(text);
}

/** Parses bytes written by {@linkcode encodeJsonPayload}; throws INVALID_REQUEST on garbage. */
export function decodeJsonPayload(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(TEXT_DECODER.decode(bytes), reviver);
  } catch (err) {
    throw KaError.of(
      "INVALID_REQUEST",
      `Cannot decode internal payload as JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Writes an internal body (request or response). */
export function encodeInternalBody(w: Writer, _version: number, body: InternalBody): void {
  w.bytes(encodeJsonPayload(body.payload));
}

/** Reads an internal body (request or response). */
export function decodeInternalBody(r: Reader, _version: number): InternalBody {
  return { payload: decodeJsonPayload(r.bytes()) };
}

/** Writes an internal request body. */
export const encodeInternalRequest: typeof encodeInternalBody = encodeInternalBody;
/** Reads an internal request body. */
export const decodeInternalRequest: typeof decodeInternalBody = decodeInternalBody;
/** Writes an internal response body. */
export const encodeInternalResponse: typeof encodeInternalBody = encodeInternalBody;
/** Reads an internal response body. */
export const decodeInternalResponse: typeof decodeInternalBody = decodeInternalBody;
