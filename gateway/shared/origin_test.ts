import assert from "node:assert/strict";
import { Hono } from "hono";
import { browserAttackReason, loopbackOriginGuard } from "./origin.ts";
import { createErrorHandler } from "./errors.ts";
import { createLogger } from "@kafka-analog/lib/log";

Deno.test("browserAttackReason() lets non-browser and same-origin requests through", () => {
  assert.equal(browserAttackReason({}), null); // HTTP/1.0 without Host
  assert.equal(browserAttackReason({ host: "127.0.0.1:3001" }), null); // curl
  assert.equal(browserAttackReason({ host: "localhost:3001" }), null);
  assert.equal(browserAttackReason({ host: "[::1]:3001" }), null);
  assert.equal(browserAttackReason({ host: "127.0.0.1:3001", fetchSite: "none" }), null);
  assert.equal(
    browserAttackReason({
      host: "127.0.0.1:3001",
      origin: "http://127.0.0.1:3001",
      fetchSite: "same-origin",
    }),
    null,
  );
});

Deno.test("browserAttackReason() names cross-site, cross-origin and rebinding requests", () => {
  assert.match(browserAttackReason({ host: "evil.example:3001" })!, /DNS rebinding/);
  assert.match(browserAttackReason({ host: "10.0.0.1:3001" })!, /not a loopback/);
  assert.match(
    browserAttackReason({ host: "127.0.0.1:3001", fetchSite: "cross-site" })!,
    /Cross-site/,
  );
  assert.match(
    browserAttackReason({ host: "127.0.0.1:3001", fetchSite: "same-site" })!,
    /Cross-site/,
  );
  // Another port on the same machine is another origin (another local web app).
  assert.match(
    browserAttackReason({ host: "127.0.0.1:3001", origin: "http://127.0.0.1:8000" })!,
    /Cross-origin/,
  );
  assert.match(
    browserAttackReason({ host: "127.0.0.1:3001", origin: "https://evil.example" })!,
    /Cross-origin/,
  );
  assert.match(browserAttackReason({ host: "127.0.0.1:3001", origin: "null" })!, /not a URL/);
});

Deno.test("loopbackOriginGuard() answers 403 FORBIDDEN to a cross-site POST, passes curl", async () => {
  const app = new Hono();
  app.onError(createErrorHandler(createLogger("test", { sink: () => {} })));
  app.use(loopbackOriginGuard());
  app.post("/api/x", (c) => c.json({ ok: true }));
  const curl = await app.request("http://127.0.0.1:3001/api/x", { method: "POST" });
  assert.equal(curl.status, 200);
  const attack = await app.request("http://127.0.0.1:3001/api/x", {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "text/plain" },
  });
  assert.equal(attack.status, 403);
  const body = await attack.json();
  assert.equal(body.error.name, "FORBIDDEN");
});
