/**
 * Tests for the retry backoff: doubling, cap, and jitter bounds with an
 * injected random source.
 * @module
 */
import assert from "node:assert/strict";
import { backoffMs } from "./retry.ts";

Deno.test("backoffMs() doubles per attempt from retry_backoff_ms and stops at the cap", () => {
  const mid = { baseMs: 100, maxMs: 1000, random: () => 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 30].map((a) => backoffMs(a, mid)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
});

Deno.test("backoffMs() jitter stays within ±20% and under the cap", () => {
  const low = { baseMs: 100, maxMs: 1000, random: () => 0 };
  const high = { baseMs: 100, maxMs: 1000, random: () => 0.999999 };
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffMs(a, low)), [80, 160, 320, 640, 800]);
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffMs(a, high)), [120, 240, 480, 960, 1000]);
  let seed = 42;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let attempt = 1; attempt <= 10; attempt++) {
    for (let i = 0; i < 100; i++) {
      const ms = backoffMs(attempt, { baseMs: 50, maxMs: 700, random });
      const term = Math.min(700, 50 * 2 ** (attempt - 1));
      assert.ok(
        ms >= Math.floor(term * 0.8) && ms <= Math.min(700, Math.ceil(term * 1.2)),
        `${ms}`,
      );
    }
  }
});

Deno.test("backoffMs() is 0 when retry_backoff_ms is 0", () => {
  assert.equal(backoffMs(3, { baseMs: 0, maxMs: 1000, random: () => 0.5 }), 0);
});
