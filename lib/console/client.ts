/**
 * A client for the framed console dialect: connect, send one line, read the
 * answer. Used by `deno task admin` and by tests that drive a running
 * coordinator. The caller passes the connection opener so tests and tools
 * decide where sockets come from.
 * @module
 */
import { FrameDecoder } from "../framing/frame.ts";
import { CONSOLE_RESPONSE_BYTES_MAX } from "../limits.ts";
import {
  type ConsoleResponsePayload,
  decodeConsoleResponse,
  encodeConsoleRequest,
} from "./wire.ts";

/** The console could not be reached or did not answer properly (not a command error). */
export class ConsoleConnectionError extends Error {
  override name = "ConsoleConnectionError";
}

/** Options for {@linkcode sendConsoleLine}. */
export interface ConsoleClientOptions {
  hostname: string;
  port: number;
  /** Gives up (ConsoleConnectionError) after this long; restarts can take a while. */
  timeoutMs: number;
  /** Opens the TCP connection; defaults to `Deno.connect`. */
  connect?: (options: { hostname: string; port: number }) => Promise<Deno.Conn>;
  clientId?: string;
}

const CORRELATION_ID = 1;
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Runs `line` on the console at `hostname:port` and returns its answer (a
 * command error is an answer with `ok: false`). Throws
 * {@linkcode ConsoleConnectionError} when the console cannot be reached, hangs
 * up, times out or answers with a malformed frame.
 */
export async function sendConsoleLine(
  line: string,
  options: ConsoleClientOptions,
): Promise<ConsoleResponsePayload> {
  const where = `${options.hostname}:${options.port}`;
  const connect = options.connect ?? ((o) => Deno.connect({ ...o, transport: "tcp" }));
  let conn: Deno.Conn;
  try {
    conn = await connect({ hostname: options.hostname, port: options.port });
  } catch (err) {
    throw new ConsoleConnectionError(
      `cannot reach the coordinator console at ${where}: ${messageOf(err)}`,
      { cause: err },
    );
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, options.timeoutMs);
  try {
    const frame = encodeConsoleRequest(line, {
      correlationId: CORRELATION_ID,
      clientId: options.clientId ?? "admin",
    });
    let offset = 0;
    while (offset < frame.length) offset += await conn.write(frame.subarray(offset));
    const decoder = new FrameDecoder({ frameBytesMax: CONSOLE_RESPONSE_BYTES_MAX });
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        throw new ConsoleConnectionError(
          `the coordinator console at ${where} closed the connection before answering`,
        );
      }
      const frames = decoder.push(buf.subarray(0, n));
      if (frames.length === 0) continue;
      const { correlationId, payload } = decodeConsoleResponse(frames[0]);
      if (correlationId !== CORRELATION_ID) {
        throw new ConsoleConnectionError(
          `the coordinator console at ${where} answered request ${correlationId}, not ${CORRELATION_ID}`,
        );
      }
      return payload;
    }
  } catch (err) {
    if (err instanceof ConsoleConnectionError) throw err;
    if (timedOut) {
      throw new ConsoleConnectionError(
        `the coordinator console at ${where} did not answer within ${options.timeoutMs} ms`,
        { cause: err },
      );
    }
    throw new ConsoleConnectionError(
      `bad answer from the coordinator console at ${where}: ${messageOf(err)}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
