/**
 * Tests for the benchmark's percentile and rate helpers.
 * @module
 */
import assert from "node:assert/strict";
import { formatCount, formatMs, medianRun, percentile, summarize, throughput } from "./_stats.ts";

Deno.test("percentile() uses nearest rank", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 90), 90);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 50), 7);
  assert.equal(percentile([1, 2, 3], 1), 1);
});

Deno.test("percentile() rejects no samples and bad ranks", () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
});

Deno.test("summarize() sorts a copy and reports max and mean", () => {
  const samples = [5, 1, 4, 2, 3];
  const s = summarize(samples);
  assert.deepEqual(samples, [5, 1, 4, 2, 3]);
  assert.equal(s.samples, 5);
  assert.equal(s.p50Ms, 3);
  assert.equal(s.p99Ms, 5);
  assert.equal(s.p999Ms, 5);
  assert.equal(s.maxMs, 5);
  assert.equal(s.meanMs, 3);
});

Deno.test("summarize() takes a Float64Array and reports p99.9 by nearest rank", () => {
  const samples = Float64Array.from({ length: 2000 }, (_, i) => 2000 - i);
  const s = summarize(samples);
  assert.equal(samples[0], 2000, "the input is not sorted in place");
  assert.equal(s.p50Ms, 1000);
  assert.equal(s.p999Ms, 1998);
  assert.equal(s.maxMs, 2000);
  assert.throws(() => summarize([]), RangeError);
});

Deno.test("throughput() computes messages/s and payload MiB/s", () => {
  const t = throughput(2000, 2 * 1024 * 1024, 2000);
  assert.equal(t.messagesPerSec, 1000);
  assert.equal(t.payloadMiBPerSec, 1);
});

Deno.test("formatCount() and formatMs()", () => {
  assert.equal(formatCount(123456.7), "123,457");
  assert.equal(formatMs(1.234), "1.23");
  assert.equal(formatMs(12.34), "12.3");
});

Deno.test("medianRun() picks the median run by messages/s and the range", () => {
  const runs = [throughput(300, 0, 1000), throughput(100, 0, 1000), throughput(200, 0, 1000)];
  const r = medianRun(runs);
  assert.equal(r.median.messagesPerSec, 200);
  assert.equal(r.messagesPerSecMin, 100);
  assert.equal(r.messagesPerSecMax, 300);
  assert.equal(medianRun([runs[0], runs[1]]).median.messagesPerSec, 100);
  assert.throws(() => medianRun([]), RangeError);
});
