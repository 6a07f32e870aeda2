/**
 * gzip for Kafka record batches (codec 1), through the web-standard
 * CompressionStream / DecompressionStream (asynchronous). Inflation stops as
 * soon as the output passes `limitBytes`; corrupt input is a KaError
 * CORRUPT_MESSAGE.
 *
 * ```ts
 * import { gunzip, gzip } from "@kafka-analog/lib/compression";
 * await gunzip(await gzip(new TextEncoder().encode("hi")));
 * ```
 * @module
 */
import { KaError } from "../errors.ts";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { concatChunks } from "./_bytes.ts";

async function collect(
  stream: ReadableStream<Uint8Array>,
  limitBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limitBytes) {
        await reader.cancel();
        throw KaError.of(
          "CORRUPT_MESSAGE",
          `Cannot inflate record batch: it holds more than ${limitBytes} bytes`,
        );
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatChunks(chunks, total);
}

/** The gzip transforms, typed over plain byte arrays. */
function gzipTransform(kind: "compress" | "decompress"): TransformStream<Uint8Array, Uint8Array> {
  const stream = kind === "compress"
    ? new CompressionStream("gzip")
    : new DecompressionStream("gzip");
  return stream as unknown as TransformStream<Uint8Array, Uint8Array>;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** gzip-compresses `bytes`. */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return collect(
    streamOf(bytes).pipeThrough(gzipTransform("compress")),
    Number.MAX_SAFE_INTEGER,
  );
}

/**
 * Inflates gzip `bytes`, refusing more than `limitBytes` of output; corrupt
 * input is KaError CORRUPT_MESSAGE.
 */
export async function gunzip(
  bytes: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Promise<Uint8Array> {
  try {
    return await collect(streamOf(bytes).pipeThrough(gzipTransform("decompress")), limitBytes);
  } catch (err) {
    if (err instanceof KaError) throw err;
    throw KaError.of(
      "CORRUPT_MESSAGE",
      `Cannot inflate gzip record batch: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
