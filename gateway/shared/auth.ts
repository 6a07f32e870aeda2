/**
 * Bearer-token authentication of the `/api/*` routes. A request carries
 * `Authorization: Bearer <token>`; a WebSocket client that cannot set
 * headers (browsers) may pass `?access_token=<token>` on the stream route.
 * No token (or a header that is not `Bearer <token>`) is 401 with
 * `WWW-Authenticate: Bearer`; a token that is not accepted is 403.
 * `/health` and `/metrics` stay open, so probes and scrapers need no secret.
 *
 * Tokens are compared through their SHA-256 digests with a constant-time
 * comparison, so the time taken says nothing about how much of a token matched.
 * With no tokens configured the middleware lets everything through; the
 * process refuses to start that way on a non-loopback address
 * (`serve.ts`).
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "./errors.ts";

/** Options of {@linkcode bearerAuth}. */
export interface BearerAuthOptions {
  /** Accepted tokens; empty turns authentication off. */
  tokens: readonly string[];
  /** Whether `?access_token=` may stand in for the header (WebSocket routes). */
  allowQueryToken?: (path: string) => boolean;
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}

/** True when `token` is one of `digests` (constant time per candidate). */
function matches(token: string, digests: readonly Uint8Array[]): boolean {
  const d = digest(token);
  let found = false;
  for (const candidate of digests) found = timingSafeEqual(d, candidate) || found;
  return found;
}

/** The token a request presents; 401 when there is none or the header is not `Bearer <token>`. */
function presentedToken(header: string | undefined, queryToken: string | undefined): string {
  if (header !== undefined) {
    const m = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
    if (m) return m[1];
    throw new GatewayError(
      "UNAUTHENTICATED",
      "Malformed 'Authorization' header: expected 'Bearer <token>'",
    );
  }
  if (queryToken !== undefined && queryToken !== "") return queryToken;
  throw new GatewayError(
    "UNAUTHENTICATED",
    "Missing bearer token: send 'Authorization: Bearer <token>'",
  );
}

/** Middleware that requires one of `options.tokens` (none: lets everything through). */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  const digests = options.tokens.map(digest);
  return async function auth(c, next) {
    if (digests.length === 0) return await next();
    const queryToken = options.allowQueryToken?.(c.req.path)
      ? c.req.query("access_token")
      : undefined;
    const token = presentedToken(c.req.header("authorization"), queryToken);
    if (!matches(token, digests)) {
      throw new GatewayError("FORBIDDEN", "The bearer token is not accepted");
    }
    await next();
  };
}
