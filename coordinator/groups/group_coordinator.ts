/**
 * The group coordinator: consumer groups (join, sync, heartbeat, leave),
 * generations, rebalances and committed offsets. It follows Kafka's group
 * protocol: members join, the coordinator waits until every known member has
 * rejoined (or the rebalance timeout passes), bumps the generation, picks a
 * leader and a protocol (assignor) all members support, and gives the leader
 * everyone's subscription; the leader computes the plan and sends it in
 * SyncGroup; each member receives its share. Requests from an older
 * generation are fenced with ILLEGAL_GENERATION.
 *
 * Time and ids are injected; committed offsets are journaled through a
 * callback before they are acknowledged.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { GROUP_MEMBERS_MAX } from "@kafka-analog/lib/limits";
import type { CommittedOffset } from "../metadata/store.ts";

/** Kafka's group states. */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** One protocol (assignor) a member supports, with its subscription metadata. */
export interface MemberProtocol {
  name: string;
  metadata: Uint8Array;
}

/** A member as the coordinator keeps it. */
export interface Member {
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: MemberProtocol[];
  assignment: Uint8Array;
  lastHeartbeatMs: number;
  joinWaiter: ((result: JoinResult) => void) | null;
  syncWaiter: ((result: SyncResult) => void) | null;
}

/** A consumer group. */
export interface Group {
  groupId: string;
  state: GroupState;
  generationId: number;
  protocolType: string;
  protocolName: string | null;
  leaderId: string | null;
  members: Map<string, Member>;
  /** When the current rebalance must complete (members not rejoined by then are removed). */
  rebalanceDeadlineMs: number;
  /** Earliest time the join phase may complete (lets several members join one rebalance). */
  joinNotBeforeMs: number;
}

/** What JoinGroup answers. */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolName: string | null;
  leaderId: string;
  memberId: string;
  /** Only the leader gets the members and their metadata. */
  members: { memberId: string; metadata: Uint8Array }[];
}

/** What SyncGroup answers. */
export interface SyncResult {
  errorCode: number;
  assignment: Uint8Array;
}

/** A committed offset. */
export type { CommittedOffset } from "../metadata/store.ts";

/** Options for {@linkcode GroupCoordinator}. */
export interface GroupCoordinatorOptions {
  now: () => number;
  newMemberId: (clientId: string) => string;
  /** Journals offsets before they are acknowledged. */
  persistOffsets?: (groupId: string, offsets: CommittedOffset[]) => void;
  /** Journals that a group was deleted (DeleteGroups) before it is forgotten. */
  persistDeletion?: (groupId: string) => void;
  /** How long the first join of an empty group waits for more members (Kafka's initial rebalance delay). */
  initialRebalanceDelayMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
}

const EMPTY = new Uint8Array(0);

/** Runs every group. */
export class GroupCoordinator {
  #groups = new Map<string, Group>();
  #offsets = new Map<string, Map<string, CommittedOffset>>();
  #options: GroupCoordinatorOptions;

  constructor(options: GroupCoordinatorOptions) {
    this.#options = options;
  }

  /** Restores offsets from the journal at start. */
  loadOffsets(groupId: string, offsets: CommittedOffset[]): void {
    const map = this.#offsetMap(groupId);
    for (const o of offsets) map.set(`${o.topic}/${o.partition}`, o);
  }

  /** JoinGroup: resolves when the rebalance completes (or fails). */
  join(request: {
    groupId: string;
    memberId: string;
    clientId: string;
    clientHost: string;
    sessionTimeoutMs: number;
    rebalanceTimeoutMs: number;
    protocolType: string;
    protocols: MemberProtocol[];
  }): Promise<JoinResult> {
    const fail = (name: Parameters<typeof KaError.of>[0]) =>
      Promise.resolve({
        errorCode: KaError.of(name).code,
        generationId: -1,
        protocolName: null,
        leaderId: "",
        memberId: request.memberId,
        members: [],
      });
    if (request.groupId === "") return fail("INVALID_GROUP_ID");
    const min = this.#options.minSessionTimeoutMs ?? 1_000;
    const max = this.#options.maxSessionTimeoutMs ?? 300_000;
    if (request.sessionTimeoutMs < min || request.sessionTimeoutMs > max) {
      return fail("INVALID_SESSION_TIMEOUT");
    }
    if (request.protocols.length === 0) return fail("INCONSISTENT_GROUP_PROTOCOL");
    const group = this.#group(request.groupId);
    if (group.members.size > 0 && group.protocolType !== request.protocolType) {
      return fail("INCONSISTENT_GROUP_PROTOCOL");
    }
    // Kafka's rule: a member may join only with a protocol every other member supports.
    const others = [...group.members.values()].filter((m) => m.memberId !== request.memberId);
    if (
      others.length > 0 &&
      !request.protocols.some((p) =>
        others.every((m) => m.protocols.some((q) => q.name === p.name))
      )
    ) {
      return fail("INCONSISTENT_GROUP_PROTOCOL");
    }
    const wasEmpty = group.state === "Empty" || group.members.size === 0;
    let member = request.memberId === "" ? undefined : group.members.get(request.memberId);
    if (request.memberId !== "" && !member) return fail("UNKNOWN_MEMBER_ID");
    if (!member) {
      if (group.members.size >= GROUP_MEMBERS_MAX) return fail("GROUP_MAX_SIZE_REACHED");
      member = {
        memberId: this.#options.newMemberId(request.clientId),
        clientId: request.clientId,
        clientHost: request.clientHost,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        protocols: request.protocols,
        assignment: EMPTY,
        lastHeartbeatMs: this.#options.now(),
        joinWaiter: null,
        syncWaiter: null,
      };
      group.members.set(member.memberId, member);
    } else {
      member.protocols = request.protocols;
      member.sessionTimeoutMs = request.sessionTimeoutMs;
      member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
      member.lastHeartbeatMs = this.#options.now();
      // A member that was waiting on an older join is answered by this one.
      member.joinWaiter?.(this.#joinError(member, "REBALANCE_IN_PROGRESS"));
    }
    group.protocolType = request.protocolType;
    const joined = member;
    const result = new Promise<JoinResult>((resolve) => (joined.joinWaiter = resolve));
    if (group.state !== "PreparingRebalance") {
      // Only an empty group waits for more members to arrive (Kafka's initial rebalance delay).
      this.#prepareRebalance(group, wasEmpty);
    }
    this.tick();
    return result;
  }

  /** SyncGroup: the leader brings the plan; everyone gets their part. */
  sync(request: {
    groupId: string;
    generationId: number;
    memberId: string;
    assignments: { memberId: string; assignment: Uint8Array }[];
  }): Promise<SyncResult> {
    const group = this.#groups.get(request.groupId);
    const error = (name: Parameters<typeof KaError.of>[0]) =>
      Promise.resolve({ errorCode: KaError.of(name).code, assignment: EMPTY });
    if (!group || group.state === "Dead") return error("UNKNOWN_MEMBER_ID");
    const member = group.members.get(request.memberId);
    if (!member) return error("UNKNOWN_MEMBER_ID");
    if (request.generationId !== group.generationId) return error("ILLEGAL_GENERATION");
    if (group.state === "PreparingRebalance") return error("REBALANCE_IN_PROGRESS");
    member.lastHeartbeatMs = this.#options.now();
    if (group.state === "Stable") {
      return Promise.resolve({ errorCode: 0, assignment: member.assignment });
    }
    // CompletingRebalance
    const result = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
    if (request.memberId === group.leaderId) {
      const plan = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of group.members.values()) m.assignment = plan.get(m.memberId) ?? EMPTY;
      group.state = "Stable";
      for (const m of group.members.values()) {
        m.syncWaiter?.({ errorCode: 0, assignment: m.assignment });
        m.syncWaiter = null;
      }
    }
    return result;
  }

  /** Heartbeat: keeps a member alive and tells it when to rejoin. */
  heartbeat(request: { groupId: string; generationId: number; memberId: string }): number {
    const group = this.#groups.get(request.groupId);
    const member = group?.members.get(request.memberId);
    if (!group || !member) return KaError.of("UNKNOWN_MEMBER_ID").code;
    member.lastHeartbeatMs = this.#options.now();
    if (group.state === "PreparingRebalance") return KaError.of("REBALANCE_IN_PROGRESS").code;
    if (request.generationId !== group.generationId) return KaError.of("ILLEGAL_GENERATION").code;
    return 0;
  }

  /** LeaveGroup: members leave at once (a rebalance follows). Returns an error code per member. */
  leave(groupId: string, memberIds: string[]): { memberId: string; errorCode: number }[] {
    const group = this.#groups.get(groupId);
    return memberIds.map((memberId) => {
      const member = group?.members.get(memberId);
      if (!group || !member) return { memberId, errorCode: KaError.of("UNKNOWN_MEMBER_ID").code };
      this.#remove(group, member, "left");
      return { memberId, errorCode: 0 };
    });
  }

  /**
   * OffsetCommit: fenced by generation when the group has members (a
   * generation of −1 is a standalone commit, allowed only for an empty group).
   */
  commit(request: {
    groupId: string;
    generationId: number;
    memberId: string;
    offsets: { topic: string; partition: number; offset: bigint; metadata: string | null }[];
  }): number {
    if (request.groupId === "") return KaError.of("INVALID_GROUP_ID").code;
    const group = this.#groups.get(request.groupId);
    if (group && group.members.size > 0) {
      if (request.generationId < 0) return KaError.of("UNKNOWN_MEMBER_ID").code;
      if (!group.members.has(request.memberId)) return KaError.of("UNKNOWN_MEMBER_ID").code;
      if (request.generationId !== group.generationId) return KaError.of("ILLEGAL_GENERATION").code;
      // A member may commit what it processed before rejoining (Kafka accepts that during
      // PreparingRebalance); only the sync phase refuses.
      if (group.state === "CompletingRebalance") return KaError.of("REBALANCE_IN_PROGRESS").code;
      group.members.get(request.memberId)!.lastHeartbeatMs = this.#options.now();
    } else if (request.generationId >= 0) {
      return KaError.of("ILLEGAL_GENERATION").code;
    }
    const now = this.#options.now();
    const offsets = request.offsets.map((o) => ({ ...o, commitTimestampMs: now }));
    this.#options.persistOffsets?.(request.groupId, offsets);
    this.loadOffsets(request.groupId, offsets);
    this.#group(request.groupId); // a standalone commit creates an Empty group
    return 0;
  }

  /** Offsets committed by a transaction: applied as they are (the transaction was fenced by producer epoch). */
  commitTransactional(
    offsets: {
      group: string;
      topic: string;
      partition: number;
      offset: bigint;
      metadata: string | null;
    }[],
  ): void {
    const now = this.#options.now();
    const byGroup = new Map<string, CommittedOffset[]>();
    for (const o of offsets) {
      byGroup.set(o.group, [...(byGroup.get(o.group) ?? []), {
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        metadata: o.metadata,
        commitTimestampMs: now,
      }]);
    }
    for (const [group, list] of byGroup) {
      this.#options.persistOffsets?.(group, list);
      this.loadOffsets(group, list);
      this.#group(group);
    }
  }

  /** OffsetFetch: committed offsets (all of the group's when `partitions` is null). */
  committed(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): CommittedOffset[] {
    const map = this.#offsets.get(groupId) ?? new Map<string, CommittedOffset>();
    if (partitions === null) return [...map.values()];
    return partitions.map((p) =>
      map.get(`${p.topic}/${p.partition}`) ??
        {
          topic: p.topic,
          partition: p.partition,
          offset: -1n,
          metadata: null,
          commitTimestampMs: -1,
        }
    );
  }

  /** Sets offsets of an empty group (console `group reset`). */
  resetOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint }[],
  ): void {
    const group = this.#groups.get(groupId);
    if (group && group.members.size > 0) {
      throw KaError.of(
        "NON_EMPTY_GROUP",
        `Group '${groupId}' has ${group.members.size} member(s): stop them first`,
      );
    }
    const code = this.commit({
      groupId,
      generationId: -1,
      memberId: "",
      offsets: offsets.map((o) => ({ ...o, metadata: null })),
    });
    if (code !== 0) throw new KaError(code);
  }

  /**
   * DeleteGroups: forgets an empty group and its committed offsets (journaled
   * first, so they stay deleted after a restart). Throws GROUP_ID_NOT_FOUND
   * for an unknown group and NON_EMPTY_GROUP for one with members.
   */
  deleteGroup(groupId: string): void {
    const group = this.#groups.get(groupId);
    if (!group && !this.#offsets.has(groupId)) {
      throw KaError.of("GROUP_ID_NOT_FOUND", `Unknown group '${groupId}'`);
    }
    if (group && group.members.size > 0) {
      throw KaError.of(
        "NON_EMPTY_GROUP",
        `Group '${groupId}' has ${group.members.size} member(s): stop them first`,
      );
    }
    this.#options.persistDeletion?.(groupId);
    if (group) group.state = "Dead";
    this.#groups.delete(groupId);
    this.#offsets.delete(groupId);
  }

  /** A group, for describe; undefined when unknown. */
  group(groupId: string): Group | undefined {
    return this.#groups.get(groupId) ??
      (this.#offsets.has(groupId) ? this.#group(groupId) : undefined);
  }

  /** Every group (with members or committed offsets). */
  groups(): Group[] {
    for (const id of this.#offsets.keys()) this.#group(id);
    return [...this.#groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /**
   * Drives time: expires members that missed heartbeats, removes members that
   * did not rejoin by the rebalance deadline, and completes joins. Call it on
   * a timer and after every request.
   */
  tick(): void {
    const now = this.#options.now();
    for (const group of this.#groups.values()) {
      for (const member of [...group.members.values()]) {
        // A member parked in JoinGroup is alive; otherwise it must heartbeat.
        if (
          member.joinWaiter === null && member.syncWaiter === null &&
          now - member.lastHeartbeatMs > member.sessionTimeoutMs
        ) {
          this.#remove(group, member, "session timeout");
        }
      }
      if (group.state !== "PreparingRebalance") continue;
      const waiting = [...group.members.values()].filter((m) => m.joinWaiter === null);
      if (now >= group.rebalanceDeadlineMs) {
        for (const m of waiting) {
          this.#remove(group, m, "did not rejoin in time", { rebalance: false });
        }
      } else if (waiting.length > 0 || now < group.joinNotBeforeMs) {
        continue;
      }
      this.#completeJoin(group);
    }
  }

  #group(groupId: string): Group {
    let group = this.#groups.get(groupId);
    if (!group) {
      group = {
        groupId,
        state: "Empty",
        generationId: 0,
        protocolType: "",
        protocolName: null,
        leaderId: null,
        members: new Map(),
        rebalanceDeadlineMs: 0,
        joinNotBeforeMs: 0,
      };
      this.#groups.set(groupId, group);
    }
    return group;
  }

  #offsetMap(groupId: string): Map<string, CommittedOffset> {
    let map = this.#offsets.get(groupId);
    if (!map) this.#offsets.set(groupId, map = new Map());
    return map;
  }

  #prepareRebalance(group: Group, initial: boolean): void {
    const now = this.#options.now();
    group.state = "PreparingRebalance";
    const timeout = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs), 1);
    group.rebalanceDeadlineMs = now + timeout;
    group.joinNotBeforeMs = initial ? now + (this.#options.initialRebalanceDelayMs ?? 300) : now;
    // Members waiting in SyncGroup must rejoin.
    for (const m of group.members.values()) {
      m.syncWaiter?.({ errorCode: KaError.of("REBALANCE_IN_PROGRESS").code, assignment: EMPTY });
      m.syncWaiter = null;
    }
  }

  #completeJoin(group: Group): void {
    const members = [...group.members.values()];
    if (members.length === 0) {
      group.state = "Empty";
      group.generationId++;
      group.leaderId = null;
      group.protocolName = null;
      return;
    }
    // The first protocol, in the leader's order of preference, that every member supports.
    const leader = group.leaderId && group.members.has(group.leaderId)
      ? group.members.get(group.leaderId)!
      : members[0];
    const common = leader.protocols.map((p) => p.name).find((name) =>
      members.every((m) => m.protocols.some((p) => p.name === name))
    );
    group.generationId++;
    group.leaderId = leader.memberId;
    if (common === undefined) {
      for (const m of members) m.joinWaiter?.(this.#joinError(m, "INCONSISTENT_GROUP_PROTOCOL"));
      for (const m of members) this.#remove(group, m, "no common protocol", { rebalance: false });
      return;
    }
    group.protocolName = common;
    group.state = "CompletingRebalance";
    const now = this.#options.now();
    for (const m of members) {
      m.lastHeartbeatMs = now;
      m.joinWaiter?.({
        errorCode: 0,
        generationId: group.generationId,
        protocolName: common,
        leaderId: leader.memberId,
        memberId: m.memberId,
        members: m === leader
          ? members.map((x) => ({
            memberId: x.memberId,
            metadata: x.protocols.find((p) => p.name === common)!.metadata,
          }))
          : [],
      });
      m.joinWaiter = null;
    }
  }

  #remove(
    group: Group,
    member: Member,
    _reason: string,
    options: { rebalance?: boolean } = {},
  ): void {
    group.members.delete(member.memberId);
    member.joinWaiter?.(this.#joinError(member, "UNKNOWN_MEMBER_ID"));
    member.syncWaiter?.({ errorCode: KaError.of("UNKNOWN_MEMBER_ID").code, assignment: EMPTY });
    member.joinWaiter = null;
    member.syncWaiter = null;
    if (group.leaderId === member.memberId) group.leaderId = null;
    if (options.rebalance === false) return;
    if (group.members.size === 0) {
      group.state = "Empty";
      group.generationId++;
      group.protocolName = null;
    } else if (group.state !== "PreparingRebalance") {
      this.#prepareRebalance(group, false);
    }
  }

  #joinError(member: Member, name: Parameters<typeof KaError.of>[0]): JoinResult {
    return {
      errorCode: KaError.of(name).code,
      generationId: -1,
      protocolName: null,
      leaderId: "",
      memberId: member.memberId,
      members: [],
    };
  }
}
