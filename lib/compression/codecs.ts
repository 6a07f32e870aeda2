/**
 * The one table of Kafka's record-batch codecs: name → number (record batch
 * `attributes` bits 0-2). The codecs, the client's `compression` setting and
 * `config.yaml`'s `producer.compression` are all read from it. It imports
 * nothing, so the config loader can use it without loading any codec.
 * @module
 */

/** Kafka's codec numbers (record batch `attributes` bits 0-2). */
export const CODEC = Object.freeze({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const);

/** A codec's name. */
export type CodecName = keyof typeof CODEC;

/** Every codec name, by codec number. */
export const CODEC_NAMES: readonly CodecName[] = Object.freeze(
  (Object.keys(CODEC) as CodecName[]).sort((a, b) => CODEC[a] - CODEC[b]),
);
