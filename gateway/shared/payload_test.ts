/**
 * Tests of the payload formats and offset rendering.
 * @module
 */
import assert from "node:assert/strict";
import { FieldError } from "./errors.ts";
import {
  decodeBase64,
  decodePayload,
  encodeBase64,
  encodeHeaders,
  encodePayload,
  offsetToJson,
} from "./payload.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("encodePayload() json: strings as UTF-8, null as null, the rest stringified", () => {
  assert.equal(decoder.decode(encodePayload("héllo", "json", "value")!), "héllo");
  assert.equal(encodePayload(null, "json", "value"), null);
  assert.equal(decoder.decode(encodePayload({ a: [1, "x"] }, "json", "value")!), '{"a":[1,"x"]}');
  assert.equal(decoder.decode(encodePayload(false, "json", "value")!), "false");
  assert.equal(decoder.decode(encodePayload(-1.5, "json", "value")!), "-1.5");
});

Deno.test("json values written by the gateway read back as written, save numeric strings", () => {
  const values: unknown[] = [{ a: 1, b: { c: [null, true] } }, [1, 2], "text", "", 7, null, false];
  for (const value of values) {
    assert.deepEqual(decodePayload(encodePayload(value, "json", "value"), "json"), value);
  }
  assert.equal(decodePayload(encodePayload("42", "json", "value"), "json"), 42);
  assert.equal(decodePayload(encoder.encode("9007199254740993"), "json"), "9007199254740993");
  assert.equal(decodePayload(encoder.encode(" 12 "), "json"), 12);
  assert.equal(decodePayload(encoder.encode("1e3"), "json"), "1e3");
});

Deno.test("base64 round-trips bytes of every value and long arrays", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(decodeBase64(encodeBase64(all), "value"), all);
  const long = new Uint8Array(100_001).map((_, i) => (i * 31) & 0xff);
  assert.deepEqual(decodeBase64(encodeBase64(long), "value"), long);
  assert.equal(encodeBase64(new Uint8Array()), "");
  assert.deepEqual(decodeBase64("", "value"), new Uint8Array());
  assert.equal(decodePayload(new Uint8Array([0xff]), "binary"), "/w==");
});

Deno.test("decodeBase64() refuses anything but padded standard base64, naming the field", () => {
  for (const bad of ["A", "AB", "ABC", "A===", "AB=C", "ab-_", "AA==AA==", " AAA", "AAA\n"]) {
    assert.throws(() => decodeBase64(bad, "key"), (err) => {
      return err instanceof FieldError && err.field === "key" && err.httpStatus === 400;
    }, bad);
  }
});

Deno.test("encodeHeaders() accepts arrays (repeated keys) and objects", () => {
  const text = (h: { key: string; value: unknown }[]) =>
    h.map((x) => [x.key, x.value === null ? null : decoder.decode(x.value as Uint8Array)]);
  assert.deepEqual(
    text(encodeHeaders([{ key: "a", value: "1" }, { key: "a", value: 2 }], "json")),
    [
      ["a", "1"],
      ["a", "2"],
    ],
  );
  assert.deepEqual(text(encodeHeaders({ b: null, c: "aGk=" }, "binary")), [["b", null], [
    "c",
    "hi",
  ]]);
  assert.deepEqual(encodeHeaders(undefined, "json"), []);
});

Deno.test("offsetToJson() answers numbers up to 2^53 - 1 and strings above", () => {
  assert.equal(offsetToJson(0n), 0);
  assert.equal(offsetToJson(-1n), -1);
  assert.equal(offsetToJson(9007199254740991n), 9007199254740991);
  assert.equal(offsetToJson(9007199254740992n), "9007199254740992");
  assert.equal(offsetToJson((1n << 63n) - 1n), "9223372036854775807");
});
