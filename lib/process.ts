/**
 * How a child process makes sure it never outlives its coordinator: it reads
 * its stdin (a pipe the coordinator holds) until EOF, and it checks its
 * parent pid every second. Either one firing calls `onGone`. Signals
 * (SIGINT, SIGTERM) call it too, so every exit path shuts down the same way.
 * Only `main.ts` files call this.
 * @module
 */

/** Options for {@linkcode watchParent}. */
export interface WatchParentOptions {
  /** Also watch stdin for EOF (default true). */
  stdin?: boolean;
  /** How often to compare the parent pid (default 1000 ms). */
  intervalMs?: number;
}

/**
 * Calls `onGone(reason)` once, when stdin closes, the parent pid changes, or
 * SIGINT/SIGTERM arrives. Returns a function that stops watching.
 */
export function watchParent(
  onGone: (reason: string) => void,
  options: WatchParentOptions = {},
): () => void {
  let fired = false;
  const fire = (reason: string) => {
    if (fired) return;
    fired = true;
    stop();
    onGone(reason);
  };
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid !== parent) fire("parent process exited");
  }, options.intervalMs ?? 1000);
  const onSigterm = () => fire("SIGTERM");
  const onSigint = () => fire("SIGINT");
  Deno.addSignalListener("SIGTERM", onSigterm);
  Deno.addSignalListener("SIGINT", onSigint);
  if (options.stdin ?? true) {
    (async () => {
      const buf = new Uint8Array(1024);
      try {
        while ((await Deno.stdin.read(buf)) !== null) { /* discard */ }
      } catch { /* closed */ }
      fire("stdin closed");
    })();
  }
  function stop(): void {
    clearInterval(timer);
    Deno.removeSignalListener("SIGTERM", onSigterm);
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  return stop;
}
