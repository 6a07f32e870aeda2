/**
 * DeleteTopics (API key 20), versions 1–3: delete topics by name.
 *
 * ```
 * DeleteTopicsRequest (v1-3) =>
 *   topicNames [string]
 *   timeoutMs int32
 * DeleteTopicsResponse (v1-3) =>
 *   throttleTimeMs int32
 *   responses [name string, errorCode int16]
 * ```
 * Layout from Kafka's DeleteTopicsRequest.json / DeleteTopicsResponse.json.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** DeleteTopics request body. */
export interface DeleteTopicsRequest {
  topicNames: string[];
  timeoutMs: number;
}

/** One topic's outcome. */
export interface DeletableTopicResult {
  name: string;
  errorCode: number;
}

/** DeleteTopics response body. */
export interface DeleteTopicsResponse {
  throttleTimeMs: number;
  responses: DeletableTopicResult[];
}

/** Writes a DeleteTopicsRequest body. */
export function encodeDeleteTopicsRequest(
  w: Writer,
  _version: number,
  body: DeleteTopicsRequest,
): void {
  w.array(body.topicNames, (w, name) => w.string(name));
  w.int32(body.timeoutMs);
}

/** Reads a DeleteTopicsRequest body. */
export function decodeDeleteTopicsRequest(r: Reader, _version: number): DeleteTopicsRequest {
  return { topicNames: r.array((r) => r.string()), timeoutMs: r.int32() };
}

/** Writes a DeleteTopicsResponse body. */
export function encodeDeleteTopicsResponse(
  w: Writer,
  _version: number,
  body: DeleteTopicsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.responses, (w, t) => {
    w.string(t.name);
    w.int16(t.errorCode);
  });
}

/** Reads a DeleteTopicsResponse body. */
export function decodeDeleteTopicsResponse(r: Reader, _version: number): DeleteTopicsResponse {
  return {
    throttleTimeMs: r.int32(),
    responses: r.array((r) => ({ name: r.string(), errorCode: r.int16() })),
  };
}
