/**
 * Kafka's group APIs on the coordinator: each request body is turned into a
 * {@linkcode GroupCoordinator} call and its answer into Kafka's response
 * body. Brokers forward these requests here unchanged.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "@kafka-analog/lib/protocol";
import type { GroupCoordinator } from "./group_coordinator.ts";

/** JoinGroup → waits for the rebalance. */
export async function joinGroup(
  groups: GroupCoordinator,
  r: JoinGroupRequest,
  clientId: string,
): Promise<JoinGroupResponse> {
  const result = await groups.join({
    groupId: r.groupId,
    memberId: r.memberId,
    clientId,
    clientHost: "",
    sessionTimeoutMs: r.sessionTimeoutMs,
    rebalanceTimeoutMs: r.rebalanceTimeoutMs !== undefined && r.rebalanceTimeoutMs >= 0
      ? r.rebalanceTimeoutMs
      : r.sessionTimeoutMs,
    protocolType: r.protocolType,
    protocols: r.protocols,
  });
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    generationId: result.generationId,
    protocolName: result.protocolName ?? "",
    leader: result.leaderId,
    memberId: result.memberId,
    members: result.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: null,
      metadata: m.metadata,
    })),
  };
}

/** SyncGroup → the member's assignment. */
export async function syncGroup(
  groups: GroupCoordinator,
  r: SyncGroupRequest,
): Promise<SyncGroupResponse> {
  const result = await groups.sync({
    groupId: r.groupId,
    generationId: r.generationId,
    memberId: r.memberId,
    assignments: r.assignments,
  });
  return { throttleTimeMs: 0, errorCode: result.errorCode, assignment: result.assignment };
}

/** Heartbeat. */
export function heartbeat(groups: GroupCoordinator, r: HeartbeatRequest): HeartbeatResponse {
  return { throttleTimeMs: 0, errorCode: groups.heartbeat(r) };
}

/** LeaveGroup (v0–2 one member, v3+ a list). */
export function leaveGroup(groups: GroupCoordinator, r: LeaveGroupRequest): LeaveGroupResponse {
  const ids = r.members && r.members.length > 0
    ? r.members.map((m) => m.memberId)
    : [r.memberId ?? ""];
  const results = groups.leave(r.groupId, ids);
  return {
    throttleTimeMs: 0,
    errorCode: r.members && r.members.length > 0 ? 0 : results[0].errorCode,
    members: results.map((x) => ({
      memberId: x.memberId,
      groupInstanceId: null,
      errorCode: x.errorCode,
    })),
  };
}

/** OffsetCommit: one answer code for every partition of the request. */
export function offsetCommit(
  groups: GroupCoordinator,
  r: OffsetCommitRequest,
): OffsetCommitResponse {
  const errorCode = groups.commit({
    groupId: r.groupId,
    generationId: r.generationIdOrMemberEpoch,
    memberId: r.memberId,
    offsets: r.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata,
      }))
    ),
  });
  return {
    throttleTimeMs: 0,
    topics: r.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  };
}

/** OffsetFetch: −1 for partitions without a committed offset. */
export function offsetFetch(groups: GroupCoordinator, r: OffsetFetchRequest): OffsetFetchResponse {
  const wanted = r.topics === null
    ? null
    : r.topics.flatMap((t) =>
      t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))
    );
  const offsets = groups.committed(r.groupId, wanted);
  const byTopic = new Map<string, OffsetFetchResponse["topics"][number]["partitions"]>();
  for (const o of offsets) {
    byTopic.set(o.topic, [
      ...(byTopic.get(o.topic) ?? []),
      {
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
        metadata: o.metadata,
        errorCode: 0,
      },
    ]);
  }
  return {
    throttleTimeMs: 0,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    errorCode: 0,
  };
}

/** DescribeGroups. */
export function describeGroups(
  groups: GroupCoordinator,
  r: DescribeGroupsRequest,
): DescribeGroupsResponse {
  return {
    throttleTimeMs: 0,
    groups: r.groups.map((groupId) => {
      const g = groups.group(groupId);
      return {
        errorCode: 0,
        groupId,
        groupState: g?.state ?? "Dead",
        protocolType: g?.protocolType ?? "",
        protocolData: g?.protocolName ?? "",
        members: [...(g?.members.values() ?? [])].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.protocols.find((p) => p.name === g?.protocolName)?.metadata ??
            new Uint8Array(0),
          memberAssignment: m.assignment,
        })),
        authorizedOperations: -2147483648,
      };
    }),
  };
}

/** ListGroups. */
export function listGroups(groups: GroupCoordinator): ListGroupsResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: groups.groups().map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType || "consumer",
    })),
  };
}

/**
 * DeleteGroups → deletes each empty group and its committed offsets:
 * NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when unknown.
 */
export function deleteGroups(
  groups: GroupCoordinator,
  r: DeleteGroupsRequest,
): DeleteGroupsResponse {
  return {
    throttleTimeMs: 0,
    results: r.groupsNames.map((groupId) => {
      try {
        groups.deleteGroup(groupId);
        return { groupId, errorCode: 0 };
      } catch (err) {
        if (!isKaError(err)) throw err;
        return { groupId, errorCode: err.code };
      }
    }),
  };
}
