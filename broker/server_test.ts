/**
 * Tests for the broker's frame handler: whole request frames in, whole
 * response frames out, decoded with the client's codec. No sockets.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  ApiKey,
  decodeRecords,
  decodeResponse,
  encodeRequest,
  ERRORS,
  type ImplementedApiKey,
  type RequestBodies,
  type ResponseBodies,
  Writer,
} from "@kafka-analog/lib/protocol";
import { createLogger } from "@kafka-analog/lib/log";
import {
  fetchRequest,
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  produceRequest,
} from "./_fixtures.ts";
import { Broker } from "./broker.ts";
import { BROKER_API_KEYS, createBrokerHandler, type ForwardToCoordinator } from "./server.ts";

type Handler = ReturnType<typeof createBrokerHandler>;

function noForward(): ForwardToCoordinator {
  return () => Promise.reject(new Error("no coordinator in this test"));
}

/** Sends one request through `handler` and decodes the answer. */
async function call<K extends ImplementedApiKey>(
  handler: Handler,
  apiKey: K,
  apiVersion: number,
  body: RequestBodies[K],
  correlationId = 7,
): Promise<ResponseBodies[K]> {
  const frame = encodeRequest({ apiKey, apiVersion, correlationId, clientId: "test" }, body);
  const response = await handler(frame.subarray(4));
  assert.ok(response !== null, "expected a response frame");
  const length = new DataView(response.buffer, response.byteOffset).getInt32(0);
  assert.equal(length, response.length - 4, "the length prefix counts the rest of the frame");
  const decoded = decodeResponse(apiKey, apiVersion, response.subarray(4));
  assert.equal(decoded.correlationId, correlationId);
  return decoded.body;
}

Deno.test("createBrokerHandler() ApiVersions lists exactly BROKER_API_KEYS", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  for (const version of [0, 1, 2]) {
    const body = await call(handler, ApiKey.ApiVersions, version, {});
    assert.equal(body.errorCode, 0);
    assert.deepEqual(
      body.apiKeys.map((k) => k.apiKey).sort((a, b) => a - b),
      [...BROKER_API_KEYS].sort((a, b) => a - b),
    );
    const produce = body.apiKeys.find((k) => k.apiKey === ApiKey.Produce);
    assert.ok(produce && produce.minVersion <= produce.maxVersion);
  }
});

Deno.test("createBrokerHandler() answers ApiVersions of an unknown version with v0 and UNSUPPORTED_VERSION", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  // encodeRequest refuses v99, so write the header by hand, as a newer client would.
  const w = new Writer(64);
  w.int16(ApiKey.ApiVersions).int16(99).int32(4242).nullableString("future-client");
  const response = await handler(w.finish());
  assert.ok(response !== null);
  const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, response.subarray(4));
  assert.equal(correlationId, 4242);
  assert.equal(body.errorCode, ERRORS.UNSUPPORTED_VERSION.code);
  assert.deepEqual(
    body.apiKeys.map((k) => k.apiKey).sort((a, b) => a - b),
    [...BROKER_API_KEYS].sort((a, b) => a - b),
  );
});

Deno.test("createBrokerHandler() Metadata answers from the snapshot", async () => {
  const broker = fixtureBroker();
  // Broker 1 leads t-1 but is not live in this snapshot.
  broker.applySnapshot({
    ...fixtureSnapshot(2),
    brokers: [{ id: 0, host: "127.0.0.1", port: 19092 }],
  });
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const body = await call(handler, ApiKey.Metadata, 8, {
    topics: [{ name: "t" }, { name: "missing" }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.deepEqual(body.brokers, [{ nodeId: 0, host: "127.0.0.1", port: 19092, rack: null }]);
  assert.equal(body.clusterId, "test-cluster");
  assert.equal(body.controllerId, 0);
  const [t, missing] = body.topics;
  assert.equal(t.name, "t");
  assert.equal(t.errorCode, 0);
  const byIndex = new Map(t.partitions.map((p) => [p.partitionIndex, p]));
  assert.equal(byIndex.get(0)?.errorCode, 0);
  assert.equal(byIndex.get(0)?.leaderId, 0);
  assert.equal(byIndex.get(0)?.leaderEpoch, 4);
  assert.equal(byIndex.get(1)?.errorCode, ERRORS.LEADER_NOT_AVAILABLE.code);
  assert.equal(byIndex.get(1)?.leaderId, -1);
  assert.deepEqual(byIndex.get(1)?.offlineReplicas, [1]);
  assert.deepEqual(byIndex.get(1)?.replicaNodes, [1, 0]);
  assert.equal(missing.name, "missing");
  assert.equal(missing.errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
});

Deno.test("createBrokerHandler() Metadata from a fenced broker names no leader for the partitions it led", async () => {
  let nowMs = 1_000_000;
  const broker = fixtureBroker({
    settings: { maxMessageBytes: 1024 * 1024, fetchMaxWaitMs: 500, sessionTimeoutMs: 3_000 },
    now: () => nowMs,
  });
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const request = {
    topics: [{ name: "t" }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };
  const leaders = async () => {
    const [t] = (await call(handler, ApiKey.Metadata, 8, request)).topics;
    assert.equal(t.errorCode, 0);
    return t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.errorCode, p.leaderEpoch]);
  };
  const NOT_AVAILABLE = ERRORS.LEADER_NOT_AVAILABLE.code;
  // Within the session timeout: its own leadership as the snapshot says.
  nowMs += 3_000;
  assert.equal(broker.fenced(), false);
  assert.deepEqual(await leaders(), [[0, 0, 0, 4], [1, 1, 0, 2], [2, 0, 0, 0]]);
  // Past it (no heartbeat answered): writes are refused and Metadata sends clients elsewhere;
  // the partition another broker leads is answered as before.
  nowMs += 1;
  assert.equal(broker.fenced(), true);
  assert.deepEqual(await leaders(), [
    [0, -1, NOT_AVAILABLE, 4],
    [1, 1, 0, 2],
    [2, -1, NOT_AVAILABLE, 0],
  ]);
  assert.throws(
    () => broker.writablePartition("t", 0),
    (err) => isKaError(err, "NOT_LEADER_OR_FOLLOWER"),
  );
  // A heartbeat answered again: unfenced.
  broker.lastHeartbeatOkMs = nowMs;
  assert.equal(broker.fenced(), false);
  assert.deepEqual((await leaders()).map(([, leader]) => leader), [0, 1, 0]);
});

Deno.test("Broker.fenced() is never true with the session timeout at 0", () => {
  let nowMs = 0;
  const broker = fixtureBroker({ now: () => nowMs });
  nowMs += 3_600_000;
  assert.equal(broker.fenced(), false);
  assert.equal(broker.writablePartition("t", 0).state.leader, 0);
});

Deno.test("createBrokerHandler() Metadata with null topics lists every topic", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const body = await call(handler, ApiKey.Metadata, 1, { topics: null });
  assert.deepEqual(
    body.topics.map((t) => t.name).sort(),
    fixtureTopics().map((t) => t.name).sort(),
  );
});

Deno.test("createBrokerHandler() Metadata before any snapshot answers every topic as unknown (retriable)", async () => {
  const broker = new Broker({
    id: 0,
    settings: { maxMessageBytes: 1000, fetchMaxWaitMs: 500 },
    logger: createLogger("t", { sink: () => {} }),
    now: () => performance.now(),
  });
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const frame = encodeRequest({
    apiKey: ApiKey.Metadata,
    apiVersion: 1,
    correlationId: 1,
    clientId: null,
  }, {
    topics: null,
  });
  const body =
    decodeResponse(ApiKey.Metadata, 1, (await handler(frame.subarray(4)))!.subarray(4)).body;
  assert.deepEqual(body.brokers, []);
  assert.deepEqual(body.topics, []);
});

Deno.test("createBrokerHandler() Produce, Fetch and ListOffsets round trip through frames", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const produced = await call(
    handler,
    ApiKey.Produce,
    8,
    produceRequest("t", 0, fixtureBatch("a", 2)),
  );
  assert.equal(produced.responses[0].partitionResponses[0].errorCode, 0);
  assert.equal(produced.responses[0].partitionResponses[0].baseOffset, 0n);
  const fetched = await call(handler, ApiKey.Fetch, 11, fetchRequest("t", 0, 0n));
  const p = fetched.responses[0].partitions[0];
  assert.equal(p.errorCode, 0);
  assert.deepEqual(decodeRecords(p.records!).map((r) => r.offset), [0n, 1n]);
  const listed = await call(handler, ApiKey.ListOffsets, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{
      name: "t",
      partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
    }],
  });
  assert.equal(listed.topics[0].partitions[0].offset, 2n);
});

Deno.test("createBrokerHandler() Produce with acks=0 writes no response frame", async () => {
  const broker = fixtureBroker();
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const frame = encodeRequest(
    { apiKey: ApiKey.Produce, apiVersion: 8, correlationId: 3, clientId: null },
    produceRequest("t", 0, fixtureBatch("a"), 0),
  );
  assert.equal(await handler(frame.subarray(4)), null);
  assert.equal(broker.leaderPartition("t", 0).log.logEndOffset, 1n);
});

Deno.test("createBrokerHandler() forwards CreateTopics and DeleteTopics to the coordinator", async () => {
  const seen: [number, number, unknown][] = [];
  const forward = ((apiKey: number, apiVersion: number, body: unknown) => {
    seen.push([apiKey, apiVersion, body]);
    if (apiKey === ApiKey.CreateTopics) {
      return Promise.resolve({
        throttleTimeMs: 0,
        topics: [{ name: "n", errorCode: 0, errorMessage: null }],
      });
    }
    return Promise.resolve({ throttleTimeMs: 0, responses: [{ name: "n", errorCode: 0 }] });
  }) as ForwardToCoordinator;
  const handler = createBrokerHandler(fixtureBroker(), { forward });
  const create = {
    topics: [{ name: "n", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  };
  const created = await call(handler, ApiKey.CreateTopics, 4, create);
  assert.deepEqual(created.topics, [{ name: "n", errorCode: 0, errorMessage: null }]);
  const deleted = await call(handler, ApiKey.DeleteTopics, 3, {
    topicNames: ["n"],
    timeoutMs: 1000,
  });
  assert.deepEqual(deleted.responses, [{ name: "n", errorCode: 0 }]);
  assert.deepEqual(seen.map(([k, v]) => [k, v]), [[ApiKey.CreateTopics, 4], [
    ApiKey.DeleteTopics,
    3,
  ]]);
  assert.deepEqual(seen[0][2], create);
});

Deno.test("createBrokerHandler() UpdateMetadata applies a valid snapshot and reports its version", async () => {
  const broker = fixtureBroker();
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const body = await call(handler, ApiKey.UpdateMetadata, 0, {
    payload: { snapshot: fixtureSnapshot(9, fixtureTopics().slice(1)) },
  });
  assert.deepEqual(body.payload, { errorCode: 0, message: null, metadataVersion: 9 });
  assert.equal(broker.metadataVersion, 9);
  assert.throws(
    () => broker.leaderPartition("t", 0),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
});

Deno.test("createBrokerHandler() UpdateMetadata with a bad payload answers an error code, never throws", async () => {
  const broker = fixtureBroker();
  const handler = createBrokerHandler(broker, { forward: noForward() });
  const good = fixtureSnapshot(9);
  const payloads: unknown[] = [
    null,
    42,
    "snapshot",
    [],
    {},
    { snapshot: null },
    { snapshot: { ...good, version: "9" } },
    { snapshot: { ...good, brokers: [{ id: 0, host: "h" }] } },
    { snapshot: { ...good, topics: [{ ...good.topics[0], partitions: [{ partition: 0 }] }] } },
    { snapshot: { ...good, topics: [{ ...good.topics[0], configs: { a: 1 } }] } },
  ];
  for (const payload of payloads) {
    const body = await call(handler, ApiKey.UpdateMetadata, 0, { payload });
    const answer = body.payload as { errorCode: number; message: string; metadataVersion: number };
    assert.equal(answer.errorCode, ERRORS.INVALID_REQUEST.code, JSON.stringify(payload));
    assert.match(answer.message, /Invalid payload field/);
    assert.equal(answer.metadataVersion, 1, "the old snapshot stays");
  }
  assert.equal(broker.metadataVersion, 1);
});

Deno.test("createBrokerHandler() rejects APIs a broker does not serve and garbage with KaErrors", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const heartbeat = encodeRequest(
    { apiKey: ApiKey.BrokerHeartbeat, apiVersion: 0, correlationId: 1, clientId: null },
    { payload: {} },
  );
  await assert.rejects(
    async () => await handler(heartbeat.subarray(4)),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
  const unknownKey = new Writer(16).int16(555).int16(0).int32(1).nullableString(null).finish();
  await assert.rejects(
    async () => await handler(unknownKey),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
  await assert.rejects(
    async () => await handler(new Uint8Array([0, 1])),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  const cutProduce = encodeRequest(
    { apiKey: ApiKey.Produce, apiVersion: 8, correlationId: 1, clientId: null },
    produceRequest("t", 0, fixtureBatch("a")),
  );
  await assert.rejects(
    async () => await handler(cutProduce.subarray(4, cutProduce.length - 10)),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
});

Deno.test("createBrokerHandler() answers librdkafka's flexible ApiVersions v3 with a v3 body", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const body = await call(handler, ApiKey.ApiVersions, 3, {
    clientSoftwareName: "librdkafka",
    clientSoftwareVersion: "2.0.2",
  });
  assert.equal(body.errorCode, 0);
  const own = body.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
  assert.deepEqual(own, { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 });
  assert.ok(body.apiKeys.some((k) => k.apiKey === ApiKey.CreatePartitions));
  assert.ok(body.apiKeys.some((k) => k.apiKey === ApiKey.DescribeConfigs));
});

function autoCreateBroker(): Broker {
  return fixtureBroker({
    settings: { maxMessageBytes: 1024 * 1024, fetchMaxWaitMs: 500, autoCreateTopics: true },
  });
}

Deno.test("Metadata auto-creates unknown topics only when the config and the request allow it", async () => {
  const forwarded: RequestBodies[19][] = [];
  const broker = autoCreateBroker();
  const forward: ForwardToCoordinator = (apiKey, _version, body) => {
    assert.equal(apiKey, ApiKey.CreateTopics);
    forwarded.push(body as RequestBodies[19]);
    // The coordinator creates it and pushes the new metadata to this broker.
    broker.applySnapshot(fixtureSnapshot(2, [...fixtureTopics(), {
      name: "fresh",
      configs: {},
      partitions: [{ partition: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] }],
    }]));
    return Promise.resolve({
      throttleTimeMs: 0,
      topics: [{ name: "fresh", errorCode: 0, errorMessage: null }],
    } as never);
  };
  const handler = createBrokerHandler(broker, { forward });
  const denied = await call(handler, ApiKey.Metadata, 8, {
    topics: [{ name: "fresh" }],
    allowAutoTopicCreation: false,
  });
  assert.equal(denied.topics[0].errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
  assert.equal(forwarded.length, 0);

  const body = await call(handler, ApiKey.Metadata, 8, {
    topics: [{ name: "fresh" }, { name: "t" }, { name: "bad name!" }],
    allowAutoTopicCreation: true,
  });
  assert.equal(forwarded.length, 1);
  assert.deepEqual(forwarded[0].topics.map((t) => [t.name, t.numPartitions]), [["fresh", -1]]);
  assert.deepEqual(body.topics.map((t) => [t.name, t.errorCode]), [
    ["fresh", 0],
    ["t", 0],
    ["bad name!", ERRORS.INVALID_TOPIC_EXCEPTION.code],
  ]);
  assert.equal(body.controllerId, 0);
  assert.deepEqual(body.brokers.map((b) => `${b.host}:${b.port}`), [
    "127.0.0.1:19092",
    "127.0.0.1:19093",
  ]);
});

Deno.test("Metadata answers LEADER_NOT_AVAILABLE for a topic created but not yet in this broker's metadata", async () => {
  const forward: ForwardToCoordinator = (_k, _v, body) =>
    Promise.resolve({
      throttleTimeMs: 0,
      topics: (body as RequestBodies[19]).topics.map((t) => ({
        name: t.name,
        errorCode: 0,
        errorMessage: null,
      })),
    } as never);
  const handler = createBrokerHandler(autoCreateBroker(), { forward });
  const body = await call(handler, ApiKey.Metadata, 4, {
    topics: [{ name: "later" }],
    allowAutoTopicCreation: true,
  });
  assert.equal(body.topics[0].errorCode, ERRORS.LEADER_NOT_AVAILABLE.code);
  // Without the config, nothing is created whatever the request says.
  const off = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const plain = await call(off, ApiKey.Metadata, 4, {
    topics: [{ name: "later" }],
    allowAutoTopicCreation: true,
  });
  assert.equal(plain.topics[0].errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
});

Deno.test("Metadata auto-create: one CreateTopics in flight per topic, a short timeout, logs only created topics", async () => {
  const lines: string[] = [];
  const broker = fixtureBroker({
    settings: { maxMessageBytes: 1024 * 1024, fetchMaxWaitMs: 500, autoCreateTopics: true },
    logger: createLogger("broker-test", { sink: (line) => lines.push(line) }),
  });
  const calls: { names: string[]; bodyTimeoutMs: number; timeoutMs?: number }[] = [];
  let answer = (): void => {};
  const forward: ForwardToCoordinator = (_k, _v, body, options) => {
    const b = body as RequestBodies[19];
    calls.push({
      names: b.topics.map((t) => t.name),
      bodyTimeoutMs: b.timeoutMs,
      timeoutMs: options?.timeoutMs,
    });
    const codes: Record<string, number> = {
      made: 0,
      there: ERRORS.TOPIC_ALREADY_EXISTS.code,
      refused: ERRORS.INVALID_REPLICATION_FACTOR.code,
    };
    return new Promise((resolve) => {
      answer = () =>
        resolve({
          throttleTimeMs: 0,
          topics: b.topics.map((t) => ({
            name: t.name,
            errorCode: codes[t.name],
            errorMessage: null,
          })),
        } as never);
    });
  };
  const handler = createBrokerHandler(broker, { forward });
  const topics = [{ name: "made" }, { name: "there" }, { name: "refused" }];
  const first = call(handler, ApiKey.Metadata, 8, { topics, allowAutoTopicCreation: true });
  // A retry while the first CreateTopics is in flight is answered at once, without another.
  const retry = await call(handler, ApiKey.Metadata, 8, { topics, allowAutoTopicCreation: true });
  assert.deepEqual(
    retry.topics.map((t) => t.errorCode),
    Array(3).fill(ERRORS.LEADER_NOT_AVAILABLE.code),
  );
  assert.equal(calls.length, 1);
  answer();
  const body = await first;
  assert.deepEqual(body.topics.map((t) => [t.name, t.errorCode]), [
    ["made", ERRORS.LEADER_NOT_AVAILABLE.code],
    ["there", ERRORS.LEADER_NOT_AVAILABLE.code],
    ["refused", ERRORS.INVALID_REPLICATION_FACTOR.code],
  ]);
  assert.deepEqual(calls, [{
    names: ["made", "there", "refused"],
    bodyTimeoutMs: 5_000,
    timeoutMs: 5_000,
  }]);
  const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "auto-created topics");
  assert.deepEqual(logged.map((l) => l.topics), ["made"]);
  // Once that answer is in, a topic still unknown here is asked for again.
  const again = call(handler, ApiKey.Metadata, 8, { topics, allowAutoTopicCreation: true });
  answer();
  await again;
  assert.equal(calls.length, 2);
});

Deno.test("CreatePartitions and DescribeConfigs are forwarded to the coordinator", async () => {
  const seen: number[] = [];
  const forward: ForwardToCoordinator = (apiKey) => {
    seen.push(apiKey);
    return Promise.resolve(
      (apiKey === ApiKey.CreatePartitions
        ? { throttleTimeMs: 0, results: [{ name: "t", errorCode: 0, errorMessage: null }] }
        : { throttleTimeMs: 0, results: [] }) as never,
    );
  };
  const handler = createBrokerHandler(fixtureBroker(), { forward });
  const cp = await call(handler, ApiKey.CreatePartitions, 1, {
    topics: [{ name: "t", count: 5, assignments: null }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(cp.results[0].errorCode, 0);
  await call(handler, ApiKey.DescribeConfigs, 2, {
    resources: [{ resourceType: 2, resourceName: "t", configurationKeys: null }],
    includeSynonyms: false,
  });
  assert.deepEqual(seen, [ApiKey.CreatePartitions, ApiKey.DescribeConfigs]);
});

Deno.test("createBrokerHandler() answers ApiVersions v3 with a malformed client software name with INVALID_REQUEST (KIP-511)", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  const body = await call(handler, ApiKey.ApiVersions, 3, {
    clientSoftwareName: "bad name!",
    clientSoftwareVersion: "1.0",
  });
  assert.equal(body.errorCode, ERRORS.INVALID_REQUEST.code);
  assert.deepEqual(body.apiKeys, []);
});

Deno.test("createBrokerHandler() answers a malformed ApiVersions v3 body with INVALID_REQUEST, not UNSUPPORTED_VERSION", async () => {
  const handler = createBrokerHandler(fixtureBroker(), { forward: noForward() });
  // Header v2 (tagged fields), then a clientSoftwareName claiming 49 bytes of which 1 follows.
  const w = new Writer(64);
  w.int16(ApiKey.ApiVersions).int16(3).int32(31).nullableString("rdkafka").uvarint(0);
  w.uvarint(50).int8(0x61);
  const response = await handler(w.finish());
  assert.ok(response !== null);
  const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 3, response.subarray(4));
  assert.equal(correlationId, 31);
  assert.equal(body.errorCode, ERRORS.INVALID_REQUEST.code);
  assert.deepEqual(body.apiKeys, []);
});
