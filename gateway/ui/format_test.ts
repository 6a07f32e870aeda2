/**
 * Tests of the message browser's views of keys and values.
 * @module
 */
import assert from "node:assert/strict";
import { avroSchemaIdOf, hexDump, viewPayload, viewValue } from "./format.ts";

const encoder = new TextEncoder();
const PREVIEW = { previewBytesMax: 64 };

Deno.test("viewPayload() shows null, pretty JSON, text and hex", () => {
  assert.deepEqual(viewPayload(null, PREVIEW), { kind: "null" });
  assert.deepEqual(viewPayload(encoder.encode('{"a":1,"b":[true]}'), PREVIEW), {
    kind: "json",
    text: '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}',
    bytes: 18,
    truncated: false,
  });
  assert.deepEqual(viewPayload(encoder.encode("héllo world"), PREVIEW), {
    kind: "text",
    text: "héllo world",
    bytes: 12,
    truncated: false,
  });
  const binary = viewPayload(new Uint8Array([0xff, 0x00, 0x41, 0x10]), PREVIEW);
  assert.equal(binary.kind, "binary");
  assert.ok(binary.kind === "binary" && binary.hex.startsWith("00000000  ff 00 41 10 "));
  assert.ok(binary.kind === "binary" && binary.hex.endsWith("|..A.|"));
});

Deno.test("viewPayload() treats control characters as binary and empty text as text", () => {
  assert.equal(viewPayload(encoder.encode("a\u0001b"), PREVIEW).kind, "binary");
  assert.equal(viewPayload(encoder.encode("line 1\nline 2\t!"), PREVIEW).kind, "text");
  assert.deepEqual(viewPayload(new Uint8Array(0), PREVIEW), {
    kind: "text",
    text: "",
    bytes: 0,
    truncated: false,
  });
});

Deno.test("viewPayload() cuts at previewBytesMax, even inside a UTF-8 character", () => {
  const long = encoder.encode(`{"text":"${"é".repeat(40)}"}`); // 2 bytes per é
  const view = viewPayload(long, PREVIEW);
  assert.equal(view.kind, "text"); // a cut JSON document is text
  assert.ok(view.kind === "text" && view.truncated && view.bytes === long.length);
  assert.ok(view.kind === "text" && encoder.encode(view.text).length <= 64);
  const bytes = new Uint8Array(100).fill(0xfe);
  const hex = viewPayload(bytes, PREVIEW);
  assert.ok(hex.kind === "binary" && hex.truncated);
  assert.ok(hex.kind === "binary" && hex.hex.split("\n").length === 4); // 64 bytes / 16
});

Deno.test("hexDump() writes offsets, 16 bytes a line and the printable ASCII", () => {
  const bytes = encoder.encode("0123456789abcdefXY");
  assert.equal(
    hexDump(bytes),
    "00000000  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
      "00000010  58 59" + " ".repeat(42) + "  |XY|",
  );
  assert.equal(hexDump(new Uint8Array(0)), "");
});

Deno.test("avroSchemaIdOf() reads Confluent's wire header only", () => {
  assert.equal(avroSchemaIdOf(new Uint8Array([0, 0, 0, 1, 2, 9])), 258);
  assert.equal(avroSchemaIdOf(new Uint8Array([0, 0, 0, 1])), null); // too short
  assert.equal(avroSchemaIdOf(new Uint8Array([1, 0, 0, 0, 7, 9])), null); // wrong magic
  assert.equal(avroSchemaIdOf(new Uint8Array([0, 0, 0, 0, 0, 9])), null); // id 0
});

Deno.test("viewValue() decodes Avro through the registry and falls back to bytes", async () => {
  const wire = new Uint8Array([0, 0, 0, 0, 7, 2, 4]);
  const avro = await viewValue(wire, {
    ...PREVIEW,
    decodeAvro: (b) => Promise.resolve({ id: 1n, name: "x", len: b.length }),
  });
  assert.deepEqual(avro, {
    kind: "avro",
    schemaId: 7,
    text: '{\n  "id": "1",\n  "name": "x",\n  "len": 7\n}',
    bytes: 7,
    truncated: false,
  });
  const failed = await viewValue(wire, {
    ...PREVIEW,
    decodeAvro: () => Promise.reject(new Error("unknown schema")),
  });
  assert.equal(failed.kind, "binary");
  const json = await viewValue(encoder.encode("[1]"), {
    ...PREVIEW,
    decodeAvro: () => Promise.reject(new Error("never called")),
  });
  assert.equal(json.kind, "json");
});
