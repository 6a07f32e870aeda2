/**
 * A process running `test/_eos_worker.ts` (an exactly-once copier) and the
 * JSON events it prints, for the transactions test and the chaos harness:
 * wait for progress, SIGKILL it, or stop it gracefully (stdin EOF).
 * @module
 */
import { ROOT, type TestCluster } from "./_cluster.ts";

/** One worker process and what it printed; `extraArgs` go to the worker (e.g. `--tag`). */
export class EosWorker {
  readonly child: Deno.ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  readonly done: Promise<void>;
  commits = 0;
  #onEvent: (() => void) | null = null;

  constructor(cluster: TestCluster, readonly id: number, extraArgs: string[] = []) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        `${ROOT}/test/_eos_worker.ts`,
        "--bootstrap",
        cluster.brokerAddresses.join(","),
        "--group",
        "copier",
        "--in",
        "in",
        "--out",
        "out",
        "--transactional-id",
        "copier-0",
        ...extraArgs,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stdout = this.child.stdout;
    this.done = (async () => {
      let buffered = "";
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith("{")) continue;
          const event = JSON.parse(line);
          this.events.push(event);
          if (event.event === "committed") this.commits++;
          this.#onEvent?.();
        }
      }
    })();
  }

  /** Resolves once `check` holds after some event, or false after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onEvent = null;
        resolve(false);
      }, timeoutMs);
      this.#onEvent = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#onEvent = null;
        resolve(true);
      };
      this.done.then(() => {
        clearTimeout(timer);
        this.#onEvent = null;
        resolve(check());
      });
    });
  }

  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.child.status;
    await this.done;
    await this.child.stdin.close().catch(() => {});
  }

  /** Graceful stop: stdin EOF; the worker finishes its transaction and exits. */
  async stop(timeoutMs: number): Promise<Deno.CommandStatus> {
    await this.child.stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, timeoutMs);
    try {
      const status = await this.child.status;
      await this.done;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }
}
