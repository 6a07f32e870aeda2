/**
 * A test cluster for the limits, fuzz and load tests: like `startCluster`
 * in `test/_cluster.ts`, plus extra `config.yaml` sections (short timeouts,
 * higher connection limits) and an optional open-files limit for the
 * coordinator and the brokers it spawns (raised through `sh -c 'ulimit -n'`,
 * as Deno cannot call setrlimit).
 * @module
 */
import { sendConsoleLine } from "@kafka-analog/lib/console";
import type { ConsoleResponsePayload } from "@kafka-analog/lib/console";
import { portsFor, readProc, ROOT, waitFor } from "../_cluster.ts";

/** A running cluster started by {@linkcode startFuzzCluster}. */
export interface FuzzCluster {
  ports: ReturnType<typeof portsFor>;
  brokerAddresses: string[];
  coordinatorPid: number;
  console(line: string): Promise<ConsoleResponsePayload>;
  /** Services as `status` lists them. */
  services(): Promise<{ kind: string; id: number; pid: number; state: string }[]>;
  stop(): Promise<void>;
  output(): string;
  /** The child processes' log files (brokers, gateways), concatenated. */
  childLogs(): string;
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

/** Starts a coordinator (and its brokers and gateways) on ports from `base`. */
export async function startFuzzCluster(
  base: number,
  options: {
    brokers: number;
    /** Lines added to the `broker:` section. */
    brokerYaml?: string[];
    /** Lines (whole sections) appended to config.yaml. */
    yaml?: string[];
    openFiles?: number;
    timeoutMs?: number;
  },
): Promise<FuzzCluster> {
  const ports = portsFor(base);
  const dir = await Deno.makeTempDir({ prefix: "kafka-analog-fuzz-" });
  const configFile = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    configFile,
    [
      "coordinator:",
      `  port: ${ports.coordinator}`,
      `  console_port: ${ports.console}`,
      `  broker_count: ${options.brokers}`,
      `  data_dir: ${dir}/data/coordinator`,
      "broker:",
      `  base_port: ${ports.brokerBase}`,
      `  data_dir: ${dir}/data`,
      ...(options.brokerYaml ?? []),
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
    `--allow-run=${deno}`,
    `${ROOT}/coordinator/main.ts`,
    "--config",
    configFile,
  ];
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = options.openFiles === undefined
    ? new Deno.Command(deno, {
      args,
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    })
    : new Deno.Command("sh", {
      args: [
        "-c",
        `ulimit -n ${options.openFiles} && exec ${[deno, ...args].map(quote).join(" ")}`,
      ],
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    });
  const child = command.spawn();
  let out = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      out += decoder.decode(chunk, { stream: true });
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    }
  };
  const pumps = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const ready = await waitFor(
    () => exited || /cluster ready in \d+ ms/.test(out),
    options.timeoutMs ?? 30_000,
  );
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 15_000);
    await status;
    clearTimeout(timer);
    await pumps;
    await child.stdin.close().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  if (!ready || exited) {
    await stop();
    throw new Error(`cluster not ready:\n${out}`);
  }
  const consoleLine = (line: string) =>
    sendConsoleLine(line, { hostname: "127.0.0.1", port: ports.console, timeoutMs: 30_000 });
  return {
    ports,
    brokerAddresses: Array.from(
      { length: options.brokers },
      (_, i) => `127.0.0.1:${ports.brokerBase + i}`,
    ),
    coordinatorPid: child.pid,
    console: consoleLine,
    async services() {
      const answer = await consoleLine("status");
      return (answer.json as {
        services: { kind: string; id: number; pid: number; state: string }[];
      }).services;
    },
    stop,
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

/** Resident set size of `pid` in bytes (VmRSS from /proc, read through `cat`), or null. */
export function rssBytes(pid: number): number | null {
  const status = readProc(`/proc/${pid}/status`);
  const m = status?.match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : null;
}
