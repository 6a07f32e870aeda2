/**
 * SyncGroup (API key 14), versions 0–3: after a JoinGroup round, the leader
 * sends every member's assignment; every member (the leader included) gets
 * its own assignment back.
 *
 * ```
 * SyncGroupRequest (v0-3) =>
 *   groupId string
 *   generationId int32
 *   memberId string
 *   groupInstanceId nullable string (v3+)
 *   assignments [memberId string, assignment bytes]
 * SyncGroupResponse (v0-3) =>
 *   throttleTimeMs int32 (v1+)
 *   errorCode int16
 *   assignment bytes
 * ```
 * Layout from Kafka's SyncGroupRequest.json / SyncGroupResponse.json (v4+
 * are flexible and not spoken here). `assignment` is opaque to the
 * coordinator; for protocolType "consumer" it is a ConsumerProtocolAssignment
 * (see `consumer_protocol.ts`).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One member's assignment, sent by the leader. */
export interface SyncGroupRequestAssignment {
  memberId: string;
  /** Raw assignment bytes. */
  assignment: Uint8Array;
}

/** SyncGroup request body. */
export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+ (static membership); decoded as null for older versions. */
  groupInstanceId?: string | null;
  /** The leader's assignments; [] from followers. */
  assignments: SyncGroupRequestAssignment[];
}

/** SyncGroup response body. */
export interface SyncGroupResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  errorCode: number;
  /** The receiver's assignment (raw bytes; empty on error). */
  assignment: Uint8Array;
}

/** Writes a SyncGroupRequest body. */
export function encodeSyncGroupRequest(w: Writer, version: number, body: SyncGroupRequest): void {
  w.string(body.groupId);
  w.int32(body.generationId);
  w.string(body.memberId);
  if (version >= 3) w.nullableString(body.groupInstanceId ?? null);
  w.array(body.assignments, (w, a) => {
    w.string(a.memberId);
    w.bytes(a.assignment);
  });
}

/** Reads a SyncGroupRequest body. */
export function decodeSyncGroupRequest(r: Reader, version: number): SyncGroupRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  const groupInstanceId = version >= 3 ? r.nullableString() : null;
  const assignments = r.array((r) => ({ memberId: r.string(), assignment: r.bytes() }));
  return { groupId, generationId, memberId, groupInstanceId, assignments };
}

/** Writes a SyncGroupResponse body. */
export function encodeSyncGroupResponse(
  w: Writer,
  version: number,
  body: SyncGroupResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
  w.bytes(body.assignment);
}

/** Reads a SyncGroupResponse body. */
export function decodeSyncGroupResponse(r: Reader, version: number): SyncGroupResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  return { throttleTimeMs, errorCode: r.int16(), assignment: r.bytes() };
}
