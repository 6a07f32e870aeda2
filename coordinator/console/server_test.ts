/**
 * Tests of the console listener over real loopback sockets: the text and the
 * framed dialects, bad input of every kind (the server must survive and serve
 * the next connection), the connection bound, and shutdown.
 * @module
 */
import assert from "node:assert/strict";
import { ApiKey, encodeRequest } from "@kafka-analog/lib/protocol";
import { FrameDecoder } from "@kafka-analog/lib/framing";
import { CONSOLE_LINE_BYTES_MAX } from "@kafka-analog/lib/limits";
import { createLogger } from "@kafka-analog/lib/log";
import { createFakeBackend } from "./_fake_backend.ts";
import { PROMPT } from "./repl.ts";
import { LineSplitter, serveConsole } from "./server.ts";
import {
  CONSOLE_API_VERSION,
  ConsoleConnectionError,
  type ConsoleResponsePayload,
  decodeConsoleResponse,
  encodeConsoleRequest,
  sendConsoleLine,
} from "@kafka-analog/lib/console";

const HOST = "127.0.0.1";
const WAIT_MS_MAX = 5000;
const ENCODER = new TextEncoder();

function start(connectionsMax?: number) {
  const backend = createFakeBackend();
  const logs: string[] = [];
  const controller = new AbortController();
  const server = serveConsole(backend, {
    hostname: HOST,
    port: 0,
    signal: controller.signal,
    logger: createLogger("console-test", { level: "debug", sink: (line) => logs.push(line) }),
    connectionsMax,
  });
  async function stop(): Promise<void> {
    controller.abort();
    await server.closed;
  }
  return { backend, server, logs, stop };
}

/** Reads from `conn` until `done(bytes)` or end of input; fails after WAIT_MS_MAX. */
async function readUntil(
  conn: Deno.Conn,
  done: (bytes: Uint8Array) => boolean,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(64 * 1024);
  const timer = setTimeout(() => closeQuietly(conn), WAIT_MS_MAX);
  try {
    while (!done(bytes)) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch (err) {
        if (err instanceof Deno.errors.ConnectionReset) return { bytes, eof: true };
        throw err;
      }
      if (n === null) return { bytes, eof: true };
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buf.subarray(0, n), bytes.length);
      bytes = next;
    }
    return { bytes, eof: false };
  } finally {
    clearTimeout(timer);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already (by the timeout in readUntil).
  }
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Reads until `prompts` prompts have arrived in total; returns the text. */
async function readPrompts(conn: Deno.Conn, prompts: number): Promise<string> {
  const { bytes } = await readUntil(conn, (b) => text(b).split(PROMPT).length - 1 >= prompts);
  return text(bytes);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

async function connect(port: number): Promise<Deno.Conn> {
  return await Deno.connect({ hostname: HOST, port });
}

async function ask(port: number, line: string): Promise<ConsoleResponsePayload> {
  return await sendConsoleLine(line, { hostname: HOST, port, timeoutMs: WAIT_MS_MAX });
}

/** The server still answers a fresh framed connection. */
async function assertAlive(port: number): Promise<void> {
  const answer = await ask(port, "topic list");
  assert.equal(answer.ok, true);
}

Deno.test("serveConsole() binds the given host and reports the real port", async () => {
  const t = start();
  try {
    assert.ok(t.server.port > 0);
    await assertAlive(t.server.port);
  } finally {
    await t.stop();
  }
});

Deno.test("serveConsole() text dialect: answers each line with the text and a prompt", async () => {
  const t = start();
  const conn = await connect(t.server.port);
  try {
    await writeAll(conn, ENCODER.encode("status\r\n"));
    const first = await readPrompts(conn, 1);
    assert.match(first, /coordinator\s*│\s*0\s*│\s*100/);
    assert.ok(first.endsWith(`┘\n${PROMPT}`));

    await writeAll(conn, ENCODER.encode("broker stop 9\n\nbroker sto"));
    await writeAll(conn, ENCODER.encode("p 2\ntopic describe orders\n"));
    const out = await readPrompts(conn, 4);
    assert.ok(out.includes("error: UNKNOWN_BROKER: Unknown broker 9\n"));
    assert.ok(out.includes("Broker 2: stopped.\n"));
    assert.ok(out.includes("Topic: orders  Partitions: 2"));

    await writeAll(conn, ENCODER.encode("quit\n"));
    const end = await readUntil(conn, () => false);
    assert.equal(end.eof, true);
    assert.ok(text(end.bytes).endsWith("bye\n"));
    assert.equal(t.backend.shutDown, false, "quit over TCP must not stop the cluster");
    await assertAlive(t.server.port);
  } finally {
    closeQuietly(conn);
    await t.stop();
  }
});

Deno.test("serveConsole() framed dialect: pipelined requests answered in order", async () => {
  const t = start();
  const conn = await connect(t.server.port);
  try {
    const frames = [
      encodeConsoleRequest("status", { correlationId: 7, clientId: "test" }),
      encodeConsoleRequest("broker stop 9", { correlationId: 8, clientId: "test" }),
      encodeConsoleRequest("topic describe orders", { correlationId: 9, clientId: "test" }),
      // A ConsoleCommand whose payload is not { line: string }.
      encodeRequest({
        apiKey: ApiKey.ConsoleCommand,
        apiVersion: CONSOLE_API_VERSION,
        correlationId: 10,
        clientId: null,
      }, { payload: { lines: ["status"] } }),
      encodeConsoleRequest("x".repeat(CONSOLE_LINE_BYTES_MAX + 1), {
        correlationId: 11,
        clientId: "test",
      }),
    ];
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let offset = 0;
    for (const frame of frames) {
      all.set(frame, offset);
      offset += frame.length;
    }
    await writeAll(conn, all);
    const answers: { correlationId: number; payload: ConsoleResponsePayload }[] = [];
    await readUntil(conn, (bytes) => {
      answers.length = 0;
      const d = new FrameDecoder();
      for (const f of d.push(bytes)) answers.push(decodeConsoleResponse(f));
      return answers.length === frames.length;
    });
    assert.deepEqual(answers.map((a) => a.correlationId), [7, 8, 9, 10, 11]);
    const [status, unknown, describe, malformed, tooLong] = answers.map((a) => a.payload);
    assert.equal(status.ok, true);
    assert.equal((status.json as { services: unknown[] }).services.length, 6);
    assert.deepEqual(unknown, {
      ok: false,
      text: "error: UNKNOWN_BROKER: Unknown broker 9",
      json: null,
      error: { code: 1001, error: "UNKNOWN_BROKER", message: "Unknown broker 9" },
    });
    assert.deepEqual(describe.json, {
      name: "orders",
      partitions: [
        { partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2], leaderEpoch: 0 },
        { partition: 1, leader: 2, replicas: [2, 3], isr: [2, 3], leaderEpoch: 0 },
      ],
      configs: { "retention.ms": "1000" },
    });
    assert.equal(malformed.error?.error, "INVALID_REQUEST");
    assert.equal(tooLong.error?.error, "INVALID_COMMAND");

    await writeAll(conn, encodeConsoleRequest("quit", { correlationId: 12, clientId: "test" }));
    const end = await readUntil(conn, () => false);
    assert.equal(end.eof, true);
    const [bye] = new FrameDecoder().push(end.bytes).map(decodeConsoleResponse);
    assert.equal(bye.payload.text, "bye");
    assert.equal(t.backend.shutDown, false);
  } finally {
    closeQuietly(conn);
    await t.stop();
  }
});

Deno.test("sendConsoleLine() returns answers and reports an unreachable console", async () => {
  const t = start();
  const port = t.server.port;
  try {
    const created = await ask(port, "topic create 'new-topic' --partitions 4");
    assert.equal(created.ok, true);
    assert.equal((created.json as { topic: { partitions: unknown[] } }).topic.partitions.length, 4);
    const failed = await ask(port, "topic create new-topic");
    assert.equal(failed.error?.error, "TOPIC_ALREADY_EXISTS");
    const groups = await ask(port, "group list");
    assert.deepEqual(groups.json, {
      groups: [
        { group: "audit", state: "Empty", members: 0 },
        { group: "billing", state: "Stable", members: 2 },
      ],
    });
    const reset = await ask(port, "group reset audit --topic orders --to 9");
    assert.equal(reset.ok, true, reset.text);
    const resetJson = reset.json as { action: string; group: { offsets: unknown[] } };
    assert.equal(resetJson.action, "group reset");
    assert.deepEqual(resetJson.group.offsets, [
      { topic: "orders", partition: 0, committed: 9, end: 10, lag: 1 },
      { topic: "orders", partition: 1, committed: 9, end: 4, lag: 0 },
    ]);
    const busy = await ask(port, "group reset billing --topic orders --to 0");
    assert.equal(busy.error?.error, "NON_EMPTY_GROUP");
  } finally {
    await t.stop();
  }
  await assert.rejects(
    ask(port, "status"),
    (err: unknown) =>
      err instanceof ConsoleConnectionError &&
      err.message.startsWith(`cannot reach the coordinator console at 127.0.0.1:${port}: `),
  );
});

Deno.test("serveConsole() survives garbage and oversized input, and serves the next connection", async () => {
  const t = start();
  const port = t.server.port;
  try {
    // A frame length far over the console's request limit closes the connection.
    let conn = await connect(port);
    await writeAll(conn, new Uint8Array([0x00, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.equal((await readUntil(conn, () => false)).eof, true);
    conn.close();
    await assertAlive(port);

    // A well-framed request that is not ConsoleCommand closes the connection.
    conn = await connect(port);
    await writeAll(
      conn,
      encodeRequest(
        { apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 1, clientId: null },
        {},
      ),
    );
    assert.equal((await readUntil(conn, () => false)).bytes.length, 0);
    conn.close();
    await assertAlive(port);

    // A frame whose header is cut short closes the connection.
    conn = await connect(port);
    await writeAll(conn, new Uint8Array([0, 0, 0, 3, 4, 0x4c, 0]));
    assert.equal((await readUntil(conn, () => false)).eof, true);
    conn.close();

    // Random bytes that start like a frame, then the client hangs up mid-frame.
    conn = await connect(port);
    await writeAll(conn, new Uint8Array([0, 0, 0, 200, 1, 2, 3, 4, 5]));
    conn.close();
    await assertAlive(port);

    // A text line longer than CONSOLE_LINE_BYTES_MAX: error, then closed.
    conn = await connect(port);
    const long = ENCODER.encode("s".repeat(CONSOLE_LINE_BYTES_MAX + 10));
    const reading = readUntil(conn, () => false);
    await writeAll(conn, long).catch(() => {});
    const overflow = await reading;
    assert.equal(overflow.eof, true);
    assert.match(text(overflow.bytes), /^error: INVALID_COMMAND: Line is longer than 65536 bytes/);
    conn.close();
    await assertAlive(port);

    // Invalid UTF-8 and binary junk in the text dialect get errors; the connection carries on.
    conn = await connect(port);
    await writeAll(conn, new Uint8Array([0xff, 0xfe, 0x0a, 0x01, 0x02, 0x0a]));
    await writeAll(conn, ENCODER.encode("topic list\n"));
    const junk = await readPrompts(conn, 3);
    assert.ok(junk.startsWith("error: INVALID_COMMAND: Line is not valid UTF-8\n"));
    assert.ok(junk.includes("error: INVALID_COMMAND: Unknown command"));
    assert.ok(junk.includes("orders"));
    conn.close();

    // A client that connects and hangs up at once.
    conn = await connect(port);
    conn.close();
    await assertAlive(port);
    assert.ok(t.logs.some((l) => l.includes("bad frame")));
    assert.ok(t.logs.some((l) => l.includes("not a ConsoleCommand request")));
    assert.ok(t.logs.some((l) => l.includes("line too long")));
  } finally {
    await t.stop();
  }
});

Deno.test("serveConsole() bounds concurrent connections", async () => {
  const t = start(2);
  const port = t.server.port;
  const a = await connect(port);
  const b = await connect(port);
  try {
    await writeAll(a, ENCODER.encode("topic list\n"));
    await writeAll(b, ENCODER.encode("topic list\n"));
    await readPrompts(a, 1);
    await readPrompts(b, 1);
    const c = await connect(port);
    const refused = await readUntil(c, () => false);
    assert.equal(refused.eof, true);
    assert.equal(refused.bytes.length, 0);
    c.close();
    a.close();
    // The slot frees once the server sees `a` go; retry a bounded number of times.
    let answered = false;
    for (let attempt = 0; attempt < 50 && !answered; attempt++) {
      try {
        answered = (await ask(port, "status")).ok;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.ok(answered);
  } finally {
    closeQuietly(b);
    await t.stop();
  }
});

Deno.test("serveConsole() abort closes the listener and open connections", async () => {
  const t = start();
  const conn = await connect(t.server.port);
  await writeAll(conn, ENCODER.encode("status\n"));
  await readPrompts(conn, 1);
  await t.stop();
  assert.equal((await readUntil(conn, () => false)).eof, true);
  conn.close();
  await assert.rejects(connect(t.server.port));
});

Deno.test("LineSplitter splits lines across chunks and flags overlong ones", () => {
  const splitter = new LineSplitter(5);
  const lines = (chunk: string) => {
    const r = splitter.push(ENCODER.encode(chunk));
    return { lines: r.lines.map(text), overflow: r.overflow };
  };
  assert.deepEqual(lines("ab"), { lines: [], overflow: false });
  assert.deepEqual(lines("c\r\nde\n\nfgh"), { lines: ["abc", "de", ""], overflow: false });
  assert.deepEqual(lines("ij\r"), { lines: [], overflow: false });
  assert.deepEqual(lines("\n"), { lines: ["fghij"], overflow: false });
  assert.deepEqual(lines("1234\r"), { lines: [], overflow: false });
  assert.deepEqual(lines("\n"), { lines: ["1234"], overflow: false });
  assert.deepEqual(lines("123456"), { lines: [], overflow: true });
  assert.deepEqual(new LineSplitter(5).push(ENCODER.encode("ok\n1234567\n")).overflow, true);
});
