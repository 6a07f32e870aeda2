/**
 * ApiVersions v3 (the first flexible version) against a frame librdkafka
 * 2.0.2 really sends, and the response header staying v0.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "../../errors.ts";
import { Reader, Writer } from "../codec.ts";
import { decodeRequest, decodeResponse, encodeResponse, RequestDecodeError } from "../mod.ts";
import { isValidApiVersionsRequest } from "./api_versions.ts";

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** kcat 1.7.1 / librdkafka 2.0.2's first frame on a connection, captured on loopback. */
const LIBRDKAFKA_API_VERSIONS_V3 =
  "000000240012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200";

Deno.test("ApiVersions v3: librdkafka's flexible request (header v2) decodes", () => {
  const frame = fromHex(LIBRDKAFKA_API_VERSIONS_V3).subarray(4);
  const req = decodeRequest(frame);
  assert.equal(req.apiKey, 18);
  assert.deepEqual(req.header, {
    apiKey: 18,
    apiVersion: 3,
    correlationId: 1,
    clientId: "rdkafka",
  });
  assert.deepEqual(req.body, { clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" });
});

Deno.test("ApiVersions v3: response header stays v0, body is compact with tagged fields", () => {
  const frame = encodeResponse(18, 3, 1, {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
    throttleTimeMs: 0,
  });
  // length, correlationId (no header tagged fields), errorCode, compact count 1+1,
  // one key with its empty tagged fields, throttle, empty tagged fields.
  assert.equal(
    Array.from(frame, (b) => b.toString(16).padStart(2, "0")).join(""),
    "00000013" + "00000001" + "0000" + "02" + "00120000000300" + "00000000" + "00",
  );
  const back = decodeResponse(18, 3, frame.subarray(4));
  assert.equal(back.correlationId, 1);
  assert.deepEqual(back.body.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
});

Deno.test("ApiVersions v4 (not ours) is UNSUPPORTED_VERSION with the header", () => {
  const frame = fromHex(LIBRDKAFKA_API_VERSIONS_V3).subarray(4);
  frame[3] = 4; // apiVersion 3 → 4
  assert.throws(
    () => decodeRequest(frame),
    (e) =>
      e instanceof RequestDecodeError && isKaError(e, "UNSUPPORTED_VERSION") &&
      e.header?.apiVersion === 4 && e.header.correlationId === 1,
  );
});

Deno.test("compact strings, arrays and tagged fields round trip and refuse garbage", () => {
  const w = new Writer();
  w.compactString("héllo").compactNullableString(null).compactArray([1, 2], (w, n) => w.int8(n));
  w.compactArray(null, () => {});
  // Two tagged fields: tag 0 with 2 bytes, tag 5 with 0 bytes.
  w.uvarint(2).uvarint(0).uvarint(2).int16(7).uvarint(5).uvarint(0);
  const r = new Reader(w.finish());
  assert.equal(r.compactString(), "héllo");
  assert.equal(r.compactNullableString(), null);
  assert.deepEqual(r.compactArray((r) => r.int8()), [1, 2]);
  assert.deepEqual(r.compactArray((r) => r.int8()), []);
  r.skipTaggedFields();
  assert.equal(r.remaining, 0);

  const bad = [
    new Uint8Array([0x05, 0x61]), // compact string of 4 bytes, 1 present
    new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), // compact array count far above the bytes left
    new Uint8Array([0x02, 0x05, 0x00, 0x01, 0x00]), // tags out of order (5 then 1)
    new Uint8Array([0x01, 0x00, 0x09]), // tagged field of 9 bytes, none present
  ];
  assert.throws(() => new Reader(bad[0]).compactString(), (e) => isKaError(e, "INVALID_REQUEST"));
  assert.throws(
    () => new Reader(bad[1]).compactArray((r) => r.int8()),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(
    () => new Reader(bad[2]).skipTaggedFields(),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(
    () => new Reader(bad[3]).skipTaggedFields(),
    (e) => isKaError(e, "INVALID_REQUEST"),
  );
  assert.throws(() => new Reader(new Uint8Array([0])).compactString(), (e) => isKaError(e));
});

Deno.test("isValidApiVersionsRequest() follows KIP-511's client software pattern", () => {
  assert.ok(isValidApiVersionsRequest(2, {}));
  assert.ok(
    isValidApiVersionsRequest(3, {
      clientSoftwareName: "librdkafka",
      clientSoftwareVersion: "2.0.2",
    }),
  );
  assert.ok(isValidApiVersionsRequest(3, { clientSoftwareName: "a", clientSoftwareVersion: "1" }));
  for (const bad of ["", "-x", "x-", "has space", "ünï"]) {
    assert.ok(
      !isValidApiVersionsRequest(3, { clientSoftwareName: bad, clientSoftwareVersion: "1" }),
    );
    assert.ok(
      !isValidApiVersionsRequest(3, { clientSoftwareName: "x", clientSoftwareVersion: bad }),
    );
  }
});
