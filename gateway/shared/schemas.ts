/**
 * Validation at the HTTP edge with zod: every body, query and path parameter
 * goes through a schema before a handler uses it. {@linkcode parseBody},
 * {@linkcode parseQuery} and {@linkcode parseParam} turn the first problem
 * zod finds into a {@linkcode FieldError} (400 INVALID_REQUEST) naming the
 * field the way a client wrote it (`messages[3].value`, `headers[0].key`),
 * so bad input never reaches the cluster and never answers 500.
 *
 * The building blocks here (topic names, partitions, offsets, formats) are
 * shared by both gateways; each app's own body schemas live beside it.
 * @module
 */
import { z } from "zod";
import { validateTopicName } from "@kafka-analog/lib/cluster";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import { type FieldError, invalidField, invalidParam } from "./errors.ts";

const INT64_MAX = (1n << 63n) - 1n;

/** A topic name by the cluster's own rule (`validateTopicName`). */
export const topicName = z.string({ error: "must be a string" }).refine((name) => {
  try {
    validateTopicName(name);
    return true;
  } catch {
    return false;
  }
}, { error: "must be 1..249 characters of a-z, A-Z, 0-9, '.', '_' or '-'" });

/** A partition number 0 ≤ p < PARTITIONS_MAX. */
export const partitionNumber = z.int({ error: "must be an integer" }).min(0, {
  error: "must be at least 0",
}).max(PARTITIONS_MAX - 1, { error: `must be below ${PARTITIONS_MAX}` });

/**
 * An offset in a body: a non-negative JSON integer, or a decimal string for
 * offsets above 2^53 − 1 (as the gateways answer them).
 */
export const offsetValue = z.union([
  z.int().min(0),
  z.string().regex(/^[0-9]{1,19}$/),
], { error: "must be a non-negative integer (or its decimal string)" })
  .transform((v) => BigInt(v))
  .refine((v) => v <= INT64_MAX, { error: "must fit in 64 bits" });

/** How keys, values and headers travel: `json` (default), `binary` (base64) or `avro`. */
export const formatName = z.enum(["json", "binary", "avro"], {
  error: "must be one of json, binary, avro",
});

/** A query parameter holding an integer in [min, max]; `fallback` when absent or empty. */
export function intParam(min: number, max: number, fallback: number) {
  return z.string().optional().transform((raw, ctx) => {
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^[0-9]{1,16}$/.test(raw) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `must be an integer between ${min} and ${max}` });
      return z.NEVER;
    }
    return value;
  });
}

/** A query parameter with one of `values`; `fallback` when absent or empty. */
export function enumParam<const T extends readonly [string, ...string[]]>(
  values: T,
  fallback: T[number],
) {
  return z.string().optional().transform((raw, ctx): T[number] => {
    if (raw === undefined || raw === "") return fallback;
    if (!values.includes(raw)) {
      ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}` });
      return z.NEVER;
    }
    return raw;
  });
}

/** A path such as `["messages", 3, "value"]` as a client would write it: `messages[3].value`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function reasonOf(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input: /, "");
}

/** The first problem zod found, as a 400 naming the field or parameter. */
function toFieldError(
  error: z.ZodError,
  where: "body" | "query",
  root: string,
): FieldError {
  const issue = pickIssue(error.issues);
  let path = fieldPath(issue.path);
  let reason = reasonOf(issue);
  if (issue.code === "unrecognized_keys") {
    path = fieldPath([...issue.path, issue.keys[0]]);
    reason = "is not a known field";
  } else if (missing(issue)) {
    reason = "is required";
  } else if (issue.code === "invalid_union") {
    reason = issue.message === "Invalid input" ? "has an invalid type or value" : reason;
  }
  if (where === "query") return invalidParam(path === "" ? root : path, reason);
  return invalidField(path === "" ? root : path, reason);
}

function missing(issue: z.core.$ZodIssue): boolean {
  return issue.code === "invalid_type" && issue.expected === "nonoptional";
}

/**
 * The issue to report: a problem with a field that is there (a typo'd key, a
 * wrong type) before a missing field; inside a union, the branch that got
 * furthest (an array of headers with a bad key reports `headers[0].key`).
 */
function pickIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  const issue = issues.find((i) => !missing(i)) ?? issues[0];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | null = null;
  for (const branch of issue.errors) {
    if (branch.length === 0) continue;
    const candidate = pickIssue(branch);
    if (candidate.path.length > 0 && (best === null || candidate.path.length > best.path.length)) {
      best = candidate;
    }
  }
  return best === null ? issue : { ...best, path: [...issue.path, ...best.path] };
}

/** `body` (parsed JSON) checked against `schema`; a 400 naming the field otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw toFieldError(result.error, "body", "body");
  return result.data;
}

/** The query (`c.req.query()`) checked against `schema`; a 400 naming the parameter otherwise. */
export function parseQuery<S extends z.ZodType>(
  schema: S,
  query: Record<string, string>,
): z.output<S> {
  const result = schema.safeParse(query);
  if (!result.success) throw toFieldError(result.error, "query", "query");
  return result.data;
}

/** One path parameter checked against `schema`; a 400 naming `name` otherwise. */
export function parseParam<S extends z.ZodType>(
  schema: S,
  name: string,
  raw: string | undefined,
): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw invalidParam(name, reasonOf(result.error.issues[0]));
  return result.data;
}

/** A path parameter that is a non-negative decimal integer in [min, max]. */
export function intPathParam(min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (!/^[0-9]{1,16}$/.test(raw) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `must be an integer between ${min} and ${max}` });
      return z.NEVER;
    }
    return value;
  });
}
