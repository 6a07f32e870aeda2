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
 * gets an error and the connection is closed, and the listener keeps the
 * limits of a {@linkcode ListenerGuard}: at most `connectionsMax`
 * connections (CONSOLE_CONNECTIONS_MAX by default) and `connectionsPerIpMax`
 * per IP are served at once (more are closed on accept), an idle connection
 * is closed after `idleTimeoutMs`, and a request (a frame, or a line) that is
 * not whole within `requestTimeoutMs`, or an answer not read within it,
 * closes the connection. The bytes its connections hold (requests partly
 * received or being answered, answers being written) count against the
 * listener's `bufferedBytesMax`; a connection that would pass it is closed.
 * @module
 */
import { ApiKey, decodeRequest, RequestDecodeError } from "@kafka-analog/lib/protocol";
import { FrameDecoder } from "@kafka-analog/lib/framing";
import {
  CONSOLE_CONNECTIONS_MAX,
  CONSOLE_LINE_BYTES_MAX,
  CONSOLE_REQUEST_BYTES_MAX,
  type ListenerLimits,
} from "@kafka-analog/lib/limits";
import { KaError } from "@kafka-analog/lib/errors";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import {
  GrowingReader,
  type GuardedConnection,
  ListenerGuard,
  messageOf,
} from "@kafka-analog/lib/net";
import type { ConsoleBackend } from "./backend.ts";
import {
  CONSOLE_API_VERSION,
  type ConsoleAnswer,
  consoleLineOf,
  encodeConsoleResponse,
} from "@kafka-analog/lib/console";
import { answerLine, errorAnswer, formatError } from "./commands.ts";
import { PROMPT } from "./repl.ts";

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
  /**
   * The listener's limits (config `limits.*`); `frameBytesMax` is capped at
   * CONSOLE_REQUEST_BYTES_MAX and `connectionsMax` above wins over the one here.
   */
  limits?: Partial<ListenerLimits>;
}

/** A running console listener. */
export interface ConsoleServer {
  /** The bound port. */
  port: number;
  /** Resolves once the listener and all its connections are closed. */
  closed: Promise<void>;
}

/** Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin. */
const ACCEPT_RETRY_MS = 100;
const ENCODER = new TextEncoder();

/** One connection's socket, its guard record and the limits in force. */
interface Link {
  conn: Deno.Conn;
  guard: ListenerGuard;
  guarded: GuardedConnection;
  limits: ListenerLimits;
  reader: GrowingReader;
}

/**
 * Closes the connection with a logged `reason` when it passes a limit of the
 * listener; returns false then (the caller stops serving it).
 */
function withinLimits(link: Link, reason: string | null): boolean {
  if (reason === null) return true;
  link.guard.logClose(link.guarded.peer, reason);
  link.guarded.close(reason);
  return false;
}

/**
 * Writes all of `bytes` (Deno.Conn.write may write part of them); the guard
 * closes the connection if the peer does not take them within the request
 * timeout. Returns false, writing nothing, when the listener's buffer budget
 * cannot hold them: the connection is closed then.
 */
async function writeAll(link: Link, bytes: Uint8Array): Promise<boolean> {
  const { guarded, limits } = link;
  if (!withinLimits(link, guarded.reserve(bytes.length, limits.queuedBytesMax))) return false;
  await guarded.writeReserved(bytes, limits.requestTimeoutMs);
  return true;
}

/**
 * Splits a byte stream into lines (without `\n` or a trailing `\r`). Sans-I/O:
 * `push` returns the complete lines, or `overflow` once a line, finished or
 * not, exceeds `lineBytesMax`.
 */
export class LineSplitter {
  #pending: Uint8Array = new Uint8Array(0);
  readonly #lineBytesMax: number;

  /** Bytes of a line received without its end yet. */
  get buffered(): number {
    return this.#pending.length;
  }

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
  const guard = new ListenerGuard({
    ...options.limits,
    connectionsMax: options.connectionsMax ?? options.limits?.connectionsMax ??
      CONSOLE_CONNECTIONS_MAX,
    frameBytesMax: Math.min(
      options.limits?.frameBytesMax ?? CONSOLE_REQUEST_BYTES_MAX,
      CONSOLE_REQUEST_BYTES_MAX,
    ),
  }, { logger });
  const limits = guard.limits;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  const port = listener.addr.port;
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
    guard.stop();
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
      const guarded = guard.admit(conn);
      if (guarded === null) continue;
      const link = { conn, guard, guarded, limits, reader: new GrowingReader(conn) };
      // Per-connection warnings (bad frames, long lines) go through the guard's
      // rate limit: a flood of bad input must not become a flood of log lines.
      const connectionLogger: Logger = {
        debug: (msg, fields) => logger.debug(msg, fields),
        info: (msg, fields) => logger.info(msg, fields),
        error: (msg, fields) => logger.error(msg, fields),
        warn: (msg, fields) =>
          guard.logClose(
            guarded.peer,
            fields?.err === undefined ? msg : `${msg}: ${messageOf(fields.err)}`,
          ),
      };
      const handler = serveConnection(link, backend, connectionLogger)
        .catch((err) => {
          // A client hanging up mid-answer is normal for `nc`; anything else is worth a look.
          const hungUp = err instanceof Deno.errors.BrokenPipe ||
            err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BadResource;
          if (hungUp || guarded.closedReason !== null) {
            logger.debug("console client hung up", { err });
          } else logger.warn("console connection failed", { err });
        })
        .finally(() => {
          guard.release(guarded);
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

/**
 * Reads the next bytes; null at end of input or when the connection was
 * closed under us (by the guard, or the listener stopping). `partial` says
 * whether a request is partly received, `requests` counts those completed.
 */
async function readSome(
  link: Link,
  partial: boolean,
  requests: number,
): Promise<Uint8Array | null> {
  link.guarded.reading(partial, requests, link.limits.requestTimeoutMs);
  try {
    return await link.reader.read();
  } catch (err) {
    if (
      err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset ||
      err instanceof Deno.errors.Interrupted
    ) {
      return null;
    }
    throw err;
  } finally {
    link.guarded.busy();
  }
}

async function serveConnection(
  link: Link,
  backend: ConsoleBackend,
  logger: Logger,
): Promise<void> {
  const first = await readSome(link, false, 0);
  if (first === null || first.length === 0) return;
  // The reader reuses its buffer: keep a copy of the first chunk.
  if (first[0] === 0x00) await serveFramed(link, backend, logger, first.slice());
  else await serveText(link, backend, logger, first.slice());
}

async function serveFramed(
  link: Link,
  backend: ConsoleBackend,
  logger: Logger,
  first: Uint8Array,
): Promise<void> {
  const decoder = new FrameDecoder({ frameBytesMax: link.limits.frameBytesMax });
  let requests = 0;
  let chunk: Uint8Array | null = first;
  while (chunk !== null) {
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      logger.warn("console connection closed: bad frame", { err });
      return;
    }
    requests += frames.length;
    let completedBytes = 0;
    for (const frame of frames) completedBytes += frame.length;
    if (!withinLimits(link, link.guarded.received(decoder.buffered, completedBytes))) return;
    for (const frame of frames) {
      let answered;
      try {
        answered = await answerFrame(frame, backend, logger);
      } finally {
        link.guarded.handled(frame.length);
      }
      const { correlationId, answer } = answered;
      if (answer === null) return;
      if (!await writeAll(link, encodeConsoleResponse(correlationId, answer))) return;
      if (answer.quit) return;
    }
    chunk = await readSome(link, decoder.buffered > 0, requests);
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
  link: Link,
  backend: ConsoleBackend,
  logger: Logger,
  first: Uint8Array,
): Promise<void> {
  const splitter = new LineSplitter(CONSOLE_LINE_BYTES_MAX);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let requests = 0;
  let chunk: Uint8Array | null = first;
  while (chunk !== null) {
    const { lines, overflow } = splitter.push(chunk);
    requests += lines.length;
    let completedBytes = 0;
    for (const bytes of lines) completedBytes += bytes.length;
    if (!withinLimits(link, link.guarded.received(splitter.buffered, completedBytes))) return;
    for (const bytes of lines) {
      let line: string | null;
      try {
        line = decoder.decode(bytes);
      } catch {
        line = null;
      } finally {
        link.guarded.handled(bytes.length);
      }
      if (line === null) {
        const error = KaError.of("INVALID_COMMAND", "Line is not valid UTF-8");
        if (!await writeAll(link, ENCODER.encode(`${formatError(error)}\n${PROMPT}`))) return;
        continue;
      }
      if (line.trim() === "") {
        if (!await writeAll(link, ENCODER.encode(PROMPT))) return;
        continue;
      }
      const answer = await answerLine(line, backend);
      if (answer.quit) {
        await writeAll(link, ENCODER.encode(`${answer.text}\n`));
        return;
      }
      if (!await writeAll(link, ENCODER.encode(`${answer.text}\n${PROMPT}`))) return;
    }
    if (overflow) {
      const error = KaError.of(
        "INVALID_COMMAND",
        `Line is longer than ${CONSOLE_LINE_BYTES_MAX} bytes; closing the connection`,
      );
      logger.warn("console connection closed: line too long");
      await writeAll(link, ENCODER.encode(`${formatError(error)}\n`));
      return;
    }
    chunk = await readSome(link, splitter.buffered > 0, requests);
  }
}
