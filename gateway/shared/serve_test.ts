/**
 * Tests of the gateway command line and the auth-required rule.
 * @module
 */
import assert from "node:assert/strict";
import {
  checkAuthRequired,
  isLoopback,
  limitRequests,
  parseGatewayFlags,
  perIpRefusal,
  tokensFromEnv,
} from "./serve.ts";

const DEFAULTS = {
  authTokens: [],
  authTokenEnv: null,
  batchMessagesMax: null,
  subscriptionIdleMs: null,
  requestsMax: null,
  requestsPerIpMax: null,
  requestTimeoutMs: null,
  console: null,
  socketPath: null,
  connectionsMax: null,
  connectionsPerIpMax: null,
  idleTimeoutMs: null,
  ioTimeoutMs: null,
};

Deno.test("parseGatewayFlags() reads --console host:port and refuses a malformed one", () => {
  const flags = parseGatewayFlags(["--console", "127.0.0.1:8081"], { port: 3001 });
  assert.equal(flags.console, "127.0.0.1:8081");
  assert.throws(
    () => parseGatewayFlags(["--console", "8081"], { port: 3001 }),
    /Invalid flag '--console'/,
  );
});

Deno.test("parseGatewayFlags() defaults to 127.0.0.1, the given port and a local broker", () => {
  assert.deepEqual(parseGatewayFlags([], { port: 3001 }), {
    hostname: "127.0.0.1",
    port: 3001,
    bootstrap: ["127.0.0.1:9092"],
    watchStdin: true,
    ...DEFAULTS,
  });
});

Deno.test("parseGatewayFlags() reads --host, --port, --bootstrap and --ignore-stdin", () => {
  const flags = parseGatewayFlags(
    [
      "--host",
      "localhost",
      "--port=0",
      "--bootstrap",
      "127.0.0.1:9092, 127.0.0.1:9093,",
      "--ignore-stdin",
    ],
    { port: 3002 },
  );
  assert.deepEqual(flags, {
    hostname: "localhost",
    port: 0,
    bootstrap: ["127.0.0.1:9092", "127.0.0.1:9093"],
    watchStdin: false,
    ...DEFAULTS,
  });
});

Deno.test("parseGatewayFlags() reads tokens, the token variable and the limits", () => {
  const flags = parseGatewayFlags(
    [
      "--auth-token",
      "first-token",
      "--auth-token=second-token",
      "--auth-token-env",
      "KA_GATEWAY_TOKENS",
      "--batch-max",
      "500",
      "--subscription-idle-ms",
      "60000",
    ],
    { port: 3001 },
  );
  assert.deepEqual(flags.authTokens, ["first-token", "second-token"]);
  assert.equal(flags.authTokenEnv, "KA_GATEWAY_TOKENS");
  assert.equal(flags.batchMessagesMax, 500);
  assert.equal(flags.subscriptionIdleMs, 60000);
});

Deno.test("parseGatewayFlags() names the bad flag", () => {
  const cases: [string[], RegExp][] = [
    [["--port", "http"], /'--port'/],
    [["--port", "70000"], /'--port'/],
    [["--port", "-1"], /port/],
    [["--bootstrap", ""], /'--bootstrap'/],
    [["--bootstrap", "127.0.0.1"], /'--bootstrap'.*host:port/],
    [["--bootstrap", "a:1,b:0"], /'--bootstrap'/],
    [["--host", ""], /'--host'/],
    [["--auth-token", "short"], /--auth-token.*8 characters/],
    [["--auth-token", "has a space"], /--auth-token/],
    [["--auth-token-env", "1BAD"], /'--auth-token-env'/],
    [["--batch-max", "0"], /'--batch-max'/],
    [["--subscription-idle-ms", "x"], /'--subscription-idle-ms'/],
    [["--verbose"], /verbose/],
    [["extra"], /extra/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(() => parseGatewayFlags(args, { port: 3001 }), pattern, args.join(" "));
  }
});

Deno.test("tokensFromEnv() splits on commas and checks each token", () => {
  assert.deepEqual(tokensFromEnv("T", " token-one , ,token-two"), ["token-one", "token-two"]);
  assert.deepEqual(tokensFromEnv("T", undefined), []);
  assert.throws(() => tokensFromEnv("T", "ok-token-1,bad"), /environment variable 'T'/);
});

Deno.test("tokens are required on any address but loopback", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert.ok(isLoopback(host), host);
    checkAuthRequired(host, []);
  }
  for (const host of ["0.0.0.0", "10.0.0.5", "::", "example.com", "128.0.0.1"]) {
    assert.ok(!isLoopback(host), host);
    assert.throws(
      () => checkAuthRequired(host, []),
      /Refusing to listen on .* without authentication/,
    );
    checkAuthRequired(host, ["a-token-123"]);
  }
});

function infoFrom(hostname: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname, port: 1 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
}

Deno.test("limitRequests() answers 429 beyond the per-IP and total limits, then frees the slots", async () => {
  const gates: (() => void)[] = [];
  const handler = limitRequests(
    () => new Promise<Response>((resolve) => gates.push(() => resolve(new Response("ok")))),
    { requestsMax: 3, requestsPerIpMax: 2, requestTimeoutMs: 60_000 },
  );
  const req = () => new Request("http://x/");
  const a1 = handler(req(), infoFrom("10.0.0.1"));
  const a2 = handler(req(), infoFrom("10.0.0.1"));
  const a3 = await handler(req(), infoFrom("10.0.0.1"));
  assert.equal(a3.status, 429);
  assert.equal(a3.headers.get("retry-after"), "1");
  assert.equal((await a3.json()).error.name, "THROTTLING_QUOTA_EXCEEDED");
  const b1 = handler(req(), infoFrom("10.0.0.2"));
  const b2 = await handler(req(), infoFrom("10.0.0.3"));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(b2.status, 429, "the total limit (3) is reached");
  for (const open of gates.splice(0)) open();
  for (const r of await Promise.all([a1, a2, b1])) assert.equal(r.status, 200);
  const again = handler(req(), infoFrom("10.0.0.1"));
  await new Promise((r) => setTimeout(r, 0)); // the handler starts on a later tick
  gates.splice(0).forEach((open) => open());
  assert.equal((await again).status, 200);
});

Deno.test("limitRequests() answers 504 REQUEST_TIMED_OUT after requestTimeoutMs", async () => {
  let release!: () => void;
  const handler = limitRequests(
    () => new Promise<Response>((resolve) => release = () => resolve(new Response("late"))),
    { requestTimeoutMs: 30 },
  );
  const response = await handler(new Request("http://x/"), infoFrom("10.0.0.1"));
  assert.equal(response.status, 504);
  assert.equal((await response.json()).error.name, "REQUEST_TIMED_OUT");
  release();
});

Deno.test("limitRequests() keeps a timed-out handler's slot until the handler ends", async () => {
  let release!: () => void;
  const slow = new Promise<void>((resolve) => release = resolve);
  let calls = 0;
  const handler = limitRequests(async () => {
    calls++;
    if (calls === 1) await slow;
    return new Response("ok");
  }, { requestsMax: 1, requestTimeoutMs: 20 });
  assert.equal((await handler(new Request("http://x/"), infoFrom("10.0.0.1"))).status, 504);
  // The first handler still runs: the one slot is taken.
  assert.equal((await handler(new Request("http://x/"), infoFrom("10.0.0.2"))).status, 429);
  release();
  await slow;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal((await handler(new Request("http://x/"), infoFrom("10.0.0.2"))).status, 200);
});

Deno.test("parseGatewayFlags() reads the request limits", () => {
  const flags = parseGatewayFlags(
    ["--requests-max", "5", "--requests-per-ip-max=2", "--request-timeout-ms", "40000"],
    { port: 3001 },
  );
  assert.equal(flags.requestsMax, 5);
  assert.equal(flags.requestsPerIpMax, 2);
  assert.equal(flags.requestTimeoutMs, 40000);
  assert.throws(() => parseGatewayFlags(["--requests-max", "0"], { port: 1 }), /--requests-max/);
});

Deno.test("parseGatewayFlags() reads the socket and the connection limits", () => {
  const flags = parseGatewayFlags(
    [
      "--socket",
      "/srv/ka/data/gateway-producer.sock",
      "--connections-max=50",
      "--connections-per-ip-max",
      "20",
      "--idle-timeout-ms",
      "5000",
      "--io-timeout-ms",
      "2000",
    ],
    { port: 3001 },
  );
  assert.equal(flags.socketPath, "/srv/ka/data/gateway-producer.sock");
  assert.equal(flags.connectionsMax, 50);
  assert.equal(flags.connectionsPerIpMax, 20);
  assert.equal(flags.idleTimeoutMs, 5000);
  assert.equal(flags.ioTimeoutMs, 2000);
  const bad: [string[], RegExp][] = [
    [["--socket", "relative.sock"], /'--socket'.*absolute/],
    [["--socket", `/${"d".repeat(120)}.sock`], /'--socket'.*107 bytes/],
    [["--connections-max", "0"], /'--connections-max'/],
    [["--connections-per-ip-max", "x"], /'--connections-per-ip-max'/],
    [["--idle-timeout-ms", "-5"], /'--idle-timeout-ms'/],
    [["--io-timeout-ms", ""], /'--io-timeout-ms'/],
  ];
  for (const [args, pattern] of bad) {
    assert.throws(() => parseGatewayFlags(args, { port: 3001 }), pattern, args.join(" "));
  }
});

Deno.test("limitRequests() counts no client IP behind the TCP front (a Unix socket)", async () => {
  const gates: (() => void)[] = [];
  const handler = limitRequests(
    () => new Promise<Response>((resolve) => gates.push(() => resolve(new Response("ok")))),
    { requestsMax: 3, requestsPerIpMax: 1, requestTimeoutMs: 60_000 },
  );
  const unix = {
    remoteAddr: { transport: "unix", path: "" },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
  const pending = [1, 2, 3].map(() => handler(new Request("http://x/"), unix));
  const fourth = await handler(new Request("http://x/"), unix);
  assert.equal(fourth.status, 429, "the total limit still holds");
  await new Promise((r) => setTimeout(r, 0));
  gates.splice(0).forEach((open) => open());
  for (const r of await Promise.all(pending)) assert.equal(r.status, 200, "per-IP is the front's");
});

Deno.test("perIpRefusal() is a whole HTTP/1.1 429 answer with a JSON error", async () => {
  const text = new TextDecoder().decode(perIpRefusal("10.0.0.9"));
  const [head, body] = text.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 429 /);
  assert.match(head, /\r\nretry-after: 1\r\n/);
  assert.match(head, /\r\nconnection: close\r\n/);
  const length = Number(head.match(/content-length: (\d+)/)![1]);
  assert.equal(new TextEncoder().encode(body).length, length);
  const parsed = await new Response(body).json();
  assert.equal(parsed.error.name, "THROTTLING_QUOTA_EXCEEDED");
  assert.match(parsed.error.message, /10\.0\.0\.9/);
});
