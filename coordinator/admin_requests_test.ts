/**
 * Tests for CreatePartitions and DescribeConfigs as the coordinator answers
 * them, without processes or sockets (pushes to brokers go to a fake).
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "@kafka-analog/lib/config";
import { createLogger } from "@kafka-analog/lib/log";
import type { KafkaConnection } from "@kafka-analog/lib/net";
import { ConfigSource, ERRORS } from "@kafka-analog/lib/protocol";
import {
  alterConfigs,
  createPartitions,
  describeConfigs,
  incrementalAlterConfigs,
} from "./admin_requests.ts";
import { Coordinator } from "./coordinator.ts";
import { deleteGroups } from "./groups/requests.ts";
import { MemoryJournal, MetadataStore } from "./metadata/store.ts";

async function setup(journal: MemoryJournal = new MemoryJournal()): Promise<Coordinator> {
  const fake = {
    closed: false,
    request: () =>
      Promise.resolve({ payload: { errorCode: 0, message: null, metadataVersion: 0 } }),
    close() {},
  };
  const coordinator = new Coordinator({
    settings: {
      port: 8080,
      brokerSessionTimeoutMs: 1000,
      defaultPartitions: 3,
      replicationFactor: 2,
      brokerIds: [0, 1, 2],
    },
    store: new MetadataStore(journal),
    logger: createLogger("admin-requests-test", { sink: () => {} }),
    now: () => 1_000_000,
    connect: () => Promise.resolve(fake as unknown as KafkaConnection),
  });
  for (const id of [0, 1, 2]) {
    coordinator.register({
      brokerId: id,
      host: "127.0.0.1",
      port: 9092 + id,
      incarnation: `i${id}`,
    });
  }
  if (coordinator.store.hasTopic("t")) return coordinator;
  const created = await coordinator.createTopics({
    topics: [{
      name: "t",
      numPartitions: 2,
      replicationFactor: 2,
      assignments: [],
      configs: [{ name: "retention.ms", value: "60000" }],
    }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(created.topics[0].errorCode, 0);
  return coordinator;
}

Deno.test("createPartitions() grows a topic, validates only when asked, refuses bad counts", async () => {
  const coordinator = await setup();
  const dry = await createPartitions(coordinator, {
    topics: [{ name: "t", count: 4, assignments: null }],
    timeoutMs: 1000,
    validateOnly: true,
  });
  assert.equal(dry.results[0].errorCode, 0);
  assert.equal(coordinator.store.topic("t").partitions.length, 2);
  const res = await createPartitions(coordinator, {
    topics: [
      { name: "t", count: 4, assignments: null },
      { name: "t", count: 3, assignments: null },
      { name: "nope", count: 2, assignments: null },
      { name: "t", count: 9, assignments: [{ brokerIds: [0, 1] }] },
    ],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.deepEqual(res.results.map((r) => r.errorCode), [
    0,
    ERRORS.INVALID_PARTITIONS.code,
    ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
    ERRORS.INVALID_REQUEST.code,
  ]);
  assert.equal(coordinator.store.topic("t").partitions.length, 4);
});

Deno.test("createPartitions() validateOnly refuses exactly what a real CreatePartitions refuses", async () => {
  const coordinator = await setup();
  // Two of the three brokers out of placement: "t" (2 replicas) cannot grow.
  coordinator.store.setDecommissioned(1, true);
  coordinator.store.setDecommissioned(2, true);
  const topics = [
    { name: "t", count: 4, assignments: null },
    { name: "t", count: 2, assignments: null },
    { name: "nope", count: 2, assignments: null },
  ];
  const codes = [
    ERRORS.INVALID_REPLICATION_FACTOR.code,
    ERRORS.INVALID_PARTITIONS.code,
    ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
  ];
  for (const validateOnly of [true, false]) {
    const res = await createPartitions(coordinator, { topics, timeoutMs: 1000, validateOnly });
    assert.deepEqual(res.results.map((r) => r.errorCode), codes, `validateOnly ${validateOnly}`);
  }
  assert.equal(coordinator.store.topic("t").partitions.length, 2);
});

Deno.test("describeConfigs() reports set topic configs, broker defaults and broker configs", async () => {
  const coordinator = await setup();
  const res = describeConfigs(coordinator, DEFAULT_CONFIG, {
    resources: [
      { resourceType: 2, resourceName: "t", configurationKeys: null },
      { resourceType: 2, resourceName: "t", configurationKeys: ["segment.bytes", "no.such"] },
      { resourceType: 4, resourceName: "1", configurationKeys: ["num.partitions"] },
      { resourceType: 2, resourceName: "gone", configurationKeys: null },
      { resourceType: 4, resourceName: "77", configurationKeys: null },
      { resourceType: 8, resourceName: "1", configurationKeys: null },
    ],
    includeSynonyms: true,
    includeDocumentation: false,
  });
  const [all, some, broker, gone, badBroker, logger] = res.results;
  const byName = new Map(all.configs.map((c) => [c.name, c]));
  assert.equal(byName.get("retention.ms")?.value, "60000");
  assert.equal(byName.get("retention.ms")?.configSource, ConfigSource.DynamicTopicConfig);
  assert.equal(
    byName.get("max.message.bytes")?.value,
    String(DEFAULT_CONFIG.broker.maxMessageBytes),
  );
  assert.equal(byName.get("max.message.bytes")?.configSource, ConfigSource.StaticBrokerConfig);
  assert.equal(byName.get("cleanup.policy")?.isDefault, true);
  // Every topic config is one AlterConfigs can set; broker configs are static (config.yaml).
  for (const c of all.configs) assert.equal(c.readOnly, false, c.name);
  for (const c of broker.configs) assert.equal(c.readOnly, true, c.name);
  assert.deepEqual(byName.get("retention.ms")?.synonyms, [
    { name: "retention.ms", value: "60000", source: ConfigSource.DynamicTopicConfig },
  ]);
  assert.deepEqual(some.configs.map((c) => c.name), ["segment.bytes"]);
  assert.deepEqual(broker.configs.map((c) => [c.name, c.value]), [
    ["num.partitions", String(DEFAULT_CONFIG.topics.defaultPartitions)],
  ]);
  assert.equal(gone.errorCode, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
  assert.equal(badBroker.errorCode, ERRORS.INVALID_REQUEST.code);
  assert.equal(logger.errorCode, ERRORS.INVALID_REQUEST.code);
});

Deno.test("alterConfigs() replaces a topic's whole config set; describeConfigs() and topic describe show it", async () => {
  const coordinator = await setup();
  const res = await alterConfigs(coordinator, {
    resources: [{
      resourceType: 2,
      resourceName: "t",
      configs: [{ name: "cleanup.policy", value: "compact" }, { name: "flush.ms", value: null }],
    }],
    validateOnly: false,
  });
  assert.deepEqual(res.responses, [
    { resourceType: 2, resourceName: "t", errorCode: 0, errorMessage: null },
  ]);
  // retention.ms (set at creation) was not listed: it is back to its default.
  assert.deepEqual(coordinator.topicDescribe("t").configs, { "cleanup.policy": "compact" });
  const described = describeConfigs(coordinator, DEFAULT_CONFIG, {
    resources: [{
      resourceType: 2,
      resourceName: "t",
      configurationKeys: ["cleanup.policy", "retention.ms"],
    }],
  });
  const [policy, retention] = described.results[0].configs;
  assert.equal(policy.value, "compact");
  assert.equal(policy.configSource, ConfigSource.DynamicTopicConfig);
  assert.equal(policy.readOnly, false);
  assert.equal(retention.value, String(DEFAULT_CONFIG.broker.retentionMs));
  assert.equal(retention.configSource, ConfigSource.StaticBrokerConfig);
});

Deno.test("alterConfigs() validateOnly checks without changing; bad keys, values and resources change nothing", async () => {
  const coordinator = await setup();
  const before = coordinator.topicDescribe("t").configs;
  const res = await alterConfigs(coordinator, {
    resources: [
      { resourceType: 2, resourceName: "t", configs: [{ name: "retention.ms", value: "5" }] },
      { resourceType: 2, resourceName: "t", configs: [{ name: "no.such.key", value: "1" }] },
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "segment.ms", value: "1" }, { name: "retention.ms", value: "-7" }],
      },
      { resourceType: 2, resourceName: "gone", configs: [] },
      { resourceType: 4, resourceName: "0", configs: [{ name: "num.partitions", value: "3" }] },
      { resourceType: 8, resourceName: "0", configs: [] },
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "flush.ms", value: "1" }, { name: "flush.ms", value: "2" }],
      },
    ],
    validateOnly: true,
  });
  assert.deepEqual(res.responses.map((r) => r.errorCode), [
    0,
    ERRORS.INVALID_CONFIG.code,
    ERRORS.INVALID_CONFIG.code,
    ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
    ERRORS.INVALID_REQUEST.code,
    ERRORS.INVALID_REQUEST.code,
    ERRORS.INVALID_REQUEST.code,
  ]);
  for (const r of res.responses.slice(1)) {
    assert.ok(r.errorMessage, `message for ${r.resourceName}`);
  }
  assert.deepEqual(coordinator.topicDescribe("t").configs, before);
  // Not validateOnly: the invalid resource still changes nothing, the valid one applies.
  const live = await alterConfigs(coordinator, {
    resources: [
      { resourceType: 2, resourceName: "t", configs: [{ name: "retention.ms", value: "x" }] },
    ],
    validateOnly: false,
  });
  assert.equal(live.responses[0].errorCode, ERRORS.INVALID_CONFIG.code);
  assert.deepEqual(coordinator.topicDescribe("t").configs, before);
});

Deno.test("deleteGroups() deletes an empty group's offsets for good (journaled); refuses non-empty and unknown groups", async () => {
  const journal = new MemoryJournal();
  const coordinator = await setup(journal);
  coordinator.groups.resetOffsets("empty", [{ topic: "t", partition: 0, offset: 5n }]);
  coordinator.groups.resetOffsets("kept", [{ topic: "t", partition: 1, offset: 9n }]);
  // A member joins "busy" (its JoinGroup waits for the rebalance; not awaited here).
  const joined = coordinator.groups.join({
    groupId: "busy",
    memberId: "",
    clientId: "c",
    clientHost: "",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array(0) }],
  });
  const res = deleteGroups(coordinator.groups, { groupsNames: ["empty", "busy", "nope"] });
  assert.deepEqual(res.results, [
    { groupId: "empty", errorCode: 0 },
    { groupId: "busy", errorCode: ERRORS.NON_EMPTY_GROUP.code },
    { groupId: "nope", errorCode: ERRORS.GROUP_ID_NOT_FOUND.code },
  ]);
  assert.equal(coordinator.groups.group("empty"), undefined);
  assert.deepEqual(coordinator.groups.committed("empty", null), []);
  assert.deepEqual(coordinator.groups.groups().map((g) => g.groupId), ["busy", "kept"]);
  // Deleting it again: it is gone.
  assert.deepEqual(deleteGroups(coordinator.groups, { groupsNames: ["empty"] }).results, [
    { groupId: "empty", errorCode: ERRORS.GROUP_ID_NOT_FOUND.code },
  ]);
  // A restarted coordinator (same journal) does not bring it back; other groups keep offsets.
  const restarted = await setup(journal);
  assert.equal(restarted.groups.group("empty"), undefined);
  assert.deepEqual(restarted.groups.committed("empty", null), []);
  assert.deepEqual(restarted.groups.committed("kept", null).map((o) => o.offset), [9n]);
  // And after journal compaction too.
  const compacted = new MemoryJournal();
  for (const e of restarted.store.snapshotEvents()) compacted.append(e);
  const again = await setup(compacted);
  assert.equal(again.groups.group("empty"), undefined);
  assert.deepEqual(again.groups.committed("kept", null).map((o) => o.offset), [9n]);
  // The member leaves: "busy" is empty and can be deleted.
  const member = coordinator.groups.group("busy")!.members.keys().next().value!;
  coordinator.groups.leave("busy", [member]);
  await joined;
  assert.deepEqual(deleteGroups(coordinator.groups, { groupsNames: ["busy"] }).results, [
    { groupId: "busy", errorCode: 0 },
  ]);
});

Deno.test("incrementalAlterConfigs() SETs and DELETEs only the listed keys; bad operations change nothing", async () => {
  const coordinator = await setup();
  const res = await incrementalAlterConfigs(coordinator, {
    resources: [
      {
        resourceType: 2,
        resourceName: "t",
        configs: [
          { name: "segment.ms", configOperation: 0, value: "60000" },
          { name: "flush.ms", configOperation: 1, value: null },
        ],
      },
    ],
    validateOnly: false,
  });
  assert.equal(res.responses[0].errorCode, 0);
  // retention.ms (set at creation, not listed) stays.
  assert.deepEqual(coordinator.topicDescribe("t").configs, {
    "retention.ms": "60000",
    "segment.ms": "60000",
  });
  const bad = await incrementalAlterConfigs(coordinator, {
    resources: [
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "retention.ms", configOperation: 1, value: null }, {
          name: "cleanup.policy",
          configOperation: 2,
          value: "compact",
        }],
      },
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "retention.ms", configOperation: 0, value: null }],
      },
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "nope", configOperation: 1, value: null }],
      },
      {
        resourceType: 4,
        resourceName: "1",
        configs: [{ name: "num.partitions", configOperation: 0, value: "1" }],
      },
      {
        resourceType: 2,
        resourceName: "t",
        configs: [{ name: "retention.ms", configOperation: 1, value: null }],
      },
    ],
    validateOnly: true,
  });
  assert.deepEqual(bad.responses.map((r) => r.errorCode), [
    ERRORS.INVALID_REQUEST.code,
    ERRORS.INVALID_REQUEST.code,
    ERRORS.INVALID_CONFIG.code,
    ERRORS.INVALID_REQUEST.code,
    0,
  ]);
  // validateOnly: even the valid DELETE changed nothing.
  assert.deepEqual(coordinator.topicDescribe("t").configs, {
    "retention.ms": "60000",
    "segment.ms": "60000",
  });
});
