/**
 * Avro values with their schema id on the wire, as Confluent's serializers
 * write them:
 *
 * ```
 * byte 0      magic 0
 * bytes 1-4   schema id, int32 big-endian (the coordinator's registry id)
 * bytes 5..   the Avro binary encoding of the value (npm avsc)
 * ```
 *
 * The writer registers its schema (once per subject; by default
 * `<topic>-key` / `<topic>-value`, Confluent's TopicNameStrategy) or names an
 * already registered id. A reader looks the writer's schema up by the id in
 * the bytes (cached), so it can read values written with any version of a
 * schema; given a `readerSchema` it resolves each writer schema to that one
 * (Avro schema evolution: added fields get their defaults).
 * @module
 */
import { Buffer } from "node:buffer";
import avsc from "avsc";
import { KaError } from "@kafka-analog/lib/errors";
import type { SchemaRegistryApi } from "./schema_registry.ts";
import {
  DeserializationError,
  type DeserializeContext,
  type Serde,
  serializationError,
  type SerializeContext,
} from "./serde.ts";

/** An Avro schema: a JSON-able object (or type name), or its JSON text. */
export type AvroSchema = Record<string, unknown> | unknown[] | string;

/** The magic byte before the schema id. */
export const AVRO_MAGIC = 0;
/** Bytes before the Avro body: magic + schema id. */
export const AVRO_PREFIX_BYTES = 5;

type AvroType = ReturnType<typeof avsc.Type.forSchema>;
type AvroResolver = ReturnType<AvroType["createResolver"]>;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Parses a schema into an avsc type and its normalised JSON text; an invalid
 * schema is KaError INVALID_SCHEMA.
 */
export function parseAvroSchema(schema: AvroSchema): { type: AvroType; text: string } {
  let value: unknown = schema;
  if (typeof schema === "string") {
    try {
      value = JSON.parse(schema);
    } catch {
      value = schema; // a bare type name such as `string`
    }
  }
  try {
    const type = avsc.Type.forSchema(value as Parameters<typeof avsc.Type.forSchema>[0]);
    return { type, text: JSON.stringify(value) };
  } catch (err) {
    throw KaError.of("INVALID_SCHEMA", `Invalid Avro schema: ${reasonOf(err)}`, { cause: err });
  }
}

/** Prefixes an Avro body with the magic byte and `schemaId`. */
export function encodeAvroWire(schemaId: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(AVRO_PREFIX_BYTES + body.length);
  out[0] = AVRO_MAGIC;
  new DataView(out.buffer).setInt32(1, schemaId);
  out.set(body, AVRO_PREFIX_BYTES);
  return out;
}

/** Splits Avro wire bytes into schema id and body; anything else throws a plain Error. */
export function parseAvroWire(bytes: Uint8Array): { schemaId: number; body: Uint8Array } {
  if (bytes.length < AVRO_PREFIX_BYTES) {
    throw new Error(`${bytes.length} bytes are too few for the Avro wire format (magic + id)`);
  }
  if (bytes[0] !== AVRO_MAGIC) {
    throw new Error(`the first byte is ${bytes[0]}, not the Avro magic byte ${AVRO_MAGIC}`);
  }
  const schemaId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(1);
  return { schemaId, body: bytes.subarray(AVRO_PREFIX_BYTES) };
}

/**
 * Encodes and decodes Avro wire values against a registry, caching parsed
 * schemas by id and registrations by subject and text.
 */
export class AvroCodec {
  readonly registry: SchemaRegistryApi;
  #types = new Map<number, Promise<AvroType>>();
  #registered = new Map<string, Promise<{ id: number; type: AvroType }>>();
  #resolvers = new WeakMap<AvroType, Map<number, AvroResolver>>();

  constructor(registry: SchemaRegistryApi) {
    this.registry = registry;
  }

  /** Registers `schema` under `subject` (once) and returns its id and parsed type. */
  register(subject: string, schema: AvroSchema): Promise<{ id: number; type: AvroType }> {
    const { type, text } = parseAvroSchema(schema);
    const key = `${subject}\u0000${text}`;
    let entry = this.#registered.get(key);
    if (entry === undefined) {
      entry = this.registry.register(subject, text).then((e) => {
        this.#types.set(e.id, Promise.resolve(type));
        return { id: e.id, type };
      });
      this.#registered.set(key, entry);
      entry.catch(() => this.#registered.delete(key));
    }
    return entry;
  }

  /** The parsed writer schema with id `schemaId` (looked up once). */
  typeOf(schemaId: number): Promise<AvroType> {
    let type = this.#types.get(schemaId);
    if (type === undefined) {
      type = this.registry.schemaById(schemaId).then((text) => parseAvroSchema(text).type);
      this.#types.set(schemaId, type);
      type.catch(() => this.#types.delete(schemaId));
    }
    return type;
  }

  /** Encodes `value` with `type` as schema `schemaId`; an invalid value throws a plain Error. */
  encodeWith(schemaId: number, type: AvroType, value: unknown): Uint8Array {
    const paths: string[] = [];
    if (!type.isValid(value, { errorHook: (path) => paths.push(path.join(".") || "(root)") })) {
      throw new Error(`the value does not match the schema at ${paths.slice(0, 3).join(", ")}`);
    }
    const body = type.toBuffer(value);
    return encodeAvroWire(schemaId, new Uint8Array(body.buffer, body.byteOffset, body.length));
  }

  /** Decodes wire bytes with the writer's schema, resolved to `readerType` when given. */
  async decode(bytes: Uint8Array, readerType?: AvroType): Promise<unknown> {
    const { schemaId, body } = parseAvroWire(bytes);
    const writerType = await this.typeOf(schemaId);
    const buffer = Buffer.from(body.buffer, body.byteOffset, body.length);
    if (readerType === undefined) return writerType.fromBuffer(buffer);
    let byId = this.#resolvers.get(readerType);
    if (byId === undefined) this.#resolvers.set(readerType, byId = new Map());
    let resolver = byId.get(schemaId);
    if (resolver === undefined) {
      resolver = readerType.createResolver(writerType);
      byId.set(schemaId, resolver);
    }
    return readerType.fromBuffer(buffer, resolver);
  }
}

/** Options for {@linkcode avroSerde}. */
export interface AvroSerdeOptions {
  /** The registry (e.g. `client.schemaRegistry`) or a codec sharing its caches. */
  registry: SchemaRegistryApi | AvroCodec;
  /** The writer schema; registered under `subject` on first use. */
  schema?: AvroSchema;
  /** An already registered schema id to write with (instead of `schema`). */
  schemaId?: number;
  /** Registry subject; defaults to `<topic>-<key|value>`. */
  subject?: string;
  /** Reader schema: decode every writer version into this shape (schema evolution). */
  readerSchema?: AvroSchema;
}

/**
 * A serde for Avro values with their schema id on the wire. Serializing
 * needs `schema` or `schemaId`; deserializing needs neither (the id is in the
 * bytes). `null` maps to a null key/value (a tombstone).
 */
export function avroSerde<T = unknown>(options: AvroSerdeOptions): Serde<T | null> {
  const codec = options.registry instanceof AvroCodec
    ? options.registry
    : new AvroCodec(options.registry);
  const readerType = options.readerSchema === undefined
    ? undefined
    : parseAvroSchema(options.readerSchema).type;
  if (options.schema !== undefined) parseAvroSchema(options.schema); // fail early when invalid
  const byId = new Map<number, Promise<AvroType>>();
  const bySubject = new Map<string, { id: number; type: AvroType }>();

  async function writerFor(context: SerializeContext): Promise<{ id: number; type: AvroType }> {
    if (options.schemaId !== undefined) {
      let type = byId.get(options.schemaId);
      if (type === undefined) byId.set(options.schemaId, type = codec.typeOf(options.schemaId));
      return { id: options.schemaId, type: await type };
    }
    if (options.schema === undefined) {
      throw serializationError(context, "the Avro serde needs 'schema' or 'schemaId' to write");
    }
    const subject = options.subject ?? `${context.topic}-${context.part}`;
    const writer = await codec.register(subject, options.schema);
    bySubject.set(subject, writer);
    return writer;
  }

  function encode(writer: { id: number; type: AvroType }, value: T, context: SerializeContext) {
    try {
      return codec.encodeWith(writer.id, writer.type, value);
    } catch (err) {
      throw serializationError(context, reasonOf(err), { cause: err });
    }
  }

  return {
    serialize(value, context) {
      if (value === null || value === undefined) return null;
      // After the first value the writer is known: encode without an await.
      const known = options.schemaId === undefined
        ? bySubject.get(options.subject ?? `${context.topic}-${context.part}`)
        : undefined;
      if (known !== undefined) return encode(known, value, context);
      return writerFor(context).then((writer) => encode(writer, value, context));
    },
    async deserialize(bytes, context: DeserializeContext) {
      if (bytes === null) return null;
      try {
        return await codec.decode(bytes, readerType) as T;
      } catch (err) {
        if (err instanceof KaError && err.errorName === "SCHEMA_NOT_FOUND") {
          throw new DeserializationError(context, err.message, { cause: err });
        }
        throw new DeserializationError(context, `not readable as Avro: ${reasonOf(err)}`, {
          cause: err,
        });
      }
    },
  };
}
