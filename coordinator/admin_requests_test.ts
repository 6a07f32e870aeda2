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
import { createPartitions, describeConfigs } from "./admin_requests.ts";
import { Coordinator } from "./coordinator.ts";
import { MemoryJournal, MetadataStore } from "./metadata/store.ts";

async function setup(): Promise<Coordinator> {
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
    store: new MetadataStore(new MemoryJournal()),
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
  // No AlterConfigs is served, so nothing is writable for a Kafka client.
  for (const c of [...all.configs, ...broker.configs]) assert.equal(c.readOnly, true, c.name);
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
