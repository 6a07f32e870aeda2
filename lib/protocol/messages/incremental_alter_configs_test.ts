/**
 * IncrementalAlterConfigs layouts, byte by byte: v0 classic, v1 flexible
 * (compact strings and arrays, tagged fields after every struct, request
 * header v2 and response header v1). The generic round-trip, truncation and
 * fuzz tests in `mod_test.ts` cover both versions too.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../../errors.ts";
import { Reader, Writer } from "../codec.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../mod.ts";
import {
  decodeIncrementalAlterConfigsRequest,
  encodeIncrementalAlterConfigsRequest,
  encodeIncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsRequest,
} from "./incremental_alter_configs.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const REQUEST: IncrementalAlterConfigsRequest = {
  resources: [{
    resourceType: 2,
    resourceName: "t",
    configs: [{ name: "a", configOperation: 0, value: "1" }, {
      name: "b",
      configOperation: 1,
      value: null,
    }],
  }],
  validateOnly: false,
};

Deno.test("IncrementalAlterConfigs v0 request: classic strings and arrays", () => {
  const w = new Writer();
  encodeIncrementalAlterConfigsRequest(w, 0, REQUEST);
  const bytes = w.finish();
  assert.equal(
    hex(bytes),
    "00000001" + "02" + "000174" + "00000002" + "000161" + "00" + "000131" + "000162" + "01" +
      "ffff" + "00",
  );
  assert.deepEqual(decodeIncrementalAlterConfigsRequest(new Reader(bytes), 0), REQUEST);
});

Deno.test("IncrementalAlterConfigs v1 request: compact encodings and tagged fields", () => {
  const w = new Writer();
  encodeIncrementalAlterConfigsRequest(w, 1, REQUEST);
  const bytes = w.finish();
  // Counts and lengths are uvarint n+1; each struct ends with an empty tagged-field section.
  assert.equal(
    hex(bytes),
    "02" + "02" + "0274" + "03" + "0261" + "00" + "0231" + "00" + "0262" + "01" + "00" + "00" +
      "00" + "00" + "00",
  );
  assert.deepEqual(decodeIncrementalAlterConfigsRequest(new Reader(bytes), 1), REQUEST);
});

Deno.test("IncrementalAlterConfigs v1 frames: request header v2 in, response header v1 out", () => {
  const frame = encodeRequest(
    { apiKey: 44, apiVersion: 1, correlationId: 3, clientId: "rdkafka" },
    REQUEST,
  );
  // Length, key 44, version 1, correlation 3, client id (classic), then the header's tagged fields.
  assert.equal(
    hex(frame.subarray(4, 4 + 2 + 2 + 4 + 9 + 1)),
    "002c" + "0001" + "00000003" + "0007" + "72646b61666b61" + "00",
  );
  const req = decodeRequest(frame.subarray(4));
  assert.equal(req.apiKey, 44);
  assert.deepEqual(req.body, REQUEST);
  const body = {
    throttleTimeMs: 0,
    responses: [{ errorCode: 40, errorMessage: "bad", resourceType: 2, resourceName: "t" }],
  };
  const out = encodeResponse(44, 1, 3, body);
  const w = new Writer();
  encodeIncrementalAlterConfigsResponse(w, 1, body);
  // Correlation id, then the response header's empty tagged fields, then the body.
  assert.equal(hex(out.subarray(4)), "00000003" + "00" + hex(w.finish()));
  assert.deepEqual(decodeResponse(44, 1, out.subarray(4)).body, body);
  const w2 = new Writer();
  w2.int16(44).int16(2).int32(1).nullableString("c");
  assert.throws(() => decodeRequest(w2.finish()), (e) => isKaError(e, "UNSUPPORTED_VERSION"));
});
