/**
 * Consumer offsets against a real cluster, with in-process GroupConsumers:
 * autoOffsetReset earliest / latest / none on a new group, a manual commit
 * picked up by the next member of the group, seek (after and before the
 * first poll), seekToTimestamp (one record per batch and inside a batch), an
 * out-of-range position reset by the policy, pause/resume per partition,
 * and exactly-once refused.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import type {
  Client,
  ConsumedMessage,
  GroupConsumer,
  GroupConsumerOptions,
  Producer,
} from "@kafka-analog/clients";
import { startCluster } from "../_cluster.ts";

const BASE_PORT = 21800;
const TOPIC = "offsets";
const decoder = new TextDecoder();

function value(m: ConsumedMessage): string {
  return m.value === null ? "<null>" : decoder.decode(m.value);
}

/** Polls until `count` messages arrived (or `timeoutMs` passed); returns what arrived. */
async function collect(
  consumer: GroupConsumer,
  count: number,
  timeoutMs = 5_000,
): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    for (const batch of await consumer.poll()) out.push(...batch.messages);
  }
  return out;
}

/** Polls for `durationMs` and returns everything that arrived. */
async function pollFor(consumer: GroupConsumer, durationMs: number): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    for (const batch of await consumer.poll()) out.push(...batch.messages);
  }
  return out;
}

async function produce(
  producer: Producer,
  topic: string,
  messages: { value: string; partition?: number; timestamp?: number }[],
): Promise<void> {
  await producer.send(topic, messages);
  await producer.flush();
}

Deno.test({
  name:
    "offsets: reset policies, manual commit, seek, seekToTimestamp, out of range, pause/resume, exactly-once mode",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const startedAt = performance.now();
    const cluster = await startCluster(BASE_PORT, { brokers: 2 });
    const consumers: GroupConsumer[] = [];
    let client: Client | null = null;
    try {
      client = cluster.client();
      const c = client;
      const open = (options: GroupConsumerOptions, topics = [TOPIC]): GroupConsumer => {
        const consumer = c.groupConsumer({
          heartbeatIntervalMs: 200,
          sessionTimeoutMs: 6_000,
          maxWaitMs: 100,
          autoCommit: false,
          ...options,
        });
        consumers.push(consumer);
        consumer.subscribe(topics);
        return consumer;
      };
      const close = async (consumer: GroupConsumer) => {
        consumers.splice(consumers.indexOf(consumer), 1);
        await consumer.close();
      };
      await c.admin.createTopic({ name: TOPIC, partitions: 1, replicationFactor: 2 });
      const producer = c.producer({ acks: "all", lingerMs: 0 });
      await produce(producer, TOPIC, Array.from({ length: 10 }, (_, i) => ({ value: `m-${i}` })));

      await t.step(
        "autoOffsetReset earliest reads from 0; latest only what came after the join",
        async () => {
          const earliest = open({ groupId: "g-earliest", autoOffsetReset: "earliest" });
          const all = await collect(earliest, 10);
          assert.deepEqual(
            all.map((m) => m.offset),
            Array.from({ length: 10 }, (_, i) => BigInt(i)),
          );
          assert.deepEqual(all.map(value), Array.from({ length: 10 }, (_, i) => `m-${i}`));

          const latest = open({ groupId: "g-latest", autoOffsetReset: "latest" });
          assert.deepEqual(await latest.poll(), [], "nothing before the join is delivered");
          assert.ok(latest.generationId >= 1, "joined");
          assert.equal(latest.position(TOPIC, 0), 10n);
          await produce(producer, TOPIC, [0, 1, 2].map((i) => ({ value: `late-${i}` })));
          const late = await collect(latest, 3);
          assert.deepEqual(late.map(value), ["late-0", "late-1", "late-2"]);
          assert.deepEqual(late.map((m) => m.offset), [10n, 11n, 12n]);
          await close(earliest);
          await close(latest);
        },
      );

      await t.step("autoOffsetReset none without a committed offset: a clear KaError", async () => {
        const none = open({ groupId: "g-none", autoOffsetReset: "none" });
        await assert.rejects(none.poll(), (err) => {
          assert.ok(isKaError(err, "OFFSET_OUT_OF_RANGE"), String(err));
          assert.match(err.message, /offsets-0/);
          assert.match(err.message, /g-none/);
          assert.match(err.message, /autoOffsetReset is none/);
          assert.equal(err.retriable, false);
          return true;
        });
        await close(none);
      });

      await t.step(
        "a manual commit of explicit offsets is where the group's next member starts",
        async () => {
          const first = open({ groupId: "g-manual", autoOffsetReset: "earliest" });
          assert.ok((await collect(first, 13)).length === 13);
          await first.commit([{ topic: TOPIC, partition: 0, offset: 4n }]);
          await close(first);
          // `none` proves the start comes from the commit, not from a reset policy.
          const second = open({ groupId: "g-manual", autoOffsetReset: "none" });
          const resumed = await collect(second, 9);
          assert.deepEqual(resumed.map((m) => m.offset), [4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
          assert.equal(value(resumed[0]), "m-4");
          await close(second);
        },
      );

      await t.step("seek() moves the position, after and before the first poll", async () => {
        const consumer = open({ groupId: "g-seek", autoOffsetReset: "earliest" });
        assert.equal((await collect(consumer, 13)).length, 13);
        assert.equal(consumer.position(TOPIC, 0), 13n);
        consumer.seek(TOPIC, 0, 7n);
        assert.equal(consumer.position(TOPIC, 0), 7n);
        const again = await collect(consumer, 6);
        assert.deepEqual(again.map((m) => m.offset), [7n, 8n, 9n, 10n, 11n, 12n]);
        consumer.seek(TOPIC, 0, 2n);
        assert.deepEqual((await collect(consumer, 1))[0].offset, 2n);
        await close(consumer);

        const early = open({ groupId: "g-seek-early", autoOffsetReset: "earliest" });
        early.seek(TOPIC, 0, 5n);
        const fromFive = await collect(early, 8);
        assert.equal(fromFive[0]?.offset, 5n, "a seek before the join survives the assignment");
        await close(early);
      });

      await t.step(
        "seekToTimestamp() finds the first message at or after a timestamp",
        async () => {
          await c.admin.createTopic({ name: "times", partitions: 1, replicationFactor: 2 });
          const base = Date.now() - 60_000;
          // Offsets 0..4: one record per batch, 1 s apart.
          for (let i = 0; i < 5; i++) {
            await produce(producer, "times", [{ value: `a-${i}`, timestamp: base + i * 1_000 }]);
          }
          // Offsets 5..9: one batch, records 1 s apart from base + 10 s.
          await produce(
            producer,
            "times",
            Array.from({ length: 5 }, (_, i) => ({
              value: `b-${i}`,
              timestamp: base + 10_000 + i * 1_000,
            })),
          );
          const consumer = open({ groupId: "g-time", autoOffsetReset: "earliest" }, ["times"]);
          const all = await collect(consumer, 10);
          assert.equal(all.length, 10);
          assert.equal(all[3].timestamp, base + 3_000, "timestamps are kept");
          const cases: [number, bigint][] = [
            [base - 1, 0n],
            [base + 2_000, 2n],
            [base + 2_500, 3n],
            [base + 4_000, 4n],
            [base + 4_001, 5n],
            [base + 12_500, 8n], // inside the second batch
            [base + 14_000, 9n],
            [base + 100_000, 10n], // after every record: the end
          ];
          for (const [timestamp, offset] of cases) {
            await consumer.seekToTimestamp("times", 0, timestamp);
            assert.equal(
              consumer.position("times", 0),
              offset,
              `timestamp base+${timestamp - base}`,
            );
          }
          await consumer.seekToTimestamp("times", 0, base + 2_500);
          const next = await collect(consumer, 1);
          assert.equal(next[0]?.offset, 3n);
          assert.equal(value(next[0]), "a-3");
          assert.ok(next[0].timestamp >= base + 2_500);
          await close(consumer);
        },
      );

      await t.step("an out-of-range position is reset by the policy", async () => {
        const earliest = open({ groupId: "g-oor-earliest", autoOffsetReset: "earliest" });
        assert.equal((await collect(earliest, 13)).length, 13);
        earliest.seek(TOPIC, 0, 13n + 1_000n);
        const reread = await collect(earliest, 13);
        assert.equal(reread[0]?.offset, 0n, "earliest re-reads from 0");
        assert.equal(reread.length, 13);

        const latest = open({ groupId: "g-oor-latest", autoOffsetReset: "latest" });
        assert.deepEqual(await latest.poll(), []);
        latest.seek(TOPIC, 0, 13n + 1_000n);
        assert.deepEqual(await pollFor(latest, 400), [], "latest skips to the end");
        assert.equal(latest.position(TOPIC, 0), 13n);

        const none = open({ groupId: "g-oor-none", autoOffsetReset: "none" });
        await none.commit([{ topic: TOPIC, partition: 0, offset: 12n }]); // standalone commit
        assert.equal((await collect(none, 1))[0]?.offset, 12n);
        none.seek(TOPIC, 0, 13n + 1_000n);
        await assert.rejects(
          collect(none, 1, 2_000),
          (err) =>
            isKaError(err, "OFFSET_OUT_OF_RANGE") && /autoOffsetReset is none/.test(err.message),
        );
        for (const consumer of [earliest, latest, none]) await close(consumer);
      });

      await t.step("pause() stops and resume() restarts delivery of a partition", async () => {
        await c.admin.createTopic({ name: "pr", partitions: 2, replicationFactor: 2 });
        await produce(
          producer,
          "pr",
          [0, 1].flatMap((partition) =>
            Array.from({ length: 5 }, (_, i) => ({ value: `p${partition}-${i}`, partition }))
          ),
        );
        const consumer = open({ groupId: "g-pause", autoOffsetReset: "earliest" }, ["pr"]);
        consumer.pause([{ topic: "pr", partition: 0 }]);
        const p1 = await collect(consumer, 5);
        assert.deepEqual(p1.map(value), ["p1-0", "p1-1", "p1-2", "p1-3", "p1-4"]);
        assert.deepEqual(await pollFor(consumer, 400), [], "paused partition 0 delivers nothing");
        assert.equal(consumer.assignment().length, 2, "a paused partition stays assigned");

        consumer.resume([{ topic: "pr", partition: 0 }]);
        consumer.pause([{ topic: "pr", partition: 1 }]);
        await produce(producer, "pr", [5, 6, 7].map((i) => ({ value: `p1-${i}`, partition: 1 })));
        const p0 = await collect(consumer, 5);
        assert.deepEqual(p0.map(value), ["p0-0", "p0-1", "p0-2", "p0-3", "p0-4"]);
        assert.deepEqual(await pollFor(consumer, 400), [], "paused partition 1 delivers nothing");

        consumer.resume([{ topic: "pr", partition: 1 }]);
        const rest = await collect(consumer, 3);
        assert.deepEqual(rest.map(value), ["p1-5", "p1-6", "p1-7"]);
        assert.deepEqual(rest.map((m) => m.offset), [5n, 6n, 7n]);
        await close(consumer);
      });

      await t.step(
        "exactly-once delivery reads committed data, never auto-commits, refuses commit()",
        async () => {
          assert.throws(
            () => c.groupConsumer({ groupId: "g-eos", delivery: "exactly-once", autoCommit: true }),
            (err) => isKaError(err, "INVALID_CONFIG"),
          );
          const consumer = c.groupConsumer({
            groupId: "g-eos",
            delivery: "exactly-once",
            autoOffsetReset: "earliest",
          });
          consumers.push(consumer);
          assert.equal(consumer.isolationLevel, "read_committed");
          consumer.subscribe([TOPIC]);
          assert.ok(
            (await collect(consumer, 1)).length >= 1,
            "reads committed (non-transactional) data",
          );
          await assert.rejects(consumer.commit(), (err) => isKaError(err));
          await close(consumer);
        },
      );
      await t.step({
        name: "close() returns promptly with the default heartbeat interval",
        // Was a bug (fixed): clients/group_consumer.ts:316 `close()` awaits #heartbeatTask, whose
        // loop (line 561) is in `sleep(heartbeatIntervalMs)` without an abort signal, so
        // close() takes up to heartbeatIntervalMs (3 s by default) after the LeaveGroup was
        // sent. Fix: give the loop an AbortController aborted by close() and pass its
        // signal to `sleep(this.#options.heartbeatIntervalMs, signal)` (lib/async.ts
        // sleep already takes one).

        async fn() {
          const consumer = c.groupConsumer({
            groupId: "g-close",
            autoOffsetReset: "earliest",
            autoCommit: false,
            maxWaitMs: 100,
          });
          consumers.push(consumer);
          consumer.subscribe([TOPIC]);
          assert.equal((await collect(consumer, 1)).length >= 1, true);
          const before = performance.now();
          await close(consumer);
          const closeMs = performance.now() - before;
          assert.ok(closeMs < 1_000, `close() took ${closeMs.toFixed(0)} ms`);
        },
      });
      console.log(`offsets test: ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    } finally {
      for (const consumer of consumers.splice(0)) await consumer.close().catch(() => {});
      await client?.close().catch(() => {});
      await cluster.stop();
    }
  },
});
