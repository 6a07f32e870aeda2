/**
 * Running a gateway process: parsing its flags and serving an app until the
 * coordinator goes away (stdin EOF, parent pid change) or a SIGTERM/SIGINT
 * arrives, then shutting down gracefully. Only `main_writer.ts` and
 * `main_reader.ts` call this; they pass `Deno.args` in.
 * @module
 */
import { parseArgs } from "node:util";
import type { Hono } from "hono";
import { sleep } from "@kafka-analog/lib/async";
import type { Logger } from "@kafka-analog/lib/log";
import { parseHostPort } from "@kafka-analog/lib/net";
import { watchParent } from "@kafka-analog/lib/process";

/** A gateway's command line, validated. */
export interface GatewayFlags {
  /** Address to bind; 127.0.0.1 unless `--host` says otherwise. */
  hostname: string;
  port: number;
  /** "host:port" of brokers and/or the coordinator, from `--bootstrap a:1,b:2`. */
  bootstrap: string[];
  /** False with `--ignore-stdin` (a gateway run by hand with stdin closed). */
  watchStdin: boolean;
}

/** The usage line printed with a flag error. */
export const GATEWAY_USAGE =
  "usage: main_*.ts [--host 127.0.0.1] [--port N] [--bootstrap host:port,...] [--ignore-stdin]";

/**
 * Parses `--host`, `--port`, `--bootstrap` and `--ignore-stdin`. A bad or
 * unknown flag throws an Error whose message names it.
 */
export function parseGatewayFlags(
  args: string[],
  defaults: { port: number; bootstrap?: string },
): GatewayFlags {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: String(defaults.port) },
      bootstrap: { type: "string", default: defaults.bootstrap ?? "127.0.0.1:9092" },
      "ignore-stdin": { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const hostname = values.host;
  if (hostname === "") throw new Error("Invalid flag '--host': must not be empty");
  const port = Number(values.port);
  if (!/^[0-9]+$/.test(values.port) || port > 65535) {
    throw new Error(`Invalid flag '--port': must be an integer 0..65535: got '${values.port}'`);
  }
  const bootstrap = values.bootstrap.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (bootstrap.length === 0) {
    throw new Error("Invalid flag '--bootstrap': must name at least one host:port");
  }
  for (const address of bootstrap) {
    try {
      parseHostPort(address);
    } catch (err) {
      throw new Error(`Invalid flag '--bootstrap': ${(err as Error).message}`);
    }
  }
  return { hostname, port, bootstrap, watchStdin: !values["ignore-stdin"] };
}

/** Options for {@linkcode serveGateway}. */
export interface ServeGatewayOptions {
  hostname: string;
  port: number;
  watchStdin: boolean;
  logger: Logger;
  /** Releases what the app uses (the cluster client) after the server stopped. */
  onStop(): Promise<void>;
  /** Longest in-flight requests (long polls) may hold up the shutdown. Default 5000 ms. */
  drainTimeoutMs?: number;
}

/**
 * Serves `app` until the parent goes away or a signal arrives, drains
 * in-flight requests (bounded), then calls `onStop`. Resolves when done.
 */
export async function serveGateway(app: Hono, options: ServeGatewayOptions): Promise<void> {
  const { logger } = options;
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: controller.signal,
    onListen: (addr) => logger.info("listening", { hostname: addr.hostname, port: addr.port }),
  }, app.fetch);
  const stopping = new Promise<void>((resolve) => {
    controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const stopWatching = watchParent((reason) => {
    logger.info("shutting down", { reason });
    controller.abort();
  }, { stdin: options.watchStdin });
  // Aborting stops accepting; in-flight requests (long polls) get a bounded time to finish.
  await Promise.race([
    server.finished,
    stopping.then(() => sleep(options.drainTimeoutMs ?? 5_000)),
  ]);
  stopWatching();
  await options.onStop();
  logger.info("stopped");
}
