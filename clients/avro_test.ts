/**
 * Tests for Avro values: the wire format, registration through a registry,
 * two schema versions read back (with and without a reader schema), and typed
 * errors for bad values, bad bytes and unknown ids.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { AvroCodec, avroSerde, encodeAvroWire, parseAvroSchema, parseAvroWire } from "./avro.ts";
import type { SchemaEntry, SchemaRegistryApi } from "./schema_registry.ts";
import { DeserializationError, type DeserializeContext, type SerializeContext } from "./serde.ts";

/** An in-memory registry with the coordinator's id rules (global ids, versions per subject). */
class MemoryRegistry implements SchemaRegistryApi {
  texts: string[] = [];
  subjects = new Map<string, number[]>();
  calls = 0;
  register(subject: string, schema: string): Promise<SchemaEntry> {
    this.calls++;
    let id = this.texts.indexOf(schema) + 1;
    if (id === 0) id = this.texts.push(schema);
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return Promise.resolve({ subject, version: versions.indexOf(id) + 1, id, schema });
  }
  schemaById(id: number): Promise<string> {
    this.calls++;
    const text = this.texts[id - 1];
    return text === undefined
      ? Promise.reject(KaError.of("SCHEMA_NOT_FOUND", `No schema has id ${id}`))
      : Promise.resolve(text);
  }
  list(): Promise<SchemaEntry[]> {
    return Promise.resolve([]);
  }
}

const USER_V1 = {
  type: "record",
  name: "User",
  fields: [{ name: "name", type: "string" }, { name: "visits", type: "long" }],
};
const USER_V2 = {
  type: "record",
  name: "User",
  fields: [
    { name: "name", type: "string" },
    { name: "visits", type: "long" },
    { name: "email", type: ["null", "string"], default: null },
  ],
};
/** avsc returns record-class instances; compare their fields. */
function plain(value: unknown): unknown {
  return structuredClone(value);
}

const W: SerializeContext = { topic: "users", part: "value" };
const R: DeserializeContext = { topic: "users", partition: 1, offset: 9n, part: "value" };

Deno.test("Avro wire format: magic 0, 4-byte big-endian schema id, body", () => {
  const wire = encodeAvroWire(0x01020304, new Uint8Array([9, 8]));
  assert.deepEqual([...wire], [0, 1, 2, 3, 4, 9, 8]);
  assert.deepEqual(parseAvroWire(wire), { schemaId: 0x01020304, body: new Uint8Array([9, 8]) });
  assert.throws(() => parseAvroWire(new Uint8Array([1, 0, 0, 0, 1])), /magic/);
  assert.throws(() => parseAvroWire(new Uint8Array([0, 0])), /too few/);
});

Deno.test("avroSerde registers its schema once under <topic>-value and round trips", async () => {
  const registry = new MemoryRegistry();
  const serde = avroSerde<{ name: string; visits: number }>({ registry, schema: USER_V1 });
  const first = await serde.serialize({ name: "ada", visits: 3 }, W);
  const second = serde.serialize({ name: "bob", visits: 4 }, W); // sync after the first
  assert.ok(second instanceof Uint8Array);
  assert.equal(registry.subjects.get("users-value")?.length, 1);
  assert.equal(parseAvroWire(first!).schemaId, 1);
  const reader = avroSerde({ registry: new MemoryRegistryView(registry) });
  assert.deepEqual(plain(await reader.deserialize(first, R)), { name: "ada", visits: 3 });
  assert.deepEqual(plain(await reader.deserialize(second, R)), { name: "bob", visits: 4 });
  assert.equal(serde.serialize(null, W), null);
  assert.equal(await reader.deserialize(null, R), null);
});

/** A second client over the same registry (no shared caches). */
class MemoryRegistryView implements SchemaRegistryApi {
  constructor(readonly inner: MemoryRegistry) {}
  register(s: string, t: string) {
    return this.inner.register(s, t);
  }
  schemaById(id: number) {
    return this.inner.schemaById(id);
  }
  list() {
    return this.inner.list();
  }
}

Deno.test("Avro with two schema versions: each value reads back, and resolves to a reader schema", async () => {
  const registry = new MemoryRegistry();
  const v1 = avroSerde({ registry, schema: USER_V1 });
  const v2 = avroSerde({ registry, schema: USER_V2 });
  const old = await v1.serialize({ name: "ada", visits: 1 }, W);
  const neu = await v2.serialize({ name: "bob", visits: 2, email: "b@x" }, W);
  assert.deepEqual([parseAvroWire(old!).schemaId, parseAvroWire(neu!).schemaId], [1, 2]);
  assert.deepEqual(registry.subjects.get("users-value"), [1, 2]);
  // Without a reader schema: each value in its writer's shape.
  const unresolved = avroSerde({ registry: new MemoryRegistryView(registry) });
  assert.deepEqual(plain(await unresolved.deserialize(old, R)), { name: "ada", visits: 1 });
  assert.deepEqual(plain(await unresolved.deserialize(neu, R)), {
    name: "bob",
    visits: 2,
    email: "b@x",
  });
  // With the v2 reader schema: the v1 value gets the new field's default.
  const evolved = avroSerde({ registry: new MemoryRegistryView(registry), readerSchema: USER_V2 });
  assert.deepEqual(plain(await evolved.deserialize(old, R)), {
    name: "ada",
    visits: 1,
    email: null,
  });
  assert.deepEqual(plain(await evolved.deserialize(neu, R)), {
    name: "bob",
    visits: 2,
    email: "b@x",
  });
});

Deno.test("avroSerde writes with an already registered schemaId", async () => {
  const registry = new MemoryRegistry();
  const { id } = await new AvroCodec(registry).register("shared", USER_V1);
  const serde = avroSerde({ registry, schemaId: id });
  const bytes = await serde.serialize({ name: "x", visits: 0 }, W);
  assert.equal(parseAvroWire(bytes!).schemaId, id);
  assert.deepEqual(plain(await serde.deserialize(bytes, R)), { name: "x", visits: 0 });
  await assert.rejects(
    Promise.resolve().then(() => avroSerde({ registry, schemaId: 99 }).serialize({ name: "x" }, W)),
    (e) => isKaError(e, "SCHEMA_NOT_FOUND"),
  );
});

Deno.test("Avro errors: invalid schema, value not matching it, unreadable bytes, unknown id", async () => {
  const registry = new MemoryRegistry();
  assert.throws(
    () => parseAvroSchema({ type: "record", name: "X", fields: [{ name: "a" }] }),
    (e) => isKaError(e, "INVALID_SCHEMA"),
  );
  assert.throws(
    () => avroSerde({ registry, schema: { type: "nope" } }),
    (e) => isKaError(e, "INVALID_SCHEMA"),
  );
  const serde = avroSerde({ registry, schema: USER_V1 });
  await assert.rejects(
    Promise.resolve().then(() => serde.serialize({ name: 5, visits: 1 }, W)),
    (e) => isKaError(e, "SERIALIZATION_ERROR") && /name/.test(e.message),
  );
  await assert.rejects(
    Promise.resolve().then(() => avroSerde({ registry }).serialize({}, W)),
    (e) => isKaError(e, "SERIALIZATION_ERROR") && /schemaId/.test(e.message),
  );
  const reader = avroSerde({ registry });
  await assert.rejects(
    Promise.resolve(reader.deserialize(new TextEncoder().encode("{json}"), R)),
    (e) =>
      e instanceof DeserializationError && /users-1 at offset 9/.test(e.message) &&
      /magic/.test(e.message),
  );
  await assert.rejects(
    Promise.resolve(reader.deserialize(encodeAvroWire(77, new Uint8Array([1])), R)),
    (e) => e instanceof DeserializationError && /No schema has id 77/.test(e.message),
  );
  const good = await serde.serialize({ name: "ok", visits: 1 }, W);
  await assert.rejects(
    Promise.resolve(reader.deserialize(good!.subarray(0, 6), R)),
    (e) => e instanceof DeserializationError,
  );
  // "string" and '"string"' are the same primitive schema.
  assert.equal(parseAvroSchema("string").text, parseAvroSchema('"string"').text);
});
