/**
 * The console over TCP (port 8081 by default). One listener speaks two
 * dialects, told apart by the first byte a client sends:
 *
 * - `0x00`: Kafka framing (a console request is far below 16 MiB, so its
 *   big-endian length prefix starts with a zero byte). Each frame is a
 *   ConsoleCommand request (see `wire.ts`), answered in order; many per
 *   connection. A frame that cannot be decoded closes the connection.
 * - anything else: plain text for `nc`. Each line is a command; the answer is
 *   its text and then the prompt `kafka-analog> `. Errors read
 *   `error: NAME: message`.
 *
 * `quit` over TCP ends that connection only; it never shuts the cluster down.
 * Bad input never stops the listener: a line over CONSOLE_LINE_BYTES_MAX
 * gets an error and the connection is closed, and at most
 * CONSOLE_CONNECTIONS_MAX connections are served at once (more are closed
 * on accept).
 * @module
 */
import { ApiKey, decodeRequest, RequestDecodeError } from "@kafka-analog/lib/protocol";
import { FrameDecoder } from "@kafka-analog/lib/framing";
import {
  CONSOLE_CONNECTIONS_MAX,
  CONSOLE_LINE_BYTES_MAX,
  CONSOLE_REQUEST_BYTES_MAX,
} from "@kafka-analog/lib/limits";
import { KaError } from "@kafka-analog/lib/errors";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import type { ConsoleBackend } from "./backend.ts";
import { answerLine, type ConsoleAnswer, errorAnswer, formatError } from "./commands.ts";
import { PROMPT } from "./repl.ts";
import { CONSOLE_API_VERSION, consoleLineOf, encodeConsoleResponse } from "./wire.ts";

/** Options for {@linkcode serveConsole}. */
export interface ConsoleServerOptions {
  /** Address to bind; the coordinator passes 127.0.0.1. */
  hostname: string;
  /** Port to bind; 0 picks a free one (read it back from {@linkcode ConsoleServer.port}). */
  port: number;
  /** Aborting closes the listener and every connection. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Connections served at once; defaults to CONSOLE_CONNECTIONS_MAX. */
  connectionsMax?: number;
}

/** A running console listener. */
export interface ConsoleServer {
  /** The bound port. */
  port: number;
  /** Resolves once the listener and all its connections are closed. */
  closed: Promise<void>;
}

const READ_BUFFER_BYTES = 64 * 1024;
/** Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin. */
const ACCEPT_RETRY_MS = 100;
const ENCODER = new TextEncoder();

/** Writes all of `bytes` (Deno.Conn.write may write part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * Splits a byte stream into lines (without `\n` or a trailing `\r`). Sans-I/O:
 * `push` returns the complete lines, or `overflow` once a line, finished or
 * not, exceeds `lineBytesMax`.
 */
export class LineSplitter {
  #pending: Uint8Array = new Uint8Array(0);
  readonly #lineBytesMax: number;

  /** `lineBytesMax` bounds both a line and the bytes held while waiting for its end. */
  constructor(lineBytesMax: number) {
    this.#lineBytesMax = lineBytesMax;
  }

  /** Feeds `chunk`; returns the lines it completes. */
  push(chunk: Uint8Array): { lines: Uint8Array[]; overflow: boolean } {
    const lines: Uint8Array[] = [];
    let data: Uint8Array = chunk;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    let start = 0;
    for (;;) {
      const end = data.indexOf(0x0a, start);
      if (end < 0) break;
      const stop = end > start && data[end - 1] === 0x0d ? end - 1 : end;
      if (stop - start > this.#lineBytesMax) return { lines, overflow: true };
      lines.push(data.slice(start, stop));
      start = end + 1;
    }
    const pendingBytes = data.length - start;
    // A trailing `\r` may belong to the next `\r\n`, so it does not count yet.
    const lineBytes = data[data.length - 1] === 0x0d ? pendingBytes - 1 : pendingBytes;
    if (lineBytes > this.#lineBytesMax) return { lines, overflow: true };
    this.#pending = data.slice(start);
    return { lines, overflow: false };
  }
}

/** Starts the console listener; see the module doc. */
export function serveConsole(
  backend: ConsoleBackend,
  options: ConsoleServerOptions,
): ConsoleServer {
  const logger = options.logger ?? createLogger("console");
  const connectionsMax = options.connectionsMax ?? CONSOLE_CONNECTIONS_MAX;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  const port = listener.addr.port;
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let stopping = false;

  function stop(): void {
    if (stopping) return;
    stopping = true;
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of conns) closeQuietly(conn);
  }

  if (options.signal?.aborted) stop();
  options.signal?.addEventListener("abort", stop, { once: true });

  async function acceptLoop(): Promise<void> {
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (stopping || err instanceof Deno.errors.BadResource) break;
        logger.warn("console accept failed", { err });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (stopping) {
        closeQuietly(conn);
        break;
      }
      if (conns.size >= connectionsMax) {
        logger.warn("console connection refused: too many connections", { connectionsMax });
        closeQuietly(conn);
        continue;
      }
      conns.add(conn);
      const handler = serveConnection(conn, backend, logger)
        .catch((err) => {
          // A client hanging up mid-answer is normal for `nc`; anything else is worth a look.
          const hungUp = err instanceof Deno.errors.BrokenPipe ||
            err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BadResource;
          if (hungUp) logger.debug("console client hung up", { err });
          else logger.warn("console connection failed", { err });
        })
        .finally(() => {
          conns.delete(conn);
          closeQuietly(conn);
          handlers.delete(handler);
        });
      handlers.add(handler);
    }
    stop();
    options.signal?.removeEventListener("abort", stop);
    while (handlers.size > 0) await Promise.allSettled([...handlers]);
  }

  logger.info("console listening", { hostname: options.hostname, port });
  return { port, closed: acceptLoop() };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Reads into `buf`; null at end of input or when the connection was closed under us. */
async function readSome(conn: Deno.Conn, buf: Uint8Array): Promise<Uint8Array | null> {
  let n: number | null;
  try {
    n = await conn.read(buf);
  } catch (err) {
    if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset) {
      return null;
    }
    throw err;
  }
  return n === null ? null : buf.subarray(0, n);
}

async function serveConnection(
  conn: Deno.Conn,
  backend: ConsoleBackend,
  logger: Logger,
): Promise<void> {
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  const first = await readSome(conn, buf);
  if (first === null || first.length === 0) return;
  if (first[0] === 0x00) await serveFramed(conn, backend, logger, first, buf);
  else await serveText(conn, backend, logger, first, buf);
}

async function serveFramed(
  conn: Deno.Conn,
  backend: ConsoleBackend,
  logger: Logger,
  first: Uint8Array,
  buf: Uint8Array,
): Promise<void> {
  const decoder = new FrameDecoder({ frameBytesMax: CONSOLE_REQUEST_BYTES_MAX });
  let chunk: Uint8Array | null = first;
  while (chunk !== null) {
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      logger.warn("console connection closed: bad frame", { err });
      return;
    }
    for (const frame of frames) {
      const { correlationId, answer } = await answerFrame(frame, backend, logger);
      if (answer === null) return;
      await writeAll(conn, encodeConsoleResponse(correlationId, answer));
      if (answer.quit) return;
    }
    chunk = await readSome(conn, buf);
  }
}

/**
 * The answer to one request frame, or null when the connection must close:
 * a frame whose header cannot be read, or one that is not ConsoleCommand v0.
 * A ConsoleCommand whose body is malformed gets an error answer instead.
 */
async function answerFrame(
  frame: Uint8Array,
  backend: ConsoleBackend,
  logger: Logger,
): Promise<{ correlationId: number; answer: ConsoleAnswer | null }> {
  let request;
  try {
    request = decodeRequest(frame);
  } catch (err) {
    const header = err instanceof RequestDecodeError ? err.header : undefined;
    if (
      header !== undefined && header.apiKey === ApiKey.ConsoleCommand &&
      header.apiVersion === CONSOLE_API_VERSION
    ) {
      return { correlationId: header.correlationId, answer: errorAnswer(err) };
    }
    logger.warn("console connection closed: undecodable request", { err });
    return { correlationId: 0, answer: null };
  }
  const { apiKey, correlationId } = request.header;
  if (request.apiKey !== ApiKey.ConsoleCommand) {
    logger.warn("console connection closed: not a ConsoleCommand request", { apiKey });
    return { correlationId, answer: null };
  }
  let line: string;
  try {
    line = consoleLineOf(request.body);
  } catch (err) {
    return { correlationId, answer: errorAnswer(err) };
  }
  return { correlationId, answer: await answerLine(line, backend) };
}

async function serveText(
  conn: Deno.Conn,
  backend: ConsoleBackend,
  logger: Logger,
  first: Uint8Array,
  buf: Uint8Array,
): Promise<void> {
  const splitter = new LineSplitter(CONSOLE_LINE_BYTES_MAX);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let chunk: Uint8Array | null = first;
  while (chunk !== null) {
    const { lines, overflow } = splitter.push(chunk);
    for (const bytes of lines) {
      let line: string;
      try {
        line = decoder.decode(bytes);
      } catch {
        await writeAll(
          conn,
          ENCODER.encode(
            `${formatError(KaError.of("INVALID_COMMAND", "Line is not valid UTF-8"))}\n${PROMPT}`,
          ),
        );
        continue;
      }
      if (line.trim() === "") {
        await writeAll(conn, ENCODER.encode(PROMPT));
        continue;
      }
      const answer = await answerLine(line, backend);
      if (answer.quit) {
        await writeAll(conn, ENCODER.encode(`${answer.text}\n`));
        return;
      }
      await writeAll(conn, ENCODER.encode(`${answer.text}\n${PROMPT}`));
    }
    if (overflow) {
      const error = KaError.of(
        "INVALID_COMMAND",
        `Line is longer than ${CONSOLE_LINE_BYTES_MAX} bytes; closing the connection`,
      );
      logger.warn("console connection closed: line too long");
      await writeAll(conn, ENCODER.encode(`${formatError(error)}\n`));
      return;
    }
    chunk = await readSome(conn, buf);
  }
}
