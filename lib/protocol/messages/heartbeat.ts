/**
 * Heartbeat (API key 12), versions 0–3: a member tells the coordinator it is
 * alive. The answer's error code also carries group news: REBALANCE_IN_PROGRESS
 * asks the member to rejoin.
 *
 * ```
 * HeartbeatRequest (v0-3) =>
 *   groupId string
 *   generationId int32
 *   memberId string
 *   groupInstanceId nullable string (v3+)
 * HeartbeatResponse (v0-3) =>
 *   throttleTimeMs int32 (v1+)
 *   errorCode int16
 * ```
 * Layout from Kafka's HeartbeatRequest.json / HeartbeatResponse.json (v4+
 * are flexible and not spoken here).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** Heartbeat request body. */
export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+ (static membership); decoded as null for older versions. */
  groupInstanceId?: string | null;
}

/** Heartbeat response body. */
export interface HeartbeatResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  errorCode: number;
}

/** Writes a HeartbeatRequest body. */
export function encodeHeartbeatRequest(w: Writer, version: number, body: HeartbeatRequest): void {
  w.string(body.groupId);
  w.int32(body.generationId);
  w.string(body.memberId);
  if (version >= 3) w.nullableString(body.groupInstanceId ?? null);
}

/** Reads a HeartbeatRequest body. */
export function decodeHeartbeatRequest(r: Reader, version: number): HeartbeatRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  const groupInstanceId = version >= 3 ? r.nullableString() : null;
  return { groupId, generationId, memberId, groupInstanceId };
}

/** Writes a HeartbeatResponse body. */
export function encodeHeartbeatResponse(
  w: Writer,
  version: number,
  body: HeartbeatResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
}

/** Reads a HeartbeatResponse body. */
export function decodeHeartbeatResponse(r: Reader, version: number): HeartbeatResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  return { throttleTimeMs, errorCode: r.int16() };
}
