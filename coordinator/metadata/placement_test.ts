/**
 * Tests for `placement.ts`: the plain ring's replica sets (distinct, deterministic, spread,
 * minimal movement when a broker leaves), the bounded-load placement (every broker within 1
 * of the mean, few moves when a broker leaves) and the leader spread (max - min <= 1,
 * optimal, cluster-wide with `leaderLoad`).
 * @module
 */
import { seededRandom } from "@kafka-analog/lib/random";
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  HashRing,
  type PartitionPlacement,
  placementHash,
  placeTopic,
  spreadLeaders,
} from "./placement.ts";

const FIVE = [0, 1, 2, 3, 4];

function leaderCounts(placement: readonly PartitionPlacement[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { replicas } of placement) counts.set(replicas[0], (counts.get(replicas[0]) ?? 0) + 1);
  return counts;
}

function spread(counts: ReadonlyMap<number, number>, brokerIds: readonly number[]): number {
  const values = brokerIds.map((id) => counts.get(id) ?? 0);
  return Math.max(...values) - Math.min(...values);
}

function replicaCounts(placement: readonly PartitionPlacement[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { replicas } of placement) {
    for (const id of replicas) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

function topicKeys(topic: string, partitions: number): string[] {
  return Array.from({ length: partitions }, (_, p) => `${topic}/${p}`);
}

/** Asserts every broker holds floor or ceil of the mean replica count, and leaders max - min <= 1. */
function assertBalanced(
  placement: readonly PartitionPlacement[],
  brokerIds: readonly number[],
  label: string,
): void {
  const rf = placement[0].replicas.length;
  const mean = (placement.length * rf) / brokerIds.length;
  const replicas = replicaCounts(placement);
  for (const id of brokerIds) {
    const count = replicas.get(id) ?? 0;
    assert.ok(
      count >= Math.floor(mean) && count <= Math.ceil(mean),
      `${label}: broker ${id} holds ${count}, mean ${mean}`,
    );
  }
  for (const { partition, replicas: set } of placement) {
    assert.equal(new Set(set).size, rf, `${label}: partition ${partition} has distinct replicas`);
  }
  const leaders = leaderCounts(placement);
  assert.ok(spread(leaders, brokerIds) <= 1, `${label}: leaders ${JSON.stringify([...leaders])}`);
}

Deno.test("placementHash() is a fixed 32-bit FNV-1a + fmix32 hash", () => {
  // Published FNV-1a 32 vectors, put through an independent fmix32.
  function fmix32(h: number): number {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
  assert.equal(placementHash(""), fmix32(0x811c9dc5));
  assert.equal(placementHash("a"), fmix32(0xe40c292c));
  assert.equal(placementHash("foobar"), fmix32(0xbf9cf968));
  // Pinned so placement never changes silently between versions.
  const pinned = ["0#0", "orders/0"].map(placementHash);
  for (const h of pinned) assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  assert.deepEqual(pinned, [2370925323, 3588139265]);
  assert.equal(placementHash("héllo"), placementHash("héllo"));
  assert.notEqual(placementHash("3#0"), placementHash("3#1"));
});

Deno.test("HashRing.replicasFor() returns distinct brokers from the ring", () => {
  const ring = new HashRing([4, 0, 2, 1, 3]);
  assert.deepEqual(ring.brokerIds, FIVE);
  for (let p = 0; p < 200; p++) {
    for (let count = 1; count <= 5; count++) {
      const replicas = ring.replicasFor(`t/${p}`, count);
      assert.equal(replicas.length, count);
      assert.equal(new Set(replicas).size, count, `distinct for t/${p} x${count}`);
      for (const id of replicas) assert.ok(FIVE.includes(id));
      if (count > 1) {
        assert.deepEqual(replicas.slice(0, count - 1), ring.replicasFor(`t/${p}`, count - 1));
      }
    }
  }
});

Deno.test("HashRing is deterministic and independent of broker order", () => {
  const a = new HashRing(FIVE);
  const b = new HashRing([3, 1, 4, 0, 2]);
  for (let p = 0; p < 100; p++) {
    assert.deepEqual(a.replicasFor(`k/${p}`, 3), b.replicasFor(`k/${p}`, 3));
  }
  assert.deepEqual(placeTopic("orders", 50, FIVE, 2), placeTopic("orders", 50, [4, 3, 2, 1, 0], 2));
  for (const [partitions, rf] of [[10, 2], [1000, 2], [1000, 3]]) {
    assert.deepEqual(
      placeTopic("orders", partitions, FIVE, rf),
      placeTopic("orders", partitions, FIVE, rf),
    );
  }
});

Deno.test("HashRing: 1,000 keys spread over 5 brokers within 25% of the mean", () => {
  const ring = new HashRing(FIVE);
  const counts = new Map<number, number>();
  for (let p = 0; p < 1000; p++) {
    for (const id of ring.replicasFor(`big/${p}`, 2)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const mean = (1000 * 2) / FIVE.length;
  for (const id of FIVE) {
    const count = counts.get(id) ?? 0;
    assert.ok(Math.abs(count - mean) <= 0.25 * mean, `broker ${id} holds ${count}, mean ${mean}`);
  }
});

Deno.test("HashRing rejects bad replication factors with INVALID_REPLICATION_FACTOR", () => {
  const ring = new HashRing(FIVE);
  for (const count of [0, -1, 6, 2.5, Number.NaN]) {
    assert.throws(
      () => ring.replicasFor("t/0", count),
      (err) => isKaError(err, "INVALID_REPLICATION_FACTOR"),
      `count ${count}`,
    );
  }
  assert.throws(
    () => new HashRing([]).replicasFor("t/0", 1),
    (err) => isKaError(err, "INVALID_REPLICATION_FACTOR"),
  );
  for (const count of [0, 6, 1.5]) {
    assert.throws(
      () => ring.boundedReplicaSets(["t/0"], count),
      (err) => isKaError(err, "INVALID_REPLICATION_FACTOR"),
      `bounded count ${count}`,
    );
  }
  assert.deepEqual(ring.boundedReplicaSets([], 2), []);
});

Deno.test("HashRing rejects duplicate or negative broker ids and bad vnode counts", () => {
  for (const ids of [[1, 1], [-1, 2], [0.5]]) {
    assert.throws(() => new HashRing(ids), (err) => isKaError(err, "INVALID_REQUEST"));
  }
  for (const virtualNodes of [0, 5000, 1.5]) {
    assert.throws(
      () => new HashRing(FIVE, { virtualNodes }),
      (err) => isKaError(err, "INVALID_REQUEST"),
    );
  }
});

Deno.test("placeTopic() rejects bad partition counts and replication factors", () => {
  assert.throws(() => placeTopic("t", 0, FIVE, 2), (err) => isKaError(err, "INVALID_PARTITIONS"));
  assert.throws(() => placeTopic("t", 1.5, FIVE, 2), (err) => isKaError(err, "INVALID_PARTITIONS"));
  assert.throws(
    () => placeTopic("t", 10_001, FIVE, 2),
    (err) => isKaError(err, "INVALID_PARTITIONS"),
  );
  assert.throws(
    () => placeTopic("t", 10, FIVE, 6),
    (err) => isKaError(err, "INVALID_REPLICATION_FACTOR"),
  );
  for (const rf of [0, -1, 6, 2.5, Number.NaN]) {
    assert.throws(
      () => placeTopic("t", 10, FIVE, rf),
      (err) => isKaError(err, "INVALID_REPLICATION_FACTOR"),
      `rf ${rf}`,
    );
  }
});

Deno.test("placeTopic() puts the leader first of the bounded ring's replica set", () => {
  const ring = new HashRing(FIVE);
  const placement = placeTopic("orders", 1000, FIVE, 2);
  const bounded = ring.boundedReplicaSets(topicKeys("orders", 1000), 2);
  assert.deepEqual(placement.map((p) => p.partition), [...Array(1000).keys()]);
  let unchanged = 0;
  for (const { partition, replicas } of placement) {
    assert.ok(sameSet(replicas, bounded[partition]), `partition ${partition}`);
    if (sameSet(replicas, ring.replicasFor(`orders/${partition}`, 2))) unchanged++;
  }
  // The bound only redirects the walk near full brokers: measured 973 of 1,000 sets equal the
  // plain ring's.
  assert.ok(unchanged >= 900, `${unchanged} of 1000 sets equal the unbounded walk`);
});

Deno.test("placeTopic(): 10 partitions on 5 brokers, every broker leads 2 and holds 4 (200 topics)", () => {
  for (let i = 0; i < 200; i++) {
    const topic = i % 2 === 0 ? `topic-${i}` : `t.${i * 7919}_${"x".repeat(i % 13)}`;
    const placement = placeTopic(topic, 10, FIVE, 2);
    const leaders = leaderCounts(placement);
    const replicas = replicaCounts(placement);
    for (const id of FIVE) {
      assert.equal(leaders.get(id), 2, `${topic}: broker ${id} leads ${leaders.get(id)}`);
      assert.equal(replicas.get(id), 4, `${topic}: broker ${id} holds ${replicas.get(id)}`);
    }
  }
});

Deno.test("placeTopic(): replication factor 3, every broker leads 2 and holds 6 (200 topics)", () => {
  for (let i = 0; i < 200; i++) {
    const topic = `rf3-${i}`;
    const placement = placeTopic(topic, 10, FIVE, 3);
    const leaders = leaderCounts(placement);
    const replicas = replicaCounts(placement);
    for (const { replicas: set } of placement) assert.equal(new Set(set).size, 3, topic);
    for (const id of FIVE) {
      assert.equal(leaders.get(id), 2, `${topic}: broker ${id} leads ${leaders.get(id)}`);
      assert.equal(replicas.get(id), 6, `${topic}: broker ${id} holds ${replicas.get(id)}`);
    }
  }
});

Deno.test("placeTopic(): 1,000 partitions hold within 1 of the mean, leaders within 1", () => {
  const shapes: [readonly number[], number][] = [
    [FIVE, 2],
    [FIVE, 3],
    [[1, 2, 3, 5, 8, 13, 21], 3], // 3,000 / 7 = 428.6: every broker holds 428 or 429
    [[...Array(16).keys()], 2],
  ];
  for (const [brokerIds, rf] of shapes) {
    const placement = placeTopic("big", 1000, brokerIds, rf);
    assertBalanced(placement, brokerIds, `${brokerIds.length} brokers rf ${rf}`);
    if (brokerIds === FIVE && rf === 2) {
      for (const id of FIVE) assert.equal(replicaCounts(placement).get(id), 400);
      for (const id of FIVE) assert.equal(leaderCounts(placement).get(id), 200);
    }
  }
});

Deno.test("placeTopic() is balanced for many cluster shapes and vnode counts", () => {
  const shapes = [[7], [0, 1], [0, 1, 2], FIVE, [1, 2, 3, 5, 8, 13, 21], [...Array(16).keys()]];
  for (const brokerIds of shapes) {
    for (const partitions of [1, 2, 3, 7, 10, 11, 24, 100]) {
      for (let rf = 1; rf <= Math.min(3, brokerIds.length); rf++) {
        for (const virtualNodes of [1, 128]) {
          const label = `${brokerIds.length} brokers, ${partitions} partitions, rf ${rf}, ` +
            `${virtualNodes} vnodes`;
          const placement = placeTopic(`t${partitions}`, partitions, brokerIds, rf, {
            virtualNodes,
          });
          assertBalanced(placement, brokerIds, label);
          assertNoEvenerHandover(placement);
        }
      }
    }
  }
});

/**
 * Checks that no single leadership hand-over would even out the counts: a partition led by u
 * with another replica v where u leads at least two more than v (counting `base`).
 */
function assertNoEvenerHandover(
  placement: readonly PartitionPlacement[],
  base: ReadonlyMap<number, number> = new Map(),
): void {
  const totals = new Map(base);
  for (const { replicas } of placement) totals.set(replicas[0], (totals.get(replicas[0]) ?? 0) + 1);
  for (const { partition, replicas } of placement) {
    const leader = totals.get(replicas[0]) ?? 0;
    for (const other of replicas.slice(1)) {
      const count = totals.get(other) ?? 0;
      assert.ok(
        leader <= count + 1,
        `partition ${partition}: ${replicas[0]} leads ${leader}, replica ${other} only ${count}`,
      );
    }
  }
}

Deno.test("HashRing: removing one of 5 brokers moves only the replica sets that held it", () => {
  const partitions = 1000;
  const before = new HashRing(FIVE);
  const removed = 3;
  const after = new HashRing(FIVE.filter((id) => id !== removed));
  let moved = 0;
  let held = 0;
  for (let p = 0; p < partitions; p++) {
    const key = `orders/${p}`;
    const old = before.replicasFor(key, 2);
    const now = after.replicasFor(key, 2);
    if (old.includes(removed)) {
      held++;
      assert.ok(!now.includes(removed));
      // The surviving replica stays; only the removed one is replaced.
      for (const id of old) if (id !== removed) assert.ok(now.includes(id), key);
    } else {
      assert.deepEqual(now, old, `${key} did not hold broker ${removed} and must not move`);
    }
    if (!sameSet(old, now)) moved++;
  }
  const fraction = moved / partitions;
  // A set changes exactly when it held the removed broker: about RF / N = 2/5 of them.
  assert.equal(moved, held);
  assert.ok(fraction <= 0.5, `moved ${fraction}`);
  assert.ok(fraction >= 0.3, `moved ${fraction}, expected about 0.4`);
});

/** Compares placements of `topic` before and after removing `removed` from `brokerIds`. */
function movement(topic: string, partitions: number, rf: number, removed: number) {
  const before = placeTopic(topic, partitions, FIVE, rf);
  const after = placeTopic(topic, partitions, FIVE.filter((id) => id !== removed), rf);
  let changed = 0;
  let held = 0;
  let others = 0;
  let othersKept = 0;
  for (let p = 0; p < partitions; p++) {
    const old = before[p].replicas;
    const now = after[p].replicas;
    assert.ok(!now.includes(removed));
    if (!sameSet(old, now)) changed++;
    if (old.includes(removed)) held++;
    else {
      others++;
      if (sameSet(old, now)) othersKept++;
    }
  }
  return { changed: changed / partitions, held: held / partitions, kept: othersKept / others };
}

Deno.test("placeTopic(): removing one of 5 brokers moves few replica sets", () => {
  // Measured for topic "orders", 1,000 partitions, removing each broker in turn:
  //   RF 2: changed 0.401-0.432 (ideal 2/5 = 0.400: exactly the sets that held it);
  //         sets without the removed broker kept 94.7%-99.8%.
  //   RF 3: changed 0.611-0.623 (ideal 3/5 = 0.600); sets without it kept 94.3%-97.3%.
  // The extra moves come from the bound: the survivors' capacity rises (RF 2: 400 -> 500
  // replicas), so some walks that skipped a full broker before now stop earlier, and later
  // partitions then find different brokers full.
  const report: string[] = [];
  for (const [rf, changedMax] of [[2, 0.5], [3, 0.7]]) {
    for (const removed of FIVE) {
      const { changed, held, kept } = movement("orders", 1000, rf, removed);
      report.push(`rf ${rf} -${removed}: ${changed.toFixed(3)} changed, ${kept.toFixed(3)} kept`);
      assert.ok(changed >= held, "every set that held the removed broker changes");
      assert.ok(changed <= changedMax, `rf ${rf} without ${removed}: changed ${changed}`);
      assert.ok(kept >= 0.9, `rf ${rf} without ${removed}: only ${kept} of the others kept`);
    }
  }
  console.log(`bounded placement, 1,000 partitions: ${report.join("; ")}`);
});

Deno.test("placeTopic(): broker removal moves about 2/5 of sets across topic names", () => {
  // Measured over topic-0..topic-9 x each removed broker (50 cases, RF 2, 1,000 partitions):
  // changed 0.402-0.461, mean 0.423; sets without the removed broker kept 89.8%-100%, mean
  // 96.2%. So "about 90% kept" holds on average with room; single cases dip just below 90%.
  let changedSum = 0;
  let keptSum = 0;
  let cases = 0;
  for (let t = 0; t < 10; t++) {
    for (const removed of FIVE) {
      const { changed, kept } = movement(`topic-${t}`, 1000, 2, removed);
      assert.ok(changed <= 0.5, `topic-${t} without ${removed}: changed ${changed}`);
      assert.ok(kept >= 0.85, `topic-${t} without ${removed}: kept ${kept}`);
      changedSum += changed;
      keptSum += kept;
      cases++;
    }
  }
  assert.ok(changedSum / cases <= 0.45, `mean changed ${changedSum / cases}`);
  assert.ok(keptSum / cases >= 0.93, `mean kept ${keptSum / cases}`);
});

function sumOfSquares(loads: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const value of loads.values()) sum += value * value;
  return sum;
}

/** The best sum of squared leader counts over every possible leader choice. */
function bruteForceBest(sets: readonly (readonly number[])[], base: ReadonlyMap<number, number>) {
  let best = Infinity;
  function walk(p: number, loads: Map<number, number>): void {
    if (p === sets.length) {
      best = Math.min(best, sumOfSquares(loads));
      return;
    }
    for (const id of sets[p]) {
      loads.set(id, loads.get(id)! + 1);
      walk(p + 1, loads);
      loads.set(id, loads.get(id)! - 1);
    }
  }
  const loads = new Map<number, number>();
  for (const id of sets.flat()) loads.set(id, base.get(id) ?? 0);
  walk(0, loads);
  return best;
}

Deno.test("spreadLeaders() is optimal: matches a brute-force search on random sets", () => {
  const random = seededRandom(42);
  for (let round = 0; round < 300; round++) {
    const brokers = 2 + Math.floor(random() * 4);
    const partitions = 1 + Math.floor(random() * 8);
    const rf = 1 + Math.floor(random() * Math.min(3, brokers));
    const sets: number[][] = [];
    for (let p = 0; p < partitions; p++) {
      const pool = [...Array(brokers).keys()];
      const set: number[] = [];
      while (set.length < rf) set.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
      sets.push(set);
    }
    const base = new Map<number, number>();
    if (round % 2 === 1) {
      for (let id = 0; id < brokers; id++) base.set(id, Math.floor(random() * 3));
    }
    const result = spreadLeaders(sets, { leaderLoad: base });
    const loads = new Map<number, number>();
    for (const id of sets.flat()) loads.set(id, base.get(id) ?? 0);
    result.forEach((replicas, p) => {
      assert.ok(sameSet(replicas, sets[p]), "same replicas, reordered");
      loads.set(replicas[0], loads.get(replicas[0])! + 1);
    });
    assert.equal(sumOfSquares(loads), bruteForceBest(sets, base), JSON.stringify({ sets, base }));
  }
});

Deno.test("spreadLeaders() finds an exact spread that needs long shift paths", () => {
  // A chain: broker i can take over from broker i+1 only. Everything starts on broker 4's side.
  const sets = [[4, 3], [4, 3], [3, 2], [3, 2], [2, 1], [2, 1], [1, 0], [1, 0], [4, 0], [3, 0]];
  const counts = new Map<number, number>();
  for (const replicas of spreadLeaders(sets)) {
    counts.set(replicas[0], (counts.get(replicas[0]) ?? 0) + 1);
  }
  for (const id of FIVE) assert.equal(counts.get(id), 2, JSON.stringify([...counts]));
});

Deno.test("placeTopic() with leaderLoad keeps leadership fair across topics", () => {
  const withLoad = new Map<number, number>();
  const without = new Map<number, number>();
  for (let i = 0; i < 30; i++) {
    const topic = `topic-${i}`;
    const partitions = 1 + (i * 7) % 12;
    const placement = placeTopic(topic, partitions, FIVE, 2, { leaderLoad: withLoad });
    assertNoEvenerHandover(placement, withLoad);
    for (const [id, count] of leaderCounts(placement)) {
      withLoad.set(id, (withLoad.get(id) ?? 0) + count);
    }
    for (const [id, count] of leaderCounts(placeTopic(topic, partitions, FIVE, 2))) {
      without.set(id, (without.get(id) ?? 0) + count);
    }
  }
  assert.ok(spread(withLoad, FIVE) <= 1, `cluster-wide leaders ${JSON.stringify([...withLoad])}`);
  assert.ok(spread(without, FIVE) > spread(withLoad, FIVE), "per-topic spreading alone drifts");

  // A broker already leading far more gets no new leaders where others can take them.
  const skewed = placeTopic("f", 10, FIVE, 3, { leaderLoad: new Map([[0, 50]]) });
  assert.equal(leaderCounts(skewed).get(0) ?? 0, 0);
  assert.throws(
    () => placeTopic("g", 2, FIVE, 2, { leaderLoad: new Map([[1, -1]]) }),
    (err) => isKaError(err, "INVALID_REQUEST"),
  );
});

Deno.test("placement with fewer virtual nodes still gives distinct, valid replicas", () => {
  const placement = placeTopic("few", 100, FIVE, 3, { virtualNodes: 1 });
  for (const { replicas } of placement) assert.equal(new Set(replicas).size, 3);
  assert.ok(spread(leaderCounts(placement), FIVE) <= 1);
});
