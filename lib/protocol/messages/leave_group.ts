/**
 * LeaveGroup (API key 13), versions 0–3: members leave a group at once, so
 * the coordinator rebalances without waiting for their sessions to expire.
 * Up to v2 one member leaves by id; v3 lists members (with their static
 * instance ids) and answers per member.
 *
 * ```
 * LeaveGroupRequest (v0-3) =>
 *   groupId string
 *   memberId string (v0-2)
 *   members [memberId string, groupInstanceId nullable string] (v3+)
 * LeaveGroupResponse (v0-3) =>
 *   throttleTimeMs int32 (v1+)
 *   errorCode int16
 *   members [memberId string, groupInstanceId nullable string, errorCode int16] (v3+)
 * ```
 * Layout from Kafka's LeaveGroupRequest.json / LeaveGroupResponse.json (v4+
 * are flexible and not spoken here).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One leaving member (v3+). */
export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

/** LeaveGroup request body. */
export interface LeaveGroupRequest {
  groupId: string;
  /** v0-2 only; decoded as "" for v3. */
  memberId?: string;
  /** v3+ only; decoded as [] for v0-2. */
  members?: MemberIdentity[];
}

/** One leaving member's outcome (v3+). */
export interface MemberResponse {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
}

/** LeaveGroup response body. */
export interface LeaveGroupResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  errorCode: number;
  /** v3+; decoded as [] for older versions. */
  members?: MemberResponse[];
}

/** Writes a LeaveGroupRequest body. */
export function encodeLeaveGroupRequest(
  w: Writer,
  version: number,
  body: LeaveGroupRequest,
): void {
  w.string(body.groupId);
  if (version <= 2) w.string(body.memberId ?? "");
  if (version >= 3) {
    w.array(body.members ?? [], (w, m) => {
      w.string(m.memberId);
      w.nullableString(m.groupInstanceId);
    });
  }
}

/** Reads a LeaveGroupRequest body. */
export function decodeLeaveGroupRequest(r: Reader, version: number): LeaveGroupRequest {
  const groupId = r.string();
  const memberId = version <= 2 ? r.string() : "";
  const members = version >= 3
    ? r.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }))
    : [];
  return { groupId, memberId, members };
}

/** Writes a LeaveGroupResponse body. */
export function encodeLeaveGroupResponse(
  w: Writer,
  version: number,
  body: LeaveGroupResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
  if (version >= 3) {
    w.array(body.members ?? [], (w, m) => {
      w.string(m.memberId);
      w.nullableString(m.groupInstanceId);
      w.int16(m.errorCode);
    });
  }
}

/** Reads a LeaveGroupResponse body. */
export function decodeLeaveGroupResponse(r: Reader, version: number): LeaveGroupResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const members = version >= 3
    ? r.array((r) => ({
      memberId: r.string(),
      groupInstanceId: r.nullableString(),
      errorCode: r.int16(),
    }))
    : [];
  return { throttleTimeMs, errorCode, members };
}
