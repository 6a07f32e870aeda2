/**
 * The gateways' connection limits. `Deno.serve` offers no hook for
 * connections (no accept callback, no header-read timeout, no way to hand it
 * a listener or a socket), so a gateway serves HTTP on a Unix socket in the
 * cluster's data directory and puts this TCP front on its public port:
 * `Deno.listen` accepts, a {@linkcode ListenerGuard} admits (total and
 * per-IP maxima) and sweeps (idle and request timeouts), and each admitted
 * connection is piped, byte for byte, to its own connection to the socket.
 *
 * The pipe understands just enough HTTP/1.1 to time request heads: a head
 * (up to `\r\n\r\n`) must arrive whole within `requestTimeoutMs` of its first
 * byte; from then until the answer's first byte the connection is "working"
 * (a long poll is not idle; the gateway's own 504 bounds it); an answer the
 * client does not take within `requestTimeoutMs` closes the connection; with
 * no request in progress, no bytes either way for `idleTimeoutMs` close it.
 * A `101 Switching Protocols` answer (a WebSocket) turns the pipe into a
 * plain tunnel: only the idle timeout and the unread-answer deadline apply;
 * the runtime pings a quiet WebSocket after 30 s, so a healthy stream only
 * idles out when `idleTimeoutMs` is shorter than that. The HTTP/2 cleartext
 * preface is refused, so a connection carries one request at a time, and the
 * front counts each IP's requests awaiting their answer (the server behind
 * sees no client address).
 *
 * Memory: two read buffers per connection, 4 KiB each, growing to 64 KiB only
 * while reads fill them; at most one chunk per direction is in flight, so
 * nothing near `queuedBytesMax` is ever queued.
 * @module
 */
import type { ListenerLimits } from "@kafka-analog/lib/limits";
import type { Logger } from "@kafka-analog/lib/log";
import {
  acceptGuarded,
  GrowingReader,
  type GuardedConnection,
  ListenerGuard,
  messageOf,
} from "@kafka-analog/lib/net";

const CR = 13;
const LF = 10;
/** `\r\n\r\n`, the end of a request head. */
const HEAD_END = [CR, LF, CR, LF];
/** How HTTP/2 prior knowledge (h2c) opens a connection. */
const H2_PREFACE = "PRI ";

/**
 * Where one connection stands in its HTTP exchange, from the bytes seen
 * each way. Pure: the pipe feeds it chunks and reads the state.
 */
export class HttpExchangeTracker {
  /** "head": between requests or inside a head; "request": awaiting the answer; "tunnel": upgraded. */
  #phase: "head" | "request" | "tunnel" = "head";
  #headBytes = 0;
  /** How many bytes of `\r\n\r\n` the head's tail matches. */
  #matched = 0;
  /** The connection's first bytes, until there are enough to spot the h2c preface. */
  #prefix: string | null = "";
  #headsCompleted = 0;

  /** True while a request head has started and not ended. */
  get partial(): boolean {
    return this.#phase === "head" && this.#headBytes > 0;
  }

  /** Request heads received whole so far. */
  get headsCompleted(): number {
    return this.#headsCompleted;
  }

  /** True from a head's end to its answer's first byte. */
  get awaitingAnswer(): boolean {
    return this.#phase === "request";
  }

  /** True once the connection was upgraded (WebSocket). */
  get tunnel(): boolean {
    return this.#phase === "tunnel";
  }

  /** Bytes from the client. Returns false when they open HTTP/2 cleartext (refused). */
  client(chunk: Uint8Array): boolean {
    if (this.#prefix !== null) {
      for (let i = 0; i < chunk.length && this.#prefix.length < H2_PREFACE.length; i++) {
        this.#prefix += String.fromCharCode(chunk[i]);
      }
      if (this.#prefix === H2_PREFACE) return false;
      if (this.#prefix.length >= H2_PREFACE.length || !H2_PREFACE.startsWith(this.#prefix)) {
        this.#prefix = null;
      }
    }
    if (this.#phase !== "head") return true;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      this.#headBytes++;
      if (byte === HEAD_END[this.#matched]) {
        this.#matched++;
      } else {
        this.#matched = byte === CR ? 1 : 0;
      }
      if (this.#matched === HEAD_END.length) {
        // The rest of the chunk is a body (or pipelined requests): not scanned.
        this.#phase = "request";
        this.#headBytes = 0;
        this.#matched = 0;
        this.#headsCompleted++;
        return true;
      }
    }
    return true;
  }

  /**
   * Bytes from the server. Returns true when they start the answer to the
   * request in progress (a 1xx other than 101 is interim and does not).
   */
  server(chunk: Uint8Array): boolean {
    if (this.#phase !== "request") return false;
    // "HTTP/1.1 1xx": chunk[9] is the status's first digit.
    if (chunk.length >= 12 && chunk[9] === 0x31) {
      if (chunk[10] === 0x30 && chunk[11] === 0x31) {
        this.#phase = "tunnel";
        return true;
      }
      return false;
    }
    this.#phase = "head";
    return true;
  }
}

/** Options for {@linkcode serveTcpFront}. */
export interface TcpFrontOptions {
  hostname: string;
  port: number;
  /** Opens a connection to the HTTP server behind (the gateway's Unix socket). */
  connectBackend: () => Promise<Deno.Conn>;
  /** Connection maxima and timeouts; `frameBytesMax` and `inFlightRequestsMax` do not apply. */
  limits: Partial<ListenerLimits>;
  logger?: Logger;
  onListen?: (addr: Deno.NetAddr) => void;
  /**
   * Requests one IP may have awaiting their answer (default: no limit beyond
   * the connections). The HTTP server behind sees no client IP, so the front
   * counts: a request head past this limit is not passed on; the client gets
   * `refusal()` and the connection is closed.
   */
  requestsPerIpMax?: number;
  /** The whole HTTP answer sent for a request refused by `requestsPerIpMax`. */
  refusal?: (ip: string) => Uint8Array;
}

/** A running {@linkcode serveTcpFront}. */
export interface TcpFront {
  /** The port bound (useful with port 0). */
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting; open connections go on (drain). */
  close(): void;
  /** Stops accepting and closes every connection. Resolves when the accept loop ended. */
  stop(): Promise<void>;
}

/**
 * Listens on `hostname:port` and pipes each admitted connection to a new
 * connection from `connectBackend`, within the listener limits.
 */
export function serveTcpFront(options: TcpFrontOptions): TcpFront {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const guard = new ListenerGuard(options.limits, { logger: options.logger });
  const limits = guard.limits;
  const requestTimeoutMs = limits.requestTimeoutMs;
  let closing = false;
  const requestsPerIpMax = options.requestsPerIpMax ?? Infinity;
  const awaitingPerIp = new Map<string, number>();
  let refused = 0;
  let refusedLoggedAt = -Infinity;
  const countRequest = (ip: string, delta: 1 | -1) => {
    const count = (awaitingPerIp.get(ip) ?? 0) + delta;
    if (count <= 0) awaitingPerIp.delete(ip);
    else awaitingPerIp.set(ip, count);
  };
  options.onListen?.(listener.addr);

  /**
   * Pipes `client` to a backend connection, opened at the client's first
   * byte (an idle connection costs no backend connection), within the limits.
   */
  async function pipe(client: Deno.TcpConn, guarded: GuardedConnection): Promise<void> {
    const tracker = new HttpExchangeTracker();
    let backend: Deno.Conn | null = null;
    let downstream: Promise<void> = Promise.resolve();
    /** Whether this connection's request in progress is counted in `awaitingPerIp`. */
    let counted = false;
    const answered = () => {
      if (!counted) return;
      counted = false;
      countRequest(guarded.ip, -1);
    };
    const closeBackend = () => {
      try {
        backend?.close();
      } catch { /* already closed */ }
    };
    // Server to client: bounded by the write deadline.
    const pump = async (from: Deno.Conn) => {
      const reader = new GrowingReader(from);
      try {
        while (true) {
          const chunk = await reader.read();
          if (chunk === null) break;
          if (tracker.server(chunk)) {
            answered();
            guarded.working(false);
          }
          if (!guarded.enqueue(chunk.length, limits.queuedBytesMax)) {
            const reason = `more than ${limits.queuedBytesMax} answer bytes queued`;
            guard.logClose(guarded.peer, reason);
            guarded.close(reason);
            break;
          }
          await guarded.writeReserved(chunk, requestTimeoutMs);
        }
      } catch {
        /* either side went; both are closed below */
      } finally {
        guarded.close("closed");
        closeBackend();
      }
    };
    // Client to server: times request heads.
    const reader = new GrowingReader(client);
    try {
      while (true) {
        guarded.reading(tracker.partial, tracker.headsCompleted, requestTimeoutMs);
        const chunk = await reader.read();
        if (chunk === null) break;
        const awaiting = tracker.awaitingAnswer;
        if (!tracker.client(chunk)) {
          const reason = "HTTP/2 cleartext is not served; use HTTP/1.1";
          guard.logClose(guarded.peer, reason, "info");
          guarded.close(reason);
          break;
        }
        if (!awaiting && tracker.awaitingAnswer) {
          if ((awaitingPerIp.get(guarded.ip) ?? 0) >= requestsPerIpMax) {
            await refuse(client, guarded);
            break;
          }
          counted = true;
          countRequest(guarded.ip, 1);
          guarded.working(true);
        }
        guarded.busy();
        if (backend === null) {
          try {
            backend = await options.connectBackend();
          } catch (err) {
            const reason = `cannot reach the HTTP server: ${messageOf(err)}`;
            guard.logClose(guarded.peer, reason);
            guarded.close(reason);
            break;
          }
          downstream = pump(backend);
        }
        await writeAll(backend, chunk);
      }
      if (guarded.closedReason === null && backend !== null) {
        // The client half-closed: let the answer in progress come back.
        await backend.closeWrite().catch(() => {});
      } else {
        guarded.close("closed");
        closeBackend();
      }
    } catch {
      // The guard closed the client, or the client went: nothing more to send.
      guarded.close("closed");
      closeBackend();
    }
    await downstream;
    answered();
    guard.release(guarded);
  }

  /** Answers a request over the per-IP limit (bounded by the write deadline) and closes. */
  async function refuse(client: Deno.TcpConn, guarded: GuardedConnection): Promise<void> {
    refused++;
    const now = Date.now();
    if (now - refusedLoggedAt >= 1_000) {
      options.logger?.warn("refusing requests", {
        reason: "requestsPerIpMax",
        ip: guarded.ip,
        refused,
      });
      refusedLoggedAt = now;
      refused = 0;
    }
    const answer = options.refusal?.(guarded.ip) ??
      new TextEncoder().encode(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
      );
    guarded.writing(requestTimeoutMs);
    try {
      await writeAll(client, answer);
    } catch { /* gone */ }
    guarded.close(`more than ${requestsPerIpMax} requests in progress from ${guarded.ip}`);
  }

  const accepting = acceptGuarded(listener, guard, () => closing, (conn, guarded) => {
    try {
      conn.setNoDelay(true);
    } catch { /* closed already */ }
    pipe(conn, guarded);
  }, options.logger);

  const close = () => {
    if (closing) return;
    closing = true;
    try {
      listener.close();
    } catch { /* already closed */ }
  };
  return {
    port: listener.addr.port,
    get connections() {
      return guard.size;
    },
    close,
    async stop() {
      close();
      guard.stop();
      await accepting;
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
