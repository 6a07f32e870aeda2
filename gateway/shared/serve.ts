/**
 * Running a gateway process: parsing its flags and serving an app until the
 * coordinator goes away (stdin EOF, parent pid change) or a SIGTERM/SIGINT
 * arrives, then shutting down gracefully. Only `main_writer.ts` and
 * `main_reader.ts` call this; they pass `Deno.args` (and the environment
 * variable `--auth-token-env` names) in.
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
  /** Bearer tokens from `--auth-token` (repeatable). */
  authTokens: string[];
  /** An environment variable holding more tokens (comma-separated), from `--auth-token-env`. */
  authTokenEnv: string | null;
  /** `--batch-max`: messages per batch (writer). */
  batchMessagesMax: number | null;
  /** `--subscription-idle-ms`: idle time before a subscription expires (reader). */
  subscriptionIdleMs: number | null;
}

/** The usage line printed with a flag error. */
export const GATEWAY_USAGE = "usage: main_*.ts [--host 127.0.0.1] [--port N] " +
  "[--bootstrap host:port,...] [--auth-token T]... [--auth-token-env NAME] " +
  "[--batch-max N] [--subscription-idle-ms N] [--ignore-stdin]";

function positiveInt(flag: string, raw: string | undefined, max: number): number | null {
  if (raw === undefined) return null;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < 1 || value > max) {
    throw new Error(`Invalid flag '${flag}': must be an integer 1..${max}: got '${raw}'`);
  }
  return value;
}

/**
 * Parses the flags. A bad or unknown flag throws an Error whose message names it.
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
      "auth-token": { type: "string", multiple: true, default: [] },
      "auth-token-env": { type: "string" },
      "batch-max": { type: "string" },
      "subscription-idle-ms": { type: "string" },
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
  const authTokens = values["auth-token"];
  for (const token of authTokens) checkToken("--auth-token", token);
  const authTokenEnv = values["auth-token-env"] ?? null;
  if (authTokenEnv !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(authTokenEnv)) {
    throw new Error(`Invalid flag '--auth-token-env': not a variable name: '${authTokenEnv}'`);
  }
  return {
    hostname,
    port,
    bootstrap,
    watchStdin: !values["ignore-stdin"],
    authTokens,
    authTokenEnv,
    batchMessagesMax: positiveInt("--batch-max", values["batch-max"], 100_000),
    subscriptionIdleMs: positiveInt(
      "--subscription-idle-ms",
      values["subscription-idle-ms"],
      86_400_000,
    ),
  };
}

function checkToken(source: string, token: string): void {
  if (token.length < 8 || /\s/.test(token)) {
    throw new Error(
      `Invalid ${source}: a token must be at least 8 characters without whitespace`,
    );
  }
}

/**
 * Tokens from the value of the `--auth-token-env` variable: comma-separated,
 * blanks ignored; a malformed token throws naming the variable.
 */
export function tokensFromEnv(name: string, value: string | undefined): string[] {
  const tokens = (value ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
  for (const token of tokens) checkToken(`environment variable '${name}'`, token);
  return tokens;
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.[0-9]{1,3}){3}$/.test(h);
}

/**
 * Refuses to serve without tokens on an address other machines can reach:
 * throws an Error saying what to pass.
 */
export function checkAuthRequired(hostname: string, tokens: readonly string[]): void {
  if (tokens.length > 0 || isLoopback(hostname)) return;
  throw new Error(
    `Refusing to listen on '${hostname}' without authentication: ` +
      "pass --auth-token or --auth-token-env (or bind a loopback address)",
  );
}

/** Options for {@linkcode serveGateway}. */
export interface ServeGatewayOptions {
  hostname: string;
  port: number;
  watchStdin: boolean;
  logger: Logger;
  /** Releases what the app uses (the cluster client) after the server stopped. */
  onStop(): Promise<void>;
  /** Called when shutdown starts, before draining (ends WebSocket streams, which never drain). */
  onStopping?(): Promise<void>;
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
    stopping.then(async () => {
      await options.onStopping?.();
      await sleep(options.drainTimeoutMs ?? 5_000);
    }),
  ]);
  stopWatching();
  await options.onStop();
  logger.info("stopped");
}
