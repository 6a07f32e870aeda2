/**
 * The reader gateway process (port 3002 by default):
 *
 *     deno run --allow-net=127.0.0.1 gateway/main_reader.ts \
 *       [--host 127.0.0.1] [--port 3002] [--bootstrap 127.0.0.1:9092,...] [--ignore-stdin]
 *
 * It exits when stdin reaches EOF (the coordinator holds the pipe, so a
 * gateway never outlives it; pass `--ignore-stdin` when running it by hand
 * with stdin closed), when its parent changes, or on SIGTERM/SIGINT —
 * each time after draining in-flight requests. Exit status 2 means bad flags.
 * @module
 */
import { createClient } from "@kafka-analog/clients";
import { createLogger } from "@kafka-analog/lib/log";
import { createClusterAdapter } from "./shared/cluster_client.ts";
import { GATEWAY_USAGE, parseGatewayFlags, serveGateway } from "./shared/serve.ts";
import { createReaderApp } from "./reader/app.ts";

const COMPONENT = "gateway-reader";

async function main(): Promise<number> {
  const logger = createLogger(COMPONENT);
  let flags;
  try {
    flags = parseGatewayFlags(Deno.args, { port: 3002 });
  } catch (err) {
    console.error(`${COMPONENT}: ${(err as Error).message}\n${GATEWAY_USAGE}`);
    return 2;
  }
  const cluster = createClusterAdapter(
    createClient({ bootstrap: flags.bootstrap, clientId: COMPONENT }),
  );
  const app = createReaderApp(cluster, { logger });
  await serveGateway(app, { ...flags, logger, onStop: () => cluster.close() });
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    createLogger(COMPONENT).error("failed", { error: err });
    Deno.exit(1);
  }
}
