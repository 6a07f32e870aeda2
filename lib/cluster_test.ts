/**
 * Tests for the validating readers of internal JSON payloads and for topic
 * name validation.
 * @module
 */
import assert from "node:assert/strict";
import {
  type ClusterSnapshot,
  readErrorPayload,
  readHeartbeatRequest,
  readHeartbeatResponse,
  readRegisterRequest,
  readSnapshot,
  readUpdateMetadataRequest,
  validateTopicName,
} from "./cluster.ts";
import { isKaError } from "./errors.ts";
import { decodeJsonPayload, encodeJsonPayload } from "./protocol/mod.ts";

const SNAPSHOT: ClusterSnapshot = {
  clusterId: "c",
  version: 3,
  controllerId: 0,
  brokers: [{ id: 0, host: "127.0.0.1", port: 9092 }, { id: 1, host: "127.0.0.1", port: 9093 }],
  topics: [{
    name: "t",
    configs: { "retention.ms": "1000" },
    partitions: [{ partition: 0, leader: 1, leaderEpoch: 2, replicas: [1, 0], isr: [1] }],
  }],
};

/** Asserts `fn` throws INVALID_REQUEST naming `field`. */
function assertBadField(fn: () => unknown, field: string): void {
  assert.throws(
    fn,
    (e) => isKaError(e, "INVALID_REQUEST") && e.message.includes(`'${field}'`),
    `expected INVALID_REQUEST naming '${field}'`,
  );
}

/** A deep copy of SNAPSHOT with `edit` applied. */
function edited(edit: (s: ClusterSnapshot) => void): unknown {
  const copy = structuredClone(SNAPSHOT);
  edit(copy);
  return copy;
}

Deno.test("readSnapshot() accepts a valid snapshot, also after a JSON round trip", () => {
  assert.deepEqual(readSnapshot(SNAPSHOT), SNAPSHOT);
  assert.deepEqual(readSnapshot(decodeJsonPayload(encodeJsonPayload(SNAPSHOT))), SNAPSHOT);
});

Deno.test("readSnapshot() drops fields it does not know", () => {
  const extra = { ...structuredClone(SNAPSHOT), surprise: 1 };
  assert.deepEqual(readSnapshot(extra), SNAPSHOT);
});

Deno.test("readSnapshot() names the bad field in INVALID_REQUEST", () => {
  const cases: [unknown, string][] = [
    [null, "snapshot"],
    [[], "snapshot"],
    ["x", "snapshot"],
    [edited((s) => delete (s as Partial<ClusterSnapshot>).clusterId), "snapshot.clusterId"],
    [edited((s) => s.version = "3" as unknown as number), "snapshot.version"],
    [edited((s) => s.version = 1.5), "snapshot.version"],
    [edited((s) => s.controllerId = null as unknown as number), "snapshot.controllerId"],
    [edited((s) => s.brokers = {} as never), "snapshot.brokers"],
    [edited((s) => s.brokers[1] = 7 as never), "snapshot.brokers[1]"],
    [edited((s) => s.brokers[1].port = "9093" as never), "snapshot.brokers[1].port"],
    [edited((s) => s.brokers[0].host = 1 as never), "snapshot.brokers[0].host"],
    [edited((s) => s.topics = null as never), "snapshot.topics"],
    [edited((s) => s.topics[0].name = 5 as never), "snapshot.topics[0].name"],
    [edited((s) => s.topics[0].configs = [] as never), "snapshot.topics[0].configs"],
    [
      edited((s) => s.topics[0].configs = { "retention.ms": 1000 } as never),
      "snapshot.topics[0].configs.retention.ms",
    ],
    [edited((s) => s.topics[0].partitions = "0" as never), "snapshot.topics[0].partitions"],
    [
      edited((s) => s.topics[0].partitions[0].leader = NaN),
      "snapshot.topics[0].partitions[0].leader",
    ],
    [
      edited((s) => s.topics[0].partitions[0].leaderEpoch = undefined as never),
      "snapshot.topics[0].partitions[0].leaderEpoch",
    ],
    [
      edited((s) => s.topics[0].partitions[0].replicas = [1, "0"] as never),
      "snapshot.topics[0].partitions[0].replicas",
    ],
    [
      edited((s) => s.topics[0].partitions[0].isr = 1 as never),
      "snapshot.topics[0].partitions[0].isr",
    ],
  ];
  for (const [value, field] of cases) assertBadField(() => readSnapshot(value), field);
});

Deno.test("readRegisterRequest() validates every field", () => {
  const good = { brokerId: 2, host: "127.0.0.1", port: 9094, incarnation: "abc" };
  assert.deepEqual(readRegisterRequest(good), good);
  assertBadField(() => readRegisterRequest(undefined), "payload");
  assertBadField(() => readRegisterRequest({ ...good, brokerId: "2" }), "payload.brokerId");
  assertBadField(() => readRegisterRequest({ ...good, host: null }), "payload.host");
  assertBadField(() => readRegisterRequest({ ...good, port: 1.5 }), "payload.port");
  assertBadField(() => readRegisterRequest({ ...good, incarnation: 7 }), "payload.incarnation");
});

Deno.test("readHeartbeatRequest() validates every field", () => {
  const good = { brokerId: 0, incarnation: "x", metadataVersion: -1 };
  assert.deepEqual(readHeartbeatRequest(good), good);
  assertBadField(() => readHeartbeatRequest([]), "payload");
  assertBadField(() => readHeartbeatRequest({ ...good, brokerId: true }), "payload.brokerId");
  assertBadField(() => readHeartbeatRequest({ ...good, incarnation: [] }), "payload.incarnation");
  assertBadField(
    () => readHeartbeatRequest({ ...good, metadataVersion: "1" }),
    "payload.metadataVersion",
  );
});

Deno.test("readHeartbeatResponse() reads an optional snapshot", () => {
  assert.deepEqual(readHeartbeatResponse({ errorCode: 0, metadataVersion: 3, snapshot: null }), {
    errorCode: 0,
    metadataVersion: 3,
    snapshot: null,
  });
  assert.deepEqual(readHeartbeatResponse({ errorCode: 0, metadataVersion: 3 }).snapshot, null);
  assert.deepEqual(
    readHeartbeatResponse({ errorCode: 0, metadataVersion: 3, snapshot: SNAPSHOT }).snapshot,
    SNAPSHOT,
  );
  assertBadField(
    () => readHeartbeatResponse({ errorCode: "0", metadataVersion: 3 }),
    "payload.errorCode",
  );
  assertBadField(
    () => readHeartbeatResponse({ errorCode: 0, metadataVersion: 3, snapshot: { version: 1 } }),
    "payload.snapshot.clusterId",
  );
});

Deno.test("readUpdateMetadataRequest() requires a valid snapshot", () => {
  assert.deepEqual(readUpdateMetadataRequest({ snapshot: SNAPSHOT }), { snapshot: SNAPSHOT });
  assertBadField(() => readUpdateMetadataRequest(null), "payload");
  assertBadField(() => readUpdateMetadataRequest({}), "payload.snapshot");
  assertBadField(
    () => readUpdateMetadataRequest({ snapshot: edited((s) => s.brokers[0].id = -0.5) }),
    "payload.snapshot.brokers[0].id",
  );
});

Deno.test("readErrorPayload() reads the code and an optional message", () => {
  assert.deepEqual(readErrorPayload({ errorCode: 3, message: "gone" }), {
    errorCode: 3,
    message: "gone",
  });
  assert.deepEqual(readErrorPayload({ errorCode: 0, message: 12 }), {
    errorCode: 0,
    message: null,
  });
  assertBadField(() => readErrorPayload({ message: "x" }), "payload.errorCode");
});

Deno.test("validateTopicName() accepts Kafka's legal names", () => {
  for (const name of ["t", "orders", "A.b_c-9", "...", "x".repeat(249), "_internal"]) {
    validateTopicName(name);
  }
});

Deno.test("validateTopicName() rejects illegal names with INVALID_TOPIC_EXCEPTION", () => {
  const bad = ["", ".", "..", "x".repeat(250), "a b", "a/b", "a:b", "ü", "tab\t", "new\nline", "*"];
  for (const name of bad) {
    assert.throws(
      () => validateTopicName(name),
      (e) => isKaError(e, "INVALID_TOPIC_EXCEPTION") && e.message.includes("Invalid topic name"),
      JSON.stringify(name),
    );
  }
});
