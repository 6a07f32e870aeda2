/**
 * The reader gateway process (port 3002 by default):
 *
 *     deno run --allow-net=127.0.0.1 gateway/main_reader.ts \
 *       [--host 127.0.0.1] [--port 3002] [--bootstrap 127.0.0.1:9092,...] \
 *       [--auth-token T]... [--auth-token-env NAME] [--subscription-idle-ms N] [--ignore-stdin]
 *
 * Bound to anything but a loopback address it refuses to start without a
 * token (see `main_writer.ts` for `--auth-token-env`). It sweeps idle
 * subscriptions every second. It exits when stdin reaches EOF (the
 * coordinator holds the pipe; pass `--ignore-stdin` when running it by hand
 * with stdin closed), when its parent changes, or on SIGTERM/SIGINT: streams
 * are closed (1001), subscriptions leave their groups, in-flight requests
 * drain. Exit status 2 means bad flags.
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
import { createReaderApp } from "./reader/app.ts";

const COMPONENT = "gateway-reader";

/** Flags and tokens, or null after printing why not. */
function readFlags(): { flags: GatewayFlags; tokens: string[] } | null {
  try {
    const flags = parseGatewayFlags(Deno.args, { port: 3002 });
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
  const reader = createReaderApp(cluster, {
    logger,
    authTokens: tokens,
    ...(flags.subscriptionIdleMs === null ? {} : { subscriptionIdleMs: flags.subscriptionIdleMs }),
  });
  logger.info("authentication", { enabled: tokens.length > 0, tokens: tokens.length });
  const sweeper = setInterval(() => {
    reader.sweep().catch((err) => logger.warn("sweeping subscriptions failed", { error: err }));
  }, 1_000);
  await serveGateway(reader.app, {
    ...flags,
    logger,
    onStopping: async () => {
      clearInterval(sweeper);
      await reader.close();
    },
    onStop: async () => {
      clearInterval(sweeper);
      await reader.close();
      await cluster.close();
    },
  });
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
