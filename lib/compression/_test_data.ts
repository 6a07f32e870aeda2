/**
 * Seeded test inputs shared by the codec tests: random, low-entropy,
 * repetitive and JSON-ish bytes of any size, a mutation fuzzer and the
 * batches kcat (librdkafka 2.0.2) compressed, kept in `testdata/`.
 * @module
 */
import { isKaError } from "../errors.ts";
import { seededRandom as prng } from "../random.ts";

/** Kinds of generated input. */
export const KINDS = ["random", "lowEntropy", "repetitive", "json", "zeros"] as const;

/** One kind of generated input. */
export type Kind = typeof KINDS[number];

const encoder = new TextEncoder();

/** `n` bytes of `kind`, the same for the same seed. */
export function sample(kind: Kind, n: number, seed: number): Uint8Array {
  const random = prng(seed);
  const out = new Uint8Array(n);
  switch (kind) {
    case "random":
      for (let i = 0; i < n; i++) out[i] = random() * 256;
      break;
    case "lowEntropy":
      for (let i = 0; i < n; i++) out[i] = 97 + Math.floor(random() * 4);
      break;
    case "repetitive": {
      const period = 1 + Math.floor(random() * 300);
      for (let i = 0; i < n; i++) out[i] = random() < 0.02 ? random() * 256 : (i % period) * 7;
      break;
    }
    case "json":
      out.set(jsonRecords(Math.ceil(n / 60) + 1, seed).subarray(0, n));
      break;
    case "zeros":
      break;
  }
  return out;
}

/** About 100-byte JSON-ish records, one per line, as a producer might send. */
export function jsonRecords(count: number, seed: number): Uint8Array {
  const random = prng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(JSON.stringify({
      id: i,
      user: `user-${Math.floor(random() * 1000)}`,
      event: ["click", "view", "purchase"][Math.floor(random() * 3)],
      amount: Math.round(random() * 10000) / 100,
      page: `/products/${Math.floor(random() * 5000)}`,
      ts: 1_700_000_000_000 + i * 17,
    }));
  }
  return encoder.encode(lines.join("\n"));
}

/** Sizes that cross every boundary the codecs have (tiny, 64 KiB blocks, 32 KiB chunks). */
export const SIZES = [
  0,
  1,
  2,
  3,
  4,
  5,
  11,
  12,
  13,
  15,
  16,
  17,
  31,
  60,
  61,
  64,
  100,
  255,
  256,
  1000,
  4096,
  32_767,
  32_768,
  32_769,
  65_535,
  65_536,
  65_537,
  100_000,
  300_000,
];

/**
 * Feeds `rounds` mutations of `valid` (byte flips, truncations, insertions)
 * to `decode`: each must return bytes or throw a KaError CORRUPT_MESSAGE.
 */
export async function fuzzDecoder(
  valid: Uint8Array,
  decode: (input: Uint8Array) => Uint8Array | Promise<Uint8Array>,
  options: { rounds: number; seed: number },
): Promise<{ accepted: number; rejected: number }> {
  const random = prng(options.seed);
  let accepted = 0;
  let rejected = 0;
  for (let round = 0; round < options.rounds; round++) {
    let input = valid.slice();
    const op = Math.floor(random() * 4);
    if (op === 0 || input.length === 0) {
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips && input.length > 0; f++) {
        input[Math.floor(random() * input.length)] = random() * 256;
      }
    } else if (op === 1) {
      input = input.slice(0, Math.floor(random() * input.length));
    } else if (op === 2) {
      const at = Math.floor(random() * input.length);
      const extra = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => random() * 256);
      const grown = new Uint8Array(input.length + extra.length);
      grown.set(input.subarray(0, at));
      grown.set(extra, at);
      grown.set(input.subarray(at), at + extra.length);
      input = grown;
    } else {
      const at = Math.floor(random() * input.length);
      input[at] = [0, 0xff, 0x7f, 0x80][Math.floor(random() * 4)];
    }
    try {
      const out = await decode(input);
      if (!(out instanceof Uint8Array)) throw new Error("decoder returned a non-Uint8Array");
      accepted++;
    } catch (err) {
      if (!isKaError(err, "CORRUPT_MESSAGE")) throw err;
      rejected++;
    }
  }
  return { accepted, rejected };
}

/** Bytes of a file in `testdata/`. */
export function testdata(name: string): Uint8Array {
  return Deno.readFileSync(new URL(`./testdata/${name}`, import.meta.url));
}

/** The lines kcat was given for the `testdata/kcat_<codec>_<size>.bin` batches. */
export function kcatLines(codec: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      id: i,
      user: `user-${i % 37}`,
      event: i % 3 ? "click" : "view",
      tag: codec,
      ts: 1_700_000_000_000 + i * 17,
    }));
}

/** True when both arrays hold the same bytes (faster than deepEqual on large arrays). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
