/**
 * ApiVersions (API key 18), versions 0–2: which APIs and versions a broker
 * speaks. Clients send it first on every connection.
 *
 * ```
 * ApiVersionsRequest (v0-2) => (empty)
 * ApiVersionsResponse (v0-2) =>
 *   errorCode int16
 *   apiKeys [apiKey int16, minVersion int16, maxVersion int16]
 *   throttleTimeMs int32 (v1+)
 * ```
 * Layout from Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json. A
 * broker that does not support the request's version answers with a v0 body
 * and UNSUPPORTED_VERSION, so the client can retry with a version it lists.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** ApiVersions request body: empty in the versions we speak. */
export type ApiVersionsRequest = Record<string, never>;

/** One API's supported version range. */
export interface ApiVersionsApiKey {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** ApiVersions response body. */
export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionsApiKey[];
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
}

/** Writes an ApiVersionsRequest body (nothing). */
export function encodeApiVersionsRequest(
  _w: Writer,
  _version: number,
  _body: ApiVersionsRequest,
): void {}

/** Reads an ApiVersionsRequest body (nothing). */
export function decodeApiVersionsRequest(_r: Reader, _version: number): ApiVersionsRequest {
  return {};
}

/** Writes an ApiVersionsResponse body. */
export function encodeApiVersionsResponse(
  w: Writer,
  version: number,
  body: ApiVersionsResponse,
): void {
  w.int16(body.errorCode);
  w.array(body.apiKeys, (w, k) => {
    w.int16(k.apiKey);
    w.int16(k.minVersion);
    w.int16(k.maxVersion);
  });
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
}

/** Reads an ApiVersionsResponse body. */
export function decodeApiVersionsResponse(r: Reader, version: number): ApiVersionsResponse {
  const errorCode = r.int16();
  const apiKeys = r.array((r) => ({
    apiKey: r.int16(),
    minVersion: r.int16(),
    maxVersion: r.int16(),
  }));
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  return { errorCode, apiKeys, throttleTimeMs };
}
