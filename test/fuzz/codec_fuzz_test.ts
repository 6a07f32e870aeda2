/**
 * In-process fuzzing of every decoder a listener runs on untrusted bytes:
 * request and response frames of every API and version, the frame splitter
 * fed in random chunks, record batches, control records, the consumer
 * protocol, the console wire payload and `config.yaml`. Each may only throw
 * a KaError (ConfigError is one), never a TypeError, RangeError or a stack
 * overflow, and the frame splitter never buffers more than its limit.
 *
 * Seeded and printed; replay with `FUZZ_SEED=<seed>`; `FUZZ_FRAMES=N` scales
 * the iterations (default 10,000 per decoder).
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { FrameDecoder } from "@kafka-analog/lib/framing";
import { parseConfig } from "@kafka-analog/lib/config";
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  decodeControlBatch,
  decodeRecords,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type ImplementedApiKey,
  readBatchHeader,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { consoleLineOf, decodeConsoleResponse } from "@kafka-analog/lib/console";
import { allSamples, SAMPLE_BATCH } from "../../lib/protocol/testdata/samples.ts";
import { mutateFrame, pick, prng } from "./_wire.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const ITERATIONS = Number(Deno.env.get("FUZZ_FRAMES") ?? 10_000);
const SAMPLES = allSamples();

/** Runs `fn`; anything thrown must be a KaError. Returns the error name or "ok". */
function onlyKaError(fn: () => unknown, what: string): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    assert.ok(
      isKaError(err),
      `${what} threw a non-KaError (seed ${SEED}): ${(err as Error)?.stack ?? err}`,
    );
    return (err as { errorName: string }).errorName;
  }
}

Deno.test("fuzz (in-process): mutated request and response frames throw only KaError", () => {
  console.log(`codec fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${ITERATIONS} iterations`);
  const rand = prng(SEED);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const s = SAMPLES[pick(rand, SAMPLES.length)];
    const isRequest = rand() < 0.5;
    const whole = isRequest
      ? encodeRequest(
        { apiKey: s.apiKey, apiVersion: s.version, correlationId: i, clientId: "fz" },
        s.request as never,
      )
      : encodeResponse(s.apiKey as ImplementedApiKey, s.version, i, s.response as never);
    const { bytes } = mutateFrame(rand, whole.subarray(4));
    const body = bytes.subarray(4);
    const what = `${isRequest ? "request" : "response"} ${s.apiKey} v${s.version} #${i}`;
    const outcome = onlyKaError(
      () => isRequest ? decodeRequest(body) : decodeResponse(s.apiKey, s.version, body),
      what,
    );
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  console.log(`outcomes: ${[...outcomes].map(([k, v]) => `${k}=${v}`).join(" ")}`);
});

Deno.test("fuzz (in-process): the frame splitter holds no more than its limit, whatever the chunks", () => {
  const rand = prng(SEED + 1);
  const frameBytesMax = 4096;
  for (let i = 0; i < ITERATIONS / 10; i++) {
    const decoder = new FrameDecoder({ frameBytesMax });
    const stream = new Uint8Array(pick(rand, 20_000));
    for (let b = 0; b < stream.length; b++) {
      const r = rand();
      stream[b] = r < 0.4 ? 0 : r < 0.5 ? 0xff : pick(rand, 256);
    }
    let pos = 0;
    const outcome = onlyKaError(() => {
      while (pos < stream.length) {
        const take = 1 + pick(rand, 3000);
        for (const frame of decoder.push(stream.subarray(pos, pos + take))) {
          assert.ok(frame.length <= frameBytesMax);
        }
        pos += take;
        assert.ok(decoder.buffered <= frameBytesMax + 4, `buffered ${decoder.buffered}`);
      }
    }, `frame stream #${i}`);
    if (outcome !== "ok") {
      assert.ok(["INVALID_REQUEST", "FRAME_TOO_LARGE"].includes(outcome), outcome);
    }
  }
});

Deno.test("fuzz (in-process): record batches, control records and consumer protocol throw only KaError", () => {
  const rand = prng(SEED + 2);
  const subscription = SAMPLES.find((s) => s.apiKey === 11)!; // JoinGroup carries protocol metadata
  const metadata =
    (subscription.request as { protocols: { metadata: Uint8Array }[] }).protocols[0]?.metadata ??
      new Uint8Array(0);
  for (let i = 0; i < ITERATIONS; i++) {
    const { bytes } = mutateFrame(rand, SAMPLE_BATCH);
    const batch = bytes.subarray(4);
    onlyKaError(() => readBatchHeader(batch), `readBatchHeader #${i}`);
    onlyKaError(() => splitBatches(batch), `splitBatches #${i}`);
    onlyKaError(() => splitBatches(batch, { allowPartialTail: true }), `splitBatches tail #${i}`);
    onlyKaError(() => decodeRecords(batch), `decodeRecords #${i}`);
    onlyKaError(() => decodeControlBatch(batch), `decodeControlBatch #${i}`);
    const meta = mutateFrame(rand, metadata).bytes.subarray(4);
    onlyKaError(() => decodeConsumerProtocolSubscription(meta), `subscription #${i}`);
    onlyKaError(() => decodeConsumerProtocolAssignment(meta), `assignment #${i}`);
  }
});

Deno.test("fuzz (in-process): console payloads and config.yaml text throw only KaError", () => {
  const rand = prng(SEED + 3);
  const values: unknown[] = [
    null,
    1,
    "x",
    [],
    { payload: null },
    { payload: { line: 5 } },
    { payload: { line: "x".repeat(70_000) } },
    { payload: { line: "status" } },
  ];
  for (const v of values) onlyKaError(() => consoleLineOf(v), `consoleLineOf ${JSON.stringify(v)}`);
  const console = SAMPLES.find((s) => s.apiKey === 1100)!;
  const frame = encodeResponse(1100, 0, 1, console.response as never).subarray(4);
  const yaml = new TextEncoder().encode(
    "coordinator:\n  port: 8080\nbroker:\n  base_port: 9092\n  storage: disk\n" +
      "limits:\n  idle_timeout_ms: 1000\n  frame_bytes_max: 2097152\n",
  );
  for (let i = 0; i < ITERATIONS / 10; i++) {
    onlyKaError(
      () => decodeConsoleResponse(mutateFrame(rand, frame).bytes.subarray(4)),
      `console response #${i}`,
    );
    const text = new TextDecoder().decode(mutateFrame(rand, yaml).bytes.subarray(4));
    onlyKaError(() => parseConfig(text, { file: "fuzz.yaml" }), `config ${JSON.stringify(text)}`);
  }
});
