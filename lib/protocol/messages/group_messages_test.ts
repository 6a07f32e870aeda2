/**
 * Hand-checked layouts of the consumer-group messages where versions differ
 * in shape rather than by appended fields (the generic round-trip, truncation
 * and fuzz tests in `mod_test.ts` cover every version of every API).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../../errors.ts";
import { Reader, Writer } from "../codec.ts";
import { decodeFindCoordinatorResponse, encodeFindCoordinatorRequest } from "./find_coordinator.ts";
import { decodeLeaveGroupRequest, encodeLeaveGroupRequest } from "./leave_group.ts";
import { decodeOffsetCommitRequest, encodeOffsetCommitRequest } from "./offset_commit.ts";
import { decodeOffsetFetchRequest, encodeOffsetFetchRequest } from "./offset_fetch.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("LeaveGroup v2 sends one memberId, v3 a members array", () => {
  const body = {
    groupId: "g",
    memberId: "m",
    members: [{ memberId: "m", groupInstanceId: null }],
  };
  const v2 = new Writer();
  encodeLeaveGroupRequest(v2, 2, body);
  assert.equal(hex(v2.finish()), "0001" + "67" + "0001" + "6d");
  const v3 = new Writer();
  encodeLeaveGroupRequest(v3, 3, body);
  assert.equal(hex(v3.finish()), "000167" + "00000001" + "00016d" + "ffff");
  assert.deepEqual(decodeLeaveGroupRequest(new Reader(v3.finish()), 3), { ...body, memberId: "" });
});

Deno.test("OffsetFetch topics may be null (all topics) only from v2", () => {
  const w = new Writer();
  encodeOffsetFetchRequest(w, 2, { groupId: "g", topics: null });
  assert.equal(hex(w.finish()), "000167ffffffff");
  assert.deepEqual(decodeOffsetFetchRequest(new Reader(w.finish()), 2), {
    groupId: "g",
    topics: null,
  });
  assert.throws(
    () => decodeOffsetFetchRequest(new Reader(w.finish()), 1),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(
    () => encodeOffsetFetchRequest(new Writer(), 1, { groupId: "g", topics: null }),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
});

Deno.test("OffsetCommit writes retentionTimeMs only in v2-4 and the leader epoch from v6", () => {
  const body = {
    groupId: "g",
    generationIdOrMemberEpoch: -1,
    memberId: "",
    retentionTimeMs: 5n,
    topics: [{
      name: "t",
      partitions: [{
        partitionIndex: 0,
        committedOffset: 1n,
        committedLeaderEpoch: 2,
        committedMetadata: null,
      }],
    }],
  };
  const head = "000167" + "ffffffff" + "0000";
  const partitions = "00000001" + "000174" + "00000001" + "00000000" + "0000000000000001";
  const v4 = new Writer();
  encodeOffsetCommitRequest(v4, 4, body);
  assert.equal(hex(v4.finish()), head + "0000000000000005" + partitions + "ffff");
  const v6 = new Writer();
  encodeOffsetCommitRequest(v6, 6, body);
  assert.equal(hex(v6.finish()), head + partitions + "00000002" + "ffff");
  const decoded = decodeOffsetCommitRequest(new Reader(v6.finish()), 6);
  assert.equal(decoded.retentionTimeMs, -1n);
  assert.equal(decoded.groupInstanceId, null);
});

Deno.test("FindCoordinator v0 has no keyType, throttle or message; decodes Kafka's defaults", () => {
  const w = new Writer();
  encodeFindCoordinatorRequest(w, 0, { key: "g", keyType: 1 });
  assert.equal(hex(w.finish()), "000167");
  const v0 = new Writer().int16(15).int32(-1).string("").int32(-1).finish();
  assert.deepEqual(decodeFindCoordinatorResponse(new Reader(v0), 0), {
    throttleTimeMs: 0,
    errorCode: 15,
    errorMessage: "",
    nodeId: -1,
    host: "",
    port: -1,
  });
});
