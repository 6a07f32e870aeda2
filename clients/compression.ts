/**
 * Batch compression on the client, for every codec Kafka defines: the
 * producer compresses a batch's records section and rebuilds the batch with
 * `withRecordsPayload`; the reader inflates it back before decoding. Brokers
 * store compressed batches as they come. The codecs themselves live in
 * `@kafka-analog/lib/compression` (gzip through CompressionStream, zstd
 * through `node:zlib`, snappy and lz4 in TypeScript); this module maps the
 * producer's setting onto them and decodes whole batches.
 *
 * Codec numbers are Kafka's (`attributes` bits 0–2): 0 none, 1 gzip, 2 snappy,
 * 3 lz4, 4 zstd. What the producer writes is what the Java client writes:
 * snappy in snappy-java (xerial) framing, lz4 as one frame of independent
 * 64 KiB blocks with the KIP-57 header checksum, zstd at level 3. The reader
 * also takes librdkafka's raw snappy and any valid lz4 frame. Inflating more
 * than DECOMPRESSED_BATCH_BYTES_MAX, or malformed data, is CORRUPT_MESSAGE;
 * codec numbers 5–7 are UNSUPPORTED_COMPRESSION_TYPE.
 * @module
 */
import {
  CODEC,
  CODEC_NAMES,
  type CodecName,
  compressPayload,
  decompressPayload,
} from "@kafka-analog/lib/compression";
import {
  type BatchHeader,
  compressionOf,
  decodeRecords,
  decodeRecordsFromPayload,
  type KaRecord,
  recordsPayloadOf,
  withRecordsPayload,
} from "@kafka-analog/lib/protocol";

export { gunzip, gzip } from "@kafka-analog/lib/compression";

/** A producer's compression setting: a codec's name. */
export type CompressionType = CodecName;

/** Every {@linkcode CompressionType}, by codec number. */
export const COMPRESSION_TYPES: readonly CompressionType[] = CODEC_NAMES;

/** Kafka's codec number of each type. */
export const COMPRESSION_CODECS: Readonly<Record<CompressionType, number>> = CODEC;

/** True when `value` is a {@linkcode CompressionType}. */
export function isCompressionType(value: unknown): value is CompressionType {
  return typeof value === "string" && (COMPRESSION_TYPES as readonly string[]).includes(value);
}

/** Compresses an encoded (uncompressed) batch's records with `type`; "none" returns it as is. */
export async function compressBatch(batch: Uint8Array, type: CompressionType): Promise<Uint8Array> {
  if (type === "none") return batch;
  const { payload } = recordsPayloadOf(batch);
  const codec = COMPRESSION_CODECS[type];
  return withRecordsPayload(batch, codec, await compressPayload(codec, payload));
}

/**
 * Decodes the records of one whole batch, inflating it with its codec.
 * Checks the CRC; malformed compressed data is CORRUPT_MESSAGE, an unknown
 * codec UNSUPPORTED_COMPRESSION_TYPE.
 */
export async function decodeBatchRecords(
  batch: Uint8Array,
  header?: BatchHeader,
): Promise<KaRecord[]> {
  const codec = header === undefined ? null : compressionOf(header);
  if (codec === 0) return decodeRecords(batch);
  const { header: h, payload } = recordsPayloadOf(batch);
  return decodeRecordsFromPayload(h, await decompressPayload(compressionOf(h), payload));
}
