/**
 * The writer gateway process (port 3001 by default):
 *
 *     deno run --allow-net=127.0.0.1 gateway/main_writer.ts \
 *       [--host 127.0.0.1] [--port 3001] [--bootstrap 127.0.0.1:9092,...] \
 *       [--auth-token T]... [--auth-token-env NAME] [--batch-max N] \
 *       [--console 127.0.0.1:8081] [--ignore-stdin] \
 *       [--socket PATH] [--connections-max N] [--connections-per-ip-max N] \
 *       [--idle-timeout-ms N] [--io-timeout-ms N]
 *
 * With `--socket PATH` (as the coordinator runs it) HTTP is served on that
 * Unix socket behind a TCP front that enforces the connection limits (see
 * `shared/tcp_front.ts`); add `unix:PATH` to `--allow-net` and PATH to
 * `--allow-read` and `--allow-write`. Without it there are no connection
 * limits, only the per-request ones.
 *
 * With `--console` it serves the web dashboard at `/ui`, whose data comes
 * from that coordinator console (the coordinator passes its console address;
 * the process then needs net access to it too).
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
import { isLoopback, serveGateway } from "./shared/serve.ts";
import { runGateway, startGateway } from "./shared/start.ts";
import { createWriterApp } from "./writer/app.ts";
import { consoleOverTcp } from "./ui/console_source.ts";
import { createDashboard } from "./ui/routes.ts";

const COMPONENT = "gateway-writer";

async function main(): Promise<number> {
  const start = startGateway(COMPONENT, Deno.args, {
    port: 3001,
    env: (name) => Deno.env.get(name),
  });
  if (start === null) return 2;
  const { flags, tokens, logger, cluster } = start;
  const dashboard = createDashboard(cluster, {
    console: flags.console === null ? null : consoleOverTcp(flags.console),
    logger,
  });
  const app = createWriterApp(cluster, {
    logger,
    authTokens: tokens,
    loopbackGuard: isLoopback(flags.hostname),
    dashboard,
    ...(flags.batchMessagesMax === null ? {} : { batchMessagesMax: flags.batchMessagesMax }),
  });
  await serveGateway(app, {
    ...flags,
    logger,
    // Live dashboard streams never finish by themselves: end them before draining.
    onStopping: () => Promise.resolve(dashboard.close()),
    onStop: () => cluster.close(),
  });
  return 0;
}

if (import.meta.main) await runGateway(COMPONENT, main);
