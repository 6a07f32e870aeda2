/**
 * Starts a real cluster for a test: a coordinator process (which spawns the
 * brokers and gateways) on the test's own ports, in its own temporary
 * directory, headless. `stop()` and `kill()` clean up by PID. Integration
 * tests run one at a time (the machine has 2 cores). The limits, fuzz and
 * load tests add `config.yaml` sections (short timeouts, higher connection
 * limits) and an open-files limit for the coordinator and the brokers it
 * spawns (raised through `sh -c 'ulimit -n'`, as Deno cannot call setrlimit).
 * @module
 */
import { fileURLToPath } from "node:url";
import { sendConsoleLine } from "@kafka-analog/lib/console";
import type { ConsoleResponsePayload } from "@kafka-analog/lib/console";
import { type Client, createClient } from "@kafka-analog/clients";

/** The project root (where deno.json is). */
export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** Ports of one test cluster, derived from its base port. */
export interface ClusterPorts {
  coordinator: number;
  console: number;
  brokerBase: number;
  writer: number;
  reader: number;
}

/** Ports for a base: coordinator base, console base+1, brokers base+10.., gateways base+20, base+21. */
export function portsFor(base: number): ClusterPorts {
  return {
    coordinator: base,
    console: base + 1,
    brokerBase: base + 10,
    writer: base + 20,
    reader: base + 21,
  };
}

/** One service as the coordinator's `status` lists it. */
export interface ServiceStatus {
  kind: string;
  id: number;
  pid: number;
  state: string;
}

/** A running test cluster. */
export interface TestCluster {
  ports: ClusterPorts;
  dir: string;
  coordinatorPid: number;
  brokerAddresses: string[];
  /** Startup time of the whole cluster as the coordinator measured it. */
  startupMs: number;
  /** Runs a console line over TCP (framed dialect). */
  console(line: string): Promise<ConsoleResponsePayload>;
  client(): Client;
  /** Every child pid the coordinator reports in `status`. */
  childPids(): Promise<number[]>;
  /** Services as `status` lists them. */
  services(): Promise<ServiceStatus[]>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL the coordinator only (children must follow it by themselves). */
  kill(): Promise<void>;
  output(): string;
  /** The child processes' log files (brokers, gateways), concatenated. */
  childLogs(): string;
}

/** Starts a cluster of `brokers` brokers on ports from `base`. */
export async function startCluster(
  base: number,
  options: {
    brokers?: number;
    timeoutMs?: number;
    storage?: "memory" | "disk";
    /** Reuse this directory (restart a stopped cluster); it is kept on stop. */
    dir?: string;
    /** More `broker:` keys for config.yaml (e.g. `advertised_base_port` for a fault proxy). */
    brokerConfig?: Record<string, string | number>;
    /** More environment for the coordinator, which its children inherit (e.g. libfaketime). */
    env?: Record<string, string>;
    /** Lines (whole sections, e.g. `limits:`) appended to config.yaml. */
    yaml?: string[];
    /** Open-files limit (`ulimit -n`) for the coordinator and the processes it spawns. */
    openFiles?: number;
    /** If set, `stop()` sends SIGKILL when SIGTERM has not ended the coordinator by then. */
    stopTimeoutMs?: number;
  } = {},
): Promise<TestCluster> {
  const ports = portsFor(base);
  const brokers = options.brokers ?? 5;
  const keepDir = options.dir !== undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "kafka-analog-test-" });
  const configFile = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    configFile,
    [
      "coordinator:",
      `  port: ${ports.coordinator}`,
      `  console_port: ${ports.console}`,
      `  broker_count: ${brokers}`,
      `  data_dir: ${dir}/data/coordinator`,
      "broker:",
      `  base_port: ${ports.brokerBase}`,
      `  data_dir: ${dir}/data`,
      `  storage: ${options.storage ?? "memory"}`,
      ...Object.entries(options.brokerConfig ?? {}).map(([k, v]) => `  ${k}: ${v}`),
      "gateway:",
      `  writer_port: ${ports.writer}`,
      `  reader_port: ${ports.reader}`,
      ...(options.yaml ?? []),
      "",
    ].join("\n"),
  );
  const deno = Deno.execPath();
  const args = [
    "run",
    "--no-prompt",
    "--quiet",
    "--allow-net",
    `--allow-read=${ROOT},${dir}`,
    `--allow-write=${dir}`,
    // Deno lets a process pass LD_PRELOAD (libfaketime) on to its children only with a
    // blanket --allow-run.
    options.env?.LD_PRELOAD ? "--allow-run" : `--allow-run=${deno}`,
    `${ROOT}/coordinator/main.ts`,
    "--config",
    configFile,
  ];
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const child = new Deno.Command(options.openFiles === undefined ? deno : "sh", {
    args: options.openFiles === undefined
      ? args
      : ["-c", `ulimit -n ${options.openFiles} && exec ${[deno, ...args].map(quote).join(" ")}`],
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...options.env },
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  let onReady: (ms: number) => void;
  let onFail: (err: Error) => void;
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      out += decoder.decode(chunk, { stream: true });
      const m = out.match(/cluster ready in (\d+) ms/);
      if (m) onReady(Number(m[1]));
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    }
  };
  const pumps = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const status = child.status.then((s) => {
    onFail(new Error(`coordinator exited early (${s.code}):\n${out}`));
    return s;
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timer = setTimeout(
    () => onFail(new Error(`cluster not ready in ${timeoutMs} ms:\n${out}`)),
    timeoutMs,
  );
  let startupMs: number;
  try {
    startupMs = await ready;
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    await pumps;
    if (!keepDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const brokerAddresses = Array.from(
    { length: brokers },
    (_, i) => `127.0.0.1:${ports.brokerBase + i}`,
  );
  const clients: Client[] = [];
  const consoleLine = (line: string) =>
    sendConsoleLine(line, { hostname: "127.0.0.1", port: ports.console, timeoutMs: 30_000 });
  const services = async () => {
    const answer = await consoleLine("status");
    return (answer.json as { services: ServiceStatus[] }).services;
  };
  const finish = async () => {
    await Promise.all(clients.map((c) => c.close()));
    await status;
    await pumps;
    await child.stdin.close().catch(() => {});
    if (!keepDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    ports,
    dir,
    coordinatorPid: child.pid,
    brokerAddresses,
    startupMs,
    console: consoleLine,
    client() {
      const client = createClient({ bootstrap: brokerAddresses, clientId: "test" });
      clients.push(client);
      return client;
    },
    async childPids() {
      return (await services()).filter((s) => s.kind !== "coordinator" && s.pid > 0).map((s) =>
        s.pid
      );
    },
    services,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = options.stopTimeoutMs === undefined ? undefined : setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, options.stopTimeoutMs);
      await finish();
      clearTimeout(timer);
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await finish();
    },
    output: () => out,
    childLogs() {
      let text = "";
      for (const entry of Deno.readDirSync(`${dir}/data/logs`)) {
        text += Deno.readTextFileSync(`${dir}/data/logs/${entry.name}`);
      }
      return text;
    },
  };
}

/**
 * Reads a file under /proc. Deno asks for --allow-all to read /proc directly,
 * so the test reads it through `cat`, which the test task may run.
 */
export function readProc(path: string): string | null {
  const { success, stdout } = new Deno.Command("cat", {
    args: [path],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return success ? new TextDecoder().decode(stdout) : null;
}

/** The soft and hard open-files limits of processes this test spawns. */
export function openFilesLimits(): { soft: number; hard: number } {
  const { stdout } = new Deno.Command("sh", {
    args: ["-c", "ulimit -Sn; ulimit -Hn"],
    stdout: "piped",
  }).outputSync();
  const [soft, hard] = new TextDecoder().decode(stdout).trim().split("\n").map((s) =>
    s === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(s)
  );
  return { soft, hard };
}

/** Resident set size of `pid` in bytes (VmRSS from /proc, read through `cat`), or null. */
export function rssBytes(pid: number): number | null {
  const status = readProc(`/proc/${pid}/status`);
  const m = status?.match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : null;
}

/** True while a process with `pid` exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat !== null && !/^\d+ \(.*\) Z/.test(stat);
}

/** A process's argv, from /proc/<pid>/cmdline. */
export function cmdline(pid: number): string[] {
  return (readProc(`/proc/${pid}/cmdline`) ?? "").split("\0").filter((s) => s !== "");
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passes; returns the last result. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await check();
}
