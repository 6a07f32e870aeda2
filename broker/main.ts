/**
 * Broker process entry point: the only broker file that reads arguments,
 * opens real sockets or watches signals. The coordinator starts it with
 * permissions scoped to its own port, its peers, the coordinator and its own
 * data directory.
 *
 *     deno run --allow-net=… broker/main.ts --id 2 --port 9094 \
 *       --coordinator 127.0.0.1:8080 --data-dir data/broker-2 --config-json '{…}'
 * @module
 */
import { parseArgs } from "node:util";
import { listenerLimits, parseConfig } from "@kafka-analog/lib/config";
import { createLogger } from "@kafka-analog/lib/log";
import { messageOf, serveFrames } from "@kafka-analog/lib/net";
import { sleep } from "@kafka-analog/lib/async";
import { ReplicaFetchers } from "./replication/fetcher.ts";
import { watchParent } from "@kafka-analog/lib/process";
import { Broker } from "./broker.ts";
import { CoordinatorLink } from "./coordinator_link.ts";
import { createBrokerHandler } from "./server.ts";
import { runLogMaintenance } from "./log/retention.ts";
import { diskStorage, memoryStorage } from "./log/storage.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    id: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    // The port clients and peers are told to dial (a proxy in front); default --port.
    "advertised-port": { type: "string" },
    coordinator: { type: "string" },
    "data-dir": { type: "string" },
    "config-json": { type: "string", default: "{}" },
    "no-parent-watch": { type: "boolean", default: false },
  },
});
const id = Number(values.id);
const port = Number(values.port);
if (!Number.isInteger(id) || id < 0 || !Number.isInteger(port) || !values.coordinator) {
  console.error(
    "usage: broker/main.ts --id N --port P --coordinator HOST:PORT [--host H] [--data-dir D] [--config-json JSON]",
  );
  Deno.exit(2);
}
const config = parseConfig(values["config-json"], { file: "--config-json" });
const logger = createLogger(`broker-${id}`);
const controller = new AbortController();
const dataDir = values["data-dir"];
if (config.broker.storage === "disk" && !dataDir) {
  console.error("Invalid config 'broker.storage': disk storage needs --data-dir");
  Deno.exit(2);
}
const storage = config.broker.storage === "disk"
  ? diskStorage({ dataDir: dataDir!, segmentBytes: config.broker.segmentBytes, logger })
  : memoryStorage();
const broker = new Broker({
  id,
  settings: {
    maxMessageBytes: config.broker.maxMessageBytes,
    fetchMaxWaitMs: config.broker.fetchMaxWaitMs,
    replicaLagTimeMaxMs: config.broker.replicaLagTimeMaxMs,
    reassignmentThrottleBytesPerSec: config.broker.reassignmentThrottleBytesPerSec,
    sessionTimeoutMs: config.coordinator.brokerSessionTimeoutMs,
    autoCreateTopics: config.topics.autoCreate,
  },
  logger,
  // Monotonic (wall clock at start + elapsed): the broker's clock measures durations (the
  // write fence after losing the coordinator, follower lag, fetch waits), which a wall-clock
  // step (NTP, or the chaos harness's libfaketime) must not stretch or shrink.
  now: () => performance.timeOrigin + performance.now(),
  makeLog: storage.makeLog,
  makeEpochCache: storage.makeEpochCache,
});
const link = new CoordinatorLink(broker, {
  coordinator: values.coordinator,
  host: values.host,
  port: values["advertised-port"] === undefined ? port : Number(values["advertised-port"]),
  heartbeatIntervalMs: config.coordinator.brokerHeartbeatIntervalMs,
  incarnation: crypto.randomUUID(),
  signal: controller.signal,
});
const server = serveFrames(
  // No abort signal for parked fetches: on shutdown the server closes their connections.
  createBrokerHandler(broker, { forward: (k, v, b, o) => link.forward(k, v, b, o) }),
  {
    hostname: values.host,
    port,
    signal: controller.signal,
    logger,
    limits: listenerLimits(config, "broker"),
  },
);
logger.info("broker listening", { host: values.host, port: server.port, pid: Deno.pid });
const linkDone = link.run();
new ReplicaFetchers(broker, { signal: controller.signal });
const isrDone = (async () => {
  // The leader's ISR upkeep: propose joins and leaves to the coordinator.
  while (!controller.signal.aborted) {
    await sleep(250, controller.signal);
    await link.proposeIsrChanges().catch((err) =>
      logger.warn("ISR proposal failed", { reason: messageOf(err) })
    );
  }
})();

// Retention every 5 s and flush.ms checks every second, for every hosted partition.
const maintenanceDone = runLogMaintenance({
  targets: () => {
    const configs = new Map(broker.snapshot?.topics.map((t) => [t.name, t.configs]) ?? []);
    return broker.replicas().map((r) => ({
      name: `${r.topic}-${r.partition}`,
      log: r.log,
      configs: configs.get(r.topic) ?? {},
      highWatermark: r.highWatermark,
    }));
  },
  defaults: {
    retentionMs: config.broker.retentionMs,
    retentionBytes: config.broker.retentionBytes,
  },
  logger,
  signal: controller.signal,
});

// High-watermark checkpoints (disk logs): once a second, for partitions whose HW moved.
const savedHighWatermarks = new WeakMap<object, bigint>();
function checkpointHighWatermarks(): void {
  for (const replica of broker.replicas()) {
    if (
      !replica.log.writeHighWatermark || savedHighWatermarks.get(replica) === replica.highWatermark
    ) continue;
    try {
      replica.log.writeHighWatermark(replica.highWatermark);
      savedHighWatermarks.set(replica, replica.highWatermark);
    } catch (err) {
      logger.warn("cannot checkpoint the high watermark", {
        partition: `${replica.topic}-${replica.partition}`,
        reason: messageOf(err),
      });
    }
  }
}
const hwTimer = setInterval(checkpointHighWatermarks, 1_000);

const stopWatching = values["no-parent-watch"]
  ? () => {}
  : watchParent((reason) => shutdown(reason));

async function shutdown(reason: string): Promise<void> {
  logger.info("broker shutting down", { reason });
  stopWatching();
  controller.abort();
  await Promise.race([
    Promise.all([server.closed, linkDone, isrDone, maintenanceDone]),
    new Promise((r) => setTimeout(r, 2000)),
  ]);
  clearInterval(hwTimer);
  checkpointHighWatermarks();
  // A clean stop flushes every log (disk: fsync) and closes its files.
  for (const replica of broker.replicas()) {
    try {
      replica.log.close();
    } catch (err) {
      logger.warn("cannot close partition log", {
        partition: `${replica.topic}-${replica.partition}`,
        reason: messageOf(err),
      });
    }
  }
  Deno.exit(0);
}
