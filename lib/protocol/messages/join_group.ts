/**
 * JoinGroup (API key 11), versions 0–5: a member joins (or rejoins) a group
 * and names the protocols it supports. The coordinator waits for all members,
 * picks a protocol, bumps the generation and answers; the leader's answer
 * lists every member's metadata so it can compute the assignment.
 *
 * ```
 * JoinGroupRequest (v0-5) =>
 *   groupId string
 *   sessionTimeoutMs int32
 *   rebalanceTimeoutMs int32 (v1+)
 *   memberId string
 *   groupInstanceId nullable string (v5+)
 *   protocolType string
 *   protocols [name string, metadata bytes]
 * JoinGroupResponse (v0-5) =>
 *   throttleTimeMs int32 (v2+)
 *   errorCode int16
 *   generationId int32
 *   protocolName string
 *   leader string
 *   memberId string
 *   members [memberId string, groupInstanceId nullable string (v5+), metadata bytes]
 * ```
 * Layout from Kafka's JoinGroupRequest.json / JoinGroupResponse.json (v6+
 * are flexible and not spoken here). `metadata` is opaque to the
 * coordinator; for protocolType "consumer" it is a ConsumerProtocolSubscription
 * (see `consumer_protocol.ts`).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One protocol a joining member supports, in preference order. */
export interface JoinGroupRequestProtocol {
  /** e.g. "range", "roundrobin", "cooperative-sticky". */
  name: string;
  /** Protocol-specific metadata (raw bytes). */
  metadata: Uint8Array;
}

/** JoinGroup request body. */
export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  /** v1+; decoded as -1 for v0 (then the session timeout is used). */
  rebalanceTimeoutMs?: number;
  /** "" on the first join. */
  memberId: string;
  /** v5+ (static membership); decoded as null for older versions. */
  groupInstanceId?: string | null;
  /** e.g. "consumer". */
  protocolType: string;
  protocols: JoinGroupRequestProtocol[];
}

/** One member, as the leader sees it in a {@linkcode JoinGroupResponse}. */
export interface JoinGroupResponseMember {
  memberId: string;
  /** v5+; decoded as null for older versions. */
  groupInstanceId?: string | null;
  /** The member's metadata for the chosen protocol (raw bytes). */
  metadata: Uint8Array;
}

/** JoinGroup response body. */
export interface JoinGroupResponse {
  /** v2+; decoded as 0 for older versions. */
  throttleTimeMs?: number;
  errorCode: number;
  /** -1 on error. */
  generationId: number;
  /** The chosen protocol ("" on error). */
  protocolName: string;
  /** The leader's member id. */
  leader: string;
  /** The member id of the receiver. */
  memberId: string;
  /** Every member, only in the leader's response; [] for followers. */
  members: JoinGroupResponseMember[];
}

/** Writes a JoinGroupRequest body. */
export function encodeJoinGroupRequest(w: Writer, version: number, body: JoinGroupRequest): void {
  w.string(body.groupId);
  w.int32(body.sessionTimeoutMs);
  if (version >= 1) w.int32(body.rebalanceTimeoutMs ?? -1);
  w.string(body.memberId);
  if (version >= 5) w.nullableString(body.groupInstanceId ?? null);
  w.string(body.protocolType);
  w.array(body.protocols, (w, p) => {
    w.string(p.name);
    w.bytes(p.metadata);
  });
}

/** Reads a JoinGroupRequest body. */
export function decodeJoinGroupRequest(r: Reader, version: number): JoinGroupRequest {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
  const memberId = r.string();
  const groupInstanceId = version >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  const protocols = r.array((r) => ({ name: r.string(), metadata: r.bytes() }));
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId,
    protocolType,
    protocols,
  };
}

/** Writes a JoinGroupResponse body. */
export function encodeJoinGroupResponse(
  w: Writer,
  version: number,
  body: JoinGroupResponse,
): void {
  if (version >= 2) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
  w.int32(body.generationId);
  w.string(body.protocolName);
  w.string(body.leader);
  w.string(body.memberId);
  w.array(body.members, (w, m) => {
    w.string(m.memberId);
    if (version >= 5) w.nullableString(m.groupInstanceId ?? null);
    w.bytes(m.metadata);
  });
}

/** Reads a JoinGroupResponse body. */
export function decodeJoinGroupResponse(r: Reader, version: number): JoinGroupResponse {
  const throttleTimeMs = version >= 2 ? r.int32() : 0;
  const errorCode = r.int16();
  const generationId = r.int32();
  const protocolName = r.string();
  const leader = r.string();
  const memberId = r.string();
  const members = r.array((r): JoinGroupResponseMember => {
    const memberId = r.string();
    const groupInstanceId = version >= 5 ? r.nullableString() : null;
    return { memberId, groupInstanceId, metadata: r.bytes() };
  });
  return { throttleTimeMs, errorCode, generationId, protocolName, leader, memberId, members };
}
