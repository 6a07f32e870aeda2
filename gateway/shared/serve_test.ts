/**
 * Tests of the gateway command line.
 * @module
 */
import assert from "node:assert/strict";
import { parseGatewayFlags } from "./serve.ts";

Deno.test("parseGatewayFlags() defaults to 127.0.0.1, the given port and a local broker", () => {
  assert.deepEqual(parseGatewayFlags([], { port: 3001 }), {
    hostname: "127.0.0.1",
    port: 3001,
    bootstrap: ["127.0.0.1:9092"],
    watchStdin: true,
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
  });
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
    [["--verbose"], /verbose/],
    [["extra"], /extra/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(() => parseGatewayFlags(args, { port: 3001 }), pattern, args.join(" "));
  }
});
