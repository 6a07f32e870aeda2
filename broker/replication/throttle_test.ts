/**
 * Tests for the reassignment byte-rate throttle.
 * @module
 */
import assert from "node:assert/strict";
import { ByteRateThrottle } from "./throttle.ts";

Deno.test("ByteRateThrottle refills at its rate up to one second's worth, and overdrafts are paid back", () => {
  let now = 0;
  const t = new ByteRateThrottle(1000, () => now);
  assert.equal(t.available(), 1000);
  t.consume(1500); // a whole batch bigger than the budget
  assert.equal(t.available(), -500);
  assert.equal(t.waitMs(), 501);
  now = 500;
  assert.equal(t.available(), 0);
  now = 5000;
  assert.equal(t.available(), 1000, "capped at one second's worth");
  assert.equal(new ByteRateThrottle(0, () => now).unlimited, true);
  assert.equal(new ByteRateThrottle(0, () => now).waitMs(10), 0);
});
