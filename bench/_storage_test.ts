/**
 * Tests of table 9's pure parts: pairing each row with its memory reference
 * and rendering the table.
 * @module
 */
import assert from "node:assert/strict";
import type { Acks } from "@kafka-analog/clients";
import { renderStorage } from "./_report.ts";
import {
  memoryRowFor,
  STORAGE_POLICIES,
  type StorageRow,
  type StorageSection,
} from "./_storage.ts";
import { medianRun, summarize, throughput } from "./_stats.ts";

function row(valueBytes: number, acks: Acks, policyIndex: number, msgsPerSec: number): StorageRow {
  const policy = STORAGE_POLICIES[policyIndex];
  const messages = 1_000;
  const run = { ...throughput(messages, messages * valueBytes, (messages / msgsPerSec) * 1000) };
  return {
    valueBytes,
    acks,
    storage: policy.storage,
    label: policy.label,
    topicConfigs: { ...policy.topicConfigs },
    throughput: medianRun([{ ...run, perPartition: [messages], perSecond: [] }]),
    latency: summarize([0.2, 0.3, 0.4]),
    primeMs: [90],
  };
}

function section(rows: StorageRow[]): StorageSection {
  return {
    sizes: [{ valueBytes: 100, messages: 1_000 }],
    repeat: 1,
    latencySends: 3,
    partitions: 10,
    replicationFactor: 2,
    batchBytes: 16_384,
    lingerMs: 5,
    chunkMessages: 1_000,
    chunksInFlight: 8,
    extraCluster: { storage: "disk", basePort: 22_500, startupMs: 400 },
    warmupMessages: 1_000,
    rows,
  };
}

Deno.test("the policies are memory, disk with the default flush, disk with flush.messages=1", () => {
  assert.deepEqual(
    STORAGE_POLICIES.map((p) => [p.storage, p.topicConfigs]),
    [["memory", {}], ["disk", {}], ["disk", { "flush.messages": "1" }]],
  );
});

Deno.test("memoryRowFor pairs a row with the memory row of the same value size and acks", () => {
  const rows = [row(100, 1, 0, 500), row(100, "all", 0, 400), row(100, "all", 2, 200)];
  assert.equal(memoryRowFor(rows, rows[2]), rows[1]);
  assert.equal(memoryRowFor(rows, rows[0]), rows[0]);
  assert.equal(memoryRowFor([rows[2]], rows[2]), undefined);
});

Deno.test("renderStorage shows each row's msgs/s as a share of its memory row", () => {
  const text = renderStorage(
    section([row(100, 1, 0, 400_000), row(100, 1, 1, 300_000), row(100, 1, 2, 100_000)]),
  ).join("\n");
  assert.match(text, /^9\. Disk storage: throughput with acks=1 and acks=all/);
  assert.match(text, /│ 100 B │ 1 +│ memory +│ 1,000 +│ 400,000 │.*│ 100% +│/);
  assert.match(text, /│ disk, default flush +│ 1,000 +│ 300,000 │.*│ 75% +│/);
  assert.match(text, /│ disk, flush\.messages=1 │ 1,000 +│ 100,000 │.*│ 25% +│/);
  assert.match(text, /the memory rows on the main cluster, the disk rows on one started/);
});
