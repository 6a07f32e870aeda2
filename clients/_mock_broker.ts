/**
 * A scripted single-node broker on a loopback port, for client tests (not
 * shipped): it answers ApiVersions, Metadata (itself as leader of every
 * partition), Produce (storing batches as they come, with offsets),
 * Fetch, InitProducerId and SchemaRegistry, and lets a test inject faults
 * per produced batch: an error code, or a dropped connection before or
 * after the append. Idempotence, producer ids and the registry are hooks,
 * so a test in `test/` can plug the real broker and coordinator logic in.
 * @module
 */
import { sleep } from "@kafka-analog/lib/async";
import { KaError } from "@kafka-analog/lib/errors";
import { type FrameServer, serveFrames } from "@kafka-analog/lib/net";
import { buildApiVersionsResponse, buildMetadataResponse } from "@kafka-analog/lib/metadata";
import {
  ApiKey,
  type BatchHeader,
  decodeRequest,
  encodeResponse,
  ERRORS,
  type FetchResponse,
  type ImplementedApiKey,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  lastOffsetOf,
  type ProducePartitionResponse,
  type ResponseBodies,
  setBaseOffset,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import type { ClusterSnapshot } from "@kafka-analog/lib/cluster";

/** What a fault hook may ask for one produced batch. */
export type ProduceFault =
  | undefined
  /** Answer this error code for the partition (nothing appended). */
  | number
  /** Drop the connection without appending or answering. */
  | "drop-before-append"
  /** Append, then drop the connection without answering. */
  | "drop-after-append";

/** One produced batch as the fault hook sees it. */
export interface ProduceEvent {
  topic: string;
  partition: number;
  header: BatchHeader;
  /** Produce requests seen so far for this partition, this one included (1 = first). */
  requestNumber: number;
  acks: number;
}

/** Idempotence state of one partition (the broker's ProducerStateTable fits). */
export interface MockProducerState {
  check(header: BatchHeader): { kind: "new" } | { kind: "duplicate"; baseOffset: bigint };
  record(header: BatchHeader, baseOffset: bigint): void;
}

/** Options for {@linkcode MockBroker.start}. */
export interface MockBrokerOptions {
  /** Topic name → partition count. */
  topics: Record<string, number>;
  /** Serve InitProducerId (default true). */
  initProducerId?: boolean;
  /** Answers InitProducerId; default: ids 1000, 1001, ... with epoch 0. */
  onInitProducerId?: (request: InitProducerIdRequest) => InitProducerIdResponse;
  /** Answers SchemaRegistry payloads; absent = the API is not served. */
  onSchemaRegistry?: (payload: unknown) => unknown;
  /** Fault injection per produced batch. */
  onProduce?: (event: ProduceEvent) => ProduceFault;
  /** A fresh idempotence table per partition; absent = every batch is new. */
  producerState?: () => MockProducerState;
  /** Delay before each Produce request is handled (a slow broker). */
  produceDelayMs?: number;
}

const NODE_ID = 0;

/** The scripted broker. */
export class MockBroker {
  readonly port: number;
  readonly address: string;
  /** `topic/partition` → stored batches (base offsets assigned). */
  readonly logs: Map<string, Uint8Array[]> = new Map();
  /** Requests received, by API key. */
  readonly requestCounts: Map<number, number> = new Map();
  #server: FrameServer;
  #options: MockBrokerOptions;
  #produceRequests = new Map<string, number>();
  #states = new Map<string, MockProducerState>();
  #nextProducerId = 1000n;

  private constructor(options: MockBrokerOptions) {
    this.#options = options;
    this.#server = serveFrames(async (frame) => {
      const delayMs = this.#options.produceDelayMs ?? 0;
      const apiKey = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt16(0);
      if (delayMs > 0 && apiKey === ApiKey.Produce) await sleep(delayMs);
      return this.#handle(frame);
    }, { hostname: "127.0.0.1", port: 0 });
    this.port = this.#server.port;
    this.address = `127.0.0.1:${this.port}`;
  }

  /** Starts listening on a free loopback port. */
  static start(options: MockBrokerOptions): MockBroker {
    return new MockBroker(options);
  }

  /** The log end offset of a partition. */
  logEndOffset(topic: string, partition: number): bigint {
    const log = this.logs.get(`${topic}/${partition}`) ?? [];
    let end = 0n;
    for (const b of log) end += BigInt(new DataView(b.buffer, b.byteOffset).getInt32(23)) + 1n;
    return end;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#server.close();
    await this.#server.closed;
  }

  #snapshot(): ClusterSnapshot {
    return {
      clusterId: "mock",
      version: 1,
      controllerId: NODE_ID,
      brokers: [{ id: NODE_ID, host: "127.0.0.1", port: this.port }],
      topics: Object.entries(this.#options.topics).map(([name, count]) => ({
        name,
        configs: {},
        partitions: Array.from({ length: count }, (_, partition) => ({
          partition,
          leader: NODE_ID,
          leaderEpoch: 0,
          replicas: [NODE_ID],
          isr: [NODE_ID],
        })),
      })),
    };
  }

  #apiKeys(): number[] {
    const keys: number[] = [
      ApiKey.Produce,
      ApiKey.Fetch,
      ApiKey.Metadata,
      ApiKey.ApiVersions,
    ];
    if (this.#options.initProducerId !== false) keys.push(ApiKey.InitProducerId);
    if (this.#options.onSchemaRegistry) keys.push(ApiKey.SchemaRegistry);
    return keys;
  }

  #handle(frame: Uint8Array): Uint8Array | null {
    const request = decodeRequest(frame);
    const { header } = request;
    this.requestCounts.set(request.apiKey, (this.requestCounts.get(request.apiKey) ?? 0) + 1);
    const reply = <K extends ImplementedApiKey>(apiKey: K, body: ResponseBodies[K]) =>
      encodeResponse(apiKey, header.apiVersion, header.correlationId, body);
    if (!this.#apiKeys().includes(request.apiKey)) {
      throw new Error(`mock broker does not serve API ${request.apiKey}`);
    }
    switch (request.apiKey) {
      case ApiKey.ApiVersions:
        return reply(ApiKey.ApiVersions, buildApiVersionsResponse(this.#apiKeys()));
      case ApiKey.Metadata:
        return reply(ApiKey.Metadata, buildMetadataResponse(this.#snapshot(), request.body));
      case ApiKey.InitProducerId: {
        const answer = this.#options.onInitProducerId?.(request.body) ?? {
          throttleTimeMs: 0,
          errorCode: 0,
          producerId: this.#nextProducerId++,
          producerEpoch: 0,
        };
        return reply(ApiKey.InitProducerId, answer);
      }
      case ApiKey.SchemaRegistry:
        return reply(ApiKey.SchemaRegistry, {
          payload: this.#options.onSchemaRegistry!(request.body.payload),
        });
      case ApiKey.Produce: {
        const body = request.body;
        const responses = body.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) =>
            this.#produce(t.name, p.index, p.records, body.acks)
          ),
        }));
        return body.acks === 0 ? null : reply(ApiKey.Produce, { responses, throttleTimeMs: 0 });
      }
      case ApiKey.Fetch:
        return reply(ApiKey.Fetch, this.#fetch(request.body));
      default:
        throw new Error(`mock broker does not serve API ${request.apiKey}`);
    }
  }

  #produce(
    topic: string,
    partition: number,
    records: Uint8Array | null,
    acks: number,
  ): ProducePartitionResponse {
    const key = `${topic}/${partition}`;
    const failure = (code: number, message: string): ProducePartitionResponse => ({
      index: partition,
      errorCode: code,
      baseOffset: -1n,
      logAppendTimeMs: -1n,
      logStartOffset: -1n,
      recordErrors: [],
      errorMessage: message,
    });
    const count = this.#options.topics[topic];
    if (count === undefined || partition >= count) {
      return failure(ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code, `Unknown ${key}`);
    }
    const requestNumber = (this.#produceRequests.get(key) ?? 0) + 1;
    this.#produceRequests.set(key, requestNumber);
    let batches;
    try {
      batches = splitBatches(records ?? new Uint8Array(), { verifyCrc: true });
    } catch (err) {
      return failure((err as KaError).code, (err as KaError).message);
    }
    let baseOffset = -1n;
    let dropAfter = false;
    for (const { header, bytes } of batches) {
      const fault = this.#options.onProduce?.({ topic, partition, header, requestNumber, acks });
      if (typeof fault === "number") return failure(fault, `injected error ${fault}`);
      if (fault === "drop-before-append") throw new Error("injected: drop before append");
      if (fault === "drop-after-append") dropAfter = true;
      let state = this.#states.get(key);
      if (state === undefined && this.#options.producerState) {
        this.#states.set(key, state = this.#options.producerState());
      }
      let check: ReturnType<MockProducerState["check"]> = { kind: "new" };
      try {
        if (state) check = state.check(header);
      } catch (err) {
        if (err instanceof KaError) return failure(err.code, err.message);
        throw err;
      }
      if (check.kind === "duplicate") {
        if (baseOffset < 0n) baseOffset = check.baseOffset;
        continue;
      }
      const at = this.logEndOffset(topic, partition);
      const stored = bytes.slice();
      setBaseOffset(stored, at);
      const log = this.logs.get(key) ?? [];
      log.push(stored);
      this.logs.set(key, log);
      state?.record({ ...header, baseOffset: at }, at);
      if (baseOffset < 0n) baseOffset = at;
    }
    if (dropAfter) throw new Error("injected: drop after append");
    return {
      index: partition,
      errorCode: 0,
      baseOffset,
      logAppendTimeMs: -1n,
      logStartOffset: 0n,
      recordErrors: [],
      errorMessage: null,
    };
  }

  #fetch(
    request: {
      topics: { topic: string; partitions: { partition: number; fetchOffset: bigint }[] }[];
    },
  ): FetchResponse {
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const log = this.logs.get(`${t.topic}/${p.partition}`) ?? [];
          const chosen = log.filter((b) => {
            const h = splitBatches(b)[0].header;
            return lastOffsetOf(h) >= p.fetchOffset;
          });
          const total = chosen.reduce((n, b) => n + b.length, 0);
          const records = new Uint8Array(total);
          let at = 0;
          for (const b of chosen) {
            records.set(b, at);
            at += b.length;
          }
          const end = this.logEndOffset(t.topic, p.partition);
          return {
            partitionIndex: p.partition,
            errorCode: 0,
            highWatermark: end,
            lastStableOffset: end,
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          };
        }),
      })),
    };
  }
}
