/**
 * Invariant checks for programmer errors. Bad input is never asserted: it is
 * validated at the edge into a typed value or a {@linkcode KaError}.
 * @module
 */

/** An invariant was broken: a bug, never bad input. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throws {@linkcode AssertionError} with `msg` when `cond` is false. */
export function assert(cond: unknown, msg = "Assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}
