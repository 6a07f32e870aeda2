/**
 * FindCoordinator (API key 10), versions 0–2: which broker coordinates a
 * consumer group (keyType 0) or a transactional id (keyType 1). Clients send
 * it to any broker before they join a group or commit offsets.
 *
 * ```
 * FindCoordinatorRequest (v0-2) =>
 *   key string
 *   keyType int8 (v1+)
 * FindCoordinatorResponse (v0-2) =>
 *   throttleTimeMs int32 (v1+)
 *   errorCode int16
 *   errorMessage nullable string (v1+)
 *   nodeId int32, host string, port int32
 * ```
 * Layout from Kafka's FindCoordinatorRequest.json / FindCoordinatorResponse.json
 * (v3+ are flexible and not spoken here; v4+ batch several keys).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** Coordinator key types of {@linkcode FindCoordinatorRequest.keyType}. */
export const CoordinatorKeyType = { Group: 0, Transaction: 1 } as const;

/** FindCoordinator request body. */
export interface FindCoordinatorRequest {
  /** The group id (keyType 0) or transactional id (keyType 1). */
  key: string;
  /** v1+; 0 = group, 1 = transaction; decoded as 0 for v0. */
  keyType?: number;
}

/** FindCoordinator response body. */
export interface FindCoordinatorResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  errorCode: number;
  /** v1+ (nullable); decoded as "" (Kafka's default) for v0. */
  errorMessage?: string | null;
  /** The coordinator's broker id, or -1 on error. */
  nodeId: number;
  host: string;
  port: number;
}

/** Writes a FindCoordinatorRequest body. */
export function encodeFindCoordinatorRequest(
  w: Writer,
  version: number,
  body: FindCoordinatorRequest,
): void {
  w.string(body.key);
  if (version >= 1) w.int8(body.keyType ?? 0);
}

/** Reads a FindCoordinatorRequest body. */
export function decodeFindCoordinatorRequest(r: Reader, version: number): FindCoordinatorRequest {
  const key = r.string();
  const keyType = version >= 1 ? r.int8() : 0;
  return { key, keyType };
}

/** Writes a FindCoordinatorResponse body. */
export function encodeFindCoordinatorResponse(
  w: Writer,
  version: number,
  body: FindCoordinatorResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.int16(body.errorCode);
  if (version >= 1) w.nullableString(body.errorMessage ?? null);
  w.int32(body.nodeId);
  w.string(body.host);
  w.int32(body.port);
}

/** Reads a FindCoordinatorResponse body. */
export function decodeFindCoordinatorResponse(
  r: Reader,
  version: number,
): FindCoordinatorResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const errorCode = r.int16();
  const errorMessage = version >= 1 ? r.nullableString() : "";
  return {
    throttleTimeMs,
    errorCode,
    errorMessage,
    nodeId: r.int32(),
    host: r.string(),
    port: r.int32(),
  };
}
