/**
 * Tests for the embedded consumer protocol codecs against hand-written bytes
 * of Kafka's ConsumerProtocolSubscription / ConsumerProtocolAssignment layouts.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "../errors.ts";
import { Writer } from "./codec.ts";
import {
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from "./consumer_protocol.ts";
import { decodeRequest, encodeRequest } from "./mod.ts";

function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// version 0 | topics ["t"] | userData null
const SUBSCRIPTION_V0 = "0000 00000001 000174 ffffffff";
// version 1 | topics ["t"] | userData [ab] | ownedPartitions [{ "t", [0, 2] }]
const SUBSCRIPTION_V1 =
  "0001 00000001 000174 00000001ab 00000001 000174 00000002 00000000 00000002";
// as v1, then generationId 5
const SUBSCRIPTION_V2 = SUBSCRIPTION_V1.replace(/^0001/, "0002") + " 00000005";
// version 1 | assignedPartitions [{ "t", [1] }] | userData null
const ASSIGNMENT_V1 = "0001 00000001 000174 00000001 00000001 ffffffff";

Deno.test("encodeConsumerProtocolSubscription() v0 writes Kafka's bytes and drops v1 fields", () => {
  const sub: ConsumerProtocolSubscription = {
    version: 0,
    topics: ["t"],
    userData: null,
    ownedPartitions: [{ topic: "t", partitions: [0, 2] }],
    generationId: 9,
  };
  assert.deepEqual(encodeConsumerProtocolSubscription(sub), fromHex(SUBSCRIPTION_V0));
  assert.deepEqual(decodeConsumerProtocolSubscription(fromHex(SUBSCRIPTION_V0)), {
    version: 0,
    topics: ["t"],
    userData: null,
    ownedPartitions: [],
    generationId: -1,
  });
});

Deno.test("encodeConsumerProtocolSubscription() v1 and v2 add ownedPartitions and generationId", () => {
  const v1: ConsumerProtocolSubscription = {
    version: 1,
    topics: ["t"],
    userData: new Uint8Array([0xab]),
    ownedPartitions: [{ topic: "t", partitions: [0, 2] }],
    generationId: -1,
  };
  assert.deepEqual(encodeConsumerProtocolSubscription(v1), fromHex(SUBSCRIPTION_V1));
  assert.deepEqual(decodeConsumerProtocolSubscription(fromHex(SUBSCRIPTION_V1)), v1);
  const v2 = { ...v1, version: 2, generationId: 5 };
  assert.deepEqual(encodeConsumerProtocolSubscription(v2), fromHex(SUBSCRIPTION_V2));
  assert.deepEqual(decodeConsumerProtocolSubscription(fromHex(SUBSCRIPTION_V2)), v2);
});

Deno.test("decodeConsumerProtocolSubscription() reads a newer version with the newest layout", () => {
  // A Kafka 3.5+ v3 subscription appends rackId (nullable string "r1").
  const v3 = fromHex(SUBSCRIPTION_V2.replace(/^0002/, "0003") + " 0002 7231");
  assert.deepEqual(decodeConsumerProtocolSubscription(v3), {
    version: 3,
    topics: ["t"],
    userData: new Uint8Array([0xab]),
    ownedPartitions: [{ topic: "t", partitions: [0, 2] }],
    generationId: 5,
  });
});

Deno.test("consumer protocol decoders copy userData out of the input", () => {
  const bytes = fromHex(SUBSCRIPTION_V1);
  const sub = decodeConsumerProtocolSubscription(bytes);
  bytes.fill(0);
  assert.deepEqual(sub.userData, new Uint8Array([0xab]));
});

Deno.test("encodeConsumerProtocolAssignment() v0 and v1 share one layout", () => {
  const v1: ConsumerProtocolAssignment = {
    version: 1,
    assignedPartitions: [{ topic: "t", partitions: [1] }],
    userData: null,
  };
  assert.deepEqual(encodeConsumerProtocolAssignment(v1), fromHex(ASSIGNMENT_V1));
  assert.deepEqual(decodeConsumerProtocolAssignment(fromHex(ASSIGNMENT_V1)), v1);
  const v0 = { ...v1, version: 0, userData: new Uint8Array([1, 2]) };
  const bytes = encodeConsumerProtocolAssignment(v0);
  assert.deepEqual(bytes, fromHex("0000 00000001 000174 00000001 00000001 00000002 0102"));
  assert.deepEqual(decodeConsumerProtocolAssignment(bytes), v0);
  const empty = { version: 0, assignedPartitions: [], userData: null };
  assert.deepEqual(
    decodeConsumerProtocolAssignment(encodeConsumerProtocolAssignment(empty)),
    empty,
  );
});

Deno.test("consumer protocol encoders refuse versions they do not know", () => {
  for (const version of [-1, 3, 1.5]) {
    assert.throws(
      () => encodeConsumerProtocolSubscription({ version, topics: [], userData: null }),
      (e) => isKaError(e, "UNSUPPORTED_VERSION"),
    );
    assert.throws(
      () => encodeConsumerProtocolAssignment({ version, assignedPartitions: [], userData: null }),
      (e) => isKaError(e, "UNSUPPORTED_VERSION"),
    );
  }
});

Deno.test("consumer protocol decoders throw INVALID_REQUEST on cut input and negative versions", () => {
  for (const hex of [SUBSCRIPTION_V0, SUBSCRIPTION_V1, SUBSCRIPTION_V2]) {
    const bytes = fromHex(hex);
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(
        () => decodeConsumerProtocolSubscription(bytes.subarray(0, n)),
        (e) => e instanceof KaError && isKaError(e, "INVALID_REQUEST"),
        `subscription cut at ${n}`,
      );
    }
  }
  const assignment = fromHex(ASSIGNMENT_V1);
  for (let n = 0; n < assignment.length; n++) {
    assert.throws(
      () => decodeConsumerProtocolAssignment(assignment.subarray(0, n)),
      (e) => isKaError(e, "INVALID_REQUEST"),
      `assignment cut at ${n}`,
    );
  }
  const negative = new Writer().int16(-1).int32(0).int32(-1).finish();
  assert.throws(
    () => decodeConsumerProtocolSubscription(negative),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(
    () => decodeConsumerProtocolAssignment(negative),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
});

Deno.test("a subscription travels as JoinGroup protocol metadata", () => {
  const sub: ConsumerProtocolSubscription = {
    version: 1,
    topics: ["orders", "payments"],
    userData: null,
    ownedPartitions: [],
    generationId: -1,
  };
  const frame = encodeRequest({ apiKey: 11, apiVersion: 5, correlationId: 1, clientId: "c" }, {
    groupId: "g",
    sessionTimeoutMs: 10_000,
    memberId: "",
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: encodeConsumerProtocolSubscription(sub) }],
  });
  const req = decodeRequest(frame.subarray(4));
  assert.equal(req.apiKey, 11);
  if (req.apiKey === 11) {
    assert.equal(req.body.rebalanceTimeoutMs, -1);
    assert.equal(req.body.groupInstanceId, null);
    assert.deepEqual(decodeConsumerProtocolSubscription(req.body.protocols[0].metadata), sub);
  }
});
