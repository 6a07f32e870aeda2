/**
 * Batch compression on the client: gzip through the web-standard
 * CompressionStream / DecompressionStream (asynchronous, which is why it lives
 * here and not in the sans-I/O `lib/protocol`). The producer compresses a
 * batch's records section and rebuilds the batch with
 * `withRecordsPayload`; the reader inflates it back before decoding. Brokers
 * store compressed batches as they come.
 *
 * Codec numbers are Kafka's (`attributes` bits 0–2): 0 none, 1 gzip, 2 snappy,
 * 3 lz4, 4 zstd. Only none and gzip are implemented; anything else is
 * UNSUPPORTED_COMPRESSION_TYPE.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "@kafka-analog/lib/limits";
import {
  type BatchHeader,
  compressionOf,
  decodeRecords,
  decodeRecordsFromPayload,
  type KaRecord,
  recordsPayloadOf,
  withRecordsPayload,
} from "@kafka-analog/lib/protocol";

/** A producer's compression setting. */
export type CompressionType = "none" | "gzip";

/** Every {@linkcode CompressionType}. */
export const COMPRESSION_TYPES: readonly CompressionType[] = ["none", "gzip"];

/** Kafka's codec number of each type. */
export const COMPRESSION_CODECS: Readonly<Record<CompressionType, number>> = {
  none: 0,
  gzip: 1,
};

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
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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

/** Compresses an encoded (uncompressed) batch's records with `type`; "none" returns it as is. */
export async function compressBatch(batch: Uint8Array, type: CompressionType): Promise<Uint8Array> {
  if (type === "none") return batch;
  const { payload } = recordsPayloadOf(batch);
  return withRecordsPayload(batch, COMPRESSION_CODECS[type], await gzip(payload));
}

/**
 * Decodes the records of one whole batch, inflating gzip. Checks the CRC;
 * other codecs are UNSUPPORTED_COMPRESSION_TYPE.
 */
export async function decodeBatchRecords(
  batch: Uint8Array,
  header?: BatchHeader,
): Promise<KaRecord[]> {
  const codec = header === undefined ? null : compressionOf(header);
  if (codec === 0) return decodeRecords(batch);
  const { header: h, payload } = recordsPayloadOf(batch);
  switch (compressionOf(h)) {
    case 0:
      return decodeRecordsFromPayload(h, payload);
    case 1:
      return decodeRecordsFromPayload(h, await gunzip(payload));
    default:
      throw KaError.of(
        "UNSUPPORTED_COMPRESSION_TYPE",
        `Cannot decode record batch at offset ${h.baseOffset}: compression codec ${
          compressionOf(h)
        } is not supported (only none and gzip)`,
      );
  }
}
