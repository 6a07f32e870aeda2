/**
 * What both gateway apps share: one structured log line per request, the one
 * error handler, the JSON 404 for unknown routes, and `GET /health`.
 * @module
 */
import { Hono } from "hono";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import type { GatewayCluster } from "./cluster.ts";
import { createErrorHandler, notFoundHandler } from "./errors.ts";

/** Options both `createWriterApp` and `createReaderApp` take. */
export interface GatewayAppOptions {
  /** Where request lines and unexpected errors go; defaults to a stderr logger. */
  logger?: Logger;
  /** Monotonic milliseconds for request durations; defaults to `performance.now`. */
  now?: () => number;
}

/** A Hono app with request logging, the error handler, the 404 handler and `GET /health`. */
export function createBaseApp(
  component: string,
  cluster: GatewayCluster,
  options: GatewayAppOptions,
): { app: Hono; logger: Logger } {
  const logger = options.logger ?? createLogger(component);
  const now = options.now ?? (() => performance.now());
  const app = new Hono();
  app.use(async (c, next) => {
    const startMs = now();
    await next();
    logger.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((now() - startMs) * 10) / 10,
    });
  });
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  app.get("/health", async (c) => {
    const { ok, brokers } = await cluster.health();
    return c.json({ status: ok ? "ok" : "unavailable", brokers }, ok ? 200 : 503);
  });
  return { app, logger };
}
