/**
 * Tests for the Kafka group APIs on the coordinator: each request goes
 * through the wire codec first (so its body has the shape the server sees
 * for that version), through the mapping function, and its response is
 * encoded and decoded again at the same version (so it is a Kafka-shaped,
 * encodable response). A fake clock drives the coordinator.
 * @module
 */
import assert from "node:assert/strict";
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ERRORS,
  type ImplementedApiKey,
  type RequestBodies,
  type ResponseBodies,
} from "@kafka-analog/lib/protocol";
import { GroupCoordinator } from "./group_coordinator.ts";
import {
  describeGroups,
  heartbeat,
  joinGroup,
  leaveGroup,
  listGroups,
  offsetCommit,
  offsetFetch,
  syncGroup,
} from "./requests.ts";

const INITIAL_DELAY_MS = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request body as the server decodes it from a `version` frame. */
function received<K extends ImplementedApiKey>(
  apiKey: K,
  version: number,
  body: RequestBodies[K],
): RequestBodies[K] {
  const frame = encodeRequest(
    { apiKey, apiVersion: version, correlationId: 7, clientId: "test" },
    body,
  );
  return decodeRequest(frame.subarray(4)).body as RequestBodies[K];
}

/** A response body as a client decodes it after the server encoded it at `version`. */
function sent<K extends ImplementedApiKey>(
  apiKey: K,
  version: number,
  body: ResponseBodies[K],
): ResponseBodies[K] {
  const frame = encodeResponse(apiKey, version, 7, body);
  return decodeResponse(apiKey, version, frame.subarray(4)).body;
}

/** Lets every pending microtask and zero-delay callback run (a bounded, 0 ms wait). */
function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The value of a promise that must have settled by now (fails instead of waiting). */
async function settled<T>(p: Promise<T>): Promise<T> {
  await flush();
  const sentinel = Symbol("pending");
  const first = await Promise.race([p, Promise.resolve(sentinel)]);
  assert.notEqual(first, sentinel, "expected the request to have been answered");
  return first as T;
}

function harness(): { gc: GroupCoordinator; advance(ms: number): void; clock: { nowMs: number } } {
  const clock = { nowMs: 5_000_000 };
  let n = 0;
  const gc = new GroupCoordinator({
    now: () => clock.nowMs,
    newMemberId: (clientId) => `${clientId}-${++n}`,
    initialRebalanceDelayMs: INITIAL_DELAY_MS,
  });
  return {
    gc,
    clock,
    advance(ms) {
      clock.nowMs += ms;
      gc.tick();
    },
  };
}

function joinBody(memberId: string, owner: string): RequestBodies[11] {
  return {
    groupId: "g",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [
      { name: "roundrobin", metadata: encoder.encode(`rr:${owner}`) },
      { name: "range", metadata: encoder.encode(`range:${owner}`) },
    ],
  };
}

/** A Stable group "g" of two members (a leads) joined over JoinGroup v5 / SyncGroup v3. */
async function stableGroup(
  h: ReturnType<typeof harness>,
): Promise<{ a: string; b: string; generationId: number }> {
  const aJoin = joinGroup(h.gc, received(ApiKey.JoinGroup, 5, joinBody("", "a")), "client-a");
  const bJoin = joinGroup(h.gc, received(ApiKey.JoinGroup, 5, joinBody("", "b")), "client-b");
  h.advance(INITIAL_DELAY_MS);
  const [a, b] = await Promise.all([settled(aJoin), settled(bJoin)]);
  const sync = (memberId: string, assignments: { memberId: string; assignment: Uint8Array }[]) =>
    syncGroup(
      h.gc,
      received(ApiKey.SyncGroup, 3, {
        groupId: "g",
        generationId: a.generationId,
        memberId,
        groupInstanceId: null,
        assignments,
      }),
    );
  const synced = await Promise.all([
    settled(sync(a.memberId, [
      { memberId: a.memberId, assignment: encoder.encode("to-a") },
      { memberId: b.memberId, assignment: encoder.encode("to-b") },
    ])),
    settled(sync(b.memberId, [])),
  ]);
  assert.deepEqual(synced.map((s) => decoder.decode(s.assignment)), ["to-a", "to-b"]);
  return { a: a.memberId, b: b.memberId, generationId: a.generationId };
}

Deno.test("joinGroup() answers Kafka's JoinGroup response: the leader lists members, followers get []", async () => {
  const h = harness();
  const aJoin = joinGroup(h.gc, received(ApiKey.JoinGroup, 5, joinBody("", "a")), "client-a");
  const bJoin = joinGroup(h.gc, received(ApiKey.JoinGroup, 5, joinBody("", "b")), "client-b");
  h.advance(INITIAL_DELAY_MS);
  const [a, b] = await Promise.all([settled(aJoin), settled(bJoin)]);
  assert.deepEqual(a, {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 1,
    protocolName: "roundrobin",
    leader: "client-a-1",
    memberId: "client-a-1",
    members: [
      { memberId: "client-a-1", groupInstanceId: null, metadata: encoder.encode("rr:a") },
      { memberId: "client-b-2", groupInstanceId: null, metadata: encoder.encode("rr:b") },
    ],
  });
  assert.deepEqual(b, { ...a, memberId: "client-b-2", members: [] });
  assert.deepEqual(sent(ApiKey.JoinGroup, 5, a), a);
  const v0 = sent(ApiKey.JoinGroup, 0, a);
  assert.equal(v0.memberId, "client-a-1");
  assert.equal(v0.members.length, 2);
  assert.equal(v0.members[1].memberId, "client-b-2");
  assert.deepEqual(v0.members[1].metadata, encoder.encode("rr:b"));
});

Deno.test("joinGroup() maps errors to generation −1 and an empty protocol name; v0 uses the session timeout as rebalance timeout", async () => {
  const h = harness();
  const bad = await settled(
    joinGroup(
      h.gc,
      received(ApiKey.JoinGroup, 5, { ...joinBody("", "a"), sessionTimeoutMs: 10 }),
      "c",
    ),
  );
  assert.deepEqual(bad, {
    throttleTimeMs: 0,
    errorCode: ERRORS.INVALID_SESSION_TIMEOUT.code,
    generationId: -1,
    protocolName: "",
    leader: "",
    memberId: "",
    members: [],
  });
  assert.deepEqual(sent(ApiKey.JoinGroup, 5, bad), bad);
  // v0 has no rebalanceTimeoutMs on the wire.
  const v0Body = received(ApiKey.JoinGroup, 0, { ...joinBody("", "a"), sessionTimeoutMs: 7_000 });
  const pending = joinGroup(h.gc, v0Body, "old-client");
  h.advance(INITIAL_DELAY_MS);
  const joined = await settled(pending);
  assert.equal(joined.errorCode, 0);
  const member = h.gc.group("g")!.members.get(joined.memberId)!;
  assert.equal(member.rebalanceTimeoutMs, 7_000);
  assert.equal(member.clientId, "old-client");
});

Deno.test("syncGroup() and heartbeat() answer Kafka's shapes, errors included", async () => {
  const h = harness();
  const { a, b, generationId } = await stableGroup(h);
  const late = await settled(syncGroup(
    h.gc,
    received(ApiKey.SyncGroup, 3, {
      groupId: "g",
      generationId,
      memberId: b,
      groupInstanceId: null,
      assignments: [],
    }),
  ));
  assert.deepEqual(late, { throttleTimeMs: 0, errorCode: 0, assignment: encoder.encode("to-b") });
  assert.deepEqual(sent(ApiKey.SyncGroup, 0, late).assignment, encoder.encode("to-b"));
  const stale = await settled(syncGroup(
    h.gc,
    received(ApiKey.SyncGroup, 3, {
      groupId: "g",
      generationId: generationId - 1,
      memberId: a,
      groupInstanceId: null,
      assignments: [],
    }),
  ));
  assert.deepEqual(stale, {
    throttleTimeMs: 0,
    errorCode: ERRORS.ILLEGAL_GENERATION.code,
    assignment: new Uint8Array(0),
  });
  const beat = (memberId: string, gen: number) =>
    heartbeat(
      h.gc,
      received(ApiKey.Heartbeat, 3, {
        groupId: "g",
        generationId: gen,
        memberId,
        groupInstanceId: null,
      }),
    );
  assert.deepEqual(beat(a, generationId), { throttleTimeMs: 0, errorCode: 0 });
  assert.deepEqual(beat("ghost", generationId), {
    throttleTimeMs: 0,
    errorCode: ERRORS.UNKNOWN_MEMBER_ID.code,
  });
  assert.deepEqual(sent(ApiKey.Heartbeat, 0, beat(a, generationId + 5)), {
    throttleTimeMs: 0,
    errorCode: ERRORS.ILLEGAL_GENERATION.code,
  });
});

Deno.test("leaveGroup() v3 answers per member in `members`; v0 answers its one member in errorCode", async () => {
  const h = harness();
  const { a, b } = await stableGroup(h);
  const v3 = leaveGroup(
    h.gc,
    received(ApiKey.LeaveGroup, 3, {
      groupId: "g",
      members: [{ memberId: a, groupInstanceId: null }, {
        memberId: "ghost",
        groupInstanceId: null,
      }],
    }),
  );
  const expected = {
    throttleTimeMs: 0,
    errorCode: 0,
    members: [
      { memberId: a, groupInstanceId: null, errorCode: 0 },
      { memberId: "ghost", groupInstanceId: null, errorCode: ERRORS.UNKNOWN_MEMBER_ID.code },
    ],
  };
  assert.deepEqual(v3, expected);
  assert.deepEqual(sent(ApiKey.LeaveGroup, 3, v3), expected);
  assert.ok(!h.gc.group("g")!.members.has(a));

  const unknown = leaveGroup(
    h.gc,
    received(ApiKey.LeaveGroup, 0, { groupId: "g", memberId: "ghost" }),
  );
  assert.equal(unknown.errorCode, ERRORS.UNKNOWN_MEMBER_ID.code);
  assert.deepEqual(sent(ApiKey.LeaveGroup, 0, unknown), {
    throttleTimeMs: 0,
    errorCode: ERRORS.UNKNOWN_MEMBER_ID.code,
    members: [],
  });
  const v1 = leaveGroup(h.gc, received(ApiKey.LeaveGroup, 1, { groupId: "g", memberId: b }));
  assert.equal(v1.errorCode, 0);
  assert.deepEqual(sent(ApiKey.LeaveGroup, 1, v1), {
    throttleTimeMs: 0,
    errorCode: 0,
    members: [],
  });
  assert.equal(h.gc.group("g")!.state, "Empty");
});

Deno.test("offsetCommit() answers one code for every partition; offsetFetch() null topics = all, −1 when none", async () => {
  const h = harness();
  const commit = (generation: number, memberId: string, offset: bigint, version = 7) =>
    offsetCommit(
      h.gc,
      received(ApiKey.OffsetCommit, version, {
        groupId: "g",
        generationIdOrMemberEpoch: generation,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 0, committedOffset: offset, committedMetadata: "meta" },
              { partitionIndex: 1, committedOffset: offset + 1n, committedMetadata: null },
            ],
          },
          {
            name: "u",
            partitions: [{
              partitionIndex: 2,
              committedOffset: offset + 2n,
              committedMetadata: null,
            }],
          },
        ],
      }),
    );
  const standalone = commit(-1, "", 10n, 2);
  const ok = {
    throttleTimeMs: 0,
    topics: [
      {
        name: "t",
        partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }],
      },
      { name: "u", partitions: [{ partitionIndex: 2, errorCode: 0 }] },
    ],
  };
  assert.deepEqual(standalone, ok);
  assert.deepEqual(sent(ApiKey.OffsetCommit, 7, standalone), ok);

  const fetch = (version: number, topics: RequestBodies[9]["topics"], groupId = "g") =>
    offsetFetch(h.gc, received(ApiKey.OffsetFetch, version, { groupId, topics }));
  const all = fetch(5, null);
  assert.equal(all.errorCode, 0);
  assert.equal(all.throttleTimeMs, 0);
  const byTopic = Object.fromEntries(
    all.topics.map((t) => [
      t.name,
      t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
    ]),
  );
  assert.deepEqual(byTopic, {
    t: [[0, 10n, "meta", 0], [1, 11n, null, 0]],
    u: [[2, 12n, null, 0]],
  });
  assert.deepEqual(sent(ApiKey.OffsetFetch, 5, all), all);

  const some = fetch(1, [{ name: "t", partitionIndexes: [1, 5] }, {
    name: "x",
    partitionIndexes: [0],
  }]);
  const expected = {
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [
      {
        name: "t",
        partitions: [
          {
            partitionIndex: 1,
            committedOffset: 11n,
            committedLeaderEpoch: -1,
            metadata: null,
            errorCode: 0,
          },
          {
            partitionIndex: 5,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: null,
            errorCode: 0,
          },
        ],
      },
      {
        name: "x",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: null,
            errorCode: 0,
          },
        ],
      },
    ],
  };
  assert.deepEqual(some, expected);
  assert.deepEqual(sent(ApiKey.OffsetFetch, 1, some).topics[0].partitions[1].committedOffset, -1n);
  assert.deepEqual(fetch(2, null, "nobody"), { throttleTimeMs: 0, topics: [], errorCode: 0 });

  // Once the group has members, a fenced commit answers its code on every partition.
  const { a, generationId } = await stableGroup(h);
  const fenced = commit(generationId + 1, a, 99n);
  assert.deepEqual(
    fenced.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)),
    Array(3).fill(ERRORS.ILLEGAL_GENERATION.code),
  );
  const member = commit(generationId, a, 20n);
  assert.deepEqual(member, ok);
  assert.equal(
    fetch(5, [{ name: "u", partitionIndexes: [2] }]).topics[0].partitions[0].committedOffset,
    22n,
  );
});

Deno.test("describeGroups() answers Dead for an unknown group and the state, protocol and members of a known one", async () => {
  const h = harness();
  const unknown = describeGroups(h.gc, received(ApiKey.DescribeGroups, 0, { groups: ["nope"] }));
  const dead = {
    errorCode: 0,
    groupId: "nope",
    groupState: "Dead",
    protocolType: "",
    protocolData: "",
    members: [],
    authorizedOperations: -2147483648,
  };
  assert.deepEqual(unknown, { throttleTimeMs: 0, groups: [dead] });
  assert.deepEqual(sent(ApiKey.DescribeGroups, 4, unknown), { throttleTimeMs: 0, groups: [dead] });

  const { a, b } = await stableGroup(h);
  offsetCommit(
    h.gc,
    received(ApiKey.OffsetCommit, 7, {
      groupId: "offsets-only",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [{
        name: "t",
        partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }],
      }],
    }),
  );
  const described = describeGroups(
    h.gc,
    received(ApiKey.DescribeGroups, 4, {
      groups: ["g", "offsets-only", "nope"],
      includeAuthorizedOperations: false,
    }),
  );
  const [g, offsetsOnly, nope] = described.groups;
  assert.equal(g.errorCode, 0);
  assert.equal(g.groupState, "Stable");
  assert.equal(g.protocolType, "consumer");
  assert.equal(g.protocolData, "roundrobin");
  assert.deepEqual(g.members.map((m) => [m.memberId, m.clientId]), [[a, "client-a"], [
    b,
    "client-b",
  ]]);
  assert.deepEqual(g.members.map((m) => decoder.decode(m.memberMetadata)), ["rr:a", "rr:b"]);
  assert.deepEqual(g.members.map((m) => decoder.decode(m.memberAssignment)), ["to-a", "to-b"]);
  assert.equal(offsetsOnly.groupState, "Empty");
  assert.deepEqual(offsetsOnly.members, []);
  assert.equal(nope.groupState, "Dead");
  const decoded = sent(ApiKey.DescribeGroups, 4, described);
  assert.equal(decoded.groups.length, 3);
  assert.deepEqual(decoded.groups[0].members[1].memberAssignment, encoder.encode("to-b"));
  assert.equal(sent(ApiKey.DescribeGroups, 0, described).groups[0].members[0].memberId, a);
});

Deno.test("listGroups() lists live groups and groups with only committed offsets", async () => {
  const h = harness();
  assert.deepEqual(listGroups(h.gc), { throttleTimeMs: 0, errorCode: 0, groups: [] });
  await stableGroup(h);
  h.gc.resetOffsets("archived", [{ topic: "t", partition: 0, offset: 5n }]);
  const listed = listGroups(h.gc);
  assert.deepEqual(listed, {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [
      { groupId: "archived", protocolType: "consumer" },
      { groupId: "g", protocolType: "consumer" },
    ],
  });
  assert.deepEqual(sent(ApiKey.ListGroups, 2, listed), listed);
});
