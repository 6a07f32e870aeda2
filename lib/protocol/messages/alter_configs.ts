/**
 * AlterConfigs (API key 33), versions 0–1: replace the dynamic configs of
 * resources (topics, resource type 2; brokers, type 4). A resource's config
 * list is its whole new set: configs it does not name go back to their
 * defaults. v1 only changes how brokers throttle, so both versions share one
 * layout.
 *
 * ```
 * AlterConfigsRequest (v0-1) =>
 *   resources [resourceType int8, resourceName string,
 *              configs [name string, value nullable string]]
 *   validateOnly bool
 * AlterConfigsResponse (v0-1) =>
 *   throttleTimeMs int32
 *   responses [errorCode int16, errorMessage nullable string,
 *              resourceType int8, resourceName string]
 * ```
 * Layout from Kafka's AlterConfigsRequest.json / AlterConfigsResponse.json
 * (v2 is the first flexible version).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One config to set; a null value means "not set" (the default applies). */
export interface AlterableConfig {
  name: string;
  value: string | null;
}

/** A resource and its new set of configs. */
export interface AlterConfigsResource {
  resourceType: number;
  resourceName: string;
  configs: AlterableConfig[];
}

/** AlterConfigs request body. */
export interface AlterConfigsRequest {
  resources: AlterConfigsResource[];
  /** Check the request without changing anything. */
  validateOnly: boolean;
}

/** One resource's outcome. */
export interface AlterConfigsResourceResponse {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** AlterConfigs response body. */
export interface AlterConfigsResponse {
  throttleTimeMs: number;
  responses: AlterConfigsResourceResponse[];
}

/** Writes an AlterConfigsRequest body. */
export function encodeAlterConfigsRequest(
  w: Writer,
  _version: number,
  body: AlterConfigsRequest,
): void {
  w.array(body.resources, (w, r) => {
    w.int8(r.resourceType);
    w.string(r.resourceName);
    w.array(r.configs, (w, c) => {
      w.string(c.name);
      w.nullableString(c.value);
    });
  });
  w.bool(body.validateOnly);
}

/** Reads an AlterConfigsRequest body. */
export function decodeAlterConfigsRequest(r: Reader, _version: number): AlterConfigsRequest {
  return {
    resources: r.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    })),
    validateOnly: r.bool(),
  };
}

/** Writes an AlterConfigsResponse body. */
export function encodeAlterConfigsResponse(
  w: Writer,
  _version: number,
  body: AlterConfigsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.responses, (w, res) => {
    w.int16(res.errorCode);
    w.nullableString(res.errorMessage);
    w.int8(res.resourceType);
    w.string(res.resourceName);
  });
}

/** Reads an AlterConfigsResponse body. */
export function decodeAlterConfigsResponse(r: Reader, _version: number): AlterConfigsResponse {
  return {
    throttleTimeMs: r.int32(),
    responses: r.array((r) => ({
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
      resourceType: r.int8(),
      resourceName: r.string(),
    })),
  };
}
