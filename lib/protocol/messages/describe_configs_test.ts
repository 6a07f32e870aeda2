/**
 * DescribeConfigs v3 requests written byte by byte, as a Java AdminClient
 * (Kafka 2.6–2.7) sends them, and in the stored reference definition's shape.
 * @module
 */
import assert from "node:assert/strict";
import { Writer } from "../codec.ts";
import { decodeRequest } from "../mod.ts";

/** A DescribeConfigs v3 frame (header v1) for topic "orders", every key. */
function v3Frame(options: { includeDocumentation: boolean | null }): Uint8Array {
  const w = new Writer(64);
  w.int16(32).int16(3).int32(11).nullableString("adminclient-1"); // Request header v1.
  w.int32(1).int8(2).string("orders").int32(-1); // One topic resource, null keys.
  w.bool(true); // includeSynonyms
  if (options.includeDocumentation !== null) w.bool(options.includeDocumentation);
  return w.finish();
}

Deno.test("DescribeConfigs v3: a Java AdminClient request (includeDocumentation, KIP-569) decodes whole", () => {
  for (const includeDocumentation of [true, false]) {
    const req = decodeRequest(v3Frame({ includeDocumentation }));
    assert.equal(req.apiKey, 32);
    assert.deepEqual(req.header, {
      apiKey: 32,
      apiVersion: 3,
      correlationId: 11,
      clientId: "adminclient-1",
    });
    assert.deepEqual(req.body, {
      resources: [{ resourceType: 2, resourceName: "orders", configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation,
    });
  }
});

Deno.test("DescribeConfigs v3: a body ending after includeSynonyms (the stored definition) is not cut", () => {
  const req = decodeRequest(v3Frame({ includeDocumentation: null }));
  assert.deepEqual(req.body, {
    resources: [{ resourceType: 2, resourceName: "orders", configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: false,
  });
});
