/**
 * Tests for follower replication with two in-process brokers: the leader is
 * served over loopback by the real frame handler, the follower runs
 * {@linkcode ReplicaFetchers}. Snapshots (what the coordinator would push)
 * are applied by hand. Covers plain catch-up, acks=all through a real fetch
 * loop, and KIP-101's divergence scenarios, where the follower must cut its
 * tail at the end of the last common leader epoch and take the leader's
 * records.
 * @module
 */
import assert from "node:assert/strict";
import type { ClusterSnapshot } from "@kafka-analog/lib/cluster";
import { createLogger } from "@kafka-analog/lib/log";
import { type FrameServer, KafkaConnection, serveFrames } from "@kafka-analog/lib/net";
import { ApiKey, decodeRecords, readBatchHeader } from "@kafka-analog/lib/protocol";
import { fixtureBatch, produceRequest, within } from "../_fixtures.ts";
import { Broker } from "../broker.ts";
import { handleProduce } from "../handlers/produce.ts";
import { createBrokerHandler } from "../server.ts";
import { ReplicaFetchers } from "./fetcher.ts";

const TOPIC = "k";
const DECODER = new TextDecoder();

interface Node {
  broker: Broker;
  logLines: string[];
}

/** Requests a follower sent, by API key. */
type RequestCounts = Map<number, number>;

/** Owns every server, fetcher and connection a test opens, and closes them all. */
class Harness {
  #controllers: AbortController[] = [];
  #servers: FrameServer[] = [];
  #conns: KafkaConnection[] = [];

  node(id: number): Node {
    const logLines: string[] = [];
    const broker = new Broker({
      id,
      settings: { maxMessageBytes: 1 << 20, fetchMaxWaitMs: 100 },
      logger: createLogger(`broker-${id}`, { sink: (line) => logLines.push(line) }),
      now: () => performance.now(),
    });
    return { broker, logLines };
  }

  /** Serves `node` on a loopback port; `stop()` closes the listener and its connections. */
  serve(node: Node): { port: number; stop(): Promise<void> } {
    const controller = new AbortController();
    this.#controllers.push(controller);
    const server = serveFrames(
      createBrokerHandler(node.broker, {
        forward: () => Promise.reject(new Error("no coordinator in this test")),
        signal: controller.signal,
      }),
      { hostname: "127.0.0.1", port: 0, signal: controller.signal },
    );
    this.#servers.push(server);
    return {
      port: server.port,
      async stop() {
        controller.abort();
        await server.closed;
      },
    };
  }

  /**
   * Starts follower fetching on `node` (call before the snapshot that makes
   * it a follower: fetchers plan on metadata changes). Counts requests.
   */
  fetchers(node: Node): RequestCounts {
    const controller = new AbortController();
    this.#controllers.push(controller);
    const counts: RequestCounts = new Map();
    const conns = this.#conns;
    new ReplicaFetchers(node.broker, {
      signal: controller.signal,
      maxWaitMs: 50,
      async connect(address) {
        const real = await KafkaConnection.open(address, { clientId: "fetcher-test" });
        conns.push(real);
        const counting = {
          address: real.address,
          get closed() {
            return real.closed;
          },
          request(apiKey: number, ...rest: unknown[]) {
            counts.set(apiKey, (counts.get(apiKey) ?? 0) + 1);
            return (real.request as (...args: unknown[]) => Promise<unknown>)(apiKey, ...rest);
          },
          close() {
            real.close();
          },
        };
        return counting as unknown as KafkaConnection;
      },
    });
    return counts;
  }

  async close(): Promise<void> {
    for (const c of this.#controllers) c.abort();
    await Promise.all(this.#servers.map((s) => s.closed));
    // Fetch loops close their connection when they see the abort; wait for that (bounded).
    await waitFor(() => this.#conns.every((c) => c.closed), 3000, "fetcher connections to close");
    await Promise.all(this.#conns.map((c) => c.done));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `cond` every 10 ms; fails after `ms` naming `what`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The one partition of topic "k" on brokers 0 and 1, as the coordinator would publish it. */
function snapshot(
  version: number,
  ports: Record<number, number>,
  p: { leader: number; leaderEpoch: number; isr: number[]; replicas?: number[] },
): ClusterSnapshot {
  return {
    clusterId: "fetcher-test",
    version,
    controllerId: 0,
    brokers: Object.entries(ports).map(([id, port]) => ({
      id: Number(id),
      host: "127.0.0.1",
      port,
    })),
    topics: [{
      name: TOPIC,
      configs: {},
      partitions: [{ partition: 0, replicas: p.replicas ?? [0, 1], ...p }],
    }],
  };
}

function replicaOf(node: Node) {
  return node.broker.hostedPartition(TOPIC, 0).replica;
}

function logEnd(node: Node): bigint {
  return replicaOf(node).log.logEndOffset;
}

function batchesFrom(node: Node, offset = 0n): Uint8Array[] {
  return replicaOf(node).log.read(offset, 1 << 24).batches;
}

function valuesOf(node: Node): string[] {
  return batchesFrom(node).flatMap((b) => decodeRecords(b).map((r) => DECODER.decode(r.value!)));
}

/** Appends `count` records valued `${label}-i` as leader (acks=1); returns the response code. */
async function produce(node: Node, label: string, count: number, acks = 1): Promise<number> {
  const response = await handleProduce(
    node.broker,
    produceRequest(TOPIC, 0, fixtureBatch(label, count), acks),
  );
  return response?.responses[0].partitionResponses[0].errorCode ?? 0;
}

Deno.test("ReplicaFetchers copies the leader's batches byte for byte and takes its high watermark", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const ports = { 0: h.serve(a).port, 1: h.serve(b).port };
    const counts = h.fetchers(b);
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 3, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    await produce(a, "x", 3);
    await produce(a, "y", 2);
    await waitFor(
      () => logEnd(b) === 5n && replicaOf(b).highWatermark === 5n,
      3000,
      "b to copy 0..4",
    );
    assert.deepEqual(batchesFrom(b), batchesFrom(a));
    assert.equal(replicaOf(a).highWatermark, 5n);
    assert.deepEqual(replicaOf(b).epochCache.entries(), [{ epoch: 3, startOffset: 0n }]);
    assert.equal(
      counts.get(ApiKey.OffsetForLeaderEpoch),
      2,
      "one epoch check (our epoch's end, the leader's end) after becoming follower",
    );
    assert.ok((counts.get(ApiKey.Fetch) ?? 0) >= 2);
    // Nothing diverged, so nothing was cut.
    assert.ok(!b.logLines.some((l) => l.includes("truncated divergent tail")));
  } finally {
    await h.close();
  }
});

Deno.test("ReplicaFetchers lets an acks=all produce complete through real follower fetches", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const ports = { 0: h.serve(a).port, 1: h.serve(b).port };
    h.fetchers(b);
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 0, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    const start = performance.now();
    const code = await within(produce(a, "all", 4, -1), 3000);
    assert.equal(code, 0, "acks=all answered once the follower had the batch");
    assert.ok(performance.now() - start < 3000);
    assert.ok(logEnd(b) >= 4n);
    assert.equal(replicaOf(a).highWatermark, 4n);
  } finally {
    await h.close();
  }
});

Deno.test("ReplicaFetchers KIP-101 scenario 1: a returning old leader cuts its unreplicated tail and copies the new leader's", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const serverA = h.serve(a);
    const ports = { 0: serverA.port, 1: h.serve(b).port };
    h.fetchers(b);
    // Epoch 0: A leads, B follows and copies offsets 0..9.
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 0, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    await produce(a, "a", 5);
    await produce(a, "a2", 5);
    await waitFor(
      () => logEnd(b) === 10n && replicaOf(b).highWatermark === 10n,
      3000,
      "b to copy 0..9",
    );
    // A appends 10..11 and crashes before B copies them.
    await serverA.stop();
    await produce(a, "lost", 2);
    assert.equal(logEnd(a), 12n);
    // B is elected at epoch 1 (its log ends at 10) and appends 10..14.
    b.broker.applySnapshot(snapshot(2, ports, { leader: 1, leaderEpoch: 1, isr: [1] }));
    assert.deepEqual(replicaOf(b).epochCache.entries(), [
      { epoch: 0, startOffset: 0n },
      { epoch: 1, startOffset: 10n },
    ]);
    await produce(b, "b", 5);
    assert.equal(logEnd(b), 15n);
    // A returns as B's follower.
    const countsA = h.fetchers(a);
    const s3 = snapshot(3, ports, { leader: 1, leaderEpoch: 1, isr: [1] });
    a.broker.applySnapshot(s3);
    b.broker.applySnapshot(s3);
    await waitFor(() => logEnd(a) === 15n, 3000, "a to copy B's 10..14");
    // A asked where epoch 0 ends (10), cut 10..11 and took B's 10..14: same bytes as B.
    assert.deepEqual(batchesFrom(a), batchesFrom(b));
    assert.deepEqual(
      batchesFrom(a, 10n).map((batch) => readBatchHeader(batch).partitionLeaderEpoch),
      [1],
    );
    const values = valuesOf(a);
    assert.deepEqual(values.slice(10), ["b-0", "b-1", "b-2", "b-3", "b-4"]);
    assert.ok(!values.some((v) => v.startsWith("lost")), "the divergent tail is gone");
    assert.deepEqual(replicaOf(a).epochCache.entries(), [
      { epoch: 0, startOffset: 0n },
      { epoch: 1, startOffset: 10n },
    ]);
    assert.equal(countsA.get(ApiKey.OffsetForLeaderEpoch), 2, "one check: two questions");
    const cut = a.logLines.map((l) => JSON.parse(l)).find((l) =>
      l.msg === "truncated divergent tail"
    );
    assert.ok(cut, "the truncation is logged");
    assert.deepEqual([String(cut.from), String(cut.to)], ["12", "10"]);
    // Caught up, A may rejoin the ISR; its high watermark follows B's.
    await waitFor(() => b.broker.isrProposals().length === 1, 3000, "b to propose A's return");
    assert.deepEqual(b.broker.isrProposals()[0].isr, [0, 1]);
    await waitFor(() => replicaOf(a).highWatermark === 15n, 3000, "a's high watermark");
  } finally {
    await h.close();
  }
});

Deno.test("ReplicaFetchers KIP-101 scenario 2: the replica with fewer records leads; the other truncates below its high watermark", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const serverA = h.serve(a);
    const serverB = h.serve(b);
    const ports = { 0: serverA.port, 1: serverB.port };
    h.fetchers(b);
    // Epoch 0: A leads with m1 (offset 0) and m2 (offset 1); B copies both, so A's HW is 2.
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 0, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    await produce(a, "m1", 1);
    await produce(a, "m2", 1);
    await waitFor(
      () => logEnd(b) === 2n && replicaOf(a).highWatermark === 2n,
      3000,
      "b to copy m1, m2",
    );
    // Power failure: both go down; B had not flushed m2 and comes back with m1 only.
    await serverA.stop();
    replicaOf(b).log.truncateTo(1n);
    replicaOf(b).epochCache.truncateFromEnd(1n);
    replicaOf(b).highWatermark = 1n;
    // B returns first and leads at epoch 1, writing m3 at offset 1.
    b.broker.applySnapshot(snapshot(2, ports, { leader: 1, leaderEpoch: 1, isr: [1] }));
    await produce(b, "m3", 1);
    // A returns as follower. Its high watermark (2) is above the divergence at offset 1: cutting
    // to the high watermark would keep m2 where B has m3. The epoch check cuts to 1.
    assert.equal(replicaOf(a).highWatermark, 2n);
    h.fetchers(a);
    const s3 = snapshot(3, ports, { leader: 1, leaderEpoch: 1, isr: [1] });
    a.broker.applySnapshot(s3);
    b.broker.applySnapshot(s3);
    await waitFor(
      () => logEnd(a) === 2n && valuesOf(a).includes("m3-0"),
      3000,
      "a to replace m2 with m3",
    );
    assert.deepEqual(valuesOf(a), ["m1-0", "m3-0"]);
    assert.deepEqual(batchesFrom(a), batchesFrom(b));
    assert.deepEqual(replicaOf(a).epochCache.entries(), [
      { epoch: 0, startOffset: 0n },
      { epoch: 1, startOffset: 1n },
    ]);
    assert.ok(replicaOf(a).highWatermark <= 2n);
  } finally {
    await h.close();
  }
});

Deno.test("ReplicaFetchers: a follower that knows newer epochs than the leader cuts to the largest common one (KIP-279)", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const ports = { 0: h.serve(a).port, 1: h.serve(b).port };
    // Epoch 0: A leads, B copies 0..2.
    const countsB = h.fetchers(b);
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 0, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    await produce(a, "c", 3);
    await waitFor(() => logEnd(b) === 3n, 3000, "b to copy 0..2");
    // Epoch 2: B leads briefly and writes 3..4 that A never sees (A missed epoch 2 entirely).
    b.broker.applySnapshot(snapshot(2, ports, { leader: 1, leaderEpoch: 2, isr: [1] }));
    await produce(b, "orphan", 2);
    // Epoch 3: A leads again (from its end, 3) and writes 3..5.
    const s3 = snapshot(3, ports, { leader: 0, leaderEpoch: 3, isr: [0] });
    a.broker.applySnapshot(s3);
    await produce(a, "d", 3);
    b.broker.applySnapshot(s3);
    await waitFor(
      () => logEnd(b) === 6n && valuesOf(b).includes("d-2"),
      3000,
      "b to follow epoch 3",
    );
    // B asked for epoch 2; A knows only 0 and 3, so answers epoch 0 ending at 3: B cut 3..4.
    assert.deepEqual(batchesFrom(b), batchesFrom(a));
    assert.ok(!valuesOf(b).some((v) => v.startsWith("orphan")));
    assert.deepEqual(replicaOf(b).epochCache.entries(), [
      { epoch: 0, startOffset: 0n },
      { epoch: 3, startOffset: 3n },
    ]);
    assert.equal(
      countsB.get(ApiKey.OffsetForLeaderEpoch),
      4,
      "one check (two questions) per follower epoch",
    );
  } finally {
    await h.close();
  }
});

Deno.test("ReplicaFetchers stops fetching a partition once this broker leads it", async () => {
  const h = new Harness();
  try {
    const a = h.node(0);
    const b = h.node(1);
    const ports = { 0: h.serve(a).port, 1: h.serve(b).port };
    const counts = h.fetchers(b);
    const s1 = snapshot(1, ports, { leader: 0, leaderEpoch: 0, isr: [0, 1] });
    a.broker.applySnapshot(s1);
    b.broker.applySnapshot(s1);
    await produce(a, "x", 1);
    await waitFor(() => logEnd(b) === 1n, 3000, "b to copy offset 0");
    b.broker.applySnapshot(snapshot(2, ports, { leader: 1, leaderEpoch: 1, isr: [1, 0] }));
    await new Promise((resolve) => setTimeout(resolve, 150)); // one parked fetch may finish
    const fetches = counts.get(ApiKey.Fetch) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(counts.get(ApiKey.Fetch) ?? 0, fetches, "no more fetches to the old leader");
    assert.equal(await produce(b, "y", 1), 0);
  } finally {
    await h.close();
  }
});

Deno.test({
  // Was a bug: the follower cut only to its own high watermark (above the leader's end) and
  // then spun on OFFSET_OUT_OF_RANGE (20,911 requests in 1.5 s). Now it also asks where the
  // leader's log ends and never keeps more than that; error rounds back off.
  name:
    "ReplicaFetchers converges on a leader whose log is shorter and knows none of the follower's epochs",

  fn: async () => {
    const h = new Harness();
    try {
      const a = h.node(0);
      const oldB = h.node(1);
      // Before: B led epoch 0 with ISR [1]; A (lagging, out of the ISR) had copied 0..9.
      const before = snapshot(1, { 0: 1, 1: 2 }, {
        leader: 1,
        leaderEpoch: 0,
        isr: [1],
        replicas: [1, 0],
      });
      oldB.broker.applySnapshot(before);
      a.broker.applySnapshot(before);
      await produce(oldB, "old", 10);
      for (const batch of batchesFrom(oldB)) {
        replicaOf(a).log.appendReplica(batch.slice(), readBatchHeader(batch));
      }
      replicaOf(a).epochCache.assign(0, 0n);
      replicaOf(a).highWatermark = 10n;
      // B restarts with an empty log, is the last ISR member, and leads again at epoch 1.
      const b = h.node(1);
      const ports = { 0: h.serve(a).port, 1: h.serve(b).port };
      const after = snapshot(2, ports, { leader: 1, leaderEpoch: 1, isr: [1], replicas: [1, 0] });
      b.broker.applySnapshot(after);
      await produce(b, "new", 3);
      const counts = h.fetchers(a);
      a.broker.applySnapshot(after);
      await waitFor(
        () => logEnd(a) === 3n && valuesOf(a).includes("new-2"),
        1500,
        "a to converge on B's log",
      ).catch(() => {});
      assert.deepEqual(valuesOf(a), ["new-0", "new-1", "new-2"]);
      assert.ok(
        (counts.get(ApiKey.OffsetForLeaderEpoch) ?? 0) <= 6,
        `${counts.get(ApiKey.OffsetForLeaderEpoch)} OffsetForLeaderEpoch requests`,
      );
      // Converged on B's log, A is a legitimate ISR candidate now.
      assert.deepEqual(batchesFrom(a), batchesFrom(b));
      assert.deepEqual(b.broker.isrProposals().map((p) => p.isr), [[1, 0]]);
    } finally {
      await h.close();
    }
  },
});
