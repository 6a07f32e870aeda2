/**
 * Pluggable serializers for keys and values: a producer turns application
 * values into bytes with a {@linkcode Serializer}, a partition reader turns
 * stored bytes back with a {@linkcode Deserializer}. Built in:
 *
 * | serde | value | bytes |
 * |---|---|---|
 * | {@linkcode payloadSerde} (producer default) | string, Uint8Array or null | UTF-8 / as is / null |
 * | {@linkcode binarySerde} (reader default) | Uint8Array or null | as is |
 * | {@linkcode stringSerde} | string or null | UTF-8 (strict when reading) |
 * | {@linkcode jsonSerde} | any JSON value; null is a tombstone | `JSON.stringify` text |
 * | `avroSerde` (`avro.ts`) | what the Avro schema says | magic 0, schema id, Avro body |
 *
 * A serializer that cannot encode a value throws KaError SERIALIZATION_ERROR
 * (the send fails before anything is buffered). A deserializer that meets
 * bytes it cannot read makes the reader throw {@linkcode DeserializationError}
 * (code DESERIALIZATION_ERROR) naming topic, partition, offset and key/value.
 * Either may return a promise (Avro looks schemas up); synchronous ones cost
 * no extra await.
 * @module
 */
import { ERRORS } from "@kafka-analog/lib/protocol";
import { KaError } from "@kafka-analog/lib/errors";
import type { Payload } from "./types.ts";

/** Which part of a message is being (de)serialized. */
export type SerdePart = "key" | "value";

/** What a serializer knows about the value it encodes. */
export interface SerializeContext {
  topic: string;
  part: SerdePart;
}

/** Where the bytes a deserializer decodes were stored. */
export interface DeserializeContext {
  topic: string;
  partition: number;
  offset: bigint;
  part: SerdePart;
}

/** Turns a `T` into stored bytes (null = a null key/value, e.g. a tombstone). */
export interface Serializer<T> {
  serialize(value: T, context: SerializeContext): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Turns stored bytes (or null) back into a `T`. */
export interface Deserializer<T> {
  deserialize(bytes: Uint8Array | null, context: DeserializeContext): T | Promise<T>;
}

/** A serializer and deserializer for the same type. */
export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

/** The typed error of a value that cannot be deserialized, naming where it was stored. */
export class DeserializationError extends KaError {
  override name = "DeserializationError";
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly part: SerdePart;

  constructor(context: DeserializeContext, reason: string, options?: ErrorOptions) {
    super(
      ERRORS.DESERIALIZATION_ERROR.code,
      `Cannot deserialize the ${context.part} of ${context.topic}-${context.partition} at offset ${context.offset}: ${reason}`,
      options,
    );
    this.topic = context.topic;
    this.partition = context.partition;
    this.offset = context.offset;
    this.part = context.part;
  }
}

/** A SERIALIZATION_ERROR naming the topic and part. */
export function serializationError(
  context: SerializeContext,
  reason: string,
  options?: ErrorOptions,
): KaError {
  return KaError.of(
    "SERIALIZATION_ERROR",
    `Cannot serialize the ${context.part} for topic '${context.topic}': ${reason}`,
    options,
  );
}

/** The message of anything thrown. */
function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `deserializer` and wraps whatever it throws in a
 * {@linkcode DeserializationError} (kept as is when it already is one).
 */
export async function deserializeWith<T>(
  deserializer: Deserializer<T>,
  bytes: Uint8Array | null,
  context: DeserializeContext,
): Promise<T> {
  try {
    const out = deserializer.deserialize(bytes, context);
    return out instanceof Promise ? await out : out;
  } catch (err) {
    if (err instanceof DeserializationError) throw err;
    throw new DeserializationError(context, reasonOf(err), { cause: err });
  }
}

const ENCODER = new TextEncoder();
const STRICT_DECODER = new TextDecoder("utf-8", { fatal: true });

/** Strings as UTF-8, bytes as they are, null as null: the producer's default. */
export const payloadSerde: Serde<Payload> = {
  serialize(value, context) {
    if (value === null || value === undefined) return null;
    if (typeof value === "string") return ENCODER.encode(value);
    if (value instanceof Uint8Array) return value;
    throw serializationError(context, `expected a string, Uint8Array or null, got ${typeof value}`);
  },
  deserialize(bytes) {
    return bytes;
  },
};

/** Bytes as they are (Uint8Array or null): the reader's default. */
export const binarySerde: Serde<Uint8Array | null> = {
  serialize(value, context) {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return value;
    throw serializationError(context, `expected a Uint8Array or null, got ${typeof value}`);
  },
  deserialize(bytes) {
    return bytes;
  },
};

/** UTF-8 text; reading bytes that are not valid UTF-8 is an error. */
export const stringSerde: Serde<string | null> = {
  serialize(value, context) {
    if (value === null || value === undefined) return null;
    if (typeof value !== "string") {
      throw serializationError(context, `expected a string or null, got ${typeof value}`);
    }
    return ENCODER.encode(value);
  },
  deserialize(bytes, context) {
    if (bytes === null) return null;
    try {
      return STRICT_DECODER.decode(bytes);
    } catch {
      throw new DeserializationError(context, "the bytes are not valid UTF-8");
    }
  },
};

/**
 * JSON text. `null` maps to a null key/value (a tombstone), as Kafka's
 * JsonSerializer does; values JSON cannot hold (undefined, functions,
 * bigints, cycles) are SERIALIZATION_ERROR.
 */
export function jsonSerde<T = unknown>(): Serde<T | null> {
  return {
    serialize(value, context) {
      if (value === null) return null;
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (err) {
        throw serializationError(context, `not JSON: ${reasonOf(err)}`, { cause: err });
      }
      if (text === undefined) throw serializationError(context, `not JSON: ${typeof value}`);
      return ENCODER.encode(text);
    },
    deserialize(bytes, context) {
      if (bytes === null) return null;
      let text: string;
      try {
        text = STRICT_DECODER.decode(bytes);
      } catch {
        throw new DeserializationError(context, "the bytes are not valid UTF-8");
      }
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new DeserializationError(context, `not JSON: ${reasonOf(err)}`, { cause: err });
      }
    },
  };
}
