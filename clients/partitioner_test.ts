/**
 * Tests for partitioning: murmur2 against the Java client's vectors, the
 * default partitioner's key and round-robin paths, and checkPartition.
 * @module
 */
import { seededRandom } from "@kafka-analog/lib/random";
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  checkPartition,
  defaultPartitioner,
  keyHashPartitioner,
  keyPartition,
  murmur2,
  roundRobinPartitioner,
} from "./partitioner.ts";

const ENCODER = new TextEncoder();

Deno.test("murmur2() matches Kafka's UtilsTest.testMurmur2 vectors", () => {
  // org.apache.kafka.common.utils.UtilsTest; also asserted by librdkafka, franz-go and others.
  const vectors: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
    ["", 275646681],
  ];
  for (const [key, expected] of vectors) {
    assert.equal(murmur2(ENCODER.encode(key)), expected, JSON.stringify(key));
  }
});

Deno.test("murmur2() matches kafkajs's Java-compatible partitioner vectors", () => {
  // kafkajs src/producer/partitioners/defaultJava/murmur2.spec.js (generated with Java's Utils).
  const vectors: [string, number][] = [
    ["0", 971027396],
    ["1", -1993445489],
    ["128", -326012175],
    ["2187", -1508407203],
    ["16384", -325739742],
    ["78125", -1654490814],
    ["279936", 1462227128],
    ["823543", -2014198330],
    ["2097152", 607668903],
    ["4782969", -1182699775],
    ["10000000", -1830336757],
    ["19487171", -1603849305],
    ["35831808", -857013643],
    ["62748517", -1167431028],
    ["105413504", -381294639],
    ["170859375", -1658323481],
    ["100:48069", 1009543857],
  ];
  for (const [key, expected] of vectors) {
    assert.equal(murmur2(ENCODER.encode(key)), expected, key);
  }
});

Deno.test("murmur2() matches kafka-python's pure_murmur2 vectors (as unsigned)", () => {
  // kafka-python test/test_partitioner.py; it reports the hash as an unsigned 32-bit value.
  const vectors: [string, number][] = [
    ["testing", 2291530147],
    ["PEACH!", 2546348827],
    ["Gorz!", 1742407956],
    ["987654321", 577579727],
    ["_!!_", 2335345241],
    ["CRINOID", 3603193626],
  ];
  for (const [key, expected] of vectors) {
    assert.equal(murmur2(ENCODER.encode(key)) >>> 0, expected, key);
  }
});

Deno.test("murmur2() hashes bytes ≥ 0x80 as unsigned, like Java's & 0xff", () => {
  // Every tail length (1-3) and a whole block with high bytes: the result stays an int32.
  for (let length = 0; length <= 9; length++) {
    const key = new Uint8Array(length).fill(0xff);
    const h = murmur2(key);
    assert.ok(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31, `length ${length}`);
  }
  assert.equal(murmur2(ENCODER.encode("ünï")), murmur2(new Uint8Array([...ENCODER.encode("ünï")])));
});

Deno.test("keyPartition() is the positive hash modulo the partition count", () => {
  // -790332482 & 0x7fffffff = 1357151166, and 1357151166 % 50 = 16.
  assert.equal(keyPartition(ENCODER.encode("foobar"), 50), 16);
  for (const key of ["a", "order-1", "", "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"]) {
    for (const count of [1, 3, 12, 100]) {
      const p = keyPartition(ENCODER.encode(key), count);
      assert.ok(Number.isInteger(p) && p >= 0 && p < count, `${key} over ${count}: ${p}`);
      assert.equal(p, (murmur2(ENCODER.encode(key)) & 0x7fffffff) % count);
    }
  }
});

Deno.test("defaultPartitioner() sends a key to the same partition every time", () => {
  const partition = defaultPartitioner();
  const key = ENCODER.encode("user-42");
  const first = partition({ topic: "t", key, partitionCount: 12 });
  assert.equal(first, keyPartition(key, 12));
  for (let i = 0; i < 20; i++) {
    assert.equal(partition({ topic: "t", key, partitionCount: 12 }), first);
    assert.equal(partition({ topic: "other", key, partitionCount: 12 }), first);
    partition({ topic: "t", key: null, partitionCount: 12 }); // keyless sends do not move keys
  }
});

Deno.test("defaultPartitioner() cycles keyless messages round-robin, per topic", () => {
  const partition = defaultPartitioner();
  const a = Array.from(
    { length: 9 },
    () => partition({ topic: "a", key: null, partitionCount: 3 }),
  );
  assert.deepEqual(a, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  // A second topic has its own counter; interleaving does not disturb either.
  const b: number[] = [];
  const more: number[] = [];
  for (let i = 0; i < 4; i++) {
    b.push(partition({ topic: "b", key: null, partitionCount: 2 }));
    more.push(partition({ topic: "a", key: null, partitionCount: 3 }));
  }
  assert.deepEqual(b, [0, 1, 0, 1]);
  assert.deepEqual(more, [0, 1, 2, 0]);
  // Spread evenly over many sends.
  const counts = new Map<number, number>();
  for (let i = 0; i < 700; i++) {
    const p = partition({ topic: "c", key: null, partitionCount: 7 });
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok([...counts.values()].every((n) => n === 100));
});

Deno.test("defaultPartitioner() stays in range when the partition count changes", () => {
  const partition = defaultPartitioner();
  for (let i = 0; i < 5; i++) partition({ topic: "t", key: null, partitionCount: 10 });
  for (let i = 0; i < 10; i++) {
    const p = partition({ topic: "t", key: null, partitionCount: 2 });
    assert.ok(p === 0 || p === 1);
  }
});

Deno.test("checkPartition() returns a valid partition", () => {
  assert.equal(checkPartition("t", 0, 1), 0);
  assert.equal(checkPartition("t", 4, 5), 4);
});

Deno.test("checkPartition() rejects out-of-range and non-integer partitions, naming the range", () => {
  for (const [partition, count] of [[-1, 3], [3, 3], [10, 3], [1.5, 3], [NaN, 3], [0, 0]]) {
    assert.throws(
      () => checkPartition("orders", partition, count),
      (e) =>
        isKaError(e, "UNKNOWN_TOPIC_OR_PARTITION") && e.message.includes("'orders'") &&
        e.message.includes(`0..${count - 1}`),
      `partition ${partition} of ${count}`,
    );
  }
});

Deno.test("keyPartition() spreads 100,000 keys over 10 partitions within ±5% of even", () => {
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) counts[keyPartition(ENCODER.encode(`key-${i}`), 10)]++;
  for (const [partition, n] of counts.entries()) {
    assert.ok(n >= 9_500 && n <= 10_500, `partition ${partition} got ${n} of 100,000 keys`);
  }
  // Random-looking keys too: distinct hex ids from a seeded generator.
  const random = seededRandom(12345);
  const hex = () => Math.floor(random() * 2 ** 32).toString(16);
  counts.fill(0);
  for (let i = 0; i < 100_000; i++) {
    counts[keyPartition(ENCODER.encode(`${hex()}-${i.toString(16)}`), 10)]++;
  }
  assert.ok(counts.every((n) => n >= 9_500 && n <= 10_500), counts.join(","));
});

Deno.test("roundRobinPartitioner() ignores keys; keyHashPartitioner() needs one", () => {
  const rr = roundRobinPartitioner();
  const key = ENCODER.encode("same");
  assert.deepEqual(
    Array.from({ length: 5 }, () => rr({ topic: "t", key, partitionCount: 3 })),
    [0, 1, 2, 0, 1],
  );
  const hash = keyHashPartitioner();
  assert.equal(hash({ topic: "t", key, partitionCount: 7 }), keyPartition(key, 7));
  assert.throws(
    () => hash({ topic: "t", key: null, partitionCount: 7 }),
    (e) => isKaError(e, "INVALID_REQUEST") && /no key/.test(e.message),
  );
});

Deno.test("checkPartition() blames a selector's or partitioner's bad choice with INVALID_PARTITIONS", () => {
  assert.throws(
    () => checkPartition("orders", 12, 10, "selector"),
    (e) =>
      isKaError(e, "INVALID_PARTITIONS") &&
      /partition selector chose partition 12/.test(e.message) &&
      /0\.\.9/.test(e.message),
  );
  assert.throws(
    () => checkPartition("orders", 0.5, 10, "partitioner"),
    (e) => isKaError(e, "INVALID_PARTITIONS") && /partitioner chose partition 0.5/.test(e.message),
  );
});
