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
  type RequestBodies,
  RequestDecodeError,
  type ResponseBodies,
} from "@kafka-analog/lib/protocol";
import { COORDINATOR_OWNED_API_KEYS, readUpdateMetadataRequest } from "@kafka-analog/lib/cluster";
import { buildApiVersionsResponse, buildMetadataResponse } from "@kafka-analog/lib/metadata";
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
  ApiKey.CreateTopics,
  ApiKey.DeleteTopics,
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
  return async (frame) => {
    let request;
    try {
      request = decodeRequest(frame);
    } catch (err) {
      if (err instanceof RequestDecodeError && err.header?.apiKey === ApiKey.ApiVersions) {
        // Kafka answers an unknown ApiVersions version with v0 and the list, so clients can downgrade.
        return encodeResponse(ApiKey.ApiVersions, 0, err.header.correlationId, {
          ...buildApiVersionsResponse(BROKER_API_KEYS),
          errorCode: ERRORS.UNSUPPORTED_VERSION.code,
        });
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
        return reply(ApiKey.ApiVersions, buildApiVersionsResponse(BROKER_API_KEYS));
      case ApiKey.WriteTxnMarkers:
        return reply(ApiKey.WriteTxnMarkers, await handleWriteTxnMarkers(broker, request.body));
      case ApiKey.Metadata: {
        // Before its first snapshot a broker knows no topics: each is unknown (a retriable error).
        const snapshot = broker.snapshot ??
          { clusterId: "", version: -1, controllerId: -1, brokers: [], topics: [] };
        return reply(ApiKey.Metadata, buildMetadataResponse(snapshot, request.body));
      }
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
      case ApiKey.CreateTopics:
        return reply(
          ApiKey.CreateTopics,
          await options.forward(ApiKey.CreateTopics, header.apiVersion, request.body),
        );
      case ApiKey.DeleteTopics:
        return reply(
          ApiKey.DeleteTopics,
          await options.forward(ApiKey.DeleteTopics, header.apiVersion, request.body),
        );
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
