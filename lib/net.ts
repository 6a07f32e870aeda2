/**
 * Kafka-framed TCP, both ends: {@linkcode KafkaConnection} sends requests and
 * matches responses by correlation id (pipelined, bounded), and
 * {@linkcode serveFrames} runs a listener whose connections are handled one
 * request at a time, in order, as Kafka brokers do.
 *
 * The broker, the coordinator, the client library and the gateways all use
 * this one implementation.
 * @module
 */
import { assert } from "./assert.ts";
import { sleep, withTimeout } from "./async.ts";
import { KaError } from "./errors.ts";
import { FrameDecoder } from "./framing/frame.ts";
import {
  decodeResponse,
  encodeRequest,
  type ImplementedApiKey,
  peekCorrelationId,
  type RequestBodies,
  type ResponseBodies,
} from "./protocol/mod.ts";
import {
  DEFAULT_LISTENER_LIMITS,
  FRAME_BYTES_MAX,
  IN_FLIGHT_REQUESTS_MAX,
  type ListenerLimits,
} from "./limits.ts";
import type { Logger } from "./log.ts";

/** Opens a TCP connection; injected so tests and simulations can replace it. */
export type Connector = (options: { hostname: string; port: number }) => Promise<Deno.TcpConn>;

/** Options for {@linkcode KafkaConnection.open}. */
export interface ConnectionOptions {
  clientId?: string;
  /** Default per-request timeout. */
  requestTimeoutMs?: number;
  /** Time allowed for the TCP connect. */
  connectTimeoutMs?: number;
  inFlightMax?: number;
  frameBytesMax?: number;
  connect?: Connector;
}

interface Pending {
  apiKey: number;
  apiVersion: number;
  resolve(frame: Uint8Array): void;
  reject(err: unknown): void;
  /** performance.now() after which the request fails with REQUEST_TIMED_OUT. */
  deadlineMs: number;
  timeoutMs: number;
}

/** Frames queued behind a write in progress are coalesced into writes of up to this many bytes. */
const COALESCE_BYTES_MAX = 256 * 1024;

/** Splits "host:port" into its parts; bad input throws a clear Error. */
export function parseHostPort(address: string): { hostname: string; port: number } {
  const i = address.lastIndexOf(":");
  const hostname = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Invalid address '${address}': expected host:port`);
  }
  return { hostname, port };
}

/** A client connection speaking Kafka's framing. */
export class KafkaConnection {
  readonly address: string;
  #conn: Deno.TcpConn;
  #clientId: string | null;
  #timeoutMs: number;
  #inFlightMax: number;
  #nextCorrelationId = 1;
  #pending = new Map<number, Pending>();
  /**
   * One timer per connection, not one per request: it fires at the earliest
   * pending deadline (`#timerDueMs`), fails what has expired and re-arms.
   */
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDueMs = Infinity;
  #slotWaiters: (() => void)[] = [];
  #closed = false;
  #closeError: KaError | null = null;
  /** Frames waiting to be written, with their writers' callbacks; written in order. */
  #writeQueue: { frame: Uint8Array; resolve(): void; reject(err: unknown): void }[] = [];
  #writing = false;
  readonly done: Promise<void>;

  private constructor(address: string, conn: Deno.TcpConn, options: ConnectionOptions) {
    this.address = address;
    this.#conn = conn;
    this.#clientId = options.clientId ?? null;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#inFlightMax = options.inFlightMax ?? IN_FLIGHT_REQUESTS_MAX;
    this.done = this.#readLoop(options.frameBytesMax ?? FRAME_BYTES_MAX);
  }

  /** Connects to `address` ("host:port"); connection failure is a retriable NETWORK_EXCEPTION. */
  static async open(address: string, options: ConnectionOptions = {}): Promise<KafkaConnection> {
    const { hostname, port } = parseHostPort(address);
    const connect = options.connect ?? Deno.connect;
    const timeoutMs = options.connectTimeoutMs ?? 5_000;
    try {
      const conn = await withTimeout(
        connect({ hostname, port }),
        timeoutMs,
        () => new Error(`connect timed out after ${timeoutMs} ms`),
      );
      conn.setNoDelay(true);
      return new KafkaConnection(address, conn, options);
    } catch (err) {
      throw KaError.of("NETWORK_EXCEPTION", `Cannot connect to ${address}: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  /** True once the connection is closed or broken. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests awaiting a response. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Sends one request and resolves with its decoded response body. With
   * `expectResponse: false` (Produce with acks=0) it resolves once written.
   */
  async request<K extends ImplementedApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestBodies[K],
    options: { timeoutMs?: number; expectResponse?: boolean; clientId?: string | null } = {},
  ): Promise<ResponseBodies[K]> {
    while (this.#pending.size >= this.#inFlightMax && !this.#closed) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    if (this.#closed) {
      throw this.#closeError ??
        KaError.of("NETWORK_EXCEPTION", `Connection to ${this.address} is closed`);
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    const frame = encodeRequest(
      {
        apiKey,
        apiVersion,
        correlationId,
        clientId: options.clientId !== undefined ? options.clientId : this.#clientId,
      },
      body,
    );
    if (options.expectResponse === false) {
      await this.#write(frame);
      return undefined as unknown as ResponseBodies[K];
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const response = new Promise<Uint8Array>((resolve, reject) => {
      const deadlineMs = performance.now() + timeoutMs;
      this.#pending.set(correlationId, {
        apiKey,
        apiVersion,
        resolve,
        reject,
        deadlineMs,
        timeoutMs,
      });
      if (deadlineMs < this.#timerDueMs) this.#armTimer(deadlineMs);
    });
    this.#write(frame).catch(() => {/* the read loop reports the failure */});
    const bytes = await response;
    return decodeResponse(apiKey, apiVersion, bytes).body;
  }

  /** Closes the socket and fails every pending request. */
  close(): void {
    this.#fail(KaError.of("NETWORK_EXCEPTION", `Connection to ${this.address} was closed`));
  }

  /**
   * Queues `frame`; resolves once it is written. Frames queued while a write
   * is in progress go out together, coalesced into one buffer (one syscall)
   * up to {@linkcode COALESCE_BYTES_MAX}.
   */
  #write(frame: Uint8Array): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      this.#writeQueue.push({ frame, resolve, reject });
    });
    if (!this.#writing) this.#drainWrites();
    return written;
  }

  async #drainWrites(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#writeQueue.length > 0) {
        let count = 1;
        let bytes = this.#writeQueue[0].frame.length;
        while (
          count < this.#writeQueue.length &&
          bytes + this.#writeQueue[count].frame.length <= COALESCE_BYTES_MAX
        ) {
          bytes += this.#writeQueue[count].frame.length;
          count++;
        }
        const entries = this.#writeQueue.splice(0, count);
        let out: Uint8Array;
        if (count === 1) {
          out = entries[0].frame;
        } else {
          out = new Uint8Array(bytes);
          let at = 0;
          for (const e of entries) {
            out.set(e.frame, at);
            at += e.frame.length;
          }
        }
        try {
          let written = 0;
          while (written < out.length) written += await this.#conn.write(out.subarray(written));
        } catch (err) {
          const failure = KaError.of(
            "NETWORK_EXCEPTION",
            `Write to ${this.address} failed: ${messageOf(err)}`,
          );
          for (const e of [...entries, ...this.#writeQueue.splice(0)]) e.reject(failure);
          this.#fail(failure);
          return;
        }
        for (const e of entries) e.resolve();
      }
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(frameBytesMax: number): Promise<void> {
    const decoder = new FrameDecoder({ frameBytesMax });
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        for (const frame of decoder.push(buf.subarray(0, n))) this.#onFrame(frame);
      }
      this.#fail(
        KaError.of("NETWORK_EXCEPTION", `Connection to ${this.address} was closed by the peer`),
      );
    } catch (err) {
      this.#fail(
        err instanceof KaError && err.errorName !== "NETWORK_EXCEPTION" ? err : KaError.of(
          "NETWORK_EXCEPTION",
          `Connection to ${this.address} failed: ${messageOf(err)}`,
        ),
      );
    }
  }

  #onFrame(frame: Uint8Array): void {
    const correlationId = peekCorrelationId(frame);
    const pending = this.#pending.get(correlationId);
    if (!pending) return; // timed out earlier
    // The connection's timer is left armed: it fires at most once per timeout period and then
    // re-arms only for requests still pending (cheaper than clearing and setting it per request).
    this.#pending.delete(correlationId);
    this.#releaseSlot();
    pending.resolve(frame);
  }

  #armTimer(dueMs: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerDueMs = dueMs;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, dueMs - performance.now()));
  }

  #disarmTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDueMs = Infinity;
  }

  /** Fails every request past its deadline, then re-arms for the earliest one left. */
  #expire(): void {
    this.#timer = null;
    this.#timerDueMs = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [correlationId, p] of this.#pending) {
      if (p.deadlineMs > now) {
        if (p.deadlineMs < next) next = p.deadlineMs;
        continue;
      }
      this.#pending.delete(correlationId);
      this.#releaseSlot();
      p.reject(
        KaError.of(
          "REQUEST_TIMED_OUT",
          `Request ${p.apiKey} v${p.apiVersion} to ${this.address} timed out after ${p.timeoutMs} ms`,
        ),
      );
      // A late response would be matched to nothing; the stream is still in order, so keep it.
    }
    if (next !== Infinity) this.#armTimer(next);
  }

  #releaseSlot(): void {
    this.#slotWaiters.shift()?.();
  }

  #fail(err: KaError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#disarmTimer();
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    for (const wake of this.#slotWaiters.splice(0)) wake();
  }
}

/** Handles one request frame (without length prefix); returns the whole response frame, or null for none. */
export type FrameHandler = (
  frame: Uint8Array,
  peer: string,
) => Promise<Uint8Array | null> | Uint8Array | null;

/** Options for {@linkcode serveFrames}. */
export interface ServeOptions {
  hostname: string;
  port: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Shorthand for `limits.connectionsMax`. */
  connectionsMax?: number;
  /** Shorthand for `limits.frameBytesMax`. */
  frameBytesMax?: number;
  /** The listener's limits; each one left out takes its {@linkcode DEFAULT_LISTENER_LIMITS} value. */
  limits?: Partial<ListenerLimits>;
  /**
   * Handle a connection's requests concurrently and answer each as it is
   * ready (out of order). Only for our own internal links, whose client
   * matches responses by correlation id: the coordinator parks JoinGroup
   * requests that brokers forward over one shared connection.
   */
  concurrent?: boolean;
  /** Replaces Deno.listen (tests, simulation). */
  listen?: (options: { hostname: string; port: number }) => Deno.TcpListener;
}

/** A running frame server. */
export interface FrameServer {
  readonly port: number;
  readonly closed: Promise<void>;
  /** Connections open now. */
  readonly connections: number;
  /** Bytes its connections hold now, against `bufferedBytesMax` (see {@linkcode BufferBudget}). */
  readonly bufferedBytes: number;
  close(): void;
}

/** "closing connection" lines one listener logs a second at most. */
const CLOSE_LOG_LINES_PER_SECOND = 20;

/** First read buffer of a connection; it doubles up to READ_BUFFER_BYTES_MAX while reads fill it. */
const READ_BUFFER_BYTES_MIN = 4 * 1024;
const READ_BUFFER_BYTES_MAX = 64 * 1024;

/**
 * Reads a connection into a buffer that starts small and grows while reads
 * fill it, so a thousand idle connections cost kilobytes, not 64 MiB.
 */
export class GrowingReader {
  #buf = new Uint8Array(READ_BUFFER_BYTES_MIN);
  readonly #conn: Deno.Conn;

  /** Reads from `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next bytes (a view valid until the next call), or null at end of stream. */
  async read(): Promise<Uint8Array | null> {
    const n = await this.#conn.read(this.#buf);
    if (n === null) return null;
    const chunk = this.#buf.subarray(0, n);
    if (n === this.#buf.length && this.#buf.length < READ_BUFFER_BYTES_MAX) {
      const full = chunk.slice();
      this.#buf = new Uint8Array(this.#buf.length * 2);
      return full;
    }
    return chunk;
  }
}

/** Why a connection is closed when the listener's {@linkcode BufferBudget} is spent. */
export const BUFFER_BUDGET_REASON = "listener buffer budget (buffered_bytes_max) exhausted";

/**
 * The bytes all connections of one listener hold together — requests partly
 * received or being handled, answers queued for writing — against
 * `bufferedBytesMax`. Each {@linkcode GuardedConnection} reports its growth
 * and shrinkage as integers (one update per read, per write, per request
 * handled), so the total is exact: it returns to 0 when every connection is
 * released.
 */
export class BufferBudget {
  /** The most bytes the listener's connections may hold together. */
  readonly bytesMax: number;
  #bytes = 0;

  /** An empty budget of `bytesMax` bytes. */
  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  /** Bytes held now, all connections together. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds `delta` bytes for a connection that holds `heldBytes` already.
   * False, adding nothing, when the total would pass `bytesMax` while other
   * connections hold bytes: a connection alone always fits (its own frame
   * and queue maxima bound it).
   */
  grow(delta: number, heldBytes: number): boolean {
    if (this.#bytes + delta > this.bytesMax && this.#bytes > heldBytes) return false;
    this.#bytes += delta;
    return true;
  }

  /** Removes `delta` bytes a connection no longer holds. */
  shrink(delta: number): void {
    this.#bytes -= delta;
    assert(this.#bytes >= 0, `listener buffer accounting went negative: ${this.#bytes}`);
  }
}

/**
 * One connection as a {@linkcode ListenerGuard} sees it: its peer, its clocks
 * and the bytes it holds (partly received and in-handling requests, queued
 * answers), which it accounts in the listener's {@linkcode BufferBudget}.
 * The serving loop reports what it does; the guard's sweep closes the
 * connection when a limit is passed.
 */
export class GuardedConnection {
  /** "host:port" of the peer. */
  readonly peer: string;
  /** The peer's IP address (per-IP accounting). */
  readonly ip: string;
  readonly #conn: Deno.Conn;
  readonly #now: () => number;
  /** "reading": waiting for bytes; "busy": handling, or blocked on backpressure. */
  #state: "reading" | "busy" = "reading";
  #idleSince: number;
  /** When the partly received request must be whole, or null. */
  #requestDeadline: number | null = null;
  #busySince: number | null = null;
  #framesSeen = -1;
  /** Requests being handled (concurrent listeners handle several). */
  #working = 0;
  #queuedBytes = 0;
  /** Bytes of the request partly received (the frame decoder's `buffered`). */
  #partialBytes = 0;
  /** Bytes of requests received whole and not yet handled. */
  #handlingBytes = 0;
  /** The listener's budget; null without one, and once released. */
  #budget: BufferBudget | null;
  /** When the answer being written must have made progress, or null. */
  #writeDeadline: number | null = null;
  #closedReason: string | null = null;

  /** Wraps `conn`; `now` is the clock of the guard, `budget` the listener's (none: unbounded). */
  constructor(conn: Deno.Conn, now: () => number, budget: BufferBudget | null = null) {
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.peer = `${addr.hostname}:${addr.port}`;
    this.ip = addr.hostname;
    this.#conn = conn;
    this.#now = now;
    this.#idleSince = now();
    this.#budget = budget;
  }

  /** Bytes this connection holds: requests partly received or being handled, answers queued. */
  get heldBytes(): number {
    return this.#partialBytes + this.#handlingBytes + this.#queuedBytes;
  }

  /** Why the guard closed this connection, or null. */
  get closedReason(): string | null {
    return this.#closedReason;
  }

  /** Answer bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Called before each read: `partial` says whether a request is partly
   * received, `framesSeen` counts the frames completed so far (a new partial
   * frame gets a fresh deadline; time spent busy does not count against it).
   */
  reading(partial: boolean, framesSeen: number, requestTimeoutMs: number): void {
    const now = this.#now();
    if (!partial) {
      this.#requestDeadline = null;
    } else if (this.#requestDeadline === null || framesSeen !== this.#framesSeen) {
      this.#requestDeadline = now + requestTimeoutMs;
    } else if (this.#busySince !== null) {
      this.#requestDeadline += now - this.#busySince;
    }
    this.#framesSeen = framesSeen;
    this.#busySince = null;
    this.#state = "reading";
    this.#idleSince = now;
  }

  /** Called when the loop stops reading (handling a request, or waiting for a slot). */
  busy(): void {
    if (this.#state === "busy") return;
    this.#state = "busy";
    this.#busySince = this.#now();
  }

  /** A request started (true) or finished (false) being handled. */
  working(started: boolean): void {
    this.#working += started ? 1 : -1;
    if (!started) this.#idleSince = this.#now();
  }

  /**
   * After each read: the connection now holds `partialBytes` of a request
   * partly received (the decoder's `buffered`), and the read completed
   * requests of `completedBytes` in all, to be handled (give each back with
   * {@linkcode GuardedConnection.handled}). Returns null, or why the growth
   * is refused ({@linkcode BUFFER_BUDGET_REASON}): then nothing is accounted,
   * and the caller closes the connection without handling those requests.
   */
  received(partialBytes: number, completedBytes = 0): string | null {
    const delta = partialBytes - this.#partialBytes + completedBytes;
    if (delta > 0) {
      if (this.#budget !== null && !this.#budget.grow(delta, this.heldBytes)) {
        return this.#budgetReason(delta);
      }
    } else if (delta < 0) {
      this.#budget?.shrink(-delta);
    }
    this.#partialBytes = partialBytes;
    this.#handlingBytes += completedBytes;
    return null;
  }

  /** A request of `bytes` (reported by `received`) was handled. */
  handled(bytes: number): void {
    this.#handlingBytes -= bytes;
    this.#budget?.shrink(bytes);
  }

  /**
   * Accounts `bytes` of answer about to be queued. Returns null, or why they
   * do not fit, accounting nothing: they would pass `queuedBytesMax` while
   * others wait (one answer alone always fits), or the listener's budget.
   */
  reserve(bytes: number, queuedBytesMax: number): string | null {
    if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > queuedBytesMax) {
      return `more than ${queuedBytesMax} answer bytes queued (queuedBytesMax)`;
    }
    if (this.#budget !== null && !this.#budget.grow(bytes, this.heldBytes)) {
      return this.#budgetReason(bytes);
    }
    this.#queuedBytes += bytes;
    return null;
  }

  /** {@linkcode GuardedConnection.reserve} as a yes or no. */
  enqueue(bytes: number, queuedBytesMax: number): boolean {
    return this.reserve(bytes, queuedBytesMax) === null;
  }

  /** `bytes` of answer reached the socket, or were dropped (progress resets the write deadline). */
  wrote(bytes: number, requestTimeoutMs: number): void {
    this.#queuedBytes -= bytes;
    this.#budget?.shrink(bytes);
    const now = this.#now();
    this.#writeDeadline = this.#queuedBytes > 0 ? now + requestTimeoutMs : null;
    this.#idleSince = now;
  }

  /** Starts the write deadline if it is not running. */
  writing(requestTimeoutMs: number): void {
    this.#writeDeadline ??= this.#now() + requestTimeoutMs;
  }

  /**
   * Writes all of `bytes`, already accounted by {@linkcode GuardedConnection.reserve},
   * to the socket (Deno.Conn.write may write part of them) under the write
   * deadline, reporting progress; what a failed write left is released.
   */
  async writeReserved(bytes: Uint8Array, requestTimeoutMs: number): Promise<void> {
    this.writing(requestTimeoutMs);
    let written = 0;
    try {
      while (written < bytes.length) {
        const n = await this.#conn.write(bytes.subarray(written));
        written += n;
        this.wrote(n, requestTimeoutMs);
      }
    } finally {
      if (written < bytes.length) this.wrote(bytes.length - written, 0);
    }
  }

  /** The limit this connection has passed at `now`, or null. */
  expired(now: number, limits: ListenerLimits): string | null {
    if (this.#writeDeadline !== null && now > this.#writeDeadline) {
      return `an answer was not read for ${limits.requestTimeoutMs} ms`;
    }
    if (this.#state !== "reading") return null;
    if (this.#requestDeadline !== null) {
      return now > this.#requestDeadline
        ? `a request was not received whole within ${limits.requestTimeoutMs} ms`
        : null;
    }
    if (
      this.#working === 0 && this.#queuedBytes === 0 && now - this.#idleSince > limits.idleTimeoutMs
    ) {
      return `idle for ${limits.idleTimeoutMs} ms`;
    }
    return null;
  }

  /**
   * Gives everything this connection holds back to the listener's budget and
   * stops accounting there (the guard calls this on release). Later reports
   * only change this connection's own counts.
   */
  detach(): void {
    this.#budget?.shrink(this.heldBytes);
    this.#budget = null;
  }

  #budgetReason(growthBytes: number): string {
    const budget = this.#budget as BufferBudget;
    return `${BUFFER_BUDGET_REASON}: ${budget.bytes} of ${budget.bytesMax} bytes held, ` +
      `this connection ${this.heldBytes} + ${growthBytes}`;
  }

  /** Closes the socket (the serving loop's pending read then ends); records why. */
  close(reason: string): void {
    this.#closedReason ??= reason;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Admission and timeouts for one listener: counts connections in total and
 * per IP (refusing more, with a rate-limited log line), and sweeps its
 * connections on one timer, closing those past their idle or request
 * timeout. Used by {@linkcode serveFrames} and the console listener.
 */
export class ListenerGuard {
  /** The limits in force. */
  readonly limits: ListenerLimits;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #conns = new Set<GuardedConnection>();
  readonly #perIp = new Map<string, number>();
  readonly #budget: BufferBudget;
  readonly #timer: ReturnType<typeof setInterval>;
  #refused = 0;
  #refusedLoggedAt = -Infinity;
  #closesLogged = 0;
  #closesSuppressed = 0;
  #closesWindowStart = -Infinity;

  /** Starts the sweep timer; call {@linkcode ListenerGuard.stop} to end it. */
  constructor(
    limits: Partial<ListenerLimits>,
    options: { logger?: Logger; now?: () => number } = {},
  ) {
    this.limits = { ...DEFAULT_LISTENER_LIMITS, ...withoutUndefined(limits) };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`Listener limit '${name}' must be a positive integer: got ${value}`);
      }
    }
    this.#budget = new BufferBudget(this.limits.bufferedBytesMax);
    this.#logger = options.logger;
    // Monotonic: a wall-clock step (NTP, libfaketime) must not time every connection out.
    this.#now = options.now ?? (() => performance.now());
    const tickMs = Math.max(
      10,
      Math.min(
        1_000,
        Math.floor(Math.min(this.limits.idleTimeoutMs, this.limits.requestTimeoutMs) / 4),
      ),
    );
    this.#timer = setInterval(() => this.sweep(), tickMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Connections admitted and not yet released. */
  get size(): number {
    return this.#conns.size;
  }

  /** Bytes the admitted connections hold now, against `limits.bufferedBytesMax`. */
  get bufferedBytes(): number {
    return this.#budget.bytes;
  }

  /**
   * Admits `conn`, or closes it and returns null when the listener is at its
   * total or per-IP limit.
   */
  admit(conn: Deno.Conn): GuardedConnection | null {
    const guarded = new GuardedConnection(conn, this.#now, this.#budget);
    const fromIp = this.#perIp.get(guarded.ip) ?? 0;
    let reason: string | null = null;
    if (this.#conns.size >= this.limits.connectionsMax) {
      reason = `too many connections (connectionsMax ${this.limits.connectionsMax})`;
    } else if (fromIp >= this.limits.connectionsPerIpMax) {
      reason = `too many connections from ${guarded.ip} ` +
        `(connectionsPerIpMax ${this.limits.connectionsPerIpMax})`;
    }
    if (reason !== null) {
      guarded.close(reason);
      this.#refused++;
      const now = this.#now();
      // One line a second at most, however hard the flood.
      if (now - this.#refusedLoggedAt >= 1_000) {
        this.#logger?.warn("refusing connections", {
          reason,
          peer: guarded.peer,
          refused: this.#refused,
        });
        this.#refusedLoggedAt = now;
        this.#refused = 0;
      }
      return null;
    }
    this.#conns.add(guarded);
    this.#perIp.set(guarded.ip, fromIp + 1);
    return guarded;
  }

  /** Forgets `guarded` (its connection ended). */
  release(guarded: GuardedConnection): void {
    guarded.detach();
    if (!this.#conns.delete(guarded)) return;
    const fromIp = (this.#perIp.get(guarded.ip) ?? 1) - 1;
    if (fromIp <= 0) this.#perIp.delete(guarded.ip);
    else this.#perIp.set(guarded.ip, fromIp);
  }

  /**
   * Logs that a connection is being closed and why, at most
   * {@linkcode CLOSE_LOG_LINES_PER_SECOND} lines a second: a flood of bad
   * frames must not become a flood of log lines. The next line after a
   * suppressed burst says how many were left out.
   */
  logClose(peer: string, reason: string, level: "info" | "warn" = "warn"): void {
    const now = this.#now();
    if (now - this.#closesWindowStart >= 1_000) {
      this.#closesWindowStart = now;
      this.#closesLogged = 0;
    }
    if (this.#closesLogged >= CLOSE_LOG_LINES_PER_SECOND) {
      this.#closesSuppressed++;
      return;
    }
    this.#closesLogged++;
    const suppressed = this.#closesSuppressed;
    this.#closesSuppressed = 0;
    this.#logger?.[level](
      "closing connection",
      suppressed > 0 ? { peer, reason, suppressed } : { peer, reason },
    );
  }

  /** Closes every connection past a limit (the timer calls this). */
  sweep(): void {
    const now = this.#now();
    for (const guarded of this.#conns) {
      const reason = guarded.expired(now, this.limits);
      if (reason === null) continue;
      this.logClose(guarded.peer, reason, "info");
      guarded.close(reason);
    }
  }

  /** Closes every connection and stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
    for (const guarded of this.#conns) guarded.close("listener closing");
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}

/**
 * Listens and answers each connection's requests in order, within the
 * listener's {@linkcode ListenerLimits}. A handler that throws closes that
 * one connection with a logged reason; the server goes on.
 */
export function serveFrames(handler: FrameHandler, options: ServeOptions): FrameServer {
  // The guard first: limits it refuses (RangeError) must not leave the port bound.
  const guard = new ListenerGuard({
    ...options.limits,
    ...withoutUndefined({
      connectionsMax: options.connectionsMax,
      frameBytesMax: options.frameBytesMax,
    }),
  }, { logger: options.logger });
  let listener: Deno.TcpListener;
  try {
    listener = (options.listen ?? Deno.listen)({
      hostname: options.hostname,
      port: options.port,
    });
  } catch (err) {
    guard.stop();
    throw err;
  }
  const limits = guard.limits;
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    try {
      listener.close();
    } catch { /* already closed */ }
    guard.stop();
  };
  options.signal?.addEventListener("abort", close, { once: true });
  if (options.signal?.aborted) close();

  async function handle(conn: Deno.TcpConn, guarded: GuardedConnection): Promise<void> {
    const peer = guarded.peer;
    const decoder = new FrameDecoder({ frameBytesMax: limits.frameBytesMax });
    const reader = new GrowingReader(conn);
    const pending = new Set<Promise<void>>();
    let framesSeen = 0;
    let writes: Promise<void> = Promise.resolve();
    // Writes are chained so concurrent answers never interleave their bytes.
    const send = (response: Uint8Array): Promise<void> => {
      const reason = guarded.reserve(response.length, limits.queuedBytesMax);
      if (reason !== null) {
        guard.logClose(peer, reason);
        guarded.close(reason);
        return Promise.resolve();
      }
      writes = writes.then(() => guarded.writeReserved(response, limits.requestTimeoutMs));
      return writes;
    };
    const fail = (err: unknown) => {
      if (!closing && guarded.closedReason === null && !isDisconnect(err)) {
        guard.logClose(peer, messageOf(err));
      }
      guarded.close(messageOf(err));
    };
    try {
      conn.setNoDelay(true);
      while (true) {
        guarded.reading(decoder.buffered > 0, framesSeen, limits.requestTimeoutMs);
        const chunk = await reader.read();
        if (chunk === null) break;
        const frames = decoder.push(chunk);
        framesSeen += frames.length;
        let completedBytes = 0;
        for (const frame of frames) completedBytes += frame.length;
        const refusal = guarded.received(decoder.buffered, completedBytes);
        if (refusal !== null) {
          guard.logClose(peer, refusal);
          guarded.close(refusal);
          break;
        }
        for (const frame of frames) {
          // Closed under us (a limit, a failed write): the frames left are not handled.
          if (guarded.closedReason !== null) break;
          if (options.concurrent) {
            guarded.working(true);
            const task = Promise.resolve().then(() => handler(frame, peer)).finally(() =>
              guarded.handled(frame.length)
            ).then(
              (response) => (response ? send(response) : undefined),
            ).catch(fail).finally(() => guarded.working(false));
            pending.add(task);
            task.finally(() => pending.delete(task));
            if (pending.size >= limits.inFlightRequestsMax) {
              guarded.busy();
              await Promise.race(pending);
            }
            continue;
          }
          guarded.busy();
          guarded.working(true);
          try {
            let response: Uint8Array | null;
            try {
              response = await handler(frame, peer);
            } finally {
              guarded.handled(frame.length);
            }
            if (response) await send(response);
          } finally {
            guarded.working(false);
          }
        }
      }
    } catch (err) {
      fail(err);
    } finally {
      guard.release(guarded);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  const closed = acceptGuarded(listener, guard, () => closing, handle, options.logger);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    closed,
    close,
    get connections() {
      return guard.size;
    },
    get bufferedBytes() {
      return guard.bufferedBytes;
    },
  };
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/**
 * Accepts connections on `listener` until `isClosing()` or the listener is
 * closed, and passes each one `guard` admits to `onConn` (not awaited). A
 * failed accept (out of file descriptors and the like) is logged and
 * accepting goes on after 100 ms.
 */
export async function acceptGuarded(
  listener: Deno.TcpListener,
  guard: ListenerGuard,
  isClosing: () => boolean,
  onConn: (conn: Deno.TcpConn, guarded: GuardedConnection) => void,
  logger?: Logger,
): Promise<void> {
  while (!isClosing()) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (err) {
      if (isClosing() || err instanceof Deno.errors.BadResource) break;
      logger?.error("accept failed", { reason: messageOf(err) });
      await sleep(100);
      continue;
    }
    if (isClosing()) {
      try {
        conn.close();
      } catch { /* already closed */ }
      break;
    }
    const guarded = guard.admit(conn);
    if (guarded !== null) onConn(conn, guarded);
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
