/**
 * Tests of `deno task admin`: argument parsing, and runs against a console
 * listener with a fake backend on a loopback port (text, JSON, command
 * errors, connection failures, defaults from config.yaml).
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { parseAdminArgs, runAdmin } from "./admin_main.ts";
import { createFakeBackend } from "./console/_fake_backend.ts";
import { serveConsole } from "./console/server.ts";

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (text: string) => (out.stdout += text),
      stderr: (text: string) => (out.stderr += text),
      readTextFile: (path: string): Promise<string> =>
        Promise.reject(new Deno.errors.NotFound(`no ${path} in this test`)),
    },
  };
}

async function withConsole(
  fn: (port: number, backend: ReturnType<typeof createFakeBackend>) => Promise<void>,
): Promise<void> {
  const backend = createFakeBackend();
  const controller = new AbortController();
  const server = serveConsole(backend, {
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    logger: createLogger("admin-test", { sink: () => {} }),
  });
  try {
    await fn(server.port, backend);
  } finally {
    controller.abort();
    await server.closed;
  }
}

Deno.test("parseAdminArgs() keeps options before the words and the command's own options after", () => {
  assert.deepEqual(
    parseAdminArgs([
      "--json",
      "--host=127.0.0.1",
      "--port",
      "9000",
      "--config",
      "c.yaml",
      "topic",
      "create",
      "t",
      "--config",
      "a=b",
    ]),
    {
      json: true,
      help: false,
      host: "127.0.0.1",
      port: 9000,
      timeoutMs: 300_000,
      configArgs: ["--config", "c.yaml"],
      words: ["topic", "create", "t", "--config", "a=b"],
    },
  );
  assert.deepEqual(parseAdminArgs(["status", "--json"]).json, true);
  assert.deepEqual(parseAdminArgs(["--coordinator.console_port", "9", "status"]).configArgs, [
    "--coordinator.console_port",
    "9",
  ]);
  assert.deepEqual(parseAdminArgs(["--", "--weird"]).words, ["--weird"]);
  assert.throws(() => parseAdminArgs(["--port", "0", "status"]), /'--port'/);
  assert.throws(() => parseAdminArgs(["--port", "70000", "status"]), /'--port'/);
  assert.throws(() => parseAdminArgs(["--port"]), /Missing value for '--port'/);
  assert.throws(() => parseAdminArgs(["--bogus", "status"]), /Unknown option '--bogus'/);
});

Deno.test("runAdmin() prints text and exits 0; JSON with --json", async () => {
  await withConsole(async (port, backend) => {
    const text = capture();
    assert.equal(
      await runAdmin(["--port", String(port), "--host", "127.0.0.1", "status"], text.io),
      0,
    );
    assert.match(text.out.stdout, /coordinator\s*│\s*0\s*│\s*100/);
    assert.equal(text.out.stderr, "");

    const json = capture();
    const args = [
      "--json",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "topic",
      "describe",
      "orders",
    ];
    assert.equal(await runAdmin(args, json.io), 0);
    assert.deepEqual(JSON.parse(json.out.stdout), {
      name: "orders",
      partitions: [
        { partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2], leaderEpoch: 0 },
        { partition: 1, leader: 2, replicas: [2, 3], isr: [2, 3], leaderEpoch: 0 },
      ],
      configs: { "retention.ms": "1000" },
    });

    const spaced = capture();
    const create = ["--port", String(port), "--host", "127.0.0.1", "topic", "create", "n"];
    assert.equal(await runAdmin([...create, "--config", "note=a 'b' \"c\""], spaced.io), 0);
    assert.deepEqual(backend.topics.get("n")?.configs, { note: "a 'b' \"c\"" });

    const quit = capture();
    assert.equal(
      await runAdmin(["--port", String(port), "--host", "127.0.0.1", "quit"], quit.io),
      0,
    );
    assert.equal(quit.out.stdout, "bye\n");
    assert.equal(backend.shutDown, false);
  });
});

Deno.test("runAdmin() exits 1 on a command error, with the error name on stderr", async () => {
  await withConsole(async (port) => {
    const bad = capture();
    assert.equal(
      await runAdmin(
        ["--port", String(port), "--host", "127.0.0.1", "broker", "stop", "9"],
        bad.io,
      ),
      1,
    );
    assert.equal(bad.out.stdout, "");
    assert.equal(bad.out.stderr, "error: UNKNOWN_BROKER: Unknown broker 9\n");

    const badJson = capture();
    const args = ["--json", "--port", String(port), "--host", "127.0.0.1", "broker", "stop", "x"];
    assert.equal(await runAdmin(args, badJson.io), 1);
    const doc = JSON.parse(badJson.out.stdout);
    assert.equal(doc.ok, false);
    assert.equal(doc.error.error, "INVALID_COMMAND");
    assert.match(badJson.out.stderr, /^error: INVALID_COMMAND: Invalid broker id 'x'/);
  });

  const usage = capture();
  assert.equal(await runAdmin([], usage.io), 1);
  assert.match(usage.out.stderr, /Missing command\nusage: deno task admin/);
  const help = capture();
  assert.equal(await runAdmin(["--help"], help.io), 0);
  assert.match(help.out.stdout, /^usage: deno task admin/);
});

Deno.test("runAdmin() exits 2 when the console cannot be reached", async () => {
  // A port that was just free: bind, note it, close.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const run = capture();
  assert.equal(
    await runAdmin(["--port", String(port), "--host", "127.0.0.1", "status"], run.io),
    2,
  );
  assert.match(
    run.out.stderr,
    new RegExp(`^cannot reach the coordinator console at 127\\.0\\.0\\.1:${port}: `),
  );
});

Deno.test("runAdmin() takes the host and console port from config.yaml by default", async () => {
  await withConsole(async (port) => {
    const run = capture();
    const read: string[] = [];
    run.io.readTextFile = (path: string) => {
      read.push(path);
      return Promise.resolve(`coordinator:\n  host: 127.0.0.1\n  console_port: ${port}\n`);
    };
    assert.equal(await runAdmin(["topic", "list"], run.io), 0);
    assert.deepEqual(read, ["config.yaml"]);
    assert.match(run.out.stdout, /orders/);

    const other = capture();
    other.io.readTextFile = (path: string) => {
      read.push(path);
      return Promise.resolve(`coordinator:\n  console_port: ${port}\n`);
    };
    assert.equal(await runAdmin(["--config", "other.yaml", "status"], other.io), 0);
    assert.equal(read.at(-1), "other.yaml");

    const broken = capture();
    broken.io.readTextFile = () => Promise.resolve("coordinator:\n  console_port: nope\n");
    assert.equal(await runAdmin(["status"], broken.io), 1);
    assert.match(broken.out.stderr, /console_port/);
  });
});
