/**
 * The one seeded pseudo-random generator of the code base (mulberry32): tests,
 * fuzzers and fault schedules use it so that a failure replays from the
 * seed it prints. Not for anything that needs unpredictability.
 * @module
 */

/** A generator of floats in [0, 1), the same sequence for the same `seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
