/**
 * IncrementalAlterConfigs (API key 44), versions 0–1: change some configs of
 * resources, one operation per key (SET, DELETE, APPEND, SUBTRACT), leaving
 * the others as they are. v1 is the same message in the flexible encoding
 * (compact strings and arrays, tagged fields after every struct; request
 * header v2, response header v1).
 *
 * ```
 * IncrementalAlterConfigsRequest (v0-1) =>
 *   resources [resourceType int8, resourceName string,
 *              configs [name string, configOperation int8, value nullable string]]
 *   validateOnly bool
 * IncrementalAlterConfigsResponse (v0-1) =>
 *   throttleTimeMs int32
 *   responses [errorCode int16, errorMessage nullable string,
 *              resourceType int8, resourceName string]
 * ```
 * Layout from Kafka's IncrementalAlterConfigsRequest.json /
 * IncrementalAlterConfigsResponse.json (v1 is the first flexible version).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** Kafka's `AlterConfigOp.OpType`. */
export const ConfigOperation = { Set: 0, Delete: 1, Append: 2, Subtract: 3 } as const;

/** One config change. */
export interface IncrementalAlterableConfig {
  name: string;
  /** A {@linkcode ConfigOperation}. */
  configOperation: number;
  value: string | null;
}

/** A resource and the changes to its configs. */
export interface IncrementalAlterConfigsResource {
  resourceType: number;
  resourceName: string;
  configs: IncrementalAlterableConfig[];
}

/** IncrementalAlterConfigs request body. */
export interface IncrementalAlterConfigsRequest {
  resources: IncrementalAlterConfigsResource[];
  /** Check the request without changing anything. */
  validateOnly: boolean;
}

/** One resource's outcome. */
export interface IncrementalAlterConfigsResourceResponse {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** IncrementalAlterConfigs response body. */
export interface IncrementalAlterConfigsResponse {
  throttleTimeMs: number;
  responses: IncrementalAlterConfigsResourceResponse[];
}

/** String, nullable string, array and end-of-struct writers for classic or flexible versions. */
function writers(w: Writer, flexible: boolean) {
  return {
    string: (v: string) => flexible ? w.compactString(v) : w.string(v),
    nullableString: (v: string | null) =>
      flexible ? w.compactNullableString(v) : w.nullableString(v),
    array: <T>(items: readonly T[], fn: (w: Writer, item: T) => void) =>
      flexible ? w.compactArray(items, fn) : w.array(items, fn),
    end: () => {
      if (flexible) w.emptyTaggedFields();
    },
  };
}

/** The matching readers (a flexible null array reads as `[]`, as `Reader.compactArray` does). */
function readers(r: Reader, flexible: boolean) {
  return {
    string: () => flexible ? r.compactString() : r.string(),
    nullableString: () => flexible ? r.compactNullableString() : r.nullableString(),
    array: <T>(fn: (r: Reader) => T) => flexible ? r.compactArray(fn) : r.array(fn),
    end: () => {
      if (flexible) r.skipTaggedFields();
    },
  };
}

/** Writes an IncrementalAlterConfigsRequest body. */
export function encodeIncrementalAlterConfigsRequest(
  w: Writer,
  version: number,
  body: IncrementalAlterConfigsRequest,
): void {
  const f = writers(w, version >= 1);
  f.array(body.resources, (w, res) => {
    w.int8(res.resourceType);
    f.string(res.resourceName);
    f.array(res.configs, (w, c) => {
      f.string(c.name);
      w.int8(c.configOperation);
      f.nullableString(c.value);
      f.end();
    });
    f.end();
  });
  w.bool(body.validateOnly);
  f.end();
}

/** Reads an IncrementalAlterConfigsRequest body. */
export function decodeIncrementalAlterConfigsRequest(
  r: Reader,
  version: number,
): IncrementalAlterConfigsRequest {
  const f = readers(r, version >= 1);
  const resources = f.array((r) => {
    const resourceType = r.int8();
    const resourceName = f.string();
    const configs = f.array((r) => {
      const name = f.string();
      const configOperation = r.int8();
      const value = f.nullableString();
      f.end();
      return { name, configOperation, value };
    });
    f.end();
    return { resourceType, resourceName, configs };
  });
  const validateOnly = r.bool();
  f.end();
  return { resources, validateOnly };
}

/** Writes an IncrementalAlterConfigsResponse body. */
export function encodeIncrementalAlterConfigsResponse(
  w: Writer,
  version: number,
  body: IncrementalAlterConfigsResponse,
): void {
  const f = writers(w, version >= 1);
  w.int32(body.throttleTimeMs);
  f.array(body.responses, (w, res) => {
    w.int16(res.errorCode);
    f.nullableString(res.errorMessage);
    w.int8(res.resourceType);
    f.string(res.resourceName);
    f.end();
  });
  f.end();
}

/** Reads an IncrementalAlterConfigsResponse body. */
export function decodeIncrementalAlterConfigsResponse(
  r: Reader,
  version: number,
): IncrementalAlterConfigsResponse {
  const f = readers(r, version >= 1);
  const throttleTimeMs = r.int32();
  const responses = f.array((r) => {
    const errorCode = r.int16();
    const errorMessage = f.nullableString();
    const resourceType = r.int8();
    const resourceName = f.string();
    f.end();
    return { errorCode, errorMessage, resourceType, resourceName };
  });
  f.end();
  return { throttleTimeMs, responses };
}
