/**
 * Tests for the metadata store: topic validation, versioning and replay
 * from a journal.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";
import { type CreateTopicRequest, MemoryJournal, MetadataStore } from "./store.ts";

const BROKERS = [0, 1, 2];

function request(overrides: Partial<CreateTopicRequest> = {}): CreateTopicRequest {
  return { name: "orders", partitions: 3, replicationFactor: 2, configs: {}, ...overrides };
}

Deno.test("MetadataStore.createTopic() places partitions and journals the topic", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  assert.equal(store.version, 0);
  const topic = store.createTopic(request({ configs: { "retention.ms": "1000" } }), BROKERS);
  assert.equal(topic.name, "orders");
  assert.deepEqual(topic.configs, { "retention.ms": "1000" });
  assert.equal(topic.partitions.length, 3);
  topic.partitions.forEach((p, i) => {
    assert.equal(p.partition, i);
    assert.equal(p.replicas.length, 2);
    assert.equal(new Set(p.replicas).size, 2, "replicas are distinct brokers");
    assert.ok(p.replicas.every((id) => BROKERS.includes(id)));
    assert.equal(p.leader, p.replicas[0]);
    assert.equal(p.leaderEpoch, 0);
    assert.deepEqual(p.isr, p.replicas);
  });
  assert.equal(store.version, 1);
  assert.ok(store.hasTopic("orders"));
  assert.deepEqual(store.topic("orders"), topic);
  assert.deepEqual(journal.events, [{ type: "topic_created", topic }]);
});

Deno.test("MetadataStore.createTopic() rejects invalid names with INVALID_TOPIC_EXCEPTION", () => {
  const store = new MetadataStore(new MemoryJournal());
  for (const name of ["", ".", "..", "a/b", "has space", "ünï", "x".repeat(250)]) {
    assert.throws(
      () => store.createTopic(request({ name }), BROKERS),
      (e) => isKaError(e, "INVALID_TOPIC_EXCEPTION"),
      JSON.stringify(name),
    );
  }
  for (const name of ["a", "A.b_c-9", "x".repeat(249), "..."]) {
    store.createTopic(request({ name, partitions: 1, replicationFactor: 1 }), BROKERS);
  }
  assert.equal(store.topics().length, 4);
});

Deno.test("MetadataStore.createTopic() rejects bad partition counts with INVALID_PARTITIONS", () => {
  const store = new MetadataStore(new MemoryJournal());
  for (const partitions of [0, -1, 1.5, NaN, PARTITIONS_MAX + 1]) {
    assert.throws(
      () => store.createTopic(request({ partitions }), BROKERS),
      (e) => isKaError(e, "INVALID_PARTITIONS"),
      String(partitions),
    );
  }
  assert.equal(store.version, 0);
});

Deno.test("MetadataStore.createTopic() rejects a replication factor the brokers cannot hold", () => {
  const store = new MetadataStore(new MemoryJournal());
  for (const replicationFactor of [0, -1, 4, 2.5]) {
    assert.throws(
      () => store.createTopic(request({ replicationFactor }), BROKERS),
      (e) => isKaError(e, "INVALID_REPLICATION_FACTOR"),
      String(replicationFactor),
    );
  }
  assert.throws(
    () => store.createTopic(request({ replicationFactor: 1 }), []),
    (e) => isKaError(e, "INVALID_REPLICATION_FACTOR"),
    "no brokers at all",
  );
  store.createTopic(request({ replicationFactor: 3 }), BROKERS);
});

Deno.test("MetadataStore.createTopic() rejects unknown config keys, even Object.prototype names", () => {
  const store = new MetadataStore(new MemoryJournal());
  for (const key of ["retention.msx", "foo", "constructor", "toString", "hasOwnProperty"]) {
    assert.throws(
      () => store.createTopic(request({ configs: { [key]: "1" } }), BROKERS),
      (e) => isKaError(e, "INVALID_CONFIG") && e.message.includes(`'${key}'`),
      key,
    );
  }
  assert.equal(store.version, 0);
});

Deno.test("MetadataStore.createTopic() rejects bad config values with INVALID_CONFIG", () => {
  const store = new MetadataStore(new MemoryJournal());
  const bad: [string, string][] = [
    ["retention.ms", "abc"],
    ["retention.ms", "-2"],
    ["retention.ms", "1.5"],
    ["retention.bytes", ""],
    ["max.message.bytes", "0"],
    ["max.message.bytes", "-1"],
    ["segment.bytes", "100"],
    ["cleanup.policy", "forever"],
    ["min.insync.replicas", "0"],
  ];
  for (const [key, value] of bad) {
    assert.throws(
      () => store.createTopic(request({ configs: { [key]: value } }), BROKERS),
      (e) => isKaError(e, "INVALID_CONFIG") && e.message.includes(key),
      `${key}=${value}`,
    );
  }
  const good = {
    "retention.ms": "-1",
    "retention.bytes": "1048576",
    "max.message.bytes": "1000",
    "segment.bytes": "1024",
    "cleanup.policy": "compact",
    "min.insync.replicas": "2",
  };
  assert.deepEqual(store.createTopic(request({ configs: good }), BROKERS).configs, good);
});

Deno.test("MetadataStore.createTopic() answers TOPIC_ALREADY_EXISTS for a second topic of a name", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request(), BROKERS);
  assert.throws(
    () => store.createTopic(request({ partitions: 1 }), BROKERS),
    (e) => isKaError(e, "TOPIC_ALREADY_EXISTS"),
  );
  assert.equal(store.topic("orders").partitions.length, 3);
  assert.equal(journal.events.length, 1);
  assert.equal(store.version, 1);
});

Deno.test("MetadataStore.createTopic() with validateOnly checks but commits nothing", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  const topic = store.createTopic(request(), BROKERS, { validateOnly: true });
  assert.equal(topic.partitions.length, 3);
  assert.equal(store.hasTopic("orders"), false);
  assert.equal(store.version, 0);
  assert.deepEqual(journal.events, []);
  assert.throws(
    () => store.createTopic(request({ partitions: 0 }), BROKERS, { validateOnly: true }),
    (e) => isKaError(e, "INVALID_PARTITIONS"),
  );
});

Deno.test("MetadataStore.deleteTopic() removes the topic and journals it; unknown names fail", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request(), BROKERS);
  store.deleteTopic("orders");
  assert.equal(store.hasTopic("orders"), false);
  assert.equal(store.version, 2);
  assert.deepEqual(journal.events[1], { type: "topic_deleted", name: "orders" });
  assert.throws(
    () => store.deleteTopic("orders"),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
  assert.throws(() => store.topic("orders"), (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"));
  assert.equal(journal.events.length, 2);
  assert.equal(store.version, 2);
  // The name is free again.
  store.createTopic(request({ partitions: 1 }), BROKERS);
  assert.equal(store.topic("orders").partitions.length, 1);
});

Deno.test("MetadataStore.version increases on every change and on bump()", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request({ name: "a" }), BROKERS);
  store.bump();
  store.createTopic(request({ name: "b" }), BROKERS);
  store.bump();
  store.deleteTopic("a");
  assert.equal(store.version, 5);
  assert.equal(journal.events.length, 3, "bump() is not journaled");
});

Deno.test("MetadataStore replays its journal into the same topics", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request({ name: "b", configs: { "cleanup.policy": "compact" } }), BROKERS);
  store.createTopic(request({ name: "a", partitions: 5, replicationFactor: 3 }), BROKERS);
  store.createTopic(request({ name: "c", partitions: 1, replicationFactor: 1 }), BROKERS);
  store.deleteTopic("c");
  journal.append({
    type: "partition_changed",
    topic: "a",
    partition: 2,
    leader: 1,
    leaderEpoch: 3,
    replicas: [1, 2, 0],
    isr: [1],
  });
  const replayed = new MetadataStore(journal);
  assert.deepEqual(replayed.topics().map((t) => t.name), ["a", "b"]);
  assert.deepEqual(replayed.topic("b"), store.topic("b"));
  assert.deepEqual(replayed.topic("a").partitions[2], {
    partition: 2,
    leader: 1,
    leaderEpoch: 3,
    replicas: [1, 2, 0],
    isr: [1],
  });
  assert.deepEqual(replayed.topic("a").partitions[0], store.topic("a").partitions[0]);
  assert.equal(replayed.version, journal.events.length);
  assert.deepEqual(replayed.snapshot([], -1).topics, replayed.topics());
});

Deno.test("MetadataStore ignores a journaled partition change for a topic since deleted", () => {
  const journal = new MemoryJournal();
  journal.append({
    type: "partition_changed",
    topic: "ghost",
    partition: 0,
    leader: 0,
    leaderEpoch: 1,
    replicas: [0],
    isr: [0],
  });
  const store = new MetadataStore(journal);
  assert.deepEqual(store.topics(), []);
  assert.equal(store.version, 1);
});

Deno.test("MetadataStore.snapshot() carries the live brokers, controller and sorted topics", () => {
  const store = new MetadataStore(new MemoryJournal(), { clusterId: "c1" });
  store.createTopic(request({ name: "zeta" }), BROKERS);
  store.createTopic(request({ name: "alpha" }), BROKERS);
  const brokers = [{ id: 1, host: "127.0.0.1", port: 9093 }];
  const snapshot = store.snapshot(brokers, 1);
  assert.equal(snapshot.clusterId, "c1");
  assert.equal(snapshot.version, 2);
  assert.equal(snapshot.controllerId, 1);
  assert.deepEqual(snapshot.brokers, brokers);
  assert.deepEqual(snapshot.topics.map((t) => t.name), ["alpha", "zeta"]);
});

Deno.test("MetadataStore.leaderCounts() counts partitions led per broker", () => {
  const store = new MetadataStore(new MemoryJournal());
  store.createTopic(request({ partitions: 6, replicationFactor: 1 }), BROKERS);
  const counts = store.leaderCounts();
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 6);
  for (const id of counts.keys()) assert.ok(BROKERS.includes(id));
});

Deno.test("MetadataStore.changePartition() journals the new leader, epoch and ISR, then applies them", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request({ name: "a", partitions: 2, replicationFactor: 2 }), BROKERS);
  const version = store.version;
  const before = structuredClone(store.topic("a").partitions[1]);
  const next = {
    ...structuredClone(before),
    leader: before.replicas[1],
    leaderEpoch: 1,
    isr: [before.replicas[1]],
  };
  store.changePartition("a", next);
  assert.deepEqual(store.topic("a").partitions[1], next);
  assert.equal(store.version, version + 1);
  assert.deepEqual(journal.events.at(-1), {
    type: "partition_changed",
    topic: "a",
    partition: 1,
    leader: next.leader,
    leaderEpoch: 1,
    replicas: before.replicas,
    isr: next.isr,
  });
  // The store keeps its own copy: changing the argument afterwards changes nothing.
  next.isr.push(99);
  next.replicas.push(99);
  assert.deepEqual(store.topic("a").partitions[1].isr, [before.replicas[1]]);
  assert.deepEqual(store.topic("a").partitions[1].replicas, before.replicas);
  assert.deepEqual(new MetadataStore(journal).topic("a"), store.topic("a"));
  // Other partitions are untouched.
  assert.equal(store.topic("a").partitions[0].leaderEpoch, 0);
});

Deno.test("MetadataStore.changePartition() of an unknown topic or partition fails and journals nothing", () => {
  const journal = new MemoryJournal();
  const store = new MetadataStore(journal);
  store.createTopic(request({ name: "a", partitions: 1, replicationFactor: 1 }), BROKERS);
  const state = { partition: 0, leader: 0, leaderEpoch: 1, replicas: [0], isr: [0] };
  assert.throws(
    () => store.changePartition("nope", state),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
  assert.throws(
    () => store.changePartition("a", { ...state, partition: 3 }),
    (e) => isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION") && e.message.includes("a-3"),
  );
  assert.equal(journal.events.length, 1);
  assert.equal(store.version, 1);
});
