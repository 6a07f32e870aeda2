/**
 * kcat (librdkafka's command-line client, Debian's /usr/bin/kcat) for the
 * interop tests: one-shot runs with stdin and a kill timer, and long-running
 * consumers whose output is collected as it arrives.
 * @module
 */

/** Where Debian's package installs kcat (`.ci/run` installs it). */
export const KCAT = "/usr/bin/kcat";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a finished kcat run printed. */
export interface KcatResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kcat to completion (killed after `timeoutMs`), feeding `input` on stdin. */
export async function kcat(
  args: string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<KcatResult> {
  const child = new Deno.Command(KCAT, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(encoder.encode(input));
      await writer.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running kcat whose output is collected as it arrives. */
export class KcatProcess {
  stdout = "";
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<unknown>;

  constructor(args: string[]) {
    this.#child = new Deno.Command(KCAT, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const d = new TextDecoder();
      for await (const chunk of stream) this[into] += d.decode(chunk, { stream: true });
    };
    this.#pumps = Promise.all([
      pump(this.#child.stdout, "stdout"),
      pump(this.#child.stderr, "stderr"),
    ]);
  }

  /** SIGTERM (kcat leaves its group and commits), SIGKILL after 10 s; waits for exit. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 10_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#pumps;
  }
}
