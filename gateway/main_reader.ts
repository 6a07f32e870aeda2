/**
 * The reader gateway process (port 3002 by default):
 *
 *     deno run --allow-net=127.0.0.1 gateway/main_reader.ts \
 *       [--host 127.0.0.1] [--port 3002] [--bootstrap 127.0.0.1:9092,...] \
 *       [--auth-token T]... [--auth-token-env NAME] [--subscription-idle-ms N] [--ignore-stdin] \
 *       [--socket PATH] [--connections-max N] [--connections-per-ip-max N] \
 *       [--idle-timeout-ms N] [--io-timeout-ms N]
 *
 * With `--socket PATH` (as the coordinator runs it) HTTP is served on that
 * Unix socket behind a TCP front that enforces the connection limits (see
 * `shared/tcp_front.ts`); add `unix:PATH` to `--allow-net` and PATH to
 * `--allow-read` and `--allow-write`. Without it there are no connection
 * limits, only the per-request ones.
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
import { isLoopback, serveGateway } from "./shared/serve.ts";
import { runGateway, startGateway } from "./shared/start.ts";
import { createReaderApp } from "./reader/app.ts";

const COMPONENT = "gateway-reader";

async function main(): Promise<number> {
  const start = startGateway(COMPONENT, Deno.args, {
    port: 3002,
    env: (name) => Deno.env.get(name),
  });
  if (start === null) return 2;
  const { flags, tokens, logger, cluster } = start;
  const reader = createReaderApp(cluster, {
    logger,
    authTokens: tokens,
    loopbackGuard: isLoopback(flags.hostname),
    ...(flags.subscriptionIdleMs === null ? {} : { subscriptionIdleMs: flags.subscriptionIdleMs }),
  });
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

if (import.meta.main) await runGateway(COMPONENT, main);
