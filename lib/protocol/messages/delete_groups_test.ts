/**
 * DeleteGroups v0–1 layouts, byte by byte as a Kafka client writes them
 * (the generic round-trip, truncation and fuzz tests in `mod_test.ts` cover
 * every version too).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../../errors.ts";
import { Reader, Writer } from "../codec.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../mod.ts";
import {
  decodeDeleteGroupsRequest,
  decodeDeleteGroupsResponse,
  encodeDeleteGroupsRequest,
  encodeDeleteGroupsResponse,
} from "./delete_groups.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("DeleteGroups request: groupsNames [string]", () => {
  for (const version of [0, 1]) {
    const w = new Writer();
    encodeDeleteGroupsRequest(w, version, { groupsNames: ["g", "hi"] });
    const bytes = w.finish();
    assert.equal(hex(bytes), "00000002" + "000167" + "00026869");
    assert.deepEqual(decodeDeleteGroupsRequest(new Reader(bytes), version), {
      groupsNames: ["g", "hi"],
    });
  }
});

Deno.test("DeleteGroups response: throttle, results [groupId, errorCode]", () => {
  const body = {
    throttleTimeMs: 1,
    results: [{ groupId: "g", errorCode: 0 }, { groupId: "x", errorCode: 69 }],
  };
  const w = new Writer();
  encodeDeleteGroupsResponse(w, 0, body);
  const bytes = w.finish();
  assert.equal(hex(bytes), "00000001" + "00000002" + "000167" + "0000" + "000178" + "0045");
  assert.deepEqual(decodeDeleteGroupsResponse(new Reader(bytes), 0), body);
});

Deno.test("DeleteGroups: whole frames round-trip at v0 and v1; v2 (flexible) is UNSUPPORTED_VERSION", () => {
  for (const apiVersion of [0, 1]) {
    const frame = encodeRequest(
      { apiKey: 42, apiVersion, correlationId: 9, clientId: null },
      { groupsNames: ["a"] },
    );
    const req = decodeRequest(frame.subarray(4));
    assert.equal(req.apiKey, 42);
    assert.deepEqual(req.body, { groupsNames: ["a"] });
    const res = { throttleTimeMs: 0, results: [{ groupId: "a", errorCode: 68 }] };
    const out = encodeResponse(42, apiVersion, 9, res);
    assert.deepEqual(decodeResponse(42, apiVersion, out.subarray(4)).body, res);
  }
  const w = new Writer();
  w.int16(42).int16(2).int32(1).nullableString("c");
  assert.throws(() => decodeRequest(w.finish()), (e) => isKaError(e, "UNSUPPORTED_VERSION"));
});
