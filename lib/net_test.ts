/**
 * Tests for Kafka-framed TCP over real loopback sockets (port 0): request
 * matching, timeouts, failures, per-connection isolation and limits.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { type FrameServer, KafkaConnection, parseHostPort, serveFrames } from "./net.ts";
import { ApiKey, decodeRequest, encodeResponse } from "./protocol/mod.ts";
import { FrameDecoder } from "./framing/frame.ts";

const HOST = "127.0.0.1";

/** What the echo server does with a payload. */
interface EchoPayload {
  n?: number;
  boom?: boolean;
  /** Waits for this gate (by name) before answering. */
  gate?: string;
  /** Answers with this many bytes of padding. */
  padBytes?: number;
}

interface EchoServer {
  server: FrameServer;
  address: string;
  logLines: string[];
  /** Opens the gate named `name` (answering requests parked on it). */
  open(name: string): void;
  /** Requests received, in order. */
  received: EchoPayload[];
  stop(): Promise<void>;
}

/** A serveFrames server that echoes ConsoleCommand payloads. */
function echoServer(options: { connectionsMax?: number } = {}): EchoServer {
  const logLines: string[] = [];
  const received: EchoPayload[] = [];
  const gates = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const gate = (name: string) => {
    let g = gates.get(name);
    if (!g) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      g = { promise, resolve };
      gates.set(name, g);
    }
    return g;
  };
  const server = serveFrames(async (frame) => {
    const request = decodeRequest(frame);
    assert.equal(request.apiKey, ApiKey.ConsoleCommand);
    const payload = (request.body as { payload: EchoPayload }).payload;
    received.push(payload);
    if (payload.boom) throw new Error("handler exploded");
    if (payload.gate) await gate(payload.gate).promise;
    const body = payload.padBytes ? { ...payload, pad: "x".repeat(payload.padBytes) } : payload;
    return encodeResponse(ApiKey.ConsoleCommand, 0, request.header.correlationId, {
      payload: body,
    });
  }, {
    hostname: HOST,
    port: 0,
    connectionsMax: options.connectionsMax,
    logger: createLogger("net-test", { sink: (line) => logLines.push(line) }),
  });
  return {
    server,
    address: `${HOST}:${server.port}`,
    logLines,
    received,
    open: (name) => gate(name).resolve(),
    async stop() {
      for (const g of gates.values()) g.resolve();
      server.close();
      await server.closed;
      // Let each connection's handler see its socket close and release it.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

function echo(conn: KafkaConnection, payload: EchoPayload, timeoutMs?: number) {
  return conn.request(ApiKey.ConsoleCommand, 0, { payload }, { timeoutMs }).then((b) =>
    b.payload as EchoPayload
  );
}

async function closeAll(...conns: KafkaConnection[]): Promise<void> {
  for (const conn of conns) {
    conn.close();
    await conn.done;
  }
}

/** Polls `check` every 10 ms for up to `ms`. */
async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    assert.ok(performance.now() < deadline, "condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("KafkaConnection pipelines requests and matches each response to its request", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address, { clientId: "test" });
  try {
    const pending = Array.from({ length: 50 }, (_, n) => echo(conn, { n }));
    assert.equal(conn.inFlight, 50, "all 50 are outstanding at once");
    const answers = await Promise.all(pending);
    assert.deepEqual(answers.map((a) => a.n), Array.from({ length: 50 }, (_, n) => n));
    assert.equal(conn.inFlight, 0);
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection matches responses that arrive out of order by correlation id", async () => {
  // A raw server that waits for three requests and answers them in reverse.
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const served = (async () => {
    const sock = await listener.accept();
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    while (frames.length < 3) {
      const n = await sock.read(buf);
      assert.ok(n !== null);
      frames.push(...decoder.push(buf.subarray(0, n)));
    }
    for (const frame of frames.reverse()) {
      const request = decodeRequest(frame);
      const payload = (request.body as { payload: EchoPayload }).payload;
      await sock.write(
        encodeResponse(ApiKey.ConsoleCommand, 0, request.header.correlationId, { payload }),
      );
    }
    return sock;
  })();
  const conn = await KafkaConnection.open(`${HOST}:${(listener.addr as Deno.NetAddr).port}`);
  try {
    const answers = await Promise.all([
      echo(conn, { n: 1 }),
      echo(conn, { n: 2 }),
      echo(conn, { n: 3 }),
    ]);
    assert.deepEqual(answers.map((a) => a.n), [1, 2, 3]);
  } finally {
    await closeAll(conn);
    (await served).close();
    listener.close();
  }
});

Deno.test("KafkaConnection.request() times out with REQUEST_TIMED_OUT and the connection stays usable", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address);
  try {
    const start = performance.now();
    await assert.rejects(
      () => echo(conn, { n: 1, gate: "slow" }, 50),
      (e) => isKaError(e, "REQUEST_TIMED_OUT") && e.retriable,
    );
    const elapsedMs = performance.now() - start;
    assert.ok(elapsedMs >= 45 && elapsedMs < 1000, `timed out after ${elapsedMs} ms`);
    assert.equal(conn.inFlight, 0);
    assert.equal(conn.closed, false);
    // The late answer to the timed-out request is dropped; the next one gets its own.
    const next = echo(conn, { n: 2 });
    echoes.open("slow");
    assert.equal((await next).n, 2);
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection uses the default requestTimeoutMs from open()", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address, { requestTimeoutMs: 30 });
  try {
    await assert.rejects(
      () => echo(conn, { gate: "never" }),
      (e) => isKaError(e, "REQUEST_TIMED_OUT"),
    );
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection fails pending requests with NETWORK_EXCEPTION when the server closes", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address);
  try {
    const pending = [echo(conn, { n: 1, gate: "held" }), echo(conn, { n: 2 })];
    await eventually(() => echoes.received.length === 1);
    echoes.server.close();
    for (const p of pending) {
      await assert.rejects(() => p, (e) => isKaError(e, "NETWORK_EXCEPTION") && e.retriable);
    }
    await conn.done;
    assert.equal(conn.closed, true);
    assert.equal(conn.inFlight, 0);
    await assert.rejects(() => echo(conn, { n: 3 }), (e) => isKaError(e, "NETWORK_EXCEPTION"));
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection.close() fails its own pending requests with NETWORK_EXCEPTION", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address);
  try {
    const pending = echo(conn, { gate: "held" });
    conn.close();
    await assert.rejects(() => pending, (e) => isKaError(e, "NETWORK_EXCEPTION"));
    conn.close(); // twice is harmless
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("serveFrames() closes only the connection whose handler throws and keeps serving", async () => {
  const echoes = echoServer();
  const a = await KafkaConnection.open(echoes.address);
  const b = await KafkaConnection.open(echoes.address);
  try {
    assert.equal((await echo(b, { n: 0 })).n, 0);
    await assert.rejects(() => echo(a, { boom: true }), (e) => isKaError(e, "NETWORK_EXCEPTION"));
    await a.done;
    assert.equal(a.closed, true);
    assert.equal((await echo(b, { n: 1 })).n, 1, "the other connection is untouched");
    const c = await KafkaConnection.open(echoes.address);
    assert.equal((await echo(c, { n: 2 })).n, 2, "new connections are served");
    await closeAll(c);
    assert.ok(
      echoes.logLines.some((l) => l.includes("closing connection") && l.includes("exploded")),
    );
  } finally {
    await closeAll(a, b);
    await echoes.stop();
  }
});

Deno.test("serveFrames() hangs up on a frame with a negative or oversized length", async () => {
  const echoes = echoServer();
  const ok = await KafkaConnection.open(echoes.address);
  try {
    for (const prefix of [[0xff, 0xff, 0xff, 0xff], [0x7f, 0xff, 0xff, 0xff]]) {
      const sock = await Deno.connect({ hostname: HOST, port: echoes.server.port });
      try {
        await sock.write(new Uint8Array(prefix));
        assert.equal(await sock.read(new Uint8Array(16)), null, `prefix ${prefix}`);
      } finally {
        sock.close();
      }
    }
    assert.equal((await echo(ok, { n: 5 })).n, 5, "other connections are served");
    assert.ok(echoes.logLines.some((l) => l.includes("FRAME_TOO_LARGE") || l.includes("at most")));
  } finally {
    await closeAll(ok);
    await echoes.stop();
  }
});

Deno.test("serveFrames() refuses connections beyond connectionsMax until one closes", async () => {
  const echoes = echoServer({ connectionsMax: 2 });
  const a = await KafkaConnection.open(echoes.address);
  const b = await KafkaConnection.open(echoes.address);
  const extra: KafkaConnection[] = [];
  try {
    assert.equal((await echo(a, { n: 1 })).n, 1);
    assert.equal((await echo(b, { n: 2 })).n, 2);
    const c = await KafkaConnection.open(echoes.address);
    extra.push(c);
    await assert.rejects(() => echo(c, { n: 3 }), (e) => isKaError(e, "NETWORK_EXCEPTION"));
    assert.ok(echoes.logLines.some((l) => l.includes("refusing connection")));
    await closeAll(a);
    // Once the server notices a is gone, a new connection is served again.
    let served = false;
    const deadline = performance.now() + 2000;
    while (!served) {
      assert.ok(performance.now() < deadline, "no slot freed in time");
      const d = await KafkaConnection.open(echoes.address);
      extra.push(d);
      served = await echo(d, { n: 4 }).then(() => true, () => false);
      if (!served) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await closeAll(a, b, ...extra);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection waits for a slot when inFlightMax requests are outstanding", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address, { inFlightMax: 2 });
  try {
    const first = echo(conn, { n: 1, gate: "g" });
    const second = echo(conn, { n: 2 });
    const third = echo(conn, { n: 3 });
    await eventually(() => echoes.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(conn.inFlight, 2, "the third request waits for a slot");
    echoes.open("g");
    assert.deepEqual((await Promise.all([first, second, third])).map((a) => a.n), [1, 2, 3]);
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection rejects a response larger than frameBytesMax and closes", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address, { frameBytesMax: 1024 });
  try {
    await assert.rejects(
      () => echo(conn, { padBytes: 4096 }),
      (e) => isKaError(e, "FRAME_TOO_LARGE"),
    );
    await conn.done;
    assert.equal(conn.closed, true);
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection.request() with expectResponse false resolves once written", async () => {
  const echoes = echoServer();
  const conn = await KafkaConnection.open(echoes.address);
  try {
    const result = await conn.request(ApiKey.ConsoleCommand, 0, {
      payload: { n: 9, gate: "never" },
    }, {
      expectResponse: false,
    });
    assert.equal(result, undefined);
    assert.equal(conn.inFlight, 0);
    await eventually(() => echoes.received.length === 1);
  } finally {
    await closeAll(conn);
    await echoes.stop();
  }
});

Deno.test("KafkaConnection.open() to a closed port fails with a retriable NETWORK_EXCEPTION", async () => {
  const probe = Deno.listen({ hostname: HOST, port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await assert.rejects(
    () => KafkaConnection.open(`${HOST}:${port}`, { connectTimeoutMs: 2000 }),
    (e) => isKaError(e, "NETWORK_EXCEPTION") && e.retriable && e.message.includes(String(port)),
  );
});

Deno.test("serveFrames() stops on abort and fails its clients", async () => {
  const controller = new AbortController();
  const server = serveFrames(() => new Promise<null>(() => {}), {
    hostname: HOST,
    port: 0,
    signal: controller.signal,
  });
  const conn = await KafkaConnection.open(`${HOST}:${server.port}`);
  const pending = echo(conn, { n: 1 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await server.closed;
  await assert.rejects(() => pending, (e) => isKaError(e, "NETWORK_EXCEPTION"));
  await closeAll(conn);
  await assert.rejects(
    () => KafkaConnection.open(`${HOST}:${server.port}`),
    (e) => isKaError(e, "NETWORK_EXCEPTION"),
  );
});

Deno.test("parseHostPort() splits host:port and rejects bad addresses", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:9092"), { hostname: "127.0.0.1", port: 9092 });
  assert.deepEqual(parseHostPort("localhost:1"), { hostname: "localhost", port: 1 });
  for (const bad of ["", "9092", ":9092", "host:", "host:0", "host:65536", "host:x", "host:1.5"]) {
    assert.throws(() => parseHostPort(bad), /Invalid address/, bad);
  }
});
