/**
 * The broker's request path: decode → dispatch by API key → encode. Handlers
 * never see bytes. Group, transaction and admin requests that the
 * coordinator owns are forwarded to it.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  ApiKey,
  decodeRequest,
  encodeResponse,
  ERRORS,
  type ImplementedApiKey,
  type MetadataRequest,
  type MetadataResponse,
  type RequestBodies,
  RequestDecodeError,
  type ResponseBodies,
} from "@kafka-analog/lib/protocol";
import {
  type ClusterSnapshot,
  COORDINATOR_OWNED_API_KEYS,
  readUpdateMetadataRequest,
  validateTopicName,
} from "@kafka-analog/lib/cluster";
import { answerApiVersions, buildMetadataResponse } from "@kafka-analog/lib/metadata";
import type { Broker } from "./broker.ts";
import { handleProduce } from "./handlers/produce.ts";
import { handleFetch } from "./handlers/fetch.ts";
import { handleListOffsets } from "./handlers/list_offsets.ts";
import { handleOffsetForLeaderEpoch } from "./handlers/offset_for_leader_epoch.ts";
import { handleWriteTxnMarkers } from "./handlers/write_txn_markers.ts";

/** APIs a broker answers (ApiVersions lists exactly these). */
export const BROKER_API_KEYS: readonly number[] = [
  ApiKey.Produce,
  ApiKey.Fetch,
  ApiKey.ListOffsets,
  ApiKey.Metadata,
  ApiKey.ApiVersions,
  ApiKey.OffsetForLeaderEpoch,
  ApiKey.UpdateMetadata,
  ApiKey.FindCoordinator,
  ApiKey.WriteTxnMarkers,
  ...COORDINATOR_OWNED_API_KEYS,
];

/** Owned by the coordinator process: forwarded as they are. */
const FORWARDED: ReadonlySet<number> = new Set(COORDINATOR_OWNED_API_KEYS);

/** Sends a request the coordinator owns and returns its answer. */
export type ForwardToCoordinator = <K extends ImplementedApiKey>(
  apiKey: K,
  apiVersion: number,
  body: RequestBodies[K],
  options?: { clientId?: string | null; timeoutMs?: number },
) => Promise<ResponseBodies[K]>;

/** Builds the frame handler for `broker`. */
export function createBrokerHandler(
  broker: Broker,
  options: { forward: ForwardToCoordinator; signal?: AbortSignal },
): (frame: Uint8Array) => Promise<Uint8Array | null> {
  // Topics this broker is auto-creating now: a client retrying Metadata meanwhile waits for it.
  const creating = new Set<string>();
  return async (frame) => {
    let request;
    try {
      request = decodeRequest(frame);
    } catch (err) {
      if (err instanceof RequestDecodeError && err.header?.apiKey === ApiKey.ApiVersions) {
        return answerApiVersions(err, BROKER_API_KEYS);
      }
      throw err; // closes this connection with a logged reason
    }
    const { header } = request;
    const reply = <K extends ImplementedApiKey>(apiKey: K, body: ResponseBodies[K]) =>
      encodeResponse(apiKey, header.apiVersion, header.correlationId, body);
    if (FORWARDED.has(request.apiKey)) {
      // JoinGroup waits for the whole rebalance: give the forward that long.
      const timeoutMs = request.apiKey === ApiKey.JoinGroup
        ? Math.max((request.body as { rebalanceTimeoutMs?: number }).rebalanceTimeoutMs ?? 0, 0) +
          30_000
        : 30_000;
      const body = await options.forward(request.apiKey, header.apiVersion, request.body as never, {
        clientId: header.clientId,
        timeoutMs,
      });
      return encodeResponse(request.apiKey, header.apiVersion, header.correlationId, body as never);
    }
    switch (request.apiKey) {
      case ApiKey.FindCoordinator: {
        // This broker is the group coordinator as far as clients know; it forwards to the real one.
        const self = broker.snapshot?.brokers.find((b) => b.id === broker.id);
        return reply(
          ApiKey.FindCoordinator,
          self
            ? {
              throttleTimeMs: 0,
              errorCode: 0,
              errorMessage: null,
              nodeId: self.id,
              host: self.host,
              port: self.port,
            }
            : {
              throttleTimeMs: 0,
              errorCode: ERRORS.COORDINATOR_NOT_AVAILABLE.code,
              errorMessage: `Broker ${broker.id} is not registered yet`,
              nodeId: -1,
              host: "",
              port: -1,
            },
        );
      }
      case ApiKey.ApiVersions:
        return answerApiVersions(request, BROKER_API_KEYS);
      case ApiKey.WriteTxnMarkers:
        return reply(ApiKey.WriteTxnMarkers, await handleWriteTxnMarkers(broker, request.body));
      case ApiKey.Metadata:
        return reply(
          ApiKey.Metadata,
          await answerMetadata(broker, request.body, { forward: options.forward, creating }),
        );
      case ApiKey.Produce: {
        const body = await handleProduce(broker, request.body);
        return body === null ? null : reply(ApiKey.Produce, body);
      }
      case ApiKey.Fetch:
        return reply(ApiKey.Fetch, await handleFetch(broker, request.body, options.signal));
      case ApiKey.ListOffsets:
        return reply(ApiKey.ListOffsets, handleListOffsets(broker, request.body));
      case ApiKey.OffsetForLeaderEpoch:
        return reply(ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch(broker, request.body));
      case ApiKey.UpdateMetadata: {
        let errorCode = 0;
        let message: string | null = null;
        try {
          broker.applySnapshot(readUpdateMetadataRequest(request.body.payload).snapshot);
        } catch (err) {
          if (!isKaError(err)) throw err;
          errorCode = err.code;
          message = err.message;
        }
        return reply(ApiKey.UpdateMetadata, {
          payload: { errorCode, message, metadataVersion: broker.metadataVersion },
        });
      }
      default:
        throw KaError.of("UNSUPPORTED_VERSION", `Broker does not serve API ${header.apiKey}`);
    }
  };
}

const EMPTY_SNAPSHOT: ClusterSnapshot = {
  clusterId: "",
  version: -1,
  controllerId: -1,
  brokers: [],
  topics: [],
};

/**
 * How long a Metadata request waits for the coordinator to auto-create its
 * topics (the forward, and the CreateTopics `timeoutMs`). Short, as the
 * client's connection waits behind it; a topic not created by then is
 * answered LEADER_NOT_AVAILABLE and the client asks again.
 */
const AUTO_CREATE_TIMEOUT_MS = 5_000;

/**
 * Metadata from this broker's snapshot. With `autoCreateTopics` on and the
 * request allowing it (v4+ `allowAutoTopicCreation`; always before v4), a
 * named topic this broker does not know is created with the cluster's
 * default partitions and replication factor (the coordinator does it, as for
 * CreateTopics). As in Kafka, a topic just created whose metadata has not
 * reached this broker yet is answered LEADER_NOT_AVAILABLE, and the client
 * asks again. A topic already being created (`creating`, shared by every
 * connection) is not asked for again until that answer comes. While the
 * broker is fenced ({@linkcode Broker.fenced}) the partitions it leads are
 * answered without a leader (LEADER_NOT_AVAILABLE, leader −1).
 */
async function answerMetadata(
  broker: Broker,
  request: MetadataRequest,
  { forward, creating }: { forward: ForwardToCoordinator; creating: Set<string> },
): Promise<MetadataResponse> {
  // Before its first snapshot a broker knows no topics: each is unknown (a retriable error).
  const known = new Set((broker.snapshot ?? EMPTY_SNAPSHOT).topics.map((t) => t.name));
  const missing = request.topics === null || !broker.settings.autoCreateTopics ||
      request.allowAutoTopicCreation === false
    ? []
    : [...new Set(request.topics.map((t) => t.name).filter((n) => !known.has(n)))];
  const pending = new Map<string, number>();
  const valid: string[] = [];
  for (const name of missing) {
    try {
      validateTopicName(name);
    } catch {
      pending.set(name, ERRORS.INVALID_TOPIC_EXCEPTION.code);
      continue;
    }
    if (creating.has(name)) pending.set(name, ERRORS.LEADER_NOT_AVAILABLE.code);
    else valid.push(name);
  }
  if (valid.length > 0) {
    for (const name of valid) creating.add(name);
    try {
      const created = await forward(ApiKey.CreateTopics, 4, {
        topics: valid.map((name) => ({
          name,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [],
          configs: [],
        })),
        timeoutMs: AUTO_CREATE_TIMEOUT_MS,
        validateOnly: false,
      }, { timeoutMs: AUTO_CREATE_TIMEOUT_MS });
      for (const t of created.topics) {
        const ok = t.errorCode === 0 || t.errorCode === ERRORS.TOPIC_ALREADY_EXISTS.code;
        pending.set(t.name, ok ? ERRORS.LEADER_NOT_AVAILABLE.code : t.errorCode);
      }
      const made = created.topics.filter((t) => t.errorCode === 0).map((t) => t.name);
      if (made.length > 0) broker.logger.info("auto-created topics", { topics: made.join(",") });
    } catch (err) {
      if (!isKaError(err)) throw err;
      for (const name of valid) pending.set(name, ERRORS.LEADER_NOT_AVAILABLE.code);
    } finally {
      for (const name of valid) creating.delete(name);
    }
  }
  const response = buildMetadataResponse(broker.snapshot ?? EMPTY_SNAPSHOT, request);
  // A fenced broker (no coordinator for longer than the session timeout) has probably been
  // replaced as leader: it names no leader for the partitions it led, as Kafka does for a
  // partition without one, so clients ask another broker instead of coming back here.
  const fenced = broker.fenced();
  for (const topic of response.topics) {
    const code = pending.get(topic.name);
    if (code !== undefined && topic.errorCode === ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code) {
      topic.errorCode = code;
    }
    if (!fenced) continue;
    for (const p of topic.partitions) {
      if (p.leaderId !== broker.id) continue;
      p.leaderId = -1;
      p.errorCode = ERRORS.LEADER_NOT_AVAILABLE.code;
    }
  }
  return response;
}
