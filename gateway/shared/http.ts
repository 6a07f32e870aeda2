/**
 * What both gateway apps share: the loopback browser guard (`origin.ts`),
 * bearer-token authentication of `/api/*`,
 * one structured log line per request (method, path, route, status,
 * latency, error name), Prometheus metrics (`GET /metrics`), the one error
 * handler, the JSON 404 for unknown routes, and `GET /health` (200 when the
 * cluster answers a metadata request, else 503).
 * @module
 */
import { Hono } from "hono";
import { routePath } from "hono/route";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import { bearerAuth } from "./auth.ts";
import { loopbackOriginGuard } from "./origin.ts";
import type { GatewayCluster } from "./cluster.ts";
import {
  answeredError,
  createErrorHandler,
  notFoundHandler,
  RETRY_AFTER_SECONDS,
} from "./errors.ts";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.ts";

/** Options both `createWriterApp` and `createReaderApp` take. */
export interface GatewayAppOptions {
  /** Where request lines and unexpected errors go; defaults to a stderr logger. */
  logger?: Logger;
  /** Monotonic milliseconds for request durations; defaults to `performance.now`. */
  now?: () => number;
  /** Bearer tokens `/api/*` requires; none (the default) turns authentication off. */
  authTokens?: readonly string[];
  /** The metrics to count into; a fresh registry by default. */
  metrics?: GatewayMetrics;
  /**
   * Refuse cross-site and DNS-rebinding browser requests (`origin.ts`): on
   * (the default) for a gateway on a loopback address; the main files turn it
   * off for other addresses, where bearer tokens are required instead.
   */
  loopbackGuard?: boolean;
}

/** The shared parts of a gateway app. */
export interface BaseApp {
  app: Hono;
  logger: Logger;
  metrics: GatewayMetrics;
}

/** A Hono app with auth, request logging, metrics, the error handlers and `GET /health`. */
export function createBaseApp(
  component: string,
  cluster: GatewayCluster,
  options: GatewayAppOptions,
  auth: { allowQueryToken?: (path: string) => boolean } = {},
): BaseApp {
  const logger = options.logger ?? createLogger(component);
  const now = options.now ?? (() => performance.now());
  const metrics = options.metrics ?? createGatewayMetrics();
  const app = new Hono();
  app.use(async (c, next) => {
    const startMs = now();
    await next();
    const durationMs = now() - startMs;
    const matched = routePath(c, -1);
    // Unmatched paths all count as one route, so the label stays bounded.
    const route = matched === "" || matched.endsWith("*") ? "unmatched" : matched;
    const status = c.res.status;
    const error = answeredError(c);
    metrics.requests.inc({ method: c.req.method, route, status: String(status) });
    metrics.requestSeconds.observe({ method: c.req.method, route }, durationMs / 1000);
    if (error !== undefined) metrics.errors.inc({ error });
    logger.info("request", {
      method: c.req.method,
      path: c.req.path,
      route,
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(error === undefined ? {} : { error }),
    });
  });
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  if (options.loopbackGuard ?? true) app.use(loopbackOriginGuard());
  app.use("/api/*", bearerAuth({ tokens: options.authTokens ?? [], ...auth }));
  app.get("/health", async (c) => {
    const { ok, brokers } = await cluster.health();
    if (!ok) c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    return c.json({ status: ok ? "ok" : "unavailable", brokers }, ok ? 200 : 503);
  });
  app.get("/metrics", (c) => {
    return c.body(metrics.registry.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });
  return { app, logger, metrics };
}
