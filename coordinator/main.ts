/**
 * Coordinator process entry point — `deno task cluster` runs this. It loads
 * the config, opens the cluster port and the console port, spawns the
 * brokers and gateways with scoped permissions, watches them, and runs the
 * console on the terminal (or headless when stdin is not a TTY, until
 * SIGINT/SIGTERM). Every child holds a stdin pipe from this process, so none
 * outlives it, however it ends.
 * @module
 */
import { fileURLToPath } from "node:url";
import process from "node:process";
import { ConfigError, listenerLimits, loadConfig } from "@kafka-analog/lib/config";
import { createLogger } from "@kafka-analog/lib/log";
import { messageOf, serveFrames } from "@kafka-analog/lib/net";
import { sleep } from "@kafka-analog/lib/async";
import { Coordinator } from "./coordinator.ts";
import { FileJournal } from "./metadata/journal.ts";
import { MetadataStore } from "./metadata/store.ts";
import { createCoordinatorHandler } from "./server.ts";
import { brokerIdsOf, serviceSpecs } from "./services.ts";
import { Supervisor } from "./supervisor.ts";
import { serveConsole } from "./console/server.ts";
import { startRepl } from "./console/repl.ts";

const startedAt = performance.now();
let loaded;
try {
  loaded = await loadConfig(Deno.args);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `Cannot load config: ${messageOf(err)}`);
  Deno.exit(2);
}
const { config } = loaded;
const interactive = Deno.stdin.isTerminal() && !Deno.args.includes("--headless");
const logger = createLogger("coordinator", {
  level: interactive ? "warn" : "info",
});

const root = Deno.cwd();
const abs = (p: string) => (p.startsWith("/") ? p : `${root}/${p.replace(/^\.\//, "")}`);
const dataDir = abs(config.broker.dataDir);
const coordinatorDir = abs(config.coordinator.dataDir);
const logDir = `${dataDir}/logs`;
for (
  const dir of [
    coordinatorDir,
    logDir,
    ...brokerIdsOf(config).map((id) => `${dataDir}/broker-${id}`),
  ]
) {
  Deno.mkdirSync(dir, { recursive: true });
}
/** Another process's entry point: `.ts` from source, `.js` from `deno task bundle`'s dist/. */
function sibling(name: string): string {
  const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
  return fileURLToPath(new URL(`../${name}${ext}`, import.meta.url));
}
const paths = {
  deno: Deno.execPath(),
  brokerMain: sibling("broker/main"),
  writerMain: sibling("gateway/main_writer"),
  readerMain: sibling("gateway/main_reader"),
  dataDir,
  logDir,
};

const controller = new AbortController();
const journal = new FileJournal(`${coordinatorDir}/metadata.log`);
const store = new MetadataStore(journal);
// Monotonic milliseconds on the epoch scale for every duration the coordinator measures (broker
// and group sessions, transaction timeouts, uptimes): a wall-clock step (NTP, or the chaos
// harness's libfaketime) must not expire every session at once or keep a dead one alive.
const now = () => performance.timeOrigin + performance.now();
const supervisor = new Supervisor({
  logger,
  now,
  onExit: (proc) => coordinator.onServiceExit(proc),
});
const coordinator: Coordinator = new Coordinator({
  now,
  settings: {
    port: config.coordinator.port,
    brokerSessionTimeoutMs: config.coordinator.brokerSessionTimeoutMs,
    defaultPartitions: config.topics.defaultPartitions,
    replicationFactor: config.topics.replicationFactor,
    brokerIds: brokerIdsOf(config),
    storage: config.broker.storage,
  },
  store,
  logger,
  supervisor,
  tcpCheck,
  onShutdown: () => shutdown("console quit"),
});

let consoleServer;
try {
  serveFrames(createCoordinatorHandler(coordinator, { config }), {
    // Brokers forward many clients' group requests over one connection; JoinGroup parks.
    concurrent: true,
    hostname: config.coordinator.host,
    port: config.coordinator.port,
    signal: controller.signal,
    logger,
    limits: listenerLimits(config, "coordinator"),
  });
  consoleServer = serveConsole(coordinator, {
    hostname: config.coordinator.host,
    port: config.coordinator.consolePort,
    signal: controller.signal,
    logger,
    limits: listenerLimits(config, "console"),
  });
} catch (err) {
  console.error(
    `Cannot listen: ${
      messageOf(err)
    } (is another cluster running? see coordinator.port / console_port)`,
  );
  Deno.exit(1);
}

let shuttingDown = false;
async function shutdown(reason: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.warn("coordinator shutting down", { reason });
  controller.abort();
  coordinator.close();
  await supervisor.stopAll();
  journal.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));

for (const spec of serviceSpecs(config, paths)) supervisor.add(spec);
const watching = coordinator.watch(controller.signal);
await Promise.all(
  supervisor.list().filter((s) => s.spec.kind === "broker").map((s) =>
    supervisor.start(s.spec.name)
  ),
);
await supervisor.start("producer");
await supervisor.start("consumer");
const ready = await waitForCluster(30_000);
// Leaders recorded before a restart that did not come back: fail their partitions over now.
coordinator.reconcileLeaders();
const startupMs = Math.round(performance.now() - startedAt);
const banner = ready
  ? `kafka-analog: cluster ready in ${startupMs} ms — ${config.coordinator.brokerCount} brokers on ${config.broker.basePort}..${
    config.broker.basePort + config.coordinator.brokerCount - 1
  }, writer :${config.gateway.writerPort}, reader :${config.gateway.readerPort}, console :${consoleServer.port} (child logs in ${logDir})`
  : `kafka-analog: not every service came up within 30 s; type 'status' (child logs in ${logDir})`;
logger.info("cluster started", { ready, startupMs });

if (interactive) {
  console.log(banner);
  console.log("Type 'help' for commands, 'quit' to stop the cluster.");
  const repl = startRepl(coordinator, {
    input: process.stdin,
    output: process.stdout,
    historyFile: `${coordinatorDir}/console_history`,
  });
  await repl.closed;
  await shutdown("console closed");
} else {
  console.log(banner);
  await watching;
}

/** Waits until every service is alive, or `timeoutMs`. */
async function waitForCluster(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await coordinator.checkHealth();
    if (coordinator.status().every((s) => s.state === "alive")) return true;
    await sleep(100);
  }
  return false;
}

async function tcpCheck(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
