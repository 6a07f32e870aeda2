/**
 * A WebSocket stream of one topic: a {@linkcode BufferedConsumer} (a group
 * member with `?group=`, else a reader of every partition) pumped into a
 * socket, one JSON text frame per message.
 *
 * **Back-pressure.** Before taking more messages the pump checks the
 * socket's `bufferedAmount`; above `bufferedBytesMax` it waits (so the
 * consumer's buffer fills, and the consumer pauses fetching). A socket that
 * stays above the bound for `stallTimeoutMs` is closed with 1008 "client too
 * slow", and a peer that stops answering pings is dropped by the runtime
 * (`idleTimeout`). Memory per stream is therefore bounded by the socket
 * bound plus one take (`takeBytesMax`) plus the consumer's buffer and one poll.
 *
 * **Client frames.** `{"commit": true}` commits everything sent so far
 * (including frames the client may not have processed yet); `{"offsets":
 * [{topic, partition, offset}]}` commits exactly those (offset = the next one
 * to read). The answer is `{"type": "committed", "offsets": [...]}` or
 * `{"type": "error", "error": {...}}`; other or malformed frames get an error
 * frame and the stream goes on. Messages carry no `type` field.
 * @module
 */
import { z } from "zod";
import { sleep } from "@kafka-analog/lib/async";
import { KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import type { ConsumedMessage, PartitionOffset } from "../shared/cluster.ts";
import { errorBody, isAnswerable } from "../shared/errors.ts";
import { GATEWAY_WS_BUFFERED_BYTES_MAX } from "../shared/limits.ts";
import { offsetToJson } from "../shared/payload.ts";
import { offsetValue, parseBody, partitionNumber, topicName } from "../shared/schemas.ts";
import type { BufferedConsumer } from "./buffered_consumer.ts";
import type { JsonMessage } from "./format.ts";

/** The part of a WebSocket the pump uses (the server-side `WebSocket`, or a test double). */
export interface StreamSocket {
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** Options of a {@linkcode StreamSession}. */
export interface StreamSessionOptions {
  logger: Logger;
  /** Formats one message (json/binary/avro) for its frame. */
  format(message: ConsumedMessage): Promise<JsonMessage>;
  /** Socket bytes queued above which the pump stops taking. Defaults to `GATEWAY_WS_BUFFERED_BYTES_MAX`. */
  bufferedBytesMax?: number;
  /** Longest the socket may stay above the bound before it is closed. Default 30000 ms. */
  stallTimeoutMs?: number;
  /** Messages taken at once. Default 100. */
  takeMax?: number;
  /** Bytes taken at once (at least one message). Default a quarter of `bufferedBytesMax`. */
  takeBytesMax?: number;
  /** Called with each message count sent (metrics). */
  onSent?(count: number): void;
  /** Milliseconds for the stall timer; defaults to `Date.now`. */
  now?: () => number;
  /** How long the pump sleeps while the socket is over the bound. Default 20 ms. */
  backoffMs?: number;
}

/** Why a stream ended. */
export type StreamEnd = "client closed" | "client too slow" | "consumer failed" | "gateway closing";

const OPEN = 1;
const CLIENT_FRAME_BYTES_MAX = 64 * 1024;

const commitFrame = z.union([
  z.strictObject({ commit: z.literal(true) }),
  z.strictObject({
    offsets: z.array(
      z.strictObject({ topic: topicName, partition: partitionNumber, offset: offsetValue }),
    )
      .min(1),
  }),
], { error: 'must be {"commit": true} or {"offsets": [{topic, partition, offset}]}' });

/** Pumps one consumer into one socket. */
export class StreamSession {
  readonly consumer: BufferedConsumer;
  #socket: StreamSocket;
  #options: StreamSessionOptions;
  #bufferedBytesMax: number;
  #stallTimeoutMs: number;
  #now: () => number;
  #stopped = false;
  #end: StreamEnd | null = null;
  #sent = 0;
  #wakeStop: (() => void) | null = null;

  constructor(consumer: BufferedConsumer, socket: StreamSocket, options: StreamSessionOptions) {
    this.consumer = consumer;
    this.#socket = socket;
    this.#options = options;
    this.#bufferedBytesMax = options.bufferedBytesMax ?? GATEWAY_WS_BUFFERED_BYTES_MAX;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Messages sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Why the stream ended (null while it runs). */
  get end(): StreamEnd | null {
    return this.#end;
  }

  /** Pumps until the client goes, stalls, the consumer fails or `stop` is called; then closes the consumer. */
  async run(): Promise<StreamEnd> {
    this.consumer.start();
    const takeMax = this.#options.takeMax ?? 100;
    const takeBytesMax = this.#options.takeBytesMax ?? Math.floor(this.#bufferedBytesMax / 4);
    let stalledSinceMs: number | null = null;
    try {
      while (!this.#stopped) {
        if (this.#socket.readyState !== OPEN) {
          this.#finish("client closed");
          break;
        }
        if (this.#socket.bufferedAmount > this.#bufferedBytesMax) {
          stalledSinceMs ??= this.#now();
          if (this.#now() - stalledSinceMs > this.#stallTimeoutMs) {
            this.#finish("client too slow");
            this.#close(1008, "client too slow");
            break;
          }
          await this.#pause(this.#options.backoffMs ?? 20);
          continue;
        }
        stalledSinceMs = null;
        let messages: ConsumedMessage[];
        try {
          messages = await this.consumer.take(takeMax, 500, takeBytesMax);
        } catch (err) {
          this.#sendError(err);
          this.#finish("consumer failed");
          this.#close(1011, "consumer failed");
          break;
        }
        let count = 0;
        for (const m of messages) {
          if (this.#stopped || this.#socket.readyState !== OPEN) break;
          this.#socket.send(JSON.stringify(await this.#options.format(m)));
          count++;
        }
        this.#sent += count;
        if (count > 0) this.#options.onSent?.(count);
      }
    } finally {
      await this.consumer.close();
    }
    return this.#end ?? "client closed";
  }

  /** Ends the pump (the client closed, or the gateway is shutting down). */
  stop(reason: StreamEnd = "client closed"): void {
    this.#finish(reason);
    if (reason === "gateway closing") this.#close(1001, "gateway closing");
  }

  /** Handles one frame from the client: a commit, or an error frame back. */
  async receive(data: unknown): Promise<void> {
    try {
      if (typeof data !== "string") {
        throw KaError.of("INVALID_REQUEST", "Frames to the gateway must be JSON text");
      }
      if (data.length > CLIENT_FRAME_BYTES_MAX) {
        throw KaError.of(
          "INVALID_REQUEST",
          `A frame to the gateway holds at most ${CLIENT_FRAME_BYTES_MAX} characters`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch (err) {
        throw KaError.of("INVALID_REQUEST", `Malformed JSON frame: ${(err as Error).message}`);
      }
      const frame = parseBody(commitFrame, parsed);
      let offsets: PartitionOffset[];
      if ("commit" in frame) {
        offsets = await this.consumer.commitDelivered();
      } else {
        offsets = frame.offsets;
        await this.consumer.commit(offsets);
      }
      this.#sendControl({
        type: "committed",
        offsets: offsets.map((o) => ({ ...o, offset: offsetToJson(o.offset) })),
      });
    } catch (err) {
      this.#sendError(err);
    }
  }

  #finish(reason: StreamEnd): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#end = reason;
    this.#wakeStop?.();
  }

  async #pause(ms: number): Promise<void> {
    const controller = new AbortController();
    this.#wakeStop = () => controller.abort();
    await sleep(ms, controller.signal);
    this.#wakeStop = null;
  }

  #close(code: number, reason: string): void {
    try {
      this.#socket.close(code, reason);
    } catch { /* already closed */ }
  }

  #sendControl(frame: object): void {
    if (this.#socket.readyState !== OPEN) return;
    try {
      this.#socket.send(JSON.stringify(frame));
    } catch { /* closed meanwhile */ }
  }

  #sendError(err: unknown): void {
    if (!isAnswerable(err)) {
      this.#options.logger.error("stream error", { error: err });
      err = KaError.of("UNKNOWN_SERVER_ERROR");
    }
    this.#sendControl({ type: "error", ...errorBody(err as KaError) });
  }
}
