/**
 * Hostile input against a real cluster (3 brokers, coordinator, console,
 * both gateways): at least 10,000 mutated frames per TCP listener — bit
 * flips, truncation, lengths −1 / 0 / 2³¹−1, unknown API keys and versions,
 * wrong CRCs, invalid topic names, offsets −5 and past the end, acks 2 —
 * and malformed HTTP/JSON to both gateways. Passes when no process dies,
 * `status` still shows every service alive, every complete frame got an
 * answer that decodes (with the code the oracle expects for the named
 * cases) or the connection was closed, every stored batch reads back with a
 * valid CRC, and every gateway answer is below 500.
 *
 * The oracle is the protocol decoder itself: each mutated frame is decoded
 * in-process first, which says whether the listener must answer, stay
 * silent (acks=0) or hang up.
 *
 * Reproduce a run: `FUZZ_SEED=<printed seed> deno task test test/fuzz/frames_fuzz_test.ts`.
 * Longer run: `FUZZ_FRAMES=200000` (frames per listener; default 10,000).
 * @module
 */
import assert from "node:assert/strict";
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRecordBatch,
  encodeRequest,
  errorInfo,
  ERRORS,
  type FetchResponse,
  type ImplementedApiKey,
  RequestDecodeError,
  splitBatches,
  verifyBatchCrc,
} from "@kafka-analog/lib/protocol";
import { KafkaConnection } from "@kafka-analog/lib/net";
import { FETCH_WAIT_MS_MAX, FRAME_BYTES_MAX } from "@kafka-analog/lib/limits";
import { encodeConsoleRequest } from "@kafka-analog/lib/console";
import { allSamples } from "../../lib/protocol/testdata/samples.ts";
import { pidAlive, startCluster, type TestCluster } from "../_cluster.ts";
import { BROKER_API_KEYS } from "../../broker/server.ts";
import { COORDINATOR_API_KEYS } from "../../coordinator/server.ts";
import { framed, mutateBody, mutateFrame, pick, prng, RawConnection } from "./_wire.ts";

const BASE_PORT = 22900;
const TOPIC = "fuzz";
const PARTITIONS = 3;
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 10_000);
const HTTP_REQUESTS = Math.max(500, Math.floor(FRAMES / 10));
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 8;
/** `FUZZ_STRUCTURED=0` replays seeds from before structure-aware mutations existed. */
const STRUCTURED = Deno.env.get("FUZZ_STRUCTURED") !== "0";
/** `FUZZ_ONLY=broker,coordinator,console,gateways` runs only those phases. */
const ONLY = new Set(
  (Deno.env.get("FUZZ_ONLY") ?? "broker,coordinator,console,gateways").split(","),
);
/** A request the listener must answer gets this long (busy 2-core machine). */
const ANSWER_TIMEOUT_MS = 10_000;
const INVALID_TOPICS = ["", ".", "..", "a".repeat(250), "a/b"];
const PROMPT = "kafka-analog> ";
const enc = new TextEncoder();

/** APIs whose valid samples would park (group rebalances) or rewrite cluster state. */
const EXCLUDED_FROM_CORPUS = new Set<number>([
  ApiKey.JoinGroup,
  ApiKey.SyncGroup,
  ApiKey.UpdateMetadata,
  ApiKey.BrokerRegistration,
  ApiKey.BrokerHeartbeat,
  ApiKey.AlterPartition,
  ApiKey.WriteTxnMarkers,
  ApiKey.DeleteTopics,
]);

/** What each listener answers; anything else closes the connection. */
const BROKER_APIS = new Set<number>(BROKER_API_KEYS);
const COORDINATOR_APIS = new Set<number>(COORDINATOR_API_KEYS);

interface Tally {
  sent: number;
  answered: number;
  closed: number;
  /** Frames that can never complete (declared longer than sent): we hung up after a wait. */
  hungUp: number;
  silent: number;
  byCode: Map<string, number>;
  byMutation: Map<string, number>;
  failures: string[];
}

function tally(): Tally {
  return {
    sent: 0,
    answered: 0,
    closed: 0,
    hungUp: 0,
    silent: 0,
    byCode: new Map(),
    byMutation: new Map(),
    failures: [],
  };
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Every `errorCode`-like field in a decoded body. */
function errorCodesOf(value: unknown, out: number[] = []): number[] {
  if (Array.isArray(value)) {
    for (const v of value) errorCodesOf(v, out);
  } else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === "number" && /errorcode$/i.test(k)) out.push(v);
      else errorCodesOf(v, out);
    }
  }
  return out;
}

function request<K extends ImplementedApiKey>(
  apiKey: K,
  apiVersion: number,
  body: unknown,
  correlationId = 1,
): Uint8Array {
  // encodeRequest returns the whole frame; the corpus keeps bodies without the prefix.
  return encodeRequest(
    { apiKey, apiVersion, correlationId, clientId: "fuzz" },
    body as never,
  ).subarray(4);
}

function batch(values: string[]): Uint8Array {
  return encodeRecordBatch(values.map((v) => ({ key: null, value: enc.encode(v) })), {
    timestamp: Date.now(),
    baseOffset: 0n,
  });
}

function produceBody(topic: string, records: Uint8Array, acks = -1, partition = 0) {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

function fetchBody(topic: string, partition: number, fetchOffset: bigint) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1_048_576,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      partitions: [{
        partition,
        currentLeaderEpoch: -1,
        fetchOffset,
        logStartOffset: -1n,
        partitionMaxBytes: 1_048_576,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

function createTopicsBody(names: string[], validateOnly: boolean) {
  return {
    topics: names.map((name) => ({
      name,
      numPartitions: 1,
      replicationFactor: 1,
      assignments: [],
      configs: [],
    })),
    timeoutMs: 5_000,
    validateOnly,
  };
}

/** A named case with the error code its answer must carry. */
interface Expectation {
  name: string;
  frame: Uint8Array;
  /** Every error code in the answer is one of these. */
  codes: number[];
}

function namedCases(): Expectation[] {
  const good = batch(["ok"]);
  const badCrc = batch(["crc"]);
  badCrc[badCrc.length - 1] ^= 0xff; // a record byte: the CRC no longer matches
  return [
    {
      name: "create invalid topic names",
      frame: request(ApiKey.CreateTopics, 4, createTopicsBody(INVALID_TOPICS, false)),
      codes: [17],
    },
    ...INVALID_TOPICS.map((t) => ({
      name: `produce to invalid topic '${t.slice(0, 10)}'`,
      frame: request(ApiKey.Produce, 8, produceBody(t, good)),
      codes: [3, 17],
    })),
    {
      name: "produce acks 2",
      frame: request(ApiKey.Produce, 8, produceBody(TOPIC, good, 2)),
      codes: [21],
    },
    {
      name: "produce wrong CRC",
      frame: request(ApiKey.Produce, 8, produceBody(TOPIC, badCrc)),
      codes: [2],
    },
    {
      name: "fetch offset -5",
      frame: request(ApiKey.Fetch, 11, fetchBody(TOPIC, 0, -5n)),
      codes: [0, 1],
    },
    {
      name: "fetch past the end",
      frame: request(ApiKey.Fetch, 11, fetchBody(TOPIC, 0, 1_000_000_000n)),
      codes: [0, 1],
    },
    {
      name: "fetch unknown partition",
      frame: request(ApiKey.Fetch, 11, fetchBody(TOPIC, 99, 0n)),
      codes: [0, 3],
    },
  ];
}

/** The valid frames mutations start from, for one listener. */
function corpus(listener: "broker" | "coordinator"): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const s of allSamples()) {
    if (EXCLUDED_FROM_CORPUS.has(s.apiKey) || s.apiKey >= 1000) continue;
    let body = s.request as Record<string, unknown>;
    if (s.apiKey === ApiKey.CreateTopics) body = { ...body, validateOnly: true };
    if (s.apiKey === ApiKey.Fetch) body = { ...body, maxWaitMs: 0 };
    frames.push(request(s.apiKey as ImplementedApiKey, s.version, body));
  }
  for (const c of namedCases()) frames.push(c.frame);
  for (let p = 0; p < PARTITIONS; p++) {
    frames.push(request(ApiKey.Produce, 8, produceBody(TOPIC, batch([`v${p}`]), -1, p)));
    frames.push(request(ApiKey.Fetch, 11, fetchBody(TOPIC, p, 0n)));
  }
  if (listener === "coordinator") {
    frames.push(request(ApiKey.ClusterMetadata, 0, { payload: {} }));
  }
  return frames;
}

/**
 * A structure-aware mutation of `base` (see {@linkcode mutateBody}): decoded,
 * edge values put in 1–3 fields, encoded again. Falls back to a byte
 * mutation when the value does not fit the field's wire type.
 */
function structured(rand: () => number, base: Uint8Array): { bytes: Uint8Array; mutation: string } {
  try {
    const { header, body } = decodeRequest(base);
    const whole = encodeRequest(header, mutateBody(rand, body) as never);
    return { bytes: whole, mutation: "structured" };
  } catch {
    return mutateFrame(rand, base);
  }
}

/**
 * What the listener must do with `bytes`: "answer" (with this correlation
 * id and API), "silent" (acks=0 produce), or "close".
 */
function expectOf(
  bytes: Uint8Array,
  served: (apiKey: number, version: number) => boolean,
):
  | {
    kind: "answer";
    apiKey: number;
    version: number;
    correlationId: number;
    /** A long-poll Fetch may park this long before its answer is due. */
    parkMs?: number;
  }
  | { kind: "silent" | "close" } {
  const declared = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0);
  const body = bytes.subarray(4);
  if (declared !== body.length || declared > FRAME_BYTES_MAX) return { kind: "close" };
  try {
    const decoded = decodeRequest(body);
    const { apiKey, apiVersion, correlationId } = decoded.header;
    if (!served(apiKey, apiVersion)) return { kind: "close" };
    if (decoded.apiKey === ApiKey.Produce && decoded.body.acks === 0) return { kind: "silent" };
    const parkMs = decoded.apiKey === ApiKey.Fetch
      ? Math.min(Math.max(decoded.body.maxWaitMs, 0), FETCH_WAIT_MS_MAX)
      : 0;
    return { kind: "answer", apiKey, version: apiVersion, correlationId, parkMs };
  } catch (err) {
    const header = err instanceof RequestDecodeError ? err.header : undefined;
    if (header?.apiKey === ApiKey.ConsoleCommand && served(header.apiKey, header.apiVersion)) {
      // The console answers a malformed ConsoleCommand body with an error.
      return {
        kind: "answer",
        apiKey: header.apiKey,
        version: header.apiVersion,
        correlationId: header.correlationId,
      };
    }
    if (err instanceof RequestDecodeError && err.header?.apiKey === ApiKey.ApiVersions) {
      // KIP-511: an unsupported version is answered as v0 (with our ranges); a body that
      // does not decode is INVALID_REQUEST in the request's own version.
      return {
        kind: "answer",
        apiKey: ApiKey.ApiVersions,
        version: err.code === ERRORS.UNSUPPORTED_VERSION.code ? 0 : err.header.apiVersion,
        correlationId: err.header.correlationId,
      };
    }
    return { kind: "close" };
  }
}

/** Sends `count` mutated frames from `frames` to `port` with WORKERS connections. */
async function fuzzListener(
  label: string,
  ports: number[],
  frames: Uint8Array[],
  count: number,
  served: (apiKey: number, version: number) => boolean,
): Promise<Tally> {
  const t = tally();
  const perWorker = Math.ceil(count / WORKERS);
  await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
    const port = ports[w % ports.length];
    const rand = prng(SEED + w * 7919 + port);
    let conn = await RawConnection.open(port);
    for (let i = 0; i < perWorker; i++) {
      if (conn.closed) {
        await conn.close();
        conn = await RawConnection.open(port);
      }
      const base = frames[pick(rand, frames.length)].slice();
      // A fresh correlation id per frame, so answers cannot be confused.
      if (base.length >= 8) new DataView(base.buffer).setInt32(4, w * 1_000_000 + i);
      const roll = rand();
      const { bytes, mutation } = STRUCTURED && roll < 0.35
        ? structured(rand, base)
        : roll < 0.9
        ? mutateFrame(rand, base)
        : { bytes: framed(base), mutation: "none" };
      bump(t.byMutation, mutation);
      const expected = expectOf(bytes, served);
      t.sent++;
      if (!await conn.send(bytes)) {
        t.closed++;
        continue;
      }
      if (expected.kind === "silent") {
        t.silent++;
        continue;
      }
      const outcome = await conn.next(
        expected.kind === "close"
          ? 150
          : ANSWER_TIMEOUT_MS + (expected.kind === "answer" ? expected.parkMs ?? 0 : 0),
      );
      if (outcome.kind === "closed") {
        t.closed++;
        continue;
      }
      if (outcome.kind === "silent") {
        if (expected.kind === "close") {
          // A frame that never completes (declared longer than sent) waits for its
          // remaining bytes; hang up ourselves, the listener's request timeout would too.
          t.hungUp++;
          await conn.close();
          continue;
        }
        t.failures.push(
          `${label}: no answer (seed ${SEED}, worker ${w}, frame ${i}): ${describe(bytes)}`,
        );
        await conn.close();
        continue;
      }
      if (expected.kind !== "answer") {
        t.failures.push(`${label}: answered a frame that must close (worker ${w}, frame ${i})`);
        continue;
      }
      t.answered++;
      try {
        const { correlationId, body } = decodeResponse(
          expected.apiKey as ImplementedApiKey,
          expected.version,
          outcome.frame,
        );
        assert.equal(correlationId, expected.correlationId, "correlation id");
        const codes = errorCodesOf(body);
        if (codes.length === 0) bump(t.byCode, "NONE");
        for (const code of new Set(codes)) bump(t.byCode, errorInfo(code).name);
      } catch (err) {
        t.failures.push(`${label}: bad answer (worker ${w}, frame ${i}): ${err}`);
      }
    }
    await conn.close();
  }));
  return t;
}

/** The console: framed ConsoleCommand requests and plain-text lines, mutated. */
async function fuzzConsole(port: number, count: number): Promise<Tally> {
  const t = tally();
  const lines = [
    "status",
    "broker list",
    "topic list",
    `topic describe ${TOPIC}`,
    "group list",
    "help",
    "topic describe",
    "topic describe ..",
    "topic describe a/b",
    `topic describe ${"a".repeat(250)}`,
    "topic create .. --partitions 1",
    "topic create a/b --partitions 1",
    "group describe nope",
    "bogus command",
    "topic describe \u00e9\u00e8",
  ];
  const framedCorpus = lines.map((line) =>
    encodeConsoleRequest(line, { correlationId: 1, clientId: "fuzz" }).subarray(4)
  );
  const served = (apiKey: number, version: number) =>
    apiKey === ApiKey.ConsoleCommand && version === 0;
  const frameCount = Math.ceil(count * 0.8);
  const framedTally = await fuzzListener("console", [port], framedCorpus, frameCount, (k, v) => {
    return served(k, v);
  });
  // Text dialect: one mutated line per exchange; the answer ends with the prompt.
  const textCount = count - frameCount;
  await Promise.all(Array.from({ length: 4 }, async (_, w) => {
    const rand = prng(SEED + 31 * w + 1);
    let conn: Deno.TcpConn | null = null;
    const buf = new Uint8Array(256 * 1024);
    for (let i = 0; i < Math.ceil(textCount / 4); i++) {
      conn ??= await Deno.connect({ hostname: "127.0.0.1", port });
      const line = enc.encode(lines[pick(rand, lines.length)]);
      const { bytes } = mutateFrame(rand, line);
      let text = bytes.subarray(4).map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b));
      if (text.length === 0 || text[0] === 0) text = enc.encode(`x${i}`);
      if (rand() < 0.02) text = new Uint8Array(70_000).fill(0x41); // longer than a console line
      t.sent++;
      let answer = "";
      let closed = false;
      try {
        const out = new Uint8Array(text.length + 1);
        out.set(text);
        out[text.length] = 0x0a;
        let written = 0;
        while (written < out.length) written += await conn.write(out.subarray(written));
        const deadline = Date.now() + ANSWER_TIMEOUT_MS;
        while (!answer.endsWith(PROMPT) && Date.now() < deadline) {
          const n = await conn.read(buf);
          if (n === null) {
            closed = true;
            break;
          }
          answer += new TextDecoder().decode(buf.subarray(0, n));
        }
      } catch {
        closed = true;
      }
      if (closed) {
        t.closed++;
        conn.close();
        conn = null;
      } else if (answer.endsWith(PROMPT)) {
        t.answered++;
        bump(t.byCode, answer.startsWith("error:") ? "text error" : "text ok");
      } else {
        t.failures.push(`console text: no prompt after a line (worker ${w}, line ${i})`);
        conn.close();
        conn = null;
      }
    }
    try {
      conn?.close();
    } catch { /* closed */ }
  }));
  for (const key of ["sent", "answered", "closed", "hungUp", "silent"] as const) {
    t[key] += framedTally[key];
  }
  for (const [k, v] of framedTally.byCode) bump(t.byCode, k, v);
  for (const [k, v] of framedTally.byMutation) bump(t.byMutation, k, v);
  t.failures.push(...framedTally.failures);
  // Every framed answer must decode as a ConsoleCommand response.
  return t;
}

/** Malformed HTTP/JSON to a gateway: every answer must be below 500. */
async function fuzzGateway(port: number, kind: "writer" | "reader", count: number) {
  const statuses = new Map<string, number>();
  const failures: string[] = [];
  const rand = prng(SEED + port);
  const names = [...INVALID_TOPICS, TOPIC, "fz-missing", "%2e%2e", "a%2Fb", "\u00e9"];
  const name = () => encodeURIComponent(names[pick(rand, names.length)]);
  const num = () =>
    ["-5", "-1", "0", "1", "2", "99999999999999999999", "1e309", "abc", "", "0x10", "1.5"][
      pick(rand, 11)
    ];
  const paths = kind === "writer"
    ? [
      () => "/api/v1/messages",
      () => `/api/v1/messages?acks=${num()}&format=${["json", "avro", "x"][pick(rand, 3)]}`,
      () => "/api/v1/messages/batch",
      () => "/api/v1/topics",
      () => `/api/v1/topics/${name()}`,
      () => `/api/v1/schemas/${num()}`,
      () => "/api/v1/schemas",
      () => "/nope",
    ]
    : [
      () => "/api/v1/subscriptions",
      () => `/api/v1/subscriptions/${num()}/messages?max=${num()}&timeoutMs=${num()}`,
      () => `/api/v1/subscriptions/${name()}/commit`,
      () => `/api/v1/offsets?group=${name()}&topic=${name()}`,
      () => "/api/v1/offsets/reset",
      () =>
        `/api/v1/topics/${name()}/partitions/${num()}/messages?offset=${num()}&max=${num()}&timeoutMs=0`,
      () => `/api/v1/topics/${name()}/partitions/${num()}/offsets`,
      () => "/nope",
    ];
  const bodies = [
    JSON.stringify({ topic: TOPIC, value: "v", acks: 2 }),
    JSON.stringify({ topic: "", value: "v" }),
    JSON.stringify({ topic: "a/b", key: 5, value: { deep: [1, 2] } }),
    JSON.stringify({ topic: TOPIC, messages: [{ value: "x" }, { value: null }] }),
    JSON.stringify({ name: "..", partitions: 1 }),
    JSON.stringify({ name: "a".repeat(250), partitions: -5 }),
    JSON.stringify({ group: "g", topics: ["..", ""], offset: -5 }),
    JSON.stringify({ group: "", topic: TOPIC, partition: 99, offset: "-5" }),
    JSON.stringify({ subject: "", schema: "{" }),
    "[".repeat(100_000),
    '{"topic": ',
    "null",
    '"just a string"',
    '{"a":1e999999}',
    "\u0000\u0001\u0002",
  ];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = 0; i < Math.ceil(count / 4); i++) {
      const path = paths[pick(rand, paths.length)]();
      const method = ["GET", "POST", "POST", "PUT", "DELETE", "PATCH"][pick(rand, 6)];
      let body: Uint8Array | undefined;
      if (method !== "GET") {
        body = enc.encode(bodies[pick(rand, bodies.length)]);
        if (rand() < 0.7) body = mutateFrame(rand, body).bytes.subarray(4);
      }
      const headers: Record<string, string> = {
        "content-type": ["application/json", "text/plain", "application/x-www-form-urlencoded"][
          pick(rand, 3)
        ],
      };
      if (method === "DELETE" && path.includes(`/${TOPIC}`)) continue; // keep the topic
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers,
          body: body as BodyInit | undefined,
          signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        bump(statuses, String(response.status));
        if (response.status >= 500) {
          failures.push(`${kind} ${method} ${path}: ${response.status}`);
        }
      } catch (err) {
        failures.push(`${kind} ${method} ${path}: ${err}`);
      }
    }
  }));
  // Raw bytes that are not HTTP at all, oversized headers, and lying lengths.
  const raw = [
    "GARBAGE\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
    "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n{",
    "\u0000\u0000\u0000\u0010\u0000\u0012\u0000\u0003",
  ];
  for (const text of raw) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(enc.encode(text));
      const buf = new Uint8Array(4096);
      const n = await Promise.race([
        conn.read(buf),
        new Promise<null>((r) => setTimeout(() => r(null), 1_000)),
      ]);
      const head = n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
      const status = Number(head.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
      bump(statuses, status === 0 ? "raw: closed or silent" : `raw ${status}`);
      if (status >= 500) {
        failures.push(`${kind} raw ${JSON.stringify(text.slice(0, 30))}: ${status}`);
      }
    } catch {
      bump(statuses, "raw: reset");
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
  return { statuses, failures };
}

/** The earliest offset of a partition (ListOffsets, timestamp -2). */
async function earliestOffset(
  conn: KafkaConnection,
  topic: string,
  partition: number,
): Promise<bigint> {
  const listed = await conn.request(ApiKey.ListOffsets, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{
      name: topic,
      partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -2n }],
    }],
  });
  return listed.topics[0].partitions[0].offset;
}

/** Reads back every partition of every topic and checks each stored batch's CRC. */
async function verifyStoredBatches(cluster: TestCluster) {
  const bootstrap = await KafkaConnection.open(cluster.brokerAddresses[0]);
  const metadata = await bootstrap.request(ApiKey.Metadata, 8, {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  bootstrap.close();
  const addresses = new Map(metadata.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
  const conns = new Map<number, KafkaConnection>();
  let batches = 0;
  let corrupt = 0;
  let partitions = 0;
  for (const topic of metadata.topics) {
    for (const p of topic.partitions) {
      partitions++;
      let conn = conns.get(p.leaderId);
      if (!conn) {
        conn = await KafkaConnection.open(addresses.get(p.leaderId)!);
        conns.set(p.leaderId, conn);
      }
      let offset = 0n;
      for (let round = 0; round < 10_000; round++) {
        const response: FetchResponse = await conn.request(
          ApiKey.Fetch,
          11,
          fetchBody(topic.name!, p.partitionIndex, offset),
        );
        const part = response.responses[0].partitions[0];
        if (part.errorCode === 1) {
          // Retention may have deleted the head (a batch stamped in 2023 expires at once):
          // start again from the earliest offset.
          const earliest = await earliestOffset(conn, topic.name!, p.partitionIndex);
          if (offset < earliest) {
            offset = earliest;
            continue;
          }
        }
        if (part.errorCode !== 0) {
          const described = await cluster.console(`topic describe ${topic.name}`);
          assert.fail(
            `fetch ${topic.name}-${p.partitionIndex} at ${offset}: ${
              errorInfo(part.errorCode).name
            }; ${described.text}`,
          );
        }
        const records = part.records ?? new Uint8Array(0);
        // Strict split: a cut tail or a bad CRC throws; count bad CRCs ourselves.
        const slices = splitBatches(records, { verifyCrc: false, allowPartialTail: true });
        if (slices.length === 0) break;
        for (const s of slices) {
          batches++;
          if (!verifyBatchCrc(s.bytes, 0, s.header)) corrupt++;
          offset = s.header.baseOffset + BigInt(s.header.lastOffsetDelta) + 1n;
        }
        if (offset >= part.highWatermark) break;
      }
    }
  }
  for (const c of conns.values()) c.close();
  return { topics: metadata.topics.length, partitions, batches, corrupt };
}

/** The port of the broker leading partition `partition` of TOPIC (waits for a leader). */
async function leaderPortOf(cluster: TestCluster, partition: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const conn = await KafkaConnection.open(cluster.brokerAddresses[0]);
    const metadata = await conn.request(ApiKey.Metadata, 8, {
      topics: [{ name: TOPIC }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    conn.close();
    const leaderId = metadata.topics[0]?.partitions.find((p) => p.partitionIndex === partition)
      ?.leaderId ?? -1;
    const broker = metadata.brokers.find((b) => b.nodeId === leaderId);
    if (broker) return broker.port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no leader for ${TOPIC}-${partition}`);
}

/** A frame as the listener decodes it, for failure messages. */
function describe(bytes: Uint8Array): string {
  try {
    const { header, body } = decodeRequest(bytes.subarray(4));
    const json = JSON.stringify(
      body,
      (_, v) =>
        typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `<${v.length} bytes>` : v,
    );
    return `${header.apiKey} v${header.apiVersion} ${json.slice(0, 600)}`;
  } catch (err) {
    return `undecodable: ${err}`;
  }
}

function table(map: Map<string, number>): string {
  return [...map].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(" ");
}

Deno.test({
  name: "fuzz: mutated frames and malformed HTTP never crash a listener or corrupt the log",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${FRAMES} frames per listener`);
    const cluster = await startCluster(BASE_PORT, {
      brokers: 3,
      stopTimeoutMs: 15_000,
      yaml: ["limits:", "  request_timeout_ms: 5000"],
    });
    try {
      const admin = await KafkaConnection.open(cluster.brokerAddresses[0]);
      const created = await admin.request(
        ApiKey.CreateTopics,
        4,
        {
          ...createTopicsBody([TOPIC], false),
          topics: [{
            name: TOPIC,
            numPartitions: PARTITIONS,
            replicationFactor: 2,
            assignments: [],
            configs: [],
          }],
        },
      );
      assert.equal(created.topics[0].errorCode, 0, created.topics[0].errorMessage ?? "");
      admin.close();
      const pidsBefore = (await cluster.services()).map((s) => s.pid);
      // Let leaders settle, then check the named cases once, exactly.
      await new Promise((r) => setTimeout(r, 1_000));
      const leaderPort = await leaderPortOf(cluster, 0);
      for (const c of namedCases()) {
        const conn = await RawConnection.open(leaderPort);
        let outcome = await conn.next(0);
        for (let attempt = 0; attempt < 20; attempt++) {
          await conn.send(framed(c.frame));
          outcome = await conn.next(ANSWER_TIMEOUT_MS);
          if (outcome.kind !== "answer") break;
          const { apiKey, apiVersion } = decodeRequest(c.frame).header;
          const codes = errorCodesOf(
            decodeResponse(apiKey as ImplementedApiKey, apiVersion, outcome.frame).body,
          );
          // Right after creation a partition may still be without a leader: retry those.
          if (codes.some((code) => code === 6 || code === 5) && attempt < 19) {
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          assert.ok(codes.length > 0, c.name);
          for (const code of codes) {
            assert.ok(
              c.codes.includes(code),
              `${c.name}: got ${errorInfo(code).name}, want ${
                c.codes.map((x) => errorInfo(x).name)
              }`,
            );
          }
          break;
        }
        assert.equal(outcome.kind, "answer", c.name);
        await conn.close();
      }
      const started = performance.now();
      const phase = (name: string) =>
        console.log(`${name} done at ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const skipped = Promise.resolve(tally());
      const emptyHttp = Promise.resolve({ statuses: new Map<string, number>(), failures: [] });
      const broker = await (!ONLY.has("broker") ? skipped : fuzzListener(
        "broker",
        cluster.brokerAddresses.map((a) => Number(a.split(":")[1])),
        corpus("broker"),
        FRAMES,
        (k) => BROKER_APIS.has(k),
      ));
      phase("broker");
      const coordinator = await (!ONLY.has("coordinator") ? skipped : fuzzListener(
        "coordinator",
        [cluster.ports.coordinator],
        corpus("coordinator"),
        FRAMES,
        (k) => COORDINATOR_APIS.has(k),
      ));
      phase("coordinator");
      const consoleTally =
        await (!ONLY.has("console") ? skipped : fuzzConsole(cluster.ports.console, FRAMES));
      phase("console");
      const gateways = ONLY.has("gateways");
      const writer =
        await (gateways ? fuzzGateway(cluster.ports.writer, "writer", HTTP_REQUESTS) : emptyHttp);
      phase("writer");
      const reader =
        await (gateways ? fuzzGateway(cluster.ports.reader, "reader", HTTP_REQUESTS) : emptyHttp);
      const elapsedS = ((performance.now() - started) / 1000).toFixed(1);
      const stored = await verifyStoredBatches(cluster);
      const services = await cluster.services();
      for (
        const [label, t] of [["broker", broker], ["coordinator", coordinator], [
          "console",
          consoleTally,
        ]] as const
      ) {
        console.log(
          `${label}: sent=${t.sent} answered=${t.answered} closed=${t.closed} ` +
            `hung-up-by-us=${t.hungUp} silent(acks=0)=${t.silent}` +
            `\n  answers by error code: ${table(t.byCode)}\n  mutations: ${table(t.byMutation)}`,
        );
      }
      console.log(`writer gateway: ${table(writer.statuses)}`);
      console.log(`reader gateway: ${table(reader.statuses)}`);
      console.log(
        `stored: ${stored.topics} topics, ${stored.partitions} partitions, ${stored.batches} batches, ` +
          `${stored.corrupt} corrupt; ${elapsedS} s of fuzzing`,
      );
      const failures = [
        ...broker.failures,
        ...coordinator.failures,
        ...consoleTally.failures,
        ...writer.failures,
        ...reader.failures,
      ];
      assert.deepEqual(failures.slice(0, 20), [], `seed ${SEED}`);
      if (ONLY.size === 4) {
        for (const t of [broker, coordinator, consoleTally]) assert.ok(t.sent >= FRAMES);
      }
      assert.equal(stored.corrupt, 0, "corrupt batches stored");
      assert.ok(stored.batches > 0);
      assert.ok(pidAlive(cluster.coordinatorPid), "the coordinator is alive");
      for (const pid of pidsBefore) assert.ok(pidAlive(pid), `process ${pid} is alive`);
      assert.deepEqual(services.map((s) => s.pid), pidsBefore, "no process restarted");
      assert.ok(services.every((s) => s.state === "alive"), JSON.stringify(services));
      const logs = cluster.childLogs();
      const reasons = new Map<string, number>();
      for (const m of logs.matchAll(/"msg":"closing connection".*?"reason":"([^"]{0,60})/g)) {
        bump(reasons, m[1].replace(/[0-9]+/g, "N"));
      }
      console.log(`close reasons logged by brokers: ${table(reasons)}`);
      const bugs = logs.match(
        /.*(TypeError|ReferenceError|RangeError|Uncaught|unexpected error).*/g,
      );
      assert.equal(bugs, null, "no JavaScript errors in the brokers' and gateways' logs");
      const crashes = cluster.output().match(/TypeError|ReferenceError|Uncaught|panicked/g);
      assert.equal(crashes, null, "no uncaught errors in the coordinator's output");
    } catch (err) {
      console.log(cluster.output().slice(-5_000));
      throw err;
    } finally {
      await cluster.stop();
    }
  },
});
