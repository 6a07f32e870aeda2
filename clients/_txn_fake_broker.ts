/**
 * A scripted single-node broker that is also its own transaction and group
 * coordinator, on a loopback port, for the transactional client's unit
 * tests (not shipped). It answers ApiVersions, Metadata, FindCoordinator
 * (both key types: itself), InitProducerId (epoch bump per transactional
 * id), AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn (which
 * appends COMMIT/ABORT control batches and applies offsets on commit),
 * Produce (storing batches, fencing older epochs and refusing transactional
 * batches to partitions not added) and Fetch (the stored log, or a test's
 * scripted answer). Every request is recorded in order, and error codes
 * can be injected per API.
 * @module
 */
import { type FrameServer, serveFrames } from "@kafka-analog/lib/net";
import { buildApiVersionsResponse, buildMetadataResponse } from "@kafka-analog/lib/metadata";
import type { ClusterSnapshot } from "@kafka-analog/lib/cluster";
import {
  ApiKey,
  type BatchHeader,
  decodeRequest,
  encodeControlBatch,
  encodeResponse,
  ERRORS,
  type FetchPartitionData,
  type FetchRequest,
  type ImplementedApiKey,
  isTransactionalBatch,
  lastOffsetOf,
  type ProducePartitionResponse,
  type ResponseBodies,
  setBaseOffset,
  splitBatches,
} from "@kafka-analog/lib/protocol";

/** One request as received. */
export interface RecordedRequest {
  apiKey: number;
  apiVersion: number;
  body: unknown;
}

/** One transactional id's state at the fake coordinator. */
export interface FakeTxn {
  producerId: bigint;
  producerEpoch: number;
  open: boolean;
  partitions: Set<string>;
  groups: Set<string>;
  pendingOffsets: Map<string, bigint>;
}

/** Options of {@linkcode FakeTxnBroker.start}. */
export interface FakeTxnBrokerOptions {
  /** Topic name → partition count. */
  topics: Record<string, number>;
  /** The code fenced (older-epoch) requests get (default INVALID_PRODUCER_EPOCH). */
  fencedCode?: number;
  /** Answers a Fetch partition instead of serving the stored log. */
  onFetch?: (request: FetchRequest, topic: string, partition: number) => FetchPartitionData;
  /** Awaited before each Produce request is handled (hold requests in flight). */
  beforeProduce?: () => Promise<void>;
  /** APIs left out of ApiVersions (to test a cluster without transactions). */
  withoutApis?: number[];
}

const NODE_ID = 0;

/** The scripted broker and coordinator. */
export class FakeTxnBroker {
  readonly port: number;
  readonly address: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** `topic/partition` → stored batches (base offsets assigned), markers included. */
  readonly logs: Map<string, Uint8Array[]> = new Map();
  /** `group/topic/partition` → committed offset. */
  readonly committed: Map<string, bigint> = new Map();
  /** Transactional id → state. */
  readonly txns: Map<string, FakeTxn> = new Map();
  #server: FrameServer;
  #options: FakeTxnBrokerOptions;
  #faults = new Map<number, number[]>();
  #nextProducerId = 5000n;
  /** Producer id → current epoch (for fencing produce requests). */
  #epochs = new Map<bigint, number>();

  private constructor(options: FakeTxnBrokerOptions) {
    this.#options = options;
    this.#server = serveFrames((frame) => this.#handle(frame), { hostname: "127.0.0.1", port: 0 });
    this.port = this.#server.port;
    this.address = `127.0.0.1:${this.port}`;
  }

  /** Starts listening on a free loopback port. */
  static start(options: FakeTxnBrokerOptions): FakeTxnBroker {
    return new FakeTxnBroker(options);
  }

  /** The next requests of `apiKey` are answered with these error codes, one each, in order. */
  inject(apiKey: number, ...codes: number[]): void {
    this.#faults.set(apiKey, [...(this.#faults.get(apiKey) ?? []), ...codes]);
  }

  /** The recorded requests of one API. */
  requestsOf(apiKey: number): RecordedRequest[] {
    return this.requests.filter((r) => r.apiKey === apiKey);
  }

  /** The API keys of every recorded request, in order (ApiVersions and Metadata left out). */
  apiTrace(): number[] {
    return this.requests.map((r) => r.apiKey).filter((k) =>
      k !== ApiKey.ApiVersions && k !== ApiKey.Metadata
    );
  }

  /** Batch headers stored in a partition. */
  headers(topic: string, partition: number): BatchHeader[] {
    return (this.logs.get(`${topic}/${partition}`) ?? []).map((b) => splitBatches(b)[0].header);
  }

  /** The log end offset of a partition. */
  logEndOffset(topic: string, partition: number): bigint {
    const last = this.headers(topic, partition).at(-1);
    return last === undefined ? 0n : lastOffsetOf(last) + 1n;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#server.close();
    await this.#server.closed;
  }

  #snapshot(): ClusterSnapshot {
    return {
      clusterId: "fake",
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

  #fault(apiKey: number): number {
    const queue = this.#faults.get(apiKey);
    return queue?.shift() ?? 0;
  }

  /** null when the producer is current, else the error code it gets. */
  #checkTxn(transactionalId: string, producerId: bigint, producerEpoch: number): number | null {
    const txn = this.txns.get(transactionalId);
    if (txn === undefined || txn.producerId !== producerId) {
      return ERRORS.INVALID_PRODUCER_ID_MAPPING.code;
    }
    if (producerEpoch !== txn.producerEpoch) {
      return this.#options.fencedCode ?? ERRORS.INVALID_PRODUCER_EPOCH.code;
    }
    return null;
  }

  #end(txn: FakeTxn, commit: boolean): void {
    for (const key of txn.partitions) {
      const marker = encodeControlBatch({
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        commit,
        coordinatorEpoch: 0,
        timestamp: 0,
      });
      this.#append(key, marker);
    }
    if (commit) { for (const [k, offset] of txn.pendingOffsets) this.committed.set(k, offset); }
    txn.open = false;
    txn.partitions = new Set();
    txn.groups = new Set();
    txn.pendingOffsets = new Map();
  }

  #append(key: string, batch: Uint8Array): bigint {
    const i = key.lastIndexOf("/");
    const at = this.logEndOffset(key.slice(0, i), Number(key.slice(i + 1)));
    const stored = batch.slice();
    setBaseOffset(stored, at);
    this.logs.set(key, [...(this.logs.get(key) ?? []), stored]);
    return at;
  }

  async #handle(frame: Uint8Array): Promise<Uint8Array | null> {
    const request = decodeRequest(frame);
    const { header } = request;
    this.requests.push({
      apiKey: request.apiKey,
      apiVersion: header.apiVersion,
      body: request.body,
    });
    const reply = <K extends ImplementedApiKey>(apiKey: K, body: ResponseBodies[K]) =>
      encodeResponse(apiKey, header.apiVersion, header.correlationId, body);
    switch (request.apiKey) {
      case ApiKey.ApiVersions: {
        const keys = [
          ApiKey.Produce,
          ApiKey.Fetch,
          ApiKey.ListOffsets,
          ApiKey.Metadata,
          ApiKey.ApiVersions,
          ApiKey.FindCoordinator,
          ApiKey.InitProducerId,
          ApiKey.AddPartitionsToTxn,
          ApiKey.AddOffsetsToTxn,
          ApiKey.EndTxn,
          ApiKey.TxnOffsetCommit,
        ].filter((k) => !(this.#options.withoutApis ?? []).includes(k));
        return reply(ApiKey.ApiVersions, buildApiVersionsResponse(keys));
      }
      case ApiKey.Metadata:
        return reply(ApiKey.Metadata, buildMetadataResponse(this.#snapshot(), request.body));
      case ApiKey.FindCoordinator: {
        const code = this.#fault(ApiKey.FindCoordinator);
        return reply(ApiKey.FindCoordinator, {
          throttleTimeMs: 0,
          errorCode: code,
          errorMessage: null,
          nodeId: code === 0 ? NODE_ID : -1,
          host: code === 0 ? "127.0.0.1" : "",
          port: code === 0 ? this.port : -1,
        });
      }
      case ApiKey.InitProducerId: {
        const code = this.#fault(ApiKey.InitProducerId);
        const { transactionalId } = request.body;
        if (code !== 0) {
          return reply(ApiKey.InitProducerId, {
            throttleTimeMs: 0,
            errorCode: code,
            producerId: -1n,
            producerEpoch: -1,
          });
        }
        let producerId: bigint;
        let producerEpoch = 0;
        if (transactionalId === null) {
          producerId = this.#nextProducerId++;
        } else {
          let txn = this.txns.get(transactionalId);
          if (txn === undefined) {
            txn = {
              producerId: this.#nextProducerId++,
              producerEpoch: 0,
              open: false,
              partitions: new Set(),
              groups: new Set(),
              pendingOffsets: new Map(),
            };
            this.txns.set(transactionalId, txn);
          } else {
            txn.producerEpoch++;
            if (txn.open) this.#end(txn, false); // the older instance's transaction
          }
          producerId = txn.producerId;
          producerEpoch = txn.producerEpoch;
        }
        this.#epochs.set(producerId, producerEpoch);
        return reply(ApiKey.InitProducerId, {
          throttleTimeMs: 0,
          errorCode: 0,
          producerId,
          producerEpoch,
        });
      }
      case ApiKey.AddPartitionsToTxn: {
        const body = request.body;
        const code = this.#fault(ApiKey.AddPartitionsToTxn) ||
          (this.#checkTxn(
            body.v3AndBelowTransactionalId,
            body.v3AndBelowProducerId,
            body.v3AndBelowProducerEpoch,
          ) ?? 0);
        const txn = this.txns.get(body.v3AndBelowTransactionalId);
        if (code === 0 && txn) {
          txn.open = true;
          for (const t of body.v3AndBelowTopics) {
            for (const p of t.partitions) txn.partitions.add(`${t.name}/${p}`);
          }
        }
        return reply(ApiKey.AddPartitionsToTxn, {
          throttleTimeMs: 0,
          resultsByTopicV3AndBelow: body.v3AndBelowTopics.map((t) => ({
            name: t.name,
            resultsByPartition: t.partitions.map((partitionIndex) => ({
              partitionIndex,
              partitionErrorCode: code,
            })),
          })),
        });
      }
      case ApiKey.AddOffsetsToTxn: {
        const body = request.body;
        const code = this.#fault(ApiKey.AddOffsetsToTxn) ||
          (this.#checkTxn(body.transactionalId, body.producerId, body.producerEpoch) ?? 0);
        const txn = this.txns.get(body.transactionalId);
        if (code === 0 && txn) {
          txn.open = true;
          txn.groups.add(body.groupId);
        }
        return reply(ApiKey.AddOffsetsToTxn, { throttleTimeMs: 0, errorCode: code });
      }
      case ApiKey.TxnOffsetCommit: {
        const body = request.body;
        const txn = this.txns.get(body.transactionalId);
        let code = this.#fault(ApiKey.TxnOffsetCommit) ||
          (this.#checkTxn(body.transactionalId, body.producerId, body.producerEpoch) ?? 0);
        if (code === 0 && !txn?.groups.has(body.groupId)) code = ERRORS.INVALID_TXN_STATE.code;
        if (code === 0 && txn) {
          for (const t of body.topics) {
            for (const p of t.partitions) {
              txn.pendingOffsets.set(
                `${body.groupId}/${t.name}/${p.partitionIndex}`,
                p.committedOffset,
              );
            }
          }
        }
        return reply(ApiKey.TxnOffsetCommit, {
          throttleTimeMs: 0,
          topics: body.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: code,
            })),
          })),
        });
      }
      case ApiKey.EndTxn: {
        const body = request.body;
        const code = this.#fault(ApiKey.EndTxn) ||
          (this.#checkTxn(body.transactionalId, body.producerId, body.producerEpoch) ?? 0);
        const txn = this.txns.get(body.transactionalId);
        if (code === 0 && txn && txn.open) this.#end(txn, body.committed);
        return reply(ApiKey.EndTxn, { throttleTimeMs: 0, errorCode: code });
      }
      case ApiKey.Produce: {
        await this.#options.beforeProduce?.();
        const body = request.body;
        const responses = body.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) =>
            this.#produce(t.name, p.index, p.records, body.transactionalId)
          ),
        }));
        return reply(ApiKey.Produce, { responses, throttleTimeMs: 0 });
      }
      case ApiKey.Fetch:
        return reply(ApiKey.Fetch, {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          responses: request.body.topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((p) =>
              this.#options.onFetch?.(request.body, t.topic, p.partition) ??
                this.#fetchLog(t.topic, p.partition, p.fetchOffset)
            ),
          })),
        });
      default:
        throw new Error(`fake broker does not serve API ${request.apiKey}`);
    }
  }

  #produce(
    topic: string,
    partition: number,
    records: Uint8Array | null,
    transactionalId: string | null,
  ): ProducePartitionResponse {
    const key = `${topic}/${partition}`;
    const answer = (errorCode: number, baseOffset: bigint): ProducePartitionResponse => ({
      index: partition,
      errorCode,
      baseOffset,
      logAppendTimeMs: -1n,
      logStartOffset: 0n,
      recordErrors: [],
      errorMessage: errorCode === 0 ? null : `fake broker error ${errorCode}`,
    });
    const fault = this.#fault(ApiKey.Produce);
    if (fault !== 0) return answer(fault, -1n);
    const batches = splitBatches(records ?? new Uint8Array(), { verifyCrc: true });
    let baseOffset = -1n;
    for (const { header, bytes } of batches) {
      const epoch = this.#epochs.get(header.producerId);
      if (epoch !== undefined && header.producerEpoch < epoch) {
        return answer(ERRORS.INVALID_PRODUCER_EPOCH.code, -1n);
      }
      if (isTransactionalBatch(header)) {
        const txn = transactionalId === null ? undefined : this.txns.get(transactionalId);
        if (txn === undefined || !txn.partitions.has(key)) {
          return answer(ERRORS.INVALID_TXN_STATE.code, -1n);
        }
      }
      const at = this.#append(key, bytes);
      if (baseOffset < 0n) baseOffset = at;
    }
    return answer(0, baseOffset);
  }

  #fetchLog(topic: string, partition: number, fetchOffset: bigint): FetchPartitionData {
    const log = (this.logs.get(`${topic}/${partition}`) ?? []).filter((b) =>
      lastOffsetOf(splitBatches(b)[0].header) >= fetchOffset
    );
    const records = new Uint8Array(log.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of log) {
      records.set(b, at);
      at += b.length;
    }
    const end = this.logEndOffset(topic, partition);
    return {
      partitionIndex: partition,
      errorCode: 0,
      highWatermark: end,
      lastStableOffset: end,
      logStartOffset: 0n,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records,
    };
  }
}
