/**
 * The record-batch codecs Kafka defines, by their `attributes` number:
 * 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. {@linkcode compressPayload} and
 * {@linkcode decompressPayload} dispatch on it; the codec modules are
 * re-exported for direct use.
 *
 * Every decompressor bounds its output by `limitBytes` (default
 * DECOMPRESSED_BATCH_BYTES_MAX) and reports malformed input as a KaError
 * CORRUPT_MESSAGE; an unknown codec number is UNSUPPORTED_COMPRESSION_TYPE.
 *
 * ```ts
 * import { compressPayload, decompressPayload } from "@kafka-analog/lib/compression";
 * const packed = await compressPayload(3, new TextEncoder().encode("records"));
 * await decompressPayload(3, packed);
 * ```
 * @module
 */
import { KaError } from "../errors.ts";
import { DECOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { CODEC, CODEC_NAMES } from "./codecs.ts";
import { gunzip, gzip } from "./gzip.ts";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { snappyCompress, snappyDecompress } from "./snappy.ts";
import { zstdCompress, zstdDecompress } from "./zstd.ts";

export { CODEC, CODEC_NAMES, type CodecName } from "./codecs.ts";
export { gunzip, gzip } from "./gzip.ts";
export {
  isXerialSnappy,
  snappyCompress,
  snappyCompressRaw,
  snappyDecompress,
  snappyDecompressRaw,
  snappyMaxCompressedBytes,
  XERIAL_MAGIC,
} from "./snappy.ts";
export {
  LZ4_FRAME_MAGIC,
  lz4Compress,
  lz4CompressBlock,
  lz4Decompress,
  lz4DecompressBlock,
  lz4MaxBlockBytes,
} from "./lz4.ts";
export {
  checkZstdFrames,
  ZSTD_FRAME_MAGIC,
  ZSTD_WINDOW_LOG_MAX,
  zstdCompress,
  zstdDecompress,
} from "./zstd.ts";
export { xxhash32 } from "./xxhash.ts";

function unsupported(codec: number): KaError {
  return KaError.of(
    "UNSUPPORTED_COMPRESSION_TYPE",
    `Cannot use compression codec ${codec}: it must be 0-${CODEC_NAMES.length - 1} (${
      CODEC_NAMES.join(", ")
    })`,
  );
}

/**
 * Compresses a records section with `codec` as Kafka's Java client would
 * (snappy in xerial framing, lz4 as one frame with 64 KiB blocks, zstd level
 * 3); codec 0 returns `bytes` itself.
 */
export async function compressPayload(codec: number, bytes: Uint8Array): Promise<Uint8Array> {
  switch (codec) {
    case CODEC.none:
      return bytes;
    case CODEC.gzip:
      return await gzip(bytes);
    case CODEC.snappy:
      return snappyCompress(bytes);
    case CODEC.lz4:
      return lz4Compress(bytes);
    case CODEC.zstd:
      return await zstdCompress(bytes);
    default:
      throw unsupported(codec);
  }
}

/**
 * Decompresses a records section written with `codec`, refusing more than
 * `limitBytes` of output; codec 0 returns `bytes` itself. Malformed input is
 * KaError CORRUPT_MESSAGE.
 */
export async function decompressPayload(
  codec: number,
  bytes: Uint8Array,
  limitBytes: number = DECOMPRESSED_BATCH_BYTES_MAX,
): Promise<Uint8Array> {
  switch (codec) {
    case CODEC.none:
      return bytes;
    case CODEC.gzip:
      return await gunzip(bytes, limitBytes);
    case CODEC.snappy:
      return snappyDecompress(bytes, limitBytes);
    case CODEC.lz4:
      return lz4Decompress(bytes, limitBytes);
    case CODEC.zstd:
      return await zstdDecompress(bytes, limitBytes);
    default:
      throw unsupported(codec);
  }
}
