/**
 * DescribeGroups (API key 15), versions 0–4: state, protocol and members of
 * groups, for admin tools.
 *
 * ```
 * DescribeGroupsRequest (v0-4) =>
 *   groups [string]
 *   includeAuthorizedOperations bool (v3+)
 * DescribeGroupsResponse (v0-4) =>
 *   throttleTimeMs int32 (v1+)
 *   groups [
 *     errorCode int16, groupId string, groupState string,
 *     protocolType string, protocolData string,
 *     members [memberId string, groupInstanceId nullable string (v4+),
 *              clientId string, clientHost string,
 *              memberMetadata bytes, memberAssignment bytes],
 *     authorizedOperations int32 (v3+)]
 * ```
 * Layout from Kafka's DescribeGroupsRequest.json / DescribeGroupsResponse.json
 * (v5+ are flexible and not spoken here).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";
import { AUTHORIZED_OPERATIONS_OMITTED } from "./metadata.ts";

/** DescribeGroups request body. */
export interface DescribeGroupsRequest {
  groups: string[];
  /** v3+; decoded as false for older versions. */
  includeAuthorizedOperations?: boolean;
}

/** One member of a described group. */
export interface DescribedGroupMember {
  memberId: string;
  /** v4+; decoded as null for older versions. */
  groupInstanceId?: string | null;
  clientId: string;
  clientHost: string;
  /** The member's metadata for the protocol in use (raw bytes). */
  memberMetadata: Uint8Array;
  /** The member's current assignment (raw bytes). */
  memberAssignment: Uint8Array;
}

/** One described group. */
export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  /** e.g. "Stable", "PreparingRebalance", "Dead", or "". */
  groupState: string;
  /** e.g. "consumer", or "". */
  protocolType: string;
  /** The chosen protocol name, or "". */
  protocolData: string;
  members: DescribedGroupMember[];
  /** v3+; decoded as {@linkcode AUTHORIZED_OPERATIONS_OMITTED} for older versions. */
  authorizedOperations?: number;
}

/** DescribeGroups response body. */
export interface DescribeGroupsResponse {
  /** v1+; decoded as 0 for v0. */
  throttleTimeMs?: number;
  groups: DescribedGroup[];
}

/** Writes a DescribeGroupsRequest body. */
export function encodeDescribeGroupsRequest(
  w: Writer,
  version: number,
  body: DescribeGroupsRequest,
): void {
  w.array(body.groups, (w, g) => w.string(g));
  if (version >= 3) w.bool(body.includeAuthorizedOperations ?? false);
}

/** Reads a DescribeGroupsRequest body. */
export function decodeDescribeGroupsRequest(r: Reader, version: number): DescribeGroupsRequest {
  const groups = r.array((r) => r.string());
  const includeAuthorizedOperations = version >= 3 ? r.bool() : false;
  return { groups, includeAuthorizedOperations };
}

/** Writes a DescribeGroupsResponse body. */
export function encodeDescribeGroupsResponse(
  w: Writer,
  version: number,
  body: DescribeGroupsResponse,
): void {
  if (version >= 1) w.int32(body.throttleTimeMs ?? 0);
  w.array(body.groups, (w, g) => {
    w.int16(g.errorCode);
    w.string(g.groupId);
    w.string(g.groupState);
    w.string(g.protocolType);
    w.string(g.protocolData);
    w.array(g.members, (w, m) => {
      w.string(m.memberId);
      if (version >= 4) w.nullableString(m.groupInstanceId ?? null);
      w.string(m.clientId);
      w.string(m.clientHost);
      w.bytes(m.memberMetadata);
      w.bytes(m.memberAssignment);
    });
    if (version >= 3) w.int32(g.authorizedOperations ?? AUTHORIZED_OPERATIONS_OMITTED);
  });
}

/** Reads a DescribeGroupsResponse body. */
export function decodeDescribeGroupsResponse(r: Reader, version: number): DescribeGroupsResponse {
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const groups = r.array((r): DescribedGroup => {
    const errorCode = r.int16();
    const groupId = r.string();
    const groupState = r.string();
    const protocolType = r.string();
    const protocolData = r.string();
    const members = r.array((r): DescribedGroupMember => {
      const memberId = r.string();
      const groupInstanceId = version >= 4 ? r.nullableString() : null;
      return {
        memberId,
        groupInstanceId,
        clientId: r.string(),
        clientHost: r.string(),
        memberMetadata: r.bytes(),
        memberAssignment: r.bytes(),
      };
    });
    const authorizedOperations = version >= 3 ? r.int32() : AUTHORIZED_OPERATIONS_OMITTED;
    return {
      errorCode,
      groupId,
      groupState,
      protocolType,
      protocolData,
      members,
      authorizedOperations,
    };
  });
  return { throttleTimeMs, groups };
}
