/**
 * ListGroups (API key 16), versions 0–2: every group a coordinator broker
 * manages, for admin tools.
 *
 * ```
 * ListGroupsRequest (v0-2) => (empty)
 * ListGroupsResponse (v0-2) =>
 *   throttleTimeMs int32 (v1+)
 *   errorCode int16
 *   groups [groupId string, protocolType string]
 * ```
 * Layout from Kafka's ListGroupsRequest.json / ListGroupsResponse.json (v3+
 * are flexible and not spoken here; v4+ add state filters).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** ListGroups request body: empty in the versions we speak. */
export type ListGroupsRequest = Record<string, never>;

/** One listed group. */
export interface ListedGroup {
  groupId: string;
  /** e.g. "consumer"; "" for groups that only commit offsets. */
  protocolType: string;
}

/** ListGroups response body. */
export interface ListGroupsResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  errorCode: number;
  groups: ListedGroup[];
}

/** Writes a ListGroupsRequest body (nothing). */
export function encodeListGroupsRequest(
  _w: Writer,
  _version: number,
  _body: ListGroupsRequest,
): void {}

/** Reads a ListGroupsRequest body (nothing). */
export function decodeListGroupsRequest(_r: Reader, _version: number): ListGroupsRequest {
  return {};
}

/** Writes a ListGroupsResponse body. */
export function encodeListGroupsResponse(
  w: Writer,
  version: number,
  body: ListGroupsResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
  w.array(body.groups, (w, g) => {
    w.string(g.groupId);
    w.string(g.protocolType);
  });
}

/** Reads a ListGroupsResponse body. */
export function decodeListGroupsResponse(r: Reader, version: number): ListGroupsResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const groups = r.array((r) => ({ groupId: r.string(), protocolType: r.string() }));
  return { throttleTimeMs, errorCode, groups };
}
