/**
 * Splits a byte stream into frames: an int32 big-endian length, then that
 * many bytes. The declared length is checked against `frameBytesMax` before a
 * single body byte is buffered, so a peer cannot make us allocate more than
 * the limit. A frame whole in one chunk is copied once; one arriving in
 * pieces goes into a buffer that doubles towards the declared length, so each
 * byte is copied a bounded number of times whatever the chunking: no O(n²)
 * concatenation.
 * @module
 */
import { assert } from "../assert.ts";
import { KaError } from "../errors.ts";
import { FRAME_BYTES_MAX, FRAME_LENGTH_BYTES } from "../limits.ts";

/** Options for {@linkcode FrameDecoder} and {@linkcode readFrames}. */
export interface FrameDecoderOptions {
  /** Largest frame body accepted; default FRAME_BYTES_MAX. */
  frameBytesMax?: number;
}

/**
 * First buffer for a frame that arrives in pieces. It grows (at least
 * doubling) towards the declared length as bytes arrive, so a peer that
 * declares a large frame and sends nothing costs 4 KiB, and one that trickles
 * costs what it has sent (at most about twice that, and never more than the
 * declared length, itself at most `frameBytesMax`).
 */
const INITIAL_FRAME_BYTES = 4 * 1024;

/**
 * Incremental frame splitter. After it throws, the stream is out of sync:
 * close the connection.
 */
export class FrameDecoder {
  readonly #frameBytesMax: number;
  readonly #lengthBuf = new Uint8Array(FRAME_LENGTH_BYTES);
  #lengthHave = 0;
  #frame: Uint8Array | null = null;
  /** The declared length of the frame being read; the buffer grows towards it as bytes arrive. */
  #frameLength = 0;
  #frameHave = 0;

  /** See {@linkcode FrameDecoderOptions}. */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.frameBytesMax ?? FRAME_BYTES_MAX;
    assert(
      Number.isInteger(max) && max >= 0 && max <= 0x7fffffff,
      `FrameDecoder 'frameBytesMax' must be a non-negative int32: current value is ${max}`,
    );
    this.#frameBytesMax = max;
  }

  /** Bytes received that do not yet form a whole frame. */
  get buffered(): number {
    return this.#lengthHave + this.#frameHave;
  }

  #startFrame(length: number): void {
    if (length < 0) {
      throw KaError.of("INVALID_REQUEST", `Cannot read frame as its length is negative: ${length}`);
    }
    if (length > this.#frameBytesMax) {
      throw KaError.of(
        "FRAME_TOO_LARGE",
        `Cannot read frame as its length must be at most ${this.#frameBytesMax} bytes: current value is ${length}`,
      );
    }
    // Allocate as bytes arrive, not as declared: a peer that announces 100 MiB and sends
    // nothing costs 4 KiB, not 100 MiB.
    this.#frame = new Uint8Array(Math.min(length, INITIAL_FRAME_BYTES));
    this.#frameLength = length;
    this.#frameHave = 0;
  }

  /** Feeds `chunk`; returns the frames it completes (without length prefix, copies). */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.#frame === null) {
        if (this.#lengthHave === 0 && end - pos >= FRAME_LENGTH_BYTES) {
          const length = ((chunk[pos] << 24) | (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) |
            chunk[pos + 3]) | 0;
          pos += FRAME_LENGTH_BYTES;
          if (length >= 0 && length <= end - pos && length <= this.#frameBytesMax) {
            // Whole frame in this chunk: one copy, no state.
            frames.push(chunk.slice(pos, pos + length));
            pos += length;
            continue;
          }
          this.#startFrame(length);
        } else {
          const take = Math.min(FRAME_LENGTH_BYTES - this.#lengthHave, end - pos);
          this.#lengthBuf.set(chunk.subarray(pos, pos + take), this.#lengthHave);
          this.#lengthHave += take;
          pos += take;
          if (this.#lengthHave < FRAME_LENGTH_BYTES) break;
          const b = this.#lengthBuf;
          this.#lengthHave = 0;
          this.#startFrame(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) | 0);
        }
      }
      const take = Math.min(this.#frameLength - this.#frameHave, end - pos);
      let frame = this.#frame as Uint8Array;
      if (this.#frameHave + take > frame.length) {
        const grown = new Uint8Array(
          Math.min(this.#frameLength, Math.max(frame.length * 2, this.#frameHave + take)),
        );
        grown.set(frame.subarray(0, this.#frameHave));
        frame = this.#frame = grown;
      }
      frame.set(chunk.subarray(pos, pos + take), this.#frameHave);
      this.#frameHave += take;
      pos += take;
      if (this.#frameHave === this.#frameLength) {
        frames.push(frame);
        this.#frame = null;
        this.#frameHave = 0;
      }
    }
    return frames;
  }
}

/**
 * Yields the frames of `readable` (without length prefix). Throws KaError
 * NETWORK_EXCEPTION when the stream ends inside a frame, and the decoder's
 * errors for bad lengths. Breaking out of the loop cancels the stream.
 */
export async function* readFrames(
  readable: ReadableStream<Uint8Array>,
  options: FrameDecoderOptions = {},
): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(options);
  const reader = readable.getReader();
  let done = false;
  try {
    while (true) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      for (const frame of decoder.push(next.value)) yield frame;
    }
    if (decoder.buffered > 0) {
      throw KaError.of(
        "NETWORK_EXCEPTION",
        `Connection closed inside a frame with ${decoder.buffered} bytes buffered`,
      );
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
