/**
 * The writer gateway process (port 3001 by default):
 *
 *     deno run --allow-net=127.0.0.1 gateway/main_writer.ts \
 *       [--host 127.0.0.1] [--port 3001] [--bootstrap 127.0.0.1:9092,...] \
 *       [--auth-token T]... [--auth-token-env NAME] [--batch-max N] [--ignore-stdin]
 *
 * Bound to anything but a loopback address it refuses to start without a
 * token. `--auth-token-env NAME` reads comma-separated tokens from the
 * environment variable NAME (needs `--allow-env=NAME`; unlike a flag, it is
 * not visible in the process list). It exits when stdin reaches EOF (the
 * coordinator holds the pipe, so a gateway never outlives it; pass
 * `--ignore-stdin` when running it by hand with stdin closed), when its
 * parent changes, or on SIGTERM/SIGINT — each time after draining in-flight
 * requests. Exit status 2 means bad flags.
 * @module
 */
import { createClient } from "@kafka-analog/clients";
import { createLogger } from "@kafka-analog/lib/log";
import { createClusterAdapter, libraryConnections } from "./shared/cluster_client.ts";
import {
  checkAuthRequired,
  GATEWAY_USAGE,
  type GatewayFlags,
  parseGatewayFlags,
  serveGateway,
  tokensFromEnv,
} from "./shared/serve.ts";
import { createWriterApp } from "./writer/app.ts";

const COMPONENT = "gateway-writer";

/** Flags and tokens, or the exit status 2 after printing why not. */
function readFlags(): { flags: GatewayFlags; tokens: string[] } | null {
  try {
    const flags = parseGatewayFlags(Deno.args, { port: 3001 });
    const tokens = [
      ...flags.authTokens,
      ...(flags.authTokenEnv === null
        ? []
        : tokensFromEnv(flags.authTokenEnv, Deno.env.get(flags.authTokenEnv))),
    ];
    checkAuthRequired(flags.hostname, tokens);
    return { flags, tokens };
  } catch (err) {
    console.error(`${COMPONENT}: ${(err as Error).message}\n${GATEWAY_USAGE}`);
    return null;
  }
}

async function main(): Promise<number> {
  const logger = createLogger(COMPONENT);
  const read = readFlags();
  if (read === null) return 2;
  const { flags, tokens } = read;
  const clusterOptions = { bootstrap: flags.bootstrap, clientId: COMPONENT };
  const cluster = createClusterAdapter(createClient(clusterOptions), {
    connections: libraryConnections(clusterOptions),
    clientId: COMPONENT,
  });
  const app = createWriterApp(cluster, {
    logger,
    authTokens: tokens,
    ...(flags.batchMessagesMax === null ? {} : { batchMessagesMax: flags.batchMessagesMax }),
  });
  logger.info("authentication", { enabled: tokens.length > 0, tokens: tokens.length });
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
