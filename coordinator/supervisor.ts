/**
 * Starts, stops and watches the cluster's child processes. Each child gets
 * only the permissions its spec names, holds a stdin pipe from us (and exits
 * on EOF, so it cannot outlive the coordinator), and writes its logs to its
 * own file. Liveness here is about the process; the coordinator adds TCP
 * checks and broker heartbeats on top.
 * @module
 */
import type { ServiceKind } from "@kafka-analog/lib/console";
import type { Logger } from "@kafka-analog/lib/log";
import { KaError } from "@kafka-analog/lib/errors";

/** How to run one service. */
export interface ServiceSpec {
  /** Unique, e.g. "broker-2", "producer". */
  name: string;
  kind: ServiceKind;
  id: number;
  /** Address its listener binds, for TCP checks. */
  host: string;
  port: number;
  command: string;
  args: string[];
  /** Where the child's stdout and stderr go (appended). */
  logFile: string;
  /** Environment added to the coordinator's for this child (secrets that must not show in `ps`). */
  env?: Record<string, string>;
}

/** A supervised service's process state. */
export interface ServiceProcess {
  spec: ServiceSpec;
  pid: number;
  /** running: process up; exited: it ended without being asked; stopped: we stopped it. */
  phase: "running" | "exited" | "stopped";
  startedAtMs: number;
  exitCode: number | null;
}

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  logger: Logger;
  now?: () => number;
  /** Time a child gets between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
  /** Called when a child exits without being asked to. */
  onExit?: (proc: ServiceProcess) => void;
}

interface Entry {
  proc: ServiceProcess;
  child: Deno.ChildProcess | null;
  stdin: WritableStreamDefaultWriter<Uint8Array> | null;
  exited: Promise<void>;
  stopping: boolean;
}

/** Runs child processes from specs. */
export class Supervisor {
  #entries = new Map<string, Entry>();
  #logger: Logger;
  #now: () => number;
  #stopTimeoutMs: number;
  #onExit: (proc: ServiceProcess) => void;

  constructor(options: SupervisorOptions) {
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#onExit = options.onExit ?? (() => {});
  }

  /** Registers a service without starting it. */
  add(spec: ServiceSpec): void {
    this.#entries.set(spec.name, {
      proc: { spec, pid: 0, phase: "stopped", startedAtMs: 0, exitCode: null },
      child: null,
      stdin: null,
      exited: Promise.resolve(),
      stopping: false,
    });
  }

  /** Every service, in the order added. */
  list(): ServiceProcess[] {
    return [...this.#entries.values()].map((e) => e.proc);
  }

  get(name: string): ServiceProcess {
    return this.#entry(name).proc;
  }

  /** Spawns the service; an already running one is an error. */
  async start(name: string): Promise<void> {
    const entry = this.#entry(name);
    if (entry.proc.phase === "running") {
      throw KaError.of("SERVICE_STATE", `${name} is already running (pid ${entry.proc.pid})`);
    }
    const { spec } = entry.proc;
    const log = await Deno.open(spec.logFile, { append: true, create: true });
    const child = new Deno.Command(spec.command, {
      args: spec.args,
      ...(spec.env === undefined ? {} : { env: spec.env }),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errLog = await Deno.open(spec.logFile, { append: true });
    entry.child = child;
    entry.stdin = child.stdin.getWriter();
    entry.stopping = false;
    entry.proc = {
      spec,
      pid: child.pid,
      phase: "running",
      startedAtMs: this.#now(),
      exitCode: null,
    };
    // Each chunk is written as it arrives (pipeTo held the lines back until the child
    // exited, so a running service's log file stayed empty).
    const pipes = Promise.allSettled([
      copyToFile(child.stdout, log),
      copyToFile(child.stderr, errLog),
    ]);
    entry.exited = child.status.then(async (status) => {
      await pipes;
      const asked = entry.stopping;
      entry.proc = { ...entry.proc, phase: asked ? "stopped" : "exited", exitCode: status.code };
      entry.child = null;
      entry.stdin = null;
      if (!asked) {
        this.#logger.warn("service exited", {
          service: name,
          pid: child.pid,
          code: status.code,
          signal: status.signal,
        });
        this.#onExit(entry.proc);
      }
    });
    this.#logger.info("service started", { service: name, pid: child.pid });
  }

  /** SIGTERM, then SIGKILL after the stop timeout; resolves once the process is gone. */
  async stop(name: string): Promise<void> {
    const entry = this.#entry(name);
    if (entry.proc.phase !== "running" || !entry.child) {
      entry.proc = { ...entry.proc, phase: "stopped" };
      return;
    }
    entry.stopping = true;
    const child = entry.child;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        resolve();
      }, this.#stopTimeoutMs);
    });
    await Promise.race([entry.exited, killed]);
    await entry.exited;
    clearTimeout(timer);
    this.#logger.info("service stopped", { service: name, pid: entry.proc.pid });
  }

  async restart(name: string): Promise<void> {
    await this.stop(name);
    await this.start(name);
  }

  /** Stops every running service at once. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#entries.values()].filter((e) => e.proc.phase === "running").map((e) =>
        this.stop(e.proc.spec.name)
      ),
    );
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw KaError.of("UNKNOWN_BROKER", `Unknown service '${name}'`);
    return entry;
  }
}

/** Appends everything `stream` yields to `file`, chunk by chunk, then closes the file. */
async function copyToFile(stream: ReadableStream<Uint8Array>, file: Deno.FsFile): Promise<void> {
  try {
    for await (const chunk of stream) {
      for (let written = 0; written < chunk.length;) {
        written += await file.write(chunk.subarray(written));
      }
    }
  } finally {
    file.close();
  }
}
