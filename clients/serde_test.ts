/**
 * Tests for the built-in serdes: round trips, tombstones, and typed errors
 * naming topic, partition and offset.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import {
  binarySerde,
  DeserializationError,
  type DeserializeContext,
  deserializeWith,
  jsonSerde,
  payloadSerde,
  type SerializeContext,
  stringSerde,
} from "./serde.ts";

const W: SerializeContext = { topic: "orders", part: "value" };
const R: DeserializeContext = { topic: "orders", partition: 3, offset: 42n, part: "value" };

async function roundTrip<T>(
  serde: {
    serialize(v: T, c: SerializeContext): unknown;
    deserialize(b: Uint8Array | null, c: DeserializeContext): unknown;
  },
  value: T,
): Promise<unknown> {
  const bytes = await serde.serialize(value, W);
  return await deserializeWith(serde as never, bytes as Uint8Array | null, R);
}

Deno.test("jsonSerde() round trips JSON values and maps null to a tombstone", async () => {
  const serde = jsonSerde<unknown>();
  for (const v of [{ a: 1, b: [true, "x", null] }, [1, 2], "text", 12.5, false]) {
    assert.deepEqual(await roundTrip(serde, v), v);
  }
  assert.equal(serde.serialize(null, W), null);
  assert.equal(await roundTrip(serde, null), null);
  assert.equal(new TextDecoder().decode(serde.serialize({ a: 1 }, W) as Uint8Array), '{"a":1}');
  assert.throws(
    () => serde.serialize(10n as unknown, W),
    (e) => isKaError(e, "SERIALIZATION_ERROR"),
  );
  assert.throws(() => serde.serialize(undefined, W), (e) => isKaError(e, "SERIALIZATION_ERROR"));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(
    () => serde.serialize(cyclic, W),
    (e) => isKaError(e, "SERIALIZATION_ERROR") && /orders/.test(e.message),
  );
});

Deno.test("stringSerde, binarySerde and payloadSerde round trip their values", async () => {
  assert.equal(await roundTrip(stringSerde, "héllo ✓"), "héllo ✓");
  assert.equal(await roundTrip(stringSerde, null), null);
  const bytes = new Uint8Array([0, 255, 7]);
  assert.deepEqual(await roundTrip(binarySerde, bytes), bytes);
  assert.equal(await roundTrip(binarySerde, null), null);
  assert.deepEqual(payloadSerde.serialize("hi", W), new TextEncoder().encode("hi"));
  assert.equal(payloadSerde.serialize(bytes, W), bytes);
  assert.equal(payloadSerde.serialize(null, W), null);
  assert.throws(
    () => binarySerde.serialize("no" as never, W),
    (e) => isKaError(e, "SERIALIZATION_ERROR"),
  );
  assert.throws(
    () => stringSerde.serialize(5 as never, W),
    (e) => isKaError(e, "SERIALIZATION_ERROR"),
  );
  assert.throws(
    () => payloadSerde.serialize(5 as never, W),
    (e) => isKaError(e, "SERIALIZATION_ERROR"),
  );
});

Deno.test("a deserializer failure is a DeserializationError naming topic, partition and offset", async () => {
  const notUtf8 = new Uint8Array([0xff, 0xfe, 0x00]);
  for (const serde of [stringSerde, jsonSerde()]) {
    await assert.rejects(deserializeWith(serde, notUtf8, R), (e) => {
      assert.ok(e instanceof DeserializationError);
      assert.ok(isKaError(e, "DESERIALIZATION_ERROR"));
      assert.equal(e.topic, "orders");
      assert.equal(e.partition, 3);
      assert.equal(e.offset, 42n);
      assert.equal(e.part, "value");
      assert.match(e.message, /value of orders-3 at offset 42/);
      return true;
    });
  }
  await assert.rejects(
    deserializeWith(jsonSerde(), new TextEncoder().encode("{oops"), R),
    (e) => e instanceof DeserializationError && /not JSON/.test(e.message),
  );
  // Whatever a custom deserializer throws is wrapped too.
  const custom = {
    deserialize(): never {
      throw new RangeError("boom");
    },
  };
  await assert.rejects(
    deserializeWith(custom, new Uint8Array(1), { ...R, part: "key" }),
    (e) => e instanceof DeserializationError && e.part === "key" && /boom/.test(e.message),
  );
});
