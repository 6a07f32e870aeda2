/**
 * Tests for the storage wiring: a broker built with disk storage opens the
 * partitions it hosts from their directories, gets its data, leader epochs
 * and idempotent producers back after a restart, removes a partition's
 * directory when the partition leaves it, and survives a log that will not
 * open.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import {
  fixtureBatch,
  fixtureBroker,
  fixtureSnapshot,
  fixtureTopics,
  produceRequest,
} from "../_fixtures.ts";
import type { Broker } from "../broker.ts";
import { handleProduce } from "../handlers/produce.ts";
import type { DiskLog } from "./disk_log.ts";
import { EPOCH_CHECKPOINT_FILE } from "./leader_epoch_cache.ts";
import { MemoryLog } from "./memory_log.ts";
import { diskStorage, memoryStorage, partitionDir } from "./storage.ts";

const QUIET = createLogger("storage-test", { sink: () => {} });

function diskBroker(dataDir: string): Broker {
  const storage = diskStorage({ dataDir, segmentBytes: 1024, logger: QUIET });
  return fixtureBroker({ makeLog: storage.makeLog, makeEpochCache: storage.makeEpochCache });
}

function closeAll(broker: Broker): void {
  for (const replica of broker.replicas()) replica.log.close();
}

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "storage_test_" });
  return Promise.resolve(fn(dir)).finally(() => Deno.removeSync(dir, { recursive: true }));
}

function dirNames(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** An idempotent producer's batch (producer 77, epoch 0) starting at `baseSequence`. */
function idempotentBatch(baseSequence: number): Uint8Array {
  return encodeRecordBatch([{ value: new TextEncoder().encode(`seq-${baseSequence}`) }], {
    timestamp: 1_700_000_000_000,
    producerId: 77n,
    producerEpoch: 0,
    baseSequence,
  });
}

async function produce(broker: Broker, topic: string, partition: number, batch: Uint8Array) {
  const response = await handleProduce(broker, produceRequest(topic, partition, batch, 1));
  return response!.responses[0].partitionResponses[0];
}

Deno.test("partitionDir() is <dataDir>/<topic>-<partition> and refuses names that are not topics", () => {
  assert.equal(partitionDir("/d/broker-1", "orders.v2", 3), "/d/broker-1/orders.v2-3");
  for (const bad of ["../x", "a/b", "..", ""]) {
    assert.throws(
      () => partitionDir("/d", bad, 0),
      (e) => isKaError(e, "INVALID_TOPIC_EXCEPTION"),
      bad,
    );
  }
});

Deno.test("memoryStorage() makes memory logs and plain epoch caches", () => {
  const storage = memoryStorage();
  const log = storage.makeLog("t", 0, {});
  assert.ok(log instanceof MemoryLog);
  assert.equal(storage.makeEpochCache("t", 0, log).latestEpoch, -1);
});

Deno.test("diskStorage() uses the topic's segment.bytes over the broker default", () =>
  withDir((dir) => {
    const storage = diskStorage({ dataDir: dir, segmentBytes: 1 << 20, logger: QUIET });
    const log = storage.makeLog("t", 0, { "segment.bytes": "1024" }) as DiskLog;
    for (let i = 0; i < 20; i++) {
      const bytes = fixtureBatch(`b${i}`, 1, [{ value: new Uint8Array(200) }]);
      log.append(bytes, readBatchHeader(bytes), 0);
    }
    assert.ok(log.segmentInfo().length >= 4, "rolled at 1024 bytes, not 1 MiB");
    log.close();
  }));

Deno.test("a disk broker opens one directory per hosted partition and gets everything back after a restart", () =>
  withDir(async (dir) => {
    const first = diskBroker(dir);
    assert.deepEqual(dirNames(dir), ["small-0", "t-0", "t-1", "t-2"]);
    await produce(first, "t", 0, fixtureBatch("a", 3));
    const original = await produce(first, "t", 0, idempotentBatch(0));
    await produce(first, "t", 2, fixtureBatch("c", 2));
    assert.equal(original.baseOffset, 3n);
    assert.equal(
      Deno.readTextFileSync(`${dir}/t-0/${EPOCH_CHECKPOINT_FILE}`),
      "0\n1\n4 0\n",
      "leader epoch 4 (from the fixture) starts at 0",
    );
    closeAll(first);

    const second = diskBroker(dir);
    const t0 = second.hostedPartition("t", 0);
    assert.equal(t0.log.logEndOffset, 4n);
    assert.equal(second.hostedPartition("t", 2).log.logEndOffset, 2n);
    assert.deepEqual(t0.replica.epochCache.entries(), [{ epoch: 4, startOffset: 0n }]);
    const stored = t0.log.read(0n, 1 << 20).batches;
    assert.deepEqual(stored.map((b) => readBatchHeader(b).baseOffset), [0n, 3n]);
    // The idempotent producer's retry is still recognised: same offset, nothing appended.
    const retry = await produce(second, "t", 0, idempotentBatch(0));
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.baseOffset, 3n);
    assert.equal(t0.log.logEndOffset, 4n);
    const next = await produce(second, "t", 0, idempotentBatch(1));
    assert.equal(next.baseOffset, 4n);
    closeAll(second);
  }));

Deno.test("a follower replica recovered from disk knows its producers before it leads", () =>
  withDir((dir) => {
    const first = diskBroker(dir);
    // Broker 0 follows t-1 (led by broker 1): copy a batch as the fetcher would.
    const bytes = encodeRecordBatch([{ value: new Uint8Array([1]) }], {
      timestamp: 0,
      producerId: 5n,
      producerEpoch: 0,
      baseSequence: 0,
      partitionLeaderEpoch: 2,
    });
    first.hostedPartition("t", 1).log.appendReplica(bytes, readBatchHeader(bytes));
    closeAll(first);
    const second = diskBroker(dir);
    const check = second.hostedPartition("t", 1).replica.producers.check(readBatchHeader(bytes));
    assert.equal(check.kind, "duplicate");
    closeAll(second);
  }));

Deno.test("a partition that leaves the broker has its directory removed", () =>
  withDir(async (dir) => {
    const broker = diskBroker(dir);
    await produce(broker, "t", 0, fixtureBatch("a", 1));
    const log = broker.hostedPartition("t", 0).log;
    broker.applySnapshot(fixtureSnapshot(2, fixtureTopics().filter((t) => t.name !== "t")));
    assert.deepEqual(dirNames(dir), ["small-0"]);
    assert.throws(() => log.read(0n, 1), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    closeAll(broker);
  }));

Deno.test("a log that cannot be opened is logged and its partition left unhosted", () => {
  const lines: string[] = [];
  const broker = fixtureBroker({
    logger: createLogger("t", { sink: (l) => lines.push(l) }),
    makeLog: (topic, partition) => {
      if (topic === "t" && partition === 0) {
        throw KaError.of("KAFKA_STORAGE_ERROR", "Cannot open t-0: disk on fire");
      }
      return new MemoryLog();
    },
  });
  assert.throws(
    () => broker.hostedPartition("t", 0),
    (e) => isKaError(e, "NOT_LEADER_OR_FOLLOWER"),
  );
  assert.equal(broker.hostedPartition("t", 2).log.logEndOffset, 0n);
  assert.ok(lines.some((l) => JSON.parse(l).msg === "cannot open partition log"));
});
