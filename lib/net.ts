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
import { CONNECTIONS_MAX, FRAME_BYTES_MAX, IN_FLIGHT_REQUESTS_MAX } from "./limits.ts";
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
  timer: ReturnType<typeof setTimeout>;
}

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
  #slotWaiters: (() => void)[] = [];
  #closed = false;
  #closeError: KaError | null = null;
  #writeChain: Promise<void> = Promise.resolve();
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
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        this.#releaseSlot();
        reject(
          KaError.of(
            "REQUEST_TIMED_OUT",
            `Request ${apiKey} v${apiVersion} to ${this.address} timed out after ${timeoutMs} ms`,
          ),
        );
        // A late response would be matched to nothing; the stream is still in order, so keep it.
      }, timeoutMs);
      this.#pending.set(correlationId, { apiKey, apiVersion, resolve, reject, timer });
    });
    this.#write(frame).catch(() => {/* the read loop reports the failure */});
    const bytes = await response;
    return decodeResponse(apiKey, apiVersion, bytes).body;
  }

  /** Closes the socket and fails every pending request. */
  close(): void {
    this.#fail(KaError.of("NETWORK_EXCEPTION", `Connection to ${this.address} was closed`));
  }

  #write(frame: Uint8Array): Promise<void> {
    const next = this.#writeChain.then(async () => {
      let written = 0;
      while (written < frame.length) written += await this.#conn.write(frame.subarray(written));
    });
    this.#writeChain = next.catch((err) => {
      this.#fail(
        KaError.of("NETWORK_EXCEPTION", `Write to ${this.address} failed: ${messageOf(err)}`),
      );
    });
    return next;
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
    this.#pending.delete(correlationId);
    clearTimeout(pending.timer);
    this.#releaseSlot();
    pending.resolve(frame);
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
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
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
  connectionsMax?: number;
  /**
   * Handle a connection's requests concurrently and answer each as it is
   * ready (out of order). Only for our own internal links, whose client
   * matches responses by correlation id: the coordinator parks JoinGroup
   * requests that brokers forward over one shared connection.
   */
  concurrent?: boolean;
  frameBytesMax?: number;
  /** Replaces Deno.listen (tests, simulation). */
  listen?: (options: { hostname: string; port: number }) => Deno.TcpListener;
}

/** A running frame server. */
export interface FrameServer {
  readonly port: number;
  readonly closed: Promise<void>;
  close(): void;
}

/**
 * Listens and answers each connection's requests in order. A handler that
 * throws closes that one connection with a logged reason; the server goes on.
 */
export function serveFrames(handler: FrameHandler, options: ServeOptions): FrameServer {
  const listener = (options.listen ?? Deno.listen)({
    hostname: options.hostname,
    port: options.port,
  });
  const connectionsMax = options.connectionsMax ?? CONNECTIONS_MAX;
  const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX;
  const conns = new Set<Deno.TcpConn>();
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    try {
      listener.close();
    } catch { /* already closed */ }
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  options.signal?.addEventListener("abort", close, { once: true });

  async function handle(conn: Deno.TcpConn): Promise<void> {
    const addr = conn.remoteAddr;
    const peer = `${addr.hostname}:${addr.port}`;
    const decoder = new FrameDecoder({ frameBytesMax });
    const buf = new Uint8Array(64 * 1024);
    const pending = new Set<Promise<void>>();
    let writes: Promise<void> = Promise.resolve();
    // Writes are chained so concurrent answers never interleave their bytes.
    const send = (response: Uint8Array): Promise<void> => {
      writes = writes.then(async () => {
        let written = 0;
        while (written < response.length) written += await conn.write(response.subarray(written));
      });
      return writes;
    };
    try {
      conn.setNoDelay(true);
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const frame of decoder.push(buf.subarray(0, n))) {
          if (options.concurrent) {
            const task = Promise.resolve().then(() => handler(frame, peer)).then(
              (response) => (response ? send(response) : undefined),
            ).catch((err) => {
              if (!closing && !isDisconnect(err)) {
                options.logger?.warn("closing connection", { peer, reason: messageOf(err) });
              }
              try {
                conn.close();
              } catch { /* already closed */ }
            });
            pending.add(task);
            task.finally(() => pending.delete(task));
            if (pending.size >= IN_FLIGHT_REQUESTS_MAX) await Promise.race(pending);
            continue;
          }
          const response = await handler(frame, peer);
          if (response) await send(response);
        }
      }
    } catch (err) {
      if (!closing && !isDisconnect(err)) {
        options.logger?.warn("closing connection", { peer, reason: messageOf(err) });
      }
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  const closed = (async () => {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: pause and keep accepting.
        options.logger?.error("accept failed", { reason: messageOf(err) });
        await sleep(100);
        continue;
      }
      if (conns.size >= connectionsMax) {
        options.logger?.warn("refusing connection: too many open", { connectionsMax });
        conn.close();
        continue;
      }
      conns.add(conn);
      handle(conn);
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, closed, close };
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
