/**
 * Tests for the coordinator without processes or sockets: a MemoryJournal
 * store, an injected clock and fake broker connections for metadata pushes.
 * @module
 */
import assert from "node:assert/strict";
import type { ClusterSnapshot } from "@kafka-analog/lib/cluster";
import { isKaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import type { KafkaConnection } from "@kafka-analog/lib/net";
import { ApiKey, type CreatableTopic, ERRORS } from "@kafka-analog/lib/protocol";
import { Coordinator, type CoordinatorSettings } from "./coordinator.ts";
import { MemoryJournal, MetadataStore } from "./metadata/store.ts";

const SETTINGS: CoordinatorSettings = {
  port: 8080,
  brokerSessionTimeoutMs: 1000,
  defaultPartitions: 3,
  replicationFactor: 2,
  brokerIds: [0, 1, 2],
};

interface Push {
  address: string;
  apiKey: number;
  snapshot: ClusterSnapshot;
}

/** A coordinator whose pushes are recorded (or fail, with `failConnect`). */
function setup(options: { failConnect?: boolean } = {}) {
  let clock = 1_000_000;
  const pushes: Push[] = [];
  const connects: string[] = [];
  const logLines: string[] = [];
  const connect = (address: string): Promise<KafkaConnection> => {
    connects.push(address);
    if (options.failConnect) return Promise.reject(new Error(`refused ${address}`));
    const fake = {
      closed: false,
      request(apiKey: number, _version: number, body: { payload: { snapshot: ClusterSnapshot } }) {
        pushes.push({ address, apiKey, snapshot: body.payload.snapshot });
        return Promise.resolve({
          payload: { errorCode: 0, message: null, metadataVersion: body.payload.snapshot.version },
        });
      },
      close() {
        fake.closed = true;
      },
    };
    return Promise.resolve(fake as unknown as KafkaConnection);
  };
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  const coordinator = new Coordinator({
    settings: SETTINGS,
    store,
    logger: createLogger("coordinator-test", { sink: (line) => logLines.push(line) }),
    now: () => clock,
    connect,
  });
  return {
    coordinator,
    store,
    journal,
    pushes,
    connects,
    logLines,
    advance(ms: number) {
      clock += ms;
    },
  };
}

/** Lets un-awaited pushes (started on liveness changes) finish. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function registerAll(coordinator: Coordinator, ids = [0, 1, 2]): void {
  for (const id of ids) {
    coordinator.register({
      brokerId: id,
      host: "127.0.0.1",
      port: 9092 + id,
      incarnation: `inc-${id}`,
    });
  }
}

function topic(name: string, overrides: Partial<CreatableTopic> = {}): CreatableTopic {
  return {
    name,
    numPartitions: -1,
    replicationFactor: -1,
    assignments: [],
    configs: [],
    ...overrides,
  };
}

Deno.test("Coordinator.register() makes the broker live and hands it the snapshot", async () => {
  const { coordinator, store } = setup();
  const answer = coordinator.register({
    brokerId: 1,
    host: "127.0.0.1",
    port: 9093,
    incarnation: "a",
  });
  assert.equal(answer.errorCode, 0);
  assert.equal(answer.metadataVersion, store.version);
  assert.ok(answer.snapshot !== null);
  assert.equal(answer.snapshot.version, store.version);
  assert.deepEqual(answer.snapshot.brokers, [{ id: 1, host: "127.0.0.1", port: 9093 }]);
  assert.equal(answer.snapshot.controllerId, 1);
  assert.deepEqual(coordinator.liveBrokers(), [{ id: 1, host: "127.0.0.1", port: 9093 }]);
  await settle();
});

Deno.test("Coordinator.register() rejects a malformed payload with INVALID_REQUEST", () => {
  const { coordinator } = setup();
  for (const payload of [null, {}, { brokerId: "1", host: "h", port: 1, incarnation: "a" }]) {
    assert.throws(() => coordinator.register(payload), (e) => isKaError(e, "INVALID_REQUEST"));
  }
  assert.deepEqual(coordinator.liveBrokers(), []);
});

Deno.test("Coordinator.heartbeat() from an unknown broker or incarnation answers UNKNOWN_BROKER", async () => {
  const { coordinator } = setup();
  const unknown = coordinator.heartbeat({ brokerId: 0, incarnation: "x", metadataVersion: 0 });
  assert.equal(unknown.errorCode, ERRORS.UNKNOWN_BROKER.code);
  assert.equal(unknown.snapshot, null);
  coordinator.register({ brokerId: 0, host: "127.0.0.1", port: 9092, incarnation: "first" });
  const stale = coordinator.heartbeat({ brokerId: 0, incarnation: "old", metadataVersion: 0 });
  assert.equal(stale.errorCode, ERRORS.UNKNOWN_BROKER.code);
  assert.throws(
    () => coordinator.heartbeat({ brokerId: 0, incarnation: 5, metadataVersion: 0 }),
    (e) => isKaError(e, "INVALID_REQUEST") && e.message.includes("payload.incarnation"),
  );
  await settle();
});

Deno.test("Coordinator.heartbeat() sends the snapshot only to a broker that is behind", async () => {
  const { coordinator, store } = setup();
  registerAll(coordinator);
  await coordinator.createTopics({ topics: [topic("t")], timeoutMs: 1000, validateOnly: false });
  const behind = coordinator.heartbeat({ brokerId: 0, incarnation: "inc-0", metadataVersion: 0 });
  assert.equal(behind.errorCode, 0);
  assert.equal(behind.metadataVersion, store.version);
  assert.ok(behind.snapshot !== null);
  assert.equal(behind.snapshot.version, store.version);
  assert.deepEqual(behind.snapshot.topics.map((t) => t.name), ["t"]);
  const current = coordinator.heartbeat({
    brokerId: 0,
    incarnation: "inc-0",
    metadataVersion: store.version,
  });
  assert.equal(current.errorCode, 0);
  assert.equal(current.snapshot, null);
  await settle();
});

Deno.test("Coordinator expires a broker whose heartbeats stop and revives it on the next one", async () => {
  const { coordinator, store, advance } = setup();
  registerAll(coordinator);
  assert.deepEqual(coordinator.liveBrokers().map((b) => b.id), [0, 1, 2]);
  advance(600);
  coordinator.heartbeat({ brokerId: 0, incarnation: "inc-0", metadataVersion: store.version });
  coordinator.heartbeat({ brokerId: 2, incarnation: "inc-2", metadataVersion: store.version });
  advance(500); // broker 1 silent for 1100 ms > 1000 ms session timeout
  const before = store.version;
  await coordinator.checkHealth();
  assert.deepEqual(coordinator.liveBrokers().map((b) => b.id), [0, 2]);
  assert.ok(store.version > before, "a liveness change bumps the version");
  const snapshot = coordinator.snapshot();
  assert.deepEqual(snapshot.brokers.map((b) => b.id), [0, 2]);
  // Exactly at the timeout (1000 ms since the last heartbeat) is still fresh; past it is not.
  advance(500);
  await coordinator.checkHealth();
  assert.deepEqual(coordinator.liveBrokers().map((b) => b.id), [0, 2]);
  advance(1);
  await coordinator.checkHealth();
  assert.deepEqual(coordinator.liveBrokers(), []);
  assert.equal(coordinator.snapshot().controllerId, -1);
  // The same incarnation heartbeating again is live again.
  const answer = coordinator.heartbeat({ brokerId: 1, incarnation: "inc-1", metadataVersion: 0 });
  assert.equal(answer.errorCode, 0);
  assert.deepEqual(coordinator.liveBrokers().map((b) => b.id), [1]);
  await settle();
});

Deno.test("Coordinator.createTopics() answers per topic and pushes metadata to live brokers", async () => {
  const { coordinator, pushes, store } = setup();
  registerAll(coordinator);
  await settle();
  pushes.length = 0;
  const response = await coordinator.createTopics({
    topics: [
      topic("defaults"),
      topic("explicit", { numPartitions: 5, replicationFactor: 3 }),
      topic("defaults"),
      topic("bad name!"),
      topic("bad-config", { configs: [{ name: "retention.ms", value: "soon" }] }),
      topic("unknown-config", { configs: [{ name: "colour", value: "blue" }] }),
      topic("proto-config", { configs: [{ name: "__proto__", value: "x" }] }),
      topic("null-config", { configs: [{ name: "retention.ms", value: null }] }),
      topic("assigned", { assignments: [{ partitionIndex: 0, brokerIds: [0] }] }),
      topic("too-many-replicas", { replicationFactor: 4 }),
    ],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.deepEqual(response.topics.map((t) => [t.name, t.errorCode]), [
    ["defaults", 0],
    ["explicit", 0],
    ["defaults", ERRORS.TOPIC_ALREADY_EXISTS.code],
    ["bad name!", ERRORS.INVALID_TOPIC_EXCEPTION.code],
    ["bad-config", ERRORS.INVALID_CONFIG.code],
    ["unknown-config", ERRORS.INVALID_CONFIG.code],
    ["proto-config", ERRORS.INVALID_CONFIG.code],
    ["null-config", ERRORS.INVALID_CONFIG.code],
    ["assigned", ERRORS.INVALID_REQUEST.code],
    ["too-many-replicas", ERRORS.INVALID_REPLICATION_FACTOR.code],
  ]);
  for (const t of response.topics) {
    assert.equal(t.errorMessage === null, t.errorCode === 0, `${t.name} message`);
  }
  assert.equal(store.topic("defaults").partitions.length, SETTINGS.defaultPartitions);
  assert.equal(store.topic("defaults").partitions[0].replicas.length, SETTINGS.replicationFactor);
  assert.equal(store.topic("explicit").partitions.length, 5);
  assert.equal(store.topic("explicit").partitions[0].replicas.length, 3);
  // One UpdateMetadata per live broker, carrying the new topics.
  assert.deepEqual(pushes.map((p) => p.address).sort(), [
    "127.0.0.1:9092",
    "127.0.0.1:9093",
    "127.0.0.1:9094",
  ]);
  for (const push of pushes) {
    assert.equal(push.apiKey, ApiKey.UpdateMetadata);
    assert.equal(push.snapshot.version, store.version);
    assert.deepEqual(push.snapshot.topics.map((t) => t.name), ["defaults", "explicit"]);
  }
});

Deno.test("Coordinator.createTopics() reuses one push connection per broker", async () => {
  const { coordinator, connects } = setup();
  registerAll(coordinator, [0]);
  await settle();
  await coordinator.createTopics({
    topics: [topic("a", { replicationFactor: 1 })],
    timeoutMs: 1000,
    validateOnly: false,
  });
  await coordinator.createTopics({
    topics: [topic("b", { replicationFactor: 1 })],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.deepEqual(connects, ["127.0.0.1:9092"]);
});

Deno.test("Coordinator.createTopics() with validateOnly creates and pushes nothing", async () => {
  const { coordinator, pushes, store } = setup();
  registerAll(coordinator);
  await settle();
  pushes.length = 0;
  const version = store.version;
  const response = await coordinator.createTopics({
    topics: [topic("t"), topic("t", { numPartitions: 0 })],
    timeoutMs: 1000,
    validateOnly: true,
  });
  assert.deepEqual(response.topics.map((t) => t.errorCode), [0, ERRORS.INVALID_PARTITIONS.code]);
  assert.equal(store.hasTopic("t"), false);
  assert.equal(store.version, version);
  assert.deepEqual(pushes, []);
});

Deno.test("Coordinator.createTopics() with no live brokers fails each topic, not the call", async () => {
  const { coordinator } = setup();
  const response = await coordinator.createTopics({
    topics: [topic("t")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(response.topics[0].errorCode, ERRORS.INVALID_REPLICATION_FACTOR.code);
});

Deno.test("Coordinator.createTopics() succeeds when metadata pushes fail", async () => {
  const { coordinator, store, logLines } = setup({ failConnect: true });
  registerAll(coordinator);
  const response = await coordinator.createTopics({
    topics: [topic("t")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(response.topics[0].errorCode, 0);
  assert.ok(store.hasTopic("t"));
  assert.ok(logLines.some((l) => l.includes("could not push metadata") && l.includes("refused")));
  await settle();
});

Deno.test("Coordinator.deleteTopics() answers per topic and pushes", async () => {
  const { coordinator, pushes, store } = setup();
  registerAll(coordinator);
  await coordinator.createTopics({
    topics: [topic("a"), topic("b")],
    timeoutMs: 1000,
    validateOnly: false,
  });
  pushes.length = 0;
  const response = await coordinator.deleteTopics({
    topicNames: ["a", "nope", "a"],
    timeoutMs: 1000,
  });
  assert.deepEqual(response.responses, [
    { name: "a", errorCode: 0 },
    { name: "nope", errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code },
    { name: "a", errorCode: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code },
  ]);
  assert.deepEqual(store.topics().map((t) => t.name), ["b"]);
  assert.equal(pushes.length, 3);
  assert.ok(pushes.every((p) => p.snapshot.topics.every((t) => t.name !== "a")));
  pushes.length = 0;
  await coordinator.deleteTopics({ topicNames: ["nope"], timeoutMs: 1000 });
  assert.deepEqual(pushes, [], "nothing changed, nothing pushed");
});

Deno.test("Coordinator.topicDescribe() and topicList() give the stored placement", async () => {
  const { coordinator, store } = setup();
  registerAll(coordinator);
  const created = await coordinator.topicCreate({
    name: "orders",
    partitions: 2,
    replicationFactor: 2,
    configs: { "retention.ms": "60000" },
  });
  const described = coordinator.topicDescribe("orders");
  assert.deepEqual(created, described);
  const stored = store.topic("orders");
  assert.deepEqual(described, {
    name: "orders",
    partitions: stored.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      leaderEpoch: p.leaderEpoch,
    })),
    configs: { "retention.ms": "60000" },
  });
  // The listing is a copy: changing it does not change the store.
  const copy = coordinator.topicDescribe("orders");
  copy.partitions[0].replicas.push(99);
  copy.configs["x"] = "y";
  assert.equal(store.topic("orders").partitions[0].replicas.includes(99), false);
  assert.equal("x" in store.topic("orders").configs, false);
  assert.deepEqual(coordinator.topicList().map((t) => t.name), ["orders"]);
  assert.throws(
    () => coordinator.topicDescribe("nope"),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
});

Deno.test("Coordinator.topicCreate() and topicDelete() throw KaErrors with the codes", async () => {
  const { coordinator } = setup();
  registerAll(coordinator);
  await coordinator.topicCreate({ name: "t", configs: {} });
  await assert.rejects(
    () => coordinator.topicCreate({ name: "t", configs: {} }),
    (e) => isKaError(e, "TOPIC_ALREADY_EXISTS"),
  );
  await assert.rejects(
    () => coordinator.topicCreate({ name: "u", replicationFactor: 9, configs: {} }),
    (e) => isKaError(e, "INVALID_REPLICATION_FACTOR"),
  );
  await coordinator.topicDelete("t");
  await assert.rejects(
    () => coordinator.topicDelete("t"),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION") && e.message.includes("'t'"),
  );
});

Deno.test("Coordinator process controls without a supervisor answer SERVICE_STATE", async () => {
  const { coordinator } = setup();
  await assert.rejects(() => coordinator.brokerStop(0), (e) => isKaError(e, "SERVICE_STATE"));
  await assert.rejects(() => coordinator.brokerStart(1), (e) => isKaError(e, "SERVICE_STATE"));
  await assert.rejects(() => coordinator.brokerRestart(2), (e) => isKaError(e, "SERVICE_STATE"));
  await assert.rejects(
    () => coordinator.gatewayStop("producer"),
    (e) => isKaError(e, "SERVICE_STATE"),
  );
  await assert.rejects(
    () => coordinator.gatewayStart("consumer"),
    (e) => isKaError(e, "SERVICE_STATE"),
  );
  await assert.rejects(() => coordinator.restartAll(), (e) => isKaError(e, "SERVICE_STATE"));
});

Deno.test("Coordinator.status() without a supervisor lists only itself", () => {
  const { coordinator, advance } = setup();
  advance(250);
  const rows = coordinator.status();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].kind, "coordinator");
  assert.equal(rows[0].state, "alive");
  assert.equal(rows[0].port, SETTINGS.port);
  assert.equal(rows[0].uptimeMs, 250);
  assert.deepEqual(coordinator.brokerList(), []);
});
