/**
 * Reading request bodies at the HTTP edge: {@linkcode readJsonBody} counts
 * bytes while it reads (nothing trusts a `Content-Length`), refuses more than
 * the limit with 413 before buffering it, and answers 400 for a body that is
 * not UTF-8 JSON. What the JSON must look like is checked afterwards with the
 * zod schemas (`schemas.ts`).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";

/** A JSON object from a request body. */
export type JsonObject = Record<string, unknown>;

function tooLarge(maxBytes: number): KaError {
  return KaError.of("MESSAGE_TOO_LARGE", `Request body is larger than ${maxBytes} bytes`);
}

/**
 * Reads `req`'s body as JSON, refusing more than `maxBytes` (413
 * MESSAGE_TOO_LARGE) whether or not a Content-Length says so. A body that is
 * not UTF-8 JSON is 400 INVALID_REQUEST; with `optional`, an absent or empty
 * body is `undefined`.
 */
export async function readJsonBody(
  req: Request,
  maxBytes: number,
  options: { optional?: boolean } = {},
): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) {
    if (options.optional) return undefined;
    throw KaError.of("INVALID_REQUEST", "Malformed JSON body: body is empty");
  }
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
  if (text.trim() === "") {
    if (options.optional) return undefined;
    throw KaError.of("INVALID_REQUEST", "Malformed JSON body: body is empty");
  }
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
