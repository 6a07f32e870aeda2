/**
 * Browser-attack guard for a gateway on a loopback address, where the
 * default configuration has no bearer token: without it any web page the
 * user opens could drive the API through the browser (a form or `fetch`
 * POST to `http://127.0.0.1:3001/...` stopping brokers or producing
 * messages; a WebSocket reading a topic), and a DNS-rebinding page could
 * even read the answers.
 *
 * Two checks, on every request:
 * - DNS rebinding: the `Host` header must name a loopback host
 *   (`127.x.x.x`, `localhost`, `[::1]`), since a page served from
 *   `evil.example` that resolves to 127.0.0.1 still sends `Host: evil.example`;
 * - cross-site requests: when the browser says where the request comes from
 *   (`Origin`, or `Sec-Fetch-Site`), it must be this very origin (or the
 *   user typing the address: `Sec-Fetch-Site: none`).
 * Clients that are not browsers (curl, the client library, kcat through a
 * gateway) send neither `Origin` nor `Sec-Fetch-Site` and pass. A refused
 * request is 403 FORBIDDEN. A gateway on any other address must have bearer
 * tokens (`serve.ts` refuses to start otherwise), which a foreign page
 * cannot send, so this guard is only installed for loopback gateways.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "./errors.ts";
import { isLoopback } from "./serve.ts";

/** The hostname part of a `Host` header (`127.0.0.1:3001` → `127.0.0.1`, `[::1]:80` → `::1`). */
function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** Why `request` is refused, or null when it may go on. */
export function browserAttackReason(
  headers: { host?: string; origin?: string; fetchSite?: string },
): string | null {
  const { host, origin, fetchSite } = headers;
  if (host !== undefined && !isLoopback(hostnameOf(host))) {
    return `Host '${host}' is not a loopback name (DNS rebinding?)`;
  }
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    return `Cross-site request (Sec-Fetch-Site: ${fetchSite})`;
  }
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return `Origin '${origin}' is not a URL`;
    }
    if (host === undefined || originHost !== host.trim().toLowerCase()) {
      return `Cross-origin request from '${origin}'`;
    }
  }
  return null;
}

/** Hono middleware refusing requests {@linkcode browserAttackReason} names, with 403. */
export function loopbackOriginGuard(): MiddlewareHandler {
  return async (c, next) => {
    const reason = browserAttackReason({
      host: c.req.header("host"),
      origin: c.req.header("origin"),
      fetchSite: c.req.header("sec-fetch-site"),
    });
    if (reason !== null) throw new GatewayError("FORBIDDEN", reason);
    await next();
  };
}
