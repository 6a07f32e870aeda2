/**
 * The framed console dialect: a Kafka-framed request with API key
 * `ConsoleCommand` (1100), version 0, whose internal body is
 * `{ payload: { line } }`, answered by a `ConsoleCommand` response whose body
 * is `{ payload: { ok, text, json, error? } }`. The server and
 * `deno task admin` both use these helpers, so the payload shapes are
 * written down once.
 * @module
 */
import { ApiKey, decodeResponse, encodeRequest, encodeResponse } from "../protocol/mod.ts";
import { KaError } from "../errors.ts";
import { CONSOLE_LINE_BYTES_MAX } from "../limits.ts";
import type { ConsoleAnswer } from "./answers.ts";

/** The only version of ConsoleCommand. */
export const CONSOLE_API_VERSION = 0;

/** Payload of a ConsoleCommand request. */
export interface ConsoleRequestPayload {
  line: string;
}

/** Payload of a ConsoleCommand response. */
export interface ConsoleResponsePayload {
  ok: boolean;
  text: string;
  json: unknown;
  error?: { code: number; error: string; message: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The whole frame (length prefix included) asking the console to run `line`. */
export function encodeConsoleRequest(
  line: string,
  options: { correlationId: number; clientId: string },
): Uint8Array {
  const payload: ConsoleRequestPayload = { line };
  return encodeRequest({
    apiKey: ApiKey.ConsoleCommand,
    apiVersion: CONSOLE_API_VERSION,
    correlationId: options.correlationId,
    clientId: options.clientId,
  }, { payload });
}

/** The line in a decoded ConsoleCommand request body; INVALID_REQUEST / INVALID_COMMAND when bad. */
export function consoleLineOf(body: unknown): string {
  const payload = isRecord(body) ? body.payload : undefined;
  if (!isRecord(payload) || typeof payload.line !== "string") {
    throw KaError.of("INVALID_REQUEST", "ConsoleCommand payload must be { line: string }");
  }
  const bytes = new TextEncoder().encode(payload.line).length;
  if (bytes > CONSOLE_LINE_BYTES_MAX) {
    throw KaError.of(
      "INVALID_COMMAND",
      `Console line is ${bytes} bytes: the maximum is ${CONSOLE_LINE_BYTES_MAX}`,
    );
  }
  return payload.line;
}

/** The whole frame answering request `correlationId` with `answer`. */
export function encodeConsoleResponse(correlationId: number, answer: ConsoleAnswer): Uint8Array {
  const payload: ConsoleResponsePayload = { ok: answer.ok, text: answer.text, json: answer.json };
  if (answer.error !== undefined) payload.error = answer.error;
  return encodeResponse(ApiKey.ConsoleCommand, CONSOLE_API_VERSION, correlationId, { payload });
}

/** Decodes a ConsoleCommand response frame (no length prefix); INVALID_REQUEST when malformed. */
export function decodeConsoleResponse(
  frame: Uint8Array,
): { correlationId: number; payload: ConsoleResponsePayload } {
  const { correlationId, body } = decodeResponse(ApiKey.ConsoleCommand, CONSOLE_API_VERSION, frame);
  const payload = isRecord(body) ? body.payload : undefined;
  if (
    !isRecord(payload) || typeof payload.ok !== "boolean" || typeof payload.text !== "string" ||
    !("json" in payload)
  ) {
    throw KaError.of("INVALID_REQUEST", "ConsoleCommand response payload is malformed");
  }
  const result: ConsoleResponsePayload = { ok: payload.ok, text: payload.text, json: payload.json };
  const error = payload.error;
  if (error !== undefined) {
    if (
      !isRecord(error) || typeof error.code !== "number" || typeof error.error !== "string" ||
      typeof error.message !== "string"
    ) {
      throw KaError.of("INVALID_REQUEST", "ConsoleCommand response error is malformed");
    }
    result.error = { code: error.code, error: error.error, message: error.message };
  }
  return { correlationId, payload: result };
}
