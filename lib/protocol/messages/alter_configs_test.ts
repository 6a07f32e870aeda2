/**
 * AlterConfigs v0–1 layouts, byte by byte as a Kafka client writes them
 * (the generic round-trip, truncation and fuzz tests in `mod_test.ts` cover
 * every version too).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../../errors.ts";
import { Reader, Writer } from "../codec.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../mod.ts";
import {
  type AlterConfigsRequest,
  decodeAlterConfigsRequest,
  decodeAlterConfigsResponse,
  encodeAlterConfigsRequest,
  encodeAlterConfigsResponse,
} from "./alter_configs.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const REQUEST: AlterConfigsRequest = {
  resources: [{
    resourceType: 2,
    resourceName: "t",
    configs: [{ name: "a", value: "1" }, { name: "b", value: null }],
  }],
  validateOnly: true,
};

Deno.test("AlterConfigs request: resources [type, name, configs [name, nullable value]], validateOnly", () => {
  for (const version of [0, 1]) {
    const w = new Writer();
    encodeAlterConfigsRequest(w, version, REQUEST);
    const bytes = w.finish();
    assert.equal(
      hex(bytes),
      "00000001" + "02" + "000174" + "00000002" + "000161" + "000131" + "000162" + "ffff" + "01",
    );
    assert.deepEqual(decodeAlterConfigsRequest(new Reader(bytes), version), REQUEST);
  }
});

Deno.test("AlterConfigs response: throttle, responses [code, nullable message, type, name]", () => {
  const body = {
    throttleTimeMs: 7,
    responses: [
      { errorCode: 40, errorMessage: "bad", resourceType: 2, resourceName: "t" },
      { errorCode: 0, errorMessage: null, resourceType: 4, resourceName: "" },
    ],
  };
  const w = new Writer();
  encodeAlterConfigsResponse(w, 1, body);
  const bytes = w.finish();
  assert.equal(
    hex(bytes),
    "00000007" + "00000002" + "0028" + "0003626164" + "02" + "000174" + "0000" + "ffff" + "04" +
      "0000",
  );
  assert.deepEqual(decodeAlterConfigsResponse(new Reader(bytes), 1), body);
});

Deno.test("AlterConfigs: whole frames round-trip at v0 and v1; v2 (flexible) is UNSUPPORTED_VERSION", () => {
  for (const apiVersion of [0, 1]) {
    const frame = encodeRequest(
      { apiKey: 33, apiVersion, correlationId: 5, clientId: "kafkajs" },
      REQUEST,
    );
    const req = decodeRequest(frame.subarray(4));
    assert.equal(req.apiKey, 33);
    assert.deepEqual(req.body, REQUEST);
    const res = { throttleTimeMs: 0, responses: [] };
    const out = encodeResponse(33, apiVersion, 5, res);
    assert.deepEqual(decodeResponse(33, apiVersion, out.subarray(4)).body, res);
  }
  const w = new Writer();
  w.int16(33).int16(2).int32(1).nullableString("c");
  assert.throws(() => decodeRequest(w.finish()), (e) => isKaError(e, "UNSUPPORTED_VERSION"));
});

Deno.test("AlterConfigs request cut inside a config is INVALID_REQUEST", () => {
  const w = new Writer();
  encodeAlterConfigsRequest(w, 0, REQUEST);
  const bytes = w.finish();
  assert.throws(
    () => decodeAlterConfigsRequest(new Reader(bytes.subarray(0, 14), 0, "INVALID_REQUEST"), 0),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
});
