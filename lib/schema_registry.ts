/**
 * The JSON payloads of SchemaRegistry (internal API key 1010), shared by the
 * client library (which sends them) and the coordinator (which keeps the
 * registry in its metadata and answers them). Payloads arrive as untrusted
 * JSON, so both sides validate them field by field here.
 *
 * ```
 * request  {op: "register", subject, schema}  → entries: [the subject's entry for it]
 *          {op: "get", id}                     → entries: every subject/version with that id
 *          {op: "list", subject?}              → entries: all (or one subject's), without text
 * response {errorCode, errorMessage, entries: [{subject, version, id, schema?}]}
 * ```
 *
 * Ids are global: the same schema (compared after JSON normalisation) gets
 * the same id under every subject. Versions count per subject from 1.
 * @module
 */
import { KaError } from "./errors.ts";
import { SCHEMA_BYTES_MAX, SUBJECT_BYTES_MAX } from "./limits.ts";

/** A SchemaRegistry request payload. */
export type SchemaRegistryRequest =
  | { op: "register"; subject: string; schema: string }
  | { op: "get"; id: number }
  | { op: "list"; subject?: string };

/** One registered schema under one subject. */
export interface SchemaEntry {
  subject: string;
  /** 1, 2, ... per subject. */
  version: number;
  /** Global id, ≥ 1; the Avro wire format carries it. */
  id: number;
  /** The schema text (normalised JSON); absent in `list` answers. */
  schema?: string;
}

/** A SchemaRegistry response payload. */
export interface SchemaRegistryResponse {
  errorCode: number;
  errorMessage: string | null;
  entries: SchemaEntry[];
}

function bad(path: string, what: string): KaError {
  return KaError.of("INVALID_REQUEST", `Invalid schema registry payload: '${path}' ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ENCODER = new TextEncoder();

/** Checks a subject name: 1..SUBJECT_BYTES_MAX bytes, no control characters. */
export function validateSubject(subject: unknown, path = "subject"): string {
  if (typeof subject !== "string" || subject === "") throw bad(path, "must be a non-empty string");
  if (ENCODER.encode(subject).length > SUBJECT_BYTES_MAX) {
    throw bad(path, `must be at most ${SUBJECT_BYTES_MAX} bytes`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(subject)) throw bad(path, "must not hold control characters");
  return subject;
}

function readId(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw bad(path, "must be a positive integer");
  }
  return value;
}

function readSchemaText(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") throw bad(path, "must be a non-empty string");
  if (ENCODER.encode(value).length > SCHEMA_BYTES_MAX) {
    throw bad(path, `must be at most ${SCHEMA_BYTES_MAX} bytes`);
  }
  return value;
}

/** Validates a request payload; throws KaError INVALID_REQUEST naming the bad field. */
export function readSchemaRegistryRequest(value: unknown): SchemaRegistryRequest {
  if (!isObject(value)) throw bad("payload", "must be an object");
  switch (value.op) {
    case "register":
      return {
        op: "register",
        subject: validateSubject(value.subject),
        schema: readSchemaText(value.schema, "schema"),
      };
    case "get":
      return { op: "get", id: readId(value.id, "id") };
    case "list":
      return value.subject === undefined || value.subject === null
        ? { op: "list" }
        : { op: "list", subject: validateSubject(value.subject) };
    default:
      throw bad("op", `must be "register", "get" or "list"`);
  }
}

/** Validates a response payload; throws KaError INVALID_REQUEST naming the bad field. */
export function readSchemaRegistryResponse(value: unknown): SchemaRegistryResponse {
  if (!isObject(value)) throw bad("payload", "must be an object");
  if (typeof value.errorCode !== "number" || !Number.isInteger(value.errorCode)) {
    throw bad("errorCode", "must be an integer");
  }
  const errorMessage = value.errorMessage ?? null;
  if (errorMessage !== null && typeof errorMessage !== "string") {
    throw bad("errorMessage", "must be a string or null");
  }
  const entries = value.entries ?? [];
  if (!Array.isArray(entries)) throw bad("entries", "must be an array");
  return {
    errorCode: value.errorCode,
    errorMessage,
    entries: entries.map((e, i): SchemaEntry => {
      const path = `entries[${i}]`;
      if (!isObject(e)) throw bad(path, "must be an object");
      const entry: SchemaEntry = {
        subject: validateSubject(e.subject, `${path}.subject`),
        version: readId(e.version, `${path}.version`),
        id: readId(e.id, `${path}.id`),
      };
      if (e.schema !== undefined) entry.schema = readSchemaText(e.schema, `${path}.schema`);
      return entry;
    }),
  };
}
