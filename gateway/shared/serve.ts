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
import { KaError } from "@kafka-analog/lib/errors";
import {
  GATEWAY_REQUEST_TIMEOUT_MS,
  GATEWAY_REQUESTS_MAX,
  GATEWAY_REQUESTS_PER_IP_MAX,
} from "@kafka-analog/lib/limits";
import { errorBody, RETRY_AFTER_SECONDS } from "./errors.ts";
import { parseHostPort } from "@kafka-analog/lib/net";
import { watchParent } from "@kafka-analog/lib/process";
import { serveTcpFront, type TcpFront } from "./tcp_front.ts";

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
  /** `--requests-max`: HTTP requests handled at once (config `limits.gateway_requests_max`). */
  requestsMax: number | null;
  /** `--requests-per-ip-max`: requests in progress per client IP. */
  requestsPerIpMax: number | null;
  /** `--request-timeout-ms`: longest one HTTP request may take. */
  requestTimeoutMs: number | null;
  /** `--console host:port`: the coordinator console the dashboard asks (writer); null without. */
  console: string | null;
  /**
   * `--socket PATH`: serve HTTP on this Unix socket behind a TCP front that
   * enforces the connection limits below; null serves on the port directly,
   * without them (see {@linkcode serveGateway}).
   */
  socketPath: string | null;
  /** `--connections-max`: connections open at once (config `limits.gateway_connections_max`). */
  connectionsMax: number | null;
  /** `--connections-per-ip-max`: connections one IP may hold (`limits.connections_per_ip_max`). */
  connectionsPerIpMax: number | null;
  /** `--idle-timeout-ms`: a connection with no request in progress and no bytes this long closes. */
  idleTimeoutMs: number | null;
  /** `--io-timeout-ms`: longest a client may take to send a request head or read an answer. */
  ioTimeoutMs: number | null;
}

/** The usage line printed with a flag error. */
export const GATEWAY_USAGE = "usage: main_*.ts [--host 127.0.0.1] [--port N] " +
  "[--bootstrap host:port,...] [--auth-token T]... [--auth-token-env NAME] " +
  "[--batch-max N] [--subscription-idle-ms N] [--requests-max N] [--requests-per-ip-max N] " +
  "[--request-timeout-ms N] [--console host:port] [--socket PATH] [--connections-max N] " +
  "[--connections-per-ip-max N] [--idle-timeout-ms N] [--io-timeout-ms N] [--ignore-stdin]";

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
      "requests-max": { type: "string" },
      "requests-per-ip-max": { type: "string" },
      "request-timeout-ms": { type: "string" },
      console: { type: "string" },
      socket: { type: "string" },
      "connections-max": { type: "string" },
      "connections-per-ip-max": { type: "string" },
      "idle-timeout-ms": { type: "string" },
      "io-timeout-ms": { type: "string" },
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
  const consoleAddress = values.console ?? null;
  if (consoleAddress !== null) {
    try {
      parseHostPort(consoleAddress);
    } catch (err) {
      throw new Error(`Invalid flag '--console': ${(err as Error).message}`);
    }
  }
  const socketPath = values.socket ?? null;
  if (socketPath !== null && !socketPath.startsWith("/")) {
    throw new Error(`Invalid flag '--socket': must be an absolute path: got '${socketPath}'`);
  }
  // sockaddr_un holds 108 bytes, the terminating NUL included.
  if (socketPath !== null && new TextEncoder().encode(socketPath).length > 107) {
    throw new Error(
      `Invalid flag '--socket': a Unix socket path must be at most 107 bytes: got '${socketPath}'`,
    );
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
    requestsMax: positiveInt("--requests-max", values["requests-max"], 65_536),
    requestsPerIpMax: positiveInt("--requests-per-ip-max", values["requests-per-ip-max"], 65_536),
    requestTimeoutMs: positiveInt("--request-timeout-ms", values["request-timeout-ms"], 3_600_000),
    console: consoleAddress,
    socketPath,
    connectionsMax: positiveInt("--connections-max", values["connections-max"], 65_536),
    connectionsPerIpMax: positiveInt(
      "--connections-per-ip-max",
      values["connections-per-ip-max"],
      65_536,
    ),
    idleTimeoutMs: positiveInt("--idle-timeout-ms", values["idle-timeout-ms"], 86_400_000),
    ioTimeoutMs: positiveInt("--io-timeout-ms", values["io-timeout-ms"], 3_600_000),
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
  /** See {@linkcode RequestLimits}; null or absent takes the default. */
  requestsMax?: number | null;
  requestsPerIpMax?: number | null;
  requestTimeoutMs?: number | null;
  /** Serve behind a TCP front on this Unix socket (see {@linkcode GatewayFlags.socketPath}). */
  socketPath?: string | null;
  /** The front's limits; null or absent takes the listener defaults. */
  connectionsMax?: number | null;
  connectionsPerIpMax?: number | null;
  idleTimeoutMs?: number | null;
  ioTimeoutMs?: number | null;
}

/** The limits {@linkcode limitRequests} applies to a gateway's HTTP requests. */
export interface RequestLimits {
  /** Requests handled at once; more get 429 (default GATEWAY_REQUESTS_MAX). */
  requestsMax: number;
  /** Requests in progress per client IP; more get 429 (default GATEWAY_REQUESTS_PER_IP_MAX). */
  requestsPerIpMax: number;
  /** Longest one request may take before it is answered 504 (default GATEWAY_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
}

/** A `Deno.serve` handler. */
export type ServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

function jsonError(err: KaError): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (err.httpStatus === 429 || err.httpStatus === 503) {
    headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  }
  return new Response(JSON.stringify(errorBody(err)), { status: err.httpStatus, headers });
}

/**
 * Wraps `handler` so a gateway serves a bounded number of requests at once,
 * in total and per client IP (more get 429 THROTTLING_QUOTA_EXCEEDED, with
 * Retry-After), and answers any request still running after
 * `requestTimeoutMs` with 504 REQUEST_TIMED_OUT. A WebSocket counts only
 * until its upgrade is answered. Refusals are logged at most once a second.
 */
export function limitRequests(
  handler: ServeHandler,
  limits: Partial<RequestLimits>,
  logger?: Logger,
): ServeHandler {
  const requestsMax = limits.requestsMax ?? GATEWAY_REQUESTS_MAX;
  const requestsPerIpMax = limits.requestsPerIpMax ?? GATEWAY_REQUESTS_PER_IP_MAX;
  const requestTimeoutMs = limits.requestTimeoutMs ?? GATEWAY_REQUEST_TIMEOUT_MS;
  let active = 0;
  const perIp = new Map<string, number>();
  let refused = 0;
  let loggedAt = -Infinity;
  return async (request, info) => {
    // Behind the TCP front (a Unix socket) there is no client IP: the front's per-IP
    // connection maximum bounds each IP's requests instead (one at a time per connection).
    const ip = info.remoteAddr.transport === "tcp"
      ? (info.remoteAddr as Deno.NetAddr).hostname
      : null;
    const fromIp = ip === null ? 0 : perIp.get(ip) ?? 0;
    if (active >= requestsMax || fromIp >= requestsPerIpMax) {
      refused++;
      const now = performance.now();
      if (now - loggedAt >= 1_000) {
        logger?.warn("refusing requests", {
          reason: active >= requestsMax ? "requestsMax" : "requestsPerIpMax",
          ip,
          refused,
        });
        loggedAt = now;
        refused = 0;
      }
      return jsonError(
        KaError.of(
          "THROTTLING_QUOTA_EXCEEDED",
          active >= requestsMax
            ? `The gateway is handling ${requestsMax} requests already; retry later`
            : `${ip} has ${requestsPerIpMax} requests in progress already; retry later`,
        ),
      );
    }
    active++;
    if (ip !== null) perIp.set(ip, fromIp + 1);
    // The slot is freed when the handler really ends, not when the 504 goes out: a
    // timed-out handler still works, and counting it keeps the work bounded.
    const work = Promise.resolve().then(() => handler(request, info));
    work.catch(() => {}).finally(() => {
      active--;
      if (ip !== null) {
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left <= 0) perIp.delete(ip);
        else perIp.set(ip, left);
      }
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<Response>((resolve) => {
          timer = setTimeout(() => {
            logger?.warn("request timed out", {
              method: request.method,
              url: request.url,
              requestTimeoutMs,
            });
            resolve(jsonError(
              KaError.of(
                "REQUEST_TIMED_OUT",
                `The request took longer than ${requestTimeoutMs} ms`,
              ),
            ));
          }, requestTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The raw HTTP answer the TCP front sends for a request past
 * `requestsPerIpMax`: the same 429 THROTTLING_QUOTA_EXCEEDED (with
 * Retry-After) {@linkcode limitRequests} gives, then the connection closes.
 */
export function perIpRefusal(ip: string): Uint8Array {
  const body = JSON.stringify(errorBody(KaError.of(
    "THROTTLING_QUOTA_EXCEEDED",
    `${ip} has too many requests in progress already; retry later`,
  )));
  return new TextEncoder().encode(
    "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n" +
      `retry-after: ${RETRY_AFTER_SECONDS}\r\nconnection: close\r\n` +
      `content-length: ${new TextEncoder().encode(body).length}\r\n\r\n${body}`,
  );
}

/**
 * Serves `app` until the parent goes away or a signal arrives, drains
 * in-flight requests (bounded), then calls `onStop`. Resolves when done.
 *
 * With `socketPath`, HTTP is served on that Unix socket (a stale socket file
 * is replaced; the file is removed on exit) and the public port is a
 * {@linkcode serveTcpFront} that enforces the connection limits; the process
 * needs read and write permission for that one path. Without it, `Deno.serve`
 * takes the port itself and only the per-request limits apply (a warning
 * says so).
 */
export async function serveGateway(app: Hono, options: ServeGatewayOptions): Promise<void> {
  const { logger } = options;
  const controller = new AbortController();
  const handler = limitRequests((request, info) => app.fetch(request, info), {
    requestsMax: options.requestsMax ?? undefined,
    requestsPerIpMax: options.requestsPerIpMax ?? undefined,
    requestTimeoutMs: options.requestTimeoutMs ?? undefined,
  }, logger);
  const socketPath = options.socketPath ?? null;
  let server: Deno.HttpServer;
  let front: TcpFront | null = null;
  if (socketPath === null) {
    logger.warn("no --socket: serving without connection limits", {});
    server = Deno.serve(
      {
        hostname: options.hostname,
        port: options.port,
        signal: controller.signal,
        onListen: (addr) => logger.info("listening", { hostname: addr.hostname, port: addr.port }),
      },
      handler,
    );
  } else {
    await Deno.remove(socketPath).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    server = Deno.serve({ path: socketPath, signal: controller.signal, onListen() {}, handler });
    front = serveTcpFront({
      hostname: options.hostname,
      port: options.port,
      connectBackend: () => Deno.connect({ transport: "unix", path: socketPath }),
      limits: {
        connectionsMax: options.connectionsMax ?? undefined,
        connectionsPerIpMax: options.connectionsPerIpMax ?? undefined,
        idleTimeoutMs: options.idleTimeoutMs ?? undefined,
        requestTimeoutMs: options.ioTimeoutMs ?? undefined,
      },
      // The server behind sees no client IP: the front counts each IP's requests instead.
      requestsPerIpMax: options.requestsPerIpMax ?? GATEWAY_REQUESTS_PER_IP_MAX,
      refusal: perIpRefusal,
      logger,
      onListen: (addr) =>
        logger.info("listening", { hostname: addr.hostname, port: addr.port, socket: socketPath }),
    });
  }
  const stopping = new Promise<void>((resolve) => {
    controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const stopWatching = watchParent((reason) => {
    logger.info("shutting down", { reason });
    front?.close();
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
  if (front !== null) {
    await front.stop();
    await Deno.remove(socketPath!).catch(() => {});
  }
  await options.onStop();
  logger.info("stopped");
}
