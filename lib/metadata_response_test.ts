/**
 * Tests for the ApiVersions answer shared by brokers and the coordinator:
 * whole request frames in (as a peer sends them), whole response frames out.
 * @module
 */
import assert from "node:assert/strict";
import { answerApiVersions } from "./metadata_response.ts";
import {
  ApiKey,
  type ApiVersionsResponse,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  ERRORS,
  RequestDecodeError,
  Writer,
} from "./protocol/mod.ts";

const KEYS = [ApiKey.Produce, ApiKey.Metadata, ApiKey.ApiVersions];

/** Decodes `frame` and answers it as a server would; `readVersion` is the version to read it with. */
function answer(frame: Uint8Array, readVersion: number): {
  correlationId: number;
  body: ApiVersionsResponse;
} {
  let out: Uint8Array;
  try {
    const request = decodeRequest(frame);
    if (request.apiKey !== ApiKey.ApiVersions) throw new Error("expected an ApiVersions request");
    out = answerApiVersions(request, KEYS);
  } catch (err) {
    assert.ok(err instanceof RequestDecodeError && err.header?.apiKey === ApiKey.ApiVersions);
    out = answerApiVersions(err, KEYS);
  }
  return decodeResponse(ApiKey.ApiVersions, readVersion, out.subarray(4));
}

/** A v3 request header (header v2: v1 + empty tagged fields), as librdkafka writes it. */
function v3Header(w: Writer, correlationId: number): Writer {
  return w.int16(ApiKey.ApiVersions).int16(3).int32(correlationId).nullableString("rdkafka")
    .uvarint(0);
}

Deno.test("answerApiVersions() lists every API for a valid request", () => {
  for (const version of [0, 1, 2, 3]) {
    const frame = encodeRequest(
      { apiKey: ApiKey.ApiVersions, apiVersion: version, correlationId: 5, clientId: "c" },
      { clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" },
    );
    const { correlationId, body } = answer(frame.subarray(4), version);
    assert.equal(correlationId, 5);
    assert.equal(body.errorCode, 0);
    assert.deepEqual(body.apiKeys.map((k) => k.apiKey), KEYS);
  }
});

Deno.test("answerApiVersions() answers a version we do not serve with v0, UNSUPPORTED_VERSION and the list", () => {
  const w = new Writer(64);
  w.int16(ApiKey.ApiVersions).int16(99).int32(4242).nullableString("future-client");
  const { correlationId, body } = answer(w.finish(), 0);
  assert.equal(correlationId, 4242);
  assert.equal(body.errorCode, ERRORS.UNSUPPORTED_VERSION.code);
  assert.deepEqual(body.apiKeys.map((k) => k.apiKey), KEYS);
});

Deno.test("answerApiVersions() answers a malformed v3 body with v3 INVALID_REQUEST and no list (KIP-511)", () => {
  // clientSoftwareName claims 49 bytes but only 2 follow.
  const w = v3Header(new Writer(64), 77).uvarint(50);
  w.int8(0x61).int8(0x62);
  const { correlationId, body } = answer(w.finish(), 3);
  assert.equal(correlationId, 77);
  assert.equal(body.errorCode, ERRORS.INVALID_REQUEST.code);
  assert.deepEqual(body.apiKeys, []);
});

Deno.test("answerApiVersions() answers a v3 client software name outside KIP-511's pattern with INVALID_REQUEST", () => {
  const w = v3Header(new Writer(64), 78).compactString("bad name!").compactString("1.0");
  w.uvarint(0);
  const { correlationId, body } = answer(w.finish(), 3);
  assert.equal(correlationId, 78);
  assert.equal(body.errorCode, ERRORS.INVALID_REQUEST.code);
  assert.deepEqual(body.apiKeys, []);
});
