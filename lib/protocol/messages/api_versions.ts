/**
 * ApiVersions (API key 18), versions 0–3: which APIs and versions a broker
 * speaks. Clients send it first on every connection.
 *
 * ```
 * ApiVersionsRequest (v0-2) => (empty)
 * ApiVersionsRequest (v3, flexible) =>
 *   clientSoftwareName compact string
 *   clientSoftwareVersion compact string
 *   _tagged_fields
 * ApiVersionsResponse (v0-2) =>
 *   errorCode int16
 *   apiKeys [apiKey int16, minVersion int16, maxVersion int16]
 *   throttleTimeMs int32 (v1+)
 * ApiVersionsResponse (v3, flexible) =>
 *   errorCode int16
 *   apiKeys compact [apiKey int16, minVersion int16, maxVersion int16, _tagged_fields]
 *   throttleTimeMs int32
 *   _tagged_fields   (supported/finalized features: we write none, readers skip them)
 * ```
 * Layout from Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json. v3
 * is the first flexible version (request header v2), but its response header
 * stays v0 so any client can read it. A broker that does not support the
 * request's version answers with a v0 body, UNSUPPORTED_VERSION and its
 * ranges (KIP-511), so the client can retry with a version it lists.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** ApiVersions request body. */
export interface ApiVersionsRequest {
  /** v3+; "" when absent (v0-2). Kafka clients send e.g. "librdkafka". */
  clientSoftwareName?: string;
  /** v3+; "" when absent (v0-2). */
  clientSoftwareVersion?: string;
}

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

const CLIENT_SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/**
 * KIP-511: a v3 request's client software name and version must be
 * non-empty and made of letters, digits, '-' and '.', starting and ending
 * with a letter or digit; a broker answers any other with INVALID_REQUEST
 * and no API list. Requests before v3 carry neither and are always valid.
 */
export function isValidApiVersionsRequest(version: number, body: ApiVersionsRequest): boolean {
  if (version < 3) return true;
  return CLIENT_SOFTWARE_PATTERN.test(body.clientSoftwareName ?? "") &&
    CLIENT_SOFTWARE_PATTERN.test(body.clientSoftwareVersion ?? "");
}

/** Writes an ApiVersionsRequest body (nothing before v3). */
export function encodeApiVersionsRequest(
  w: Writer,
  version: number,
  body: ApiVersionsRequest,
): void {
  if (version < 3) return;
  w.compactString(body.clientSoftwareName ?? "");
  w.compactString(body.clientSoftwareVersion ?? "");
  w.emptyTaggedFields();
}

/** Reads an ApiVersionsRequest body (nothing before v3). */
export function decodeApiVersionsRequest(r: Reader, version: number): ApiVersionsRequest {
  if (version < 3) return {};
  const clientSoftwareName = r.compactString();
  const clientSoftwareVersion = r.compactString();
  r.skipTaggedFields();
  return { clientSoftwareName, clientSoftwareVersion };
}

/** Writes an ApiVersionsResponse body. */
export function encodeApiVersionsResponse(
  w: Writer,
  version: number,
  body: ApiVersionsResponse,
): void {
  w.int16(body.errorCode);
  if (version >= 3) {
    w.compactArray(body.apiKeys, (w, k) => {
      w.int16(k.apiKey);
      w.int16(k.minVersion);
      w.int16(k.maxVersion);
      w.emptyTaggedFields();
    });
    w.int32(body.throttleTimeMs ?? 0);
    w.emptyTaggedFields();
    return;
  }
  w.array(body.apiKeys, (w, k) => {
    w.int16(k.apiKey);
    w.int16(k.minVersion);
    w.int16(k.maxVersion);
  });
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
}

function readApiKey(r: Reader): ApiVersionsApiKey {
  return { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() };
}

/** Reads an ApiVersionsResponse body. */
export function decodeApiVersionsResponse(r: Reader, version: number): ApiVersionsResponse {
  const errorCode = r.int16();
  if (version >= 3) {
    const apiKeys = r.compactArray((r) => {
      const k = readApiKey(r);
      r.skipTaggedFields();
      return k;
    });
    const throttleTimeMs = r.int32();
    r.skipTaggedFields();
    return { errorCode, apiKeys, throttleTimeMs };
  }
  const apiKeys = r.array(readApiKey);
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  return { errorCode, apiKeys, throttleTimeMs };
}
