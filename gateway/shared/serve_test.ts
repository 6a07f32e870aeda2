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
