/**
 * What both gateway processes do before serving: read the flags and auth
 * tokens (exit status 2 with the reason on bad flags), log whether auth is
 * on, and connect the cluster adapter. The `main_*.ts` files pass their
 * arguments and environment in; nothing here reads them itself.
 * @module
 */
import { createClient } from "@kafka-analog/clients";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import { type ClusterAdapter, createClusterAdapter, libraryConnections } from "./cluster_client.ts";
import {
  checkAuthRequired,
  GATEWAY_USAGE,
  type GatewayFlags,
  parseGatewayFlags,
  tokensFromEnv,
} from "./serve.ts";

/** A gateway ready to build its app. */
export interface GatewayStart {
  flags: GatewayFlags;
  tokens: string[];
  logger: Logger;
  cluster: ClusterAdapter;
}

/** Flags, tokens, logger and cluster adapter; null after printing why the flags are bad. */
export function startGateway(
  component: string,
  args: string[],
  options: { port: number; env: (name: string) => string | undefined },
): GatewayStart | null {
  let flags: GatewayFlags;
  let tokens: string[];
  try {
    flags = parseGatewayFlags(args, { port: options.port });
    tokens = [
      ...flags.authTokens,
      ...(flags.authTokenEnv === null
        ? []
        : tokensFromEnv(flags.authTokenEnv, options.env(flags.authTokenEnv))),
    ];
    checkAuthRequired(flags.hostname, tokens);
  } catch (err) {
    console.error(`${component}: ${(err as Error).message}\n${GATEWAY_USAGE}`);
    return null;
  }
  const logger = createLogger(component);
  logger.info("authentication", { enabled: tokens.length > 0, tokens: tokens.length });
  const clusterOptions = { bootstrap: flags.bootstrap, clientId: component };
  const cluster = createClusterAdapter(createClient(clusterOptions), {
    connections: libraryConnections(clusterOptions),
    clientId: component,
  });
  return { flags, tokens, logger, cluster };
}

/** Runs a gateway's `main` and exits with its status (1 with a logged reason if it throws). */
export async function runGateway(component: string, main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (err) {
    createLogger(component).error("failed", { error: err });
    Deno.exit(1);
  }
}
