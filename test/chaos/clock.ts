/**
 * Clock steps with libfaketime: the cluster (the coordinator and, through
 * the inherited environment, every broker and gateway) runs with
 * `LD_PRELOAD=libfaketime` reading its offset from a file the harness
 * rewrites, so the wall clock (`Date.now()`) of the whole cluster jumps
 * forward or back against the clients', the way an NTP step does. Monotonic
 * clocks (timers, `performance.now()`) are left alone. Per-process skew is
 * not possible this way: the supervisor gives every child the same
 * environment.
 * @module
 */

/** Where Debian/Ubuntu's faketime package puts the library. */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/** A cluster-wide wall-clock offset. */
export interface ClockSkew {
  /** Environment for the coordinator (empty when libfaketime is missing). */
  env: Record<string, string>;
  available: boolean;
  /** Sets the offset in seconds (re-read by every process within ~1 s). */
  set(offsetSeconds: number): void;
}

/** A clock-skew control whose offset file lives in `dir`. */
export function clockSkew(dir: string): ClockSkew {
  let available = false;
  try {
    available = Deno.statSync(LIBFAKETIME).isFile;
  } catch { /* not installed */ }
  const file = `${dir}/faketime-offset`;
  const write = (s: number) => Deno.writeTextFileSync(file, `${s >= 0 ? "+" : ""}${s}s\n`);
  if (available) write(0);
  return {
    available,
    env: available
      ? {
        LD_PRELOAD: LIBFAKETIME,
        FAKETIME_TIMESTAMP_FILE: file,
        FAKETIME_CACHE_DURATION: "1",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      }
      : {},
    set(offsetSeconds) {
      if (available) write(offsetSeconds);
    },
  };
}
