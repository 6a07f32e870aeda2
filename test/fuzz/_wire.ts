/**
 * Fuzzing helpers: the seeded PRNG (so every run replays from its printed
 * seed), frame mutators, and a raw TCP connection that sends any
 * bytes and reports, per request, an answer frame, a close, or silence.
 * @module
 */
import { FrameDecoder } from "@kafka-analog/lib/framing";

/** The seeded PRNG (one for the code base; fuzz runs replay from their printed seed). */
export { seededRandom as prng } from "@kafka-analog/lib/random";

/** An integer in [0, n). */
export function pick(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** The mutations {@linkcode mutateFrame} applies (the name is counted in the report). */
export const MUTATIONS = [
  "bitflip",
  "byteset",
  "truncate",
  "extend",
  "int16",
  "int32",
  "length-1",
  "length0",
  "length2^31-1",
  "apikey",
  "apiversion",
] as const;

/** One mutation's name. */
export type Mutation = typeof MUTATIONS[number];

const INTERESTING_32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x7fff, 0xffff, 255, 256, -5];
const INTERESTING_16 = [0, 1, -1, 0x7fff, -0x8000, 255, 256];

/**
 * Mutates `body` (a request frame without its length prefix) and returns the
 * whole frame to send, with its (maybe false) length prefix.
 */
export function mutateFrame(
  rand: () => number,
  body: Uint8Array,
): { bytes: Uint8Array; mutation: Mutation } {
  const mutation = MUTATIONS[pick(rand, MUTATIONS.length)];
  let out = body.slice();
  const view = () => new DataView(out.buffer, out.byteOffset, out.byteLength);
  let declared: number | null = null;
  switch (mutation) {
    case "bitflip": {
      const flips = 1 + pick(rand, 4);
      for (let i = 0; i < flips && out.length > 0; i++) {
        const at = pick(rand, out.length);
        out[at] ^= 1 << pick(rand, 8);
      }
      break;
    }
    case "byteset":
      if (out.length > 0) out[pick(rand, out.length)] = pick(rand, 256);
      break;
    case "truncate":
      out = out.slice(0, pick(rand, out.length));
      break;
    case "extend": {
      const extra = new Uint8Array(1 + pick(rand, 64));
      for (let i = 0; i < extra.length; i++) extra[i] = pick(rand, 256);
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out);
      grown.set(extra, out.length);
      out = grown;
      break;
    }
    case "int32":
      if (out.length >= 12) {
        view().setInt32(
          8 + pick(rand, out.length - 11),
          INTERESTING_32[pick(rand, INTERESTING_32.length)],
        );
      }
      break;
    case "int16":
      if (out.length >= 10) {
        view().setInt16(
          8 + pick(rand, out.length - 9),
          INTERESTING_16[pick(rand, INTERESTING_16.length)],
        );
      }
      break;
    case "length-1":
      declared = -1;
      break;
    case "length0":
      declared = 0;
      break;
    case "length2^31-1":
      declared = 0x7fffffff;
      break;
    case "apikey":
      if (out.length >= 2) {
        view().setInt16(0, [-1, 0x7fff, 99, 1000, 1099, 1101, pick(rand, 70)][pick(rand, 7)]);
      }
      break;
    case "apiversion":
      if (out.length >= 4) view().setInt16(2, [-1, 0x7fff, 99, pick(rand, 20)][pick(rand, 4)]);
      break;
  }
  return { bytes: framed(out, declared), mutation };
}

/** `body` with a length prefix (its own length unless `declared` is given). */
export function framed(body: Uint8Array, declared: number | null = null): Uint8Array {
  const bytes = new Uint8Array(4 + body.length);
  new DataView(bytes.buffer).setInt32(0, declared ?? body.length);
  bytes.set(body, 4);
  return bytes;
}

/** What a {@linkcode RawConnection} saw after sending a request. */
export type Outcome =
  | { kind: "answer"; frame: Uint8Array }
  | { kind: "closed" }
  | { kind: "silent" };

/** A TCP connection for hostile bytes: no framing rules on the way out. */
export class RawConnection {
  readonly #conn: Deno.TcpConn;
  readonly #frames: Uint8Array[] = [];
  #closed = false;
  #wake: (() => void) | null = null;
  readonly done: Promise<void>;

  private constructor(conn: Deno.TcpConn, frameBytesMax: number) {
    this.#conn = conn;
    this.done = this.#pump(frameBytesMax);
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number, frameBytesMax = 64 * 1024 * 1024): Promise<RawConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawConnection(conn, frameBytesMax);
  }

  /** True once the peer closed (or the connection broke). */
  get closed(): boolean {
    return this.#closed;
  }

  async #pump(frameBytesMax: number): Promise<void> {
    const decoder = new FrameDecoder({ frameBytesMax });
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#frames.push(...decoder.push(buf.subarray(0, n)));
        this.#wake?.();
      }
    } catch { /* reset, or closed by us */ }
    this.#closed = true;
    this.#wake?.();
  }

  /** Writes `bytes`; false if the peer is gone. */
  async send(bytes: Uint8Array): Promise<boolean> {
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
      return true;
    } catch {
      return false;
    }
  }

  /** The next answer frame, or closed, or silent after `timeoutMs`. */
  async next(timeoutMs: number): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const frame = this.#frames.shift();
      if (frame) return { kind: "answer", frame };
      if (this.#closed) return { kind: "closed" };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "silent" };
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = null;
    }
  }

  /** Closes the socket and waits for the reader to stop. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.done;
  }
}

/** Fields never mutated by {@linkcode mutateBody}: they would only make a request park longer. */
const PARKING_FIELDS = new Set([
  "maxWaitMs",
  "timeoutMs",
  "rebalanceTimeoutMs",
  "sessionTimeoutMs",
]);

const NUMBERS = [-1, 0, 1, 2, -5, 0x7fffffff, -0x80000000, 0x7fff, -0x8000, 65_535, 10_001, 3];
const BIGINTS = [-5n, -1n, 0n, 1n, 0x7fffffffffffffffn, -0x8000000000000000n, 1_000_000_000n];
const STRINGS = ["", ".", "..", "a".repeat(250), "a/b", "fuzz", "\u00e9", "x".repeat(40_000)];

/**
 * A structure-aware mutation: a deep copy of `body` with 1–3 leaves replaced
 * by edge values of their own type (so the request still encodes and reaches
 * the handler): numbers → −1, 0, 2, 2³¹−1…; offsets → −5, 2⁶³−1…; strings →
 * "", ".", "..", 250 chars, "a/b"; arrays emptied or repeated; booleans flipped.
 */
export function mutateBody(rand: () => number, body: unknown): unknown {
  const copy = structuredClone(body);
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (value: unknown) => {
    if (value instanceof Uint8Array) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        leaves.push({ parent: value, key: i });
        walk(v);
      });
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (PARKING_FIELDS.has(k)) continue;
        leaves.push({ parent: value as Record<string, unknown>, key: k });
        walk(v);
      }
    }
  };
  walk(copy);
  const count = 1 + pick(rand, 3);
  for (let i = 0; i < count && leaves.length > 0; i++) {
    const { parent, key } = leaves[pick(rand, leaves.length)];
    const old = (parent as Record<string | number, unknown>)[key];
    let next: unknown = old;
    if (typeof old === "number") next = NUMBERS[pick(rand, NUMBERS.length)];
    else if (typeof old === "bigint") next = BIGINTS[pick(rand, BIGINTS.length)];
    else if (typeof old === "string") next = STRINGS[pick(rand, STRINGS.length)];
    else if (typeof old === "boolean") next = !old;
    else if (Array.isArray(old)) next = rand() < 0.5 ? [] : [...old, ...old, ...old];
    (parent as Record<string | number, unknown>)[key] = next;
  }
  return copy;
}
