/**
 * DeleteGroups (API key 42), versions 0–1: delete empty consumer groups and
 * their committed offsets. v1 only changes how brokers throttle, so both
 * versions share one layout.
 *
 * ```
 * DeleteGroupsRequest (v0-1) =>
 *   groupsNames [string]
 * DeleteGroupsResponse (v0-1) =>
 *   throttleTimeMs int32
 *   results [groupId string, errorCode int16]
 * ```
 * Layout from Kafka's DeleteGroupsRequest.json / DeleteGroupsResponse.json
 * (v2 is the first flexible version; v3 adds a per-group error message).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** DeleteGroups request body. */
export interface DeleteGroupsRequest {
  /** The group ids to delete (Kafka's `GroupsNames`). */
  groupsNames: string[];
}

/** One group's outcome. */
export interface DeletableGroupResult {
  groupId: string;
  errorCode: number;
}

/** DeleteGroups response body. */
export interface DeleteGroupsResponse {
  throttleTimeMs: number;
  results: DeletableGroupResult[];
}

/** Writes a DeleteGroupsRequest body. */
export function encodeDeleteGroupsRequest(
  w: Writer,
  _version: number,
  body: DeleteGroupsRequest,
): void {
  w.array(body.groupsNames, (w, g) => w.string(g));
}

/** Reads a DeleteGroupsRequest body. */
export function decodeDeleteGroupsRequest(r: Reader, _version: number): DeleteGroupsRequest {
  return { groupsNames: r.array((r) => r.string()) };
}

/** Writes a DeleteGroupsResponse body. */
export function encodeDeleteGroupsResponse(
  w: Writer,
  _version: number,
  body: DeleteGroupsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.results, (w, g) => {
    w.string(g.groupId);
    w.int16(g.errorCode);
  });
}

/** Reads a DeleteGroupsResponse body. */
export function decodeDeleteGroupsResponse(r: Reader, _version: number): DeleteGroupsResponse {
  return {
    throttleTimeMs: r.int32(),
    results: r.array((r) => ({ groupId: r.string(), errorCode: r.int16() })),
  };
}
