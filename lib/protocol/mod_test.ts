/**
 * Tests for the framed API: every API and version round trips, truncated
 * and random frames throw only KaError, and golden frames stay pinned.
 * @module
 */
import { seededRandom } from "../random.ts";
import assert from "node:assert/strict";
import { isKaError, KaError } from "../errors.ts";
import { ApiKey, SUPPORTED_VERSIONS } from "./api_keys.ts";
import { Writer } from "./codec.ts";
import {
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type ImplementedApiKey,
  peekCorrelationId,
  RequestDecodeError,
  type RequestHeader,
} from "./mod.ts";
import { GOLDEN_FRAMES } from "./testdata/golden_frames.ts";
import { allSamples, type Sample } from "./testdata/samples.ts";

const SAMPLES = allSamples();

function headerOf(s: Sample, correlationId = 7): RequestHeader & { apiKey: ImplementedApiKey } {
  return { apiKey: s.apiKey, apiVersion: s.version, correlationId, clientId: "test-client" };
}

function requestFrame(s: Sample): Uint8Array {
  const whole = encodeRequest(headerOf(s), s.request as never);
  const length = new DataView(whole.buffer, whole.byteOffset).getInt32(0);
  assert.equal(length, whole.length - 4, "length prefix counts the bytes after it");
  return whole.subarray(4);
}

function responseFrame(s: Sample, correlationId = 7): Uint8Array {
  const whole = encodeResponse(s.apiKey, s.version, correlationId, s.response as never);
  assert.equal(new DataView(whole.buffer, whole.byteOffset).getInt32(0), whole.length - 4);
  return whole.subarray(4);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function assertOnlyKaError(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KaError)) {
      assert.fail(`${what}: threw ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
}

Deno.test("samples cover every supported API version", () => {
  let expected = 0;
  for (const range of SUPPORTED_VERSIONS.values()) expected += range.max - range.min + 1;
  assert.equal(SAMPLES.length, expected);
});

for (const s of SAMPLES) {
  const name = `${s.apiKey} v${s.version}`;
  Deno.test(`API ${name}: request round trips through encodeRequest/decodeRequest`, () => {
    const frame = requestFrame(s);
    const decoded = decodeRequest(frame);
    assert.equal(decoded.apiKey, s.apiKey);
    assert.deepEqual(decoded.header, headerOf(s));
    assert.deepEqual(decoded.body, s.request);
    const again = encodeRequest(decoded.header, decoded.body as never).subarray(4);
    assert.deepEqual(again, frame);
  });

  Deno.test(`API ${name}: response round trips through encodeResponse/decodeResponse`, () => {
    const frame = responseFrame(s, 99);
    assert.equal(peekCorrelationId(frame), 99);
    const decoded = decodeResponse(s.apiKey, s.version, frame);
    assert.equal(decoded.correlationId, 99);
    assert.deepEqual(decoded.body, s.response);
    const again = encodeResponse(s.apiKey, s.version, 99, decoded.body as never).subarray(4);
    assert.deepEqual(again, frame);
  });

  Deno.test(`API ${name}: every truncation returns or throws KaError`, () => {
    const req = requestFrame(s);
    for (let n = 0; n < req.length; n++) {
      assertOnlyKaError(() => decodeRequest(req.subarray(0, n)), `request cut at ${n}`);
    }
    const res = responseFrame(s);
    for (let n = 0; n < res.length; n++) {
      assertOnlyKaError(
        () => decodeResponse(s.apiKey, s.version, res.subarray(0, n)),
        `response cut at ${n}`,
      );
    }
    // A cut inside the body of a non-empty request is always an error, except
    // DescribeConfigs v3's last byte: its optional includeDocumentation (see
    // describe_configs.ts and describe_configs_test.ts).
    const lastByteOptional = s.apiKey === ApiKey.DescribeConfigs && s.version === 3;
    if (s.apiKey !== ApiKey.ApiVersions && s.apiKey !== ApiKey.ListGroups && !lastByteOptional) {
      assert.throws(
        () => decodeRequest(req.subarray(0, req.length - 1)),
        (e) =>
          e instanceof RequestDecodeError && isKaError(e, "INVALID_REQUEST") &&
          e.header?.apiKey === s.apiKey,
      );
    }
  });
}

Deno.test("fields a version lacks are not written and decode to Kafka's default", () => {
  const v4 = responseFrame({
    apiKey: 0,
    version: 4,
    request: null as never,
    response: {
      responses: [{
        name: "t",
        partitionResponses: [{
          index: 0,
          errorCode: 0,
          baseOffset: 1n,
          logAppendTimeMs: -1n,
          logStartOffset: 77n,
          recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: "x" }],
          errorMessage: "dropped",
        }],
      }],
      throttleTimeMs: 0,
    },
  });
  const p = decodeResponse(0, 4, v4).body.responses[0].partitionResponses[0];
  assert.equal(p.logStartOffset, -1n);
  assert.deepEqual(p.recordErrors, []);
  assert.equal(p.errorMessage, null);

  const fetch6 = encodeRequest(
    { apiKey: 1, apiVersion: 6, correlationId: 1, clientId: null },
    {
      replicaId: -1,
      maxWaitMs: 1,
      minBytes: 1,
      maxBytes: 1,
      isolationLevel: 0,
      sessionId: 5,
      sessionEpoch: 5,
      topics: [],
      forgottenTopicsData: [{ topic: "x", partitions: [1] }],
      rackId: "r",
    },
  );
  const body = decodeRequest(fetch6.subarray(4));
  assert.equal(body.apiKey, ApiKey.Fetch);
  if (body.apiKey === ApiKey.Fetch) {
    assert.equal(body.body.sessionId, 0);
    assert.equal(body.body.sessionEpoch, -1);
    assert.deepEqual(body.body.forgottenTopicsData, []);
    assert.equal(body.body.rackId, "");
    assert.equal(body.header.clientId, null);
  }
});

Deno.test("a hand-built Kafka Metadata v1 request decodes (topics null = all)", () => {
  // length 17 | apiKey 3 | version 1 | correlationId 7 | clientId "abc" | topics -1
  const frame = fromHex("00000011" + "0003" + "0001" + "00000007" + "0003616263" + "ffffffff");
  const req = decodeRequest(frame.subarray(4));
  assert.equal(req.apiKey, ApiKey.Metadata);
  assert.deepEqual(req.header, { apiKey: 3, apiVersion: 1, correlationId: 7, clientId: "abc" });
  assert.deepEqual(req.body, {
    topics: null,
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.deepEqual(
    encodeRequest({ apiKey: 3, apiVersion: 1, correlationId: 7, clientId: "abc" }, {
      topics: null,
    }),
    frame,
  );
});

Deno.test("decodeRequest() answers UNSUPPORTED_VERSION with the header for unknown keys and versions", () => {
  const w = new Writer().int16(0).int16(9).int32(5).nullableString("c");
  assert.throws(
    () => decodeRequest(w.finish()),
    (e) =>
      e instanceof RequestDecodeError && isKaError(e, "UNSUPPORTED_VERSION") &&
      e.header?.correlationId === 5 && e.header.apiVersion === 9,
  );
  const unknown = new Writer().int16(999).int16(0).int32(6).nullableString(null).finish();
  assert.throws(
    () => decodeRequest(unknown),
    (e) =>
      e instanceof RequestDecodeError && isKaError(e, "UNSUPPORTED_VERSION") &&
      e.header?.apiKey === 999,
  );
  const apiVersions9 = new Writer().int16(18).int16(9).int32(1).nullableString(null).finish();
  assert.throws(() => decodeRequest(apiVersions9), (e) => isKaError(e, "UNSUPPORTED_VERSION"));
});

Deno.test("decodeRequestHeader() of a cut header is INVALID_REQUEST without a header", () => {
  assert.throws(
    () => decodeRequestHeader(new Uint8Array([0, 3, 0])),
    (e) =>
      e instanceof RequestDecodeError && isKaError(e, "INVALID_REQUEST") && e.header === undefined,
  );
  const { header, bodyOffset } = decodeRequestHeader(
    new Writer().int16(3).int16(1).int32(9).string("ab").int32(-1).finish(),
  );
  assert.deepEqual(header, { apiKey: 3, apiVersion: 1, correlationId: 9, clientId: "ab" });
  assert.equal(bodyOffset, 12);
});

Deno.test("decodeRequest() ignores trailing bytes", () => {
  const s = SAMPLES.find((x) => x.apiKey === ApiKey.DeleteTopics)!;
  const frame = new Writer().raw(requestFrame(s)).int32(123).finish();
  assert.deepEqual(decodeRequest(frame).body, s.request);
});

Deno.test("encoding an unsupported version throws UNSUPPORTED_VERSION", () => {
  assert.throws(
    () =>
      encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 1, clientId: null }, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1,
        topicData: [],
      }),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
  assert.throws(
    () => encodeResponse(3, 0, 1, { brokers: [], controllerId: -1, topics: [] }),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
  assert.throws(
    () => decodeResponse(3, 12, new Uint8Array(8)),
    (e) => isKaError(e, "UNSUPPORTED_VERSION"),
  );
});

Deno.test("internal APIs keep bigints and bytes, and reject bad JSON with INVALID_REQUEST", () => {
  const payload = { v: 2n ** 64n, neg: -5n, b: new Uint8Array([1, 2]), s: "$bigint", arr: [1n] };
  const frame = encodeRequest(
    { apiKey: ApiKey.BrokerHeartbeat, apiVersion: 0, correlationId: 1, clientId: "broker-1" },
    { payload },
  );
  assert.deepEqual(decodeRequest(frame.subarray(4)).body, { payload });
  const res = encodeResponse(ApiKey.ConsoleCommand, 0, 3, { payload: undefined });
  assert.deepEqual(decodeResponse(ApiKey.ConsoleCommand, 0, res.subarray(4)).body, {
    payload: null,
  });
  const bad = new Writer().int16(1000).int16(0).int32(1).nullableString(null)
    .bytes(new TextEncoder().encode("{not json")).finish();
  assert.throws(
    () => decodeRequest(bad),
    (e) => e instanceof RequestDecodeError && isKaError(e, "INVALID_REQUEST"),
  );
  const badTag = new Writer().int16(1000).int16(0).int32(1).nullableString(null)
    .bytes(new TextEncoder().encode('{"$bigint":"12x"}')).finish();
  assert.throws(() => decodeRequest(badTag), (e) => isKaError(e, "INVALID_REQUEST"));
  const badUtf8 = new Writer().int16(1000).int16(0).int32(1).nullableString(null)
    .bytes(new Uint8Array([0xff])).finish();
  assert.throws(() => decodeRequest(badUtf8), (e) => isKaError(e, "INVALID_REQUEST"));
  const deep = new Writer().int16(1000).int16(0).int32(1).nullableString(null)
    .bytes(new TextEncoder().encode("[".repeat(200_000) + "]".repeat(200_000))).finish();
  assertOnlyKaError(() => decodeRequest(deep), "deeply nested JSON");
});

Deno.test("fuzz: random request frames throw only KaError (seeded)", () => {
  const seed = 0x5eed;
  const rand = seededRandom(seed);
  const keys = [...SUPPORTED_VERSIONS];
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(rand() * 160);
    const w = new Writer(length + 16);
    if (rand() < 0.8) {
      // A valid header, so the body decoders see the garbage.
      const [key, range] = keys[Math.floor(rand() * keys.length)];
      const version = range.min + Math.floor(rand() * (range.max - range.min + 1));
      w.int16(key).int16(version).int32(i).nullableString(rand() < 0.5 ? null : "fz");
    }
    for (let b = 0; b < length; b++) {
      // Bias towards small and -1-ish bytes so lengths and counts are plausible.
      const r = rand();
      w.int8(r < 0.3 ? 0 : r < 0.4 ? -1 : r < 0.5 ? 1 : Math.floor(rand() * 256) - 128);
    }
    assertOnlyKaError(() => decodeRequest(w.finish()), `seed ${seed} iteration ${i}`);
  }
});

Deno.test("fuzz: mutated valid frames throw only KaError (seeded)", () => {
  const seed = 0xf00d;
  const rand = seededRandom(seed);
  for (let i = 0; i < 2000; i++) {
    const s = SAMPLES[Math.floor(rand() * SAMPLES.length)];
    const isRequest = rand() < 0.5;
    const frame = (isRequest ? requestFrame(s) : responseFrame(s)).slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(rand() * frame.length);
      frame[at] = rand() < 0.3 ? 0xff : Math.floor(rand() * 256);
    }
    const cut = rand() < 0.3 ? frame.subarray(0, Math.floor(rand() * frame.length)) : frame;
    assertOnlyKaError(
      () => isRequest ? decodeRequest(cut) : decodeResponse(s.apiKey, s.version, cut),
      `seed ${seed} iteration ${i} (${s.apiKey} v${s.version})`,
    );
  }
});

Deno.test("golden frames stay byte-identical", () => {
  for (const g of GOLDEN_FRAMES) {
    const s = SAMPLES.find((x) => x.apiKey === g.apiKey && x.version === g.version)!;
    assert.ok(s, `sample for ${g.apiKey} v${g.version}`);
    const bytes = g.kind === "request"
      ? encodeRequest(headerOf(s), s.request as never)
      : encodeResponse(s.apiKey, s.version, 7, s.response as never);
    assert.equal(hex(bytes), g.hex, `${g.kind} ${g.apiKey} v${g.version}`);
    const frame = fromHex(g.hex).subarray(4);
    if (g.kind === "request") assert.deepEqual(decodeRequest(frame).body, s.request);
    else assert.deepEqual(decodeResponse(s.apiKey, s.version, frame).body, s.response);
  }
});

/** Prints GOLDEN_FRAMES source; run with `deno eval` to regenerate testdata/golden_frames.ts. */
export function goldenSource(): string {
  const picks: [ImplementedApiKey, number, "request" | "response"][] = [
    [18, 0, "request"],
    [18, 2, "response"],
    [0, 8, "request"],
    [0, 8, "response"],
    [1, 11, "request"],
    [1, 11, "response"],
    [3, 8, "response"],
  ];
  const rows = picks.map(([k, v, kind]) => {
    const s = SAMPLES.find((x) => x.apiKey === k && x.version === v)!;
    const bytes = kind === "request"
      ? encodeRequest(headerOf(s), s.request as never)
      : encodeResponse(k, v, 7, s.response as never);
    return `  { apiKey: ${k}, version: ${v}, kind: "${kind}", hex: "${hex(bytes)}" },`;
  });
  return rows.join("\n");
}
