/**
 * Tests of the gateway command line and the auth-required rule.
 * @module
 */
import assert from "node:assert/strict";
import { checkAuthRequired, isLoopback, parseGatewayFlags, tokensFromEnv } from "./serve.ts";

const DEFAULTS = {
  authTokens: [],
  authTokenEnv: null,
  batchMessagesMax: null,
  subscriptionIdleMs: null,
};

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
