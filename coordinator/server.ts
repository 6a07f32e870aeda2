/**
 * The coordinator's cluster-protocol listener (default 8080): brokers
 * register and heartbeat here; clients may bootstrap here (Metadata) and
 * create or delete topics. Decode → dispatch → encode, as on the broker.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  ApiKey,
  decodeRequest,
  encodeResponse,
  ERRORS,
  type ImplementedApiKey,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  RequestDecodeError,
  type ResponseBodies,
} from "@kafka-analog/lib/protocol";
import { answerApiVersions, buildMetadataResponse } from "@kafka-analog/lib/metadata";
import { COORDINATOR_OWNED_API_KEYS } from "@kafka-analog/lib/cluster";
import { type Config, DEFAULT_CONFIG } from "@kafka-analog/lib/config";
import {
  alterConfigs,
  createPartitions,
  describeConfigs,
  incrementalAlterConfigs,
} from "./admin_requests.ts";
import type { Coordinator } from "./coordinator.ts";
import { handleInitProducerId } from "./producer_ids.ts";
import { handleSchemaRegistryRequest } from "./schema_registry.ts";
import {
  deleteGroups,
  describeGroups,
  heartbeat,
  joinGroup,
  leaveGroup,
  listGroups,
  offsetCommit,
  offsetFetch,
  syncGroup,
} from "./groups/requests.ts";

/** APIs the coordinator answers on its cluster port. */
export const COORDINATOR_API_KEYS: readonly number[] = [
  ApiKey.Metadata,
  ApiKey.ApiVersions,
  ApiKey.BrokerRegistration,
  ApiKey.BrokerHeartbeat,
  ApiKey.ClusterMetadata,
  ApiKey.AlterPartition,
  ApiKey.FindCoordinator,
  ...COORDINATOR_OWNED_API_KEYS,
];

/**
 * Builds the frame handler for the cluster port. `config` (default: all
 * defaults) is what DescribeConfigs reports as broker and default topic configs.
 */
export function createCoordinatorHandler(
  coordinator: Coordinator,
  options: { config?: Config } = {},
): (frame: Uint8Array) => Promise<Uint8Array> {
  const config = options.config ?? DEFAULT_CONFIG;
  return async (frame) => {
    let request;
    try {
      request = decodeRequest(frame);
    } catch (err) {
      if (err instanceof RequestDecodeError && err.header?.apiKey === ApiKey.ApiVersions) {
        return answerApiVersions(err, COORDINATOR_API_KEYS);
      }
      throw err;
    }
    const { header } = request;
    const reply = <K extends ImplementedApiKey>(apiKey: K, body: ResponseBodies[K]) =>
      encodeResponse(apiKey, header.apiVersion, header.correlationId, body);
    switch (request.apiKey) {
      case ApiKey.ApiVersions:
        return answerApiVersions(request, COORDINATOR_API_KEYS);
      case ApiKey.Metadata:
        return reply(ApiKey.Metadata, buildMetadataResponse(coordinator.snapshot(), request.body));
      case ApiKey.CreateTopics:
        return reply(ApiKey.CreateTopics, await coordinator.createTopics(request.body));
      case ApiKey.DeleteTopics:
        return reply(ApiKey.DeleteTopics, await coordinator.deleteTopics(request.body));
      case ApiKey.CreatePartitions:
        return reply(ApiKey.CreatePartitions, await createPartitions(coordinator, request.body));
      case ApiKey.DescribeConfigs:
        return reply(
          ApiKey.DescribeConfigs,
          describeConfigs(coordinator, config, request.body),
        );
      case ApiKey.AlterConfigs:
        return reply(ApiKey.AlterConfigs, await alterConfigs(coordinator, request.body));
      case ApiKey.IncrementalAlterConfigs:
        return reply(
          ApiKey.IncrementalAlterConfigs,
          await incrementalAlterConfigs(coordinator, request.body),
        );
      case ApiKey.BrokerRegistration:
        return reply(ApiKey.BrokerRegistration, {
          payload: coordinator.register(request.body.payload),
        });
      case ApiKey.BrokerHeartbeat:
        return reply(ApiKey.BrokerHeartbeat, {
          payload: coordinator.heartbeat(request.body.payload),
        });
      case ApiKey.InitProducerId:
        return reply(
          ApiKey.InitProducerId,
          request.body.transactionalId
            ? await initTransactionalProducer(coordinator, request.body)
            : handleInitProducerId(coordinator.producerIds, request.body),
        );
      case ApiKey.AddPartitionsToTxn:
        return reply(ApiKey.AddPartitionsToTxn, addPartitionsToTxn(coordinator, request.body));
      case ApiKey.AddOffsetsToTxn: {
        const b = request.body;
        return reply(ApiKey.AddOffsetsToTxn, {
          throttleTimeMs: 0,
          errorCode: coordinator.transactions.addOffsets(
            b.transactionalId,
            b.producerId,
            b.producerEpoch,
            b.groupId,
          ),
        });
      }
      case ApiKey.EndTxn: {
        const b = request.body;
        return reply(ApiKey.EndTxn, {
          throttleTimeMs: 0,
          errorCode: await coordinator.transactions.endTxn(
            b.transactionalId,
            b.producerId,
            b.producerEpoch,
            b.committed,
          ),
        });
      }
      case ApiKey.TxnOffsetCommit: {
        const b = request.body;
        const errorCode = coordinator.transactions.txnOffsetCommit(
          b.transactionalId,
          b.producerId,
          b.producerEpoch,
          b.groupId,
          b.topics.flatMap((t) =>
            t.partitions.map((p) => ({
              topic: t.name,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              metadata: p.committedMetadata,
            }))
          ),
        );
        return reply(ApiKey.TxnOffsetCommit, {
          throttleTimeMs: 0,
          topics: b.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
          })),
        });
      }
      case ApiKey.SchemaRegistry:
        return reply(ApiKey.SchemaRegistry, {
          payload: handleSchemaRegistryRequest(coordinator.schemaRegistry, request.body.payload),
        });
      case ApiKey.FindCoordinator: {
        // Kafka clients only talk to brokers: name a live one; it forwards group requests here.
        const live = coordinator.liveBrokers();
        const broker = live[0];
        return reply(
          ApiKey.FindCoordinator,
          broker
            ? {
              throttleTimeMs: 0,
              errorCode: 0,
              errorMessage: null,
              nodeId: broker.id,
              host: broker.host,
              port: broker.port,
            }
            : {
              throttleTimeMs: 0,
              errorCode: ERRORS.COORDINATOR_NOT_AVAILABLE.code,
              errorMessage: "No live broker",
              nodeId: -1,
              host: "",
              port: -1,
            },
        );
      }
      case ApiKey.JoinGroup:
        return reply(
          ApiKey.JoinGroup,
          await joinGroup(coordinator.groups, request.body, header.clientId ?? ""),
        );
      case ApiKey.SyncGroup:
        return reply(ApiKey.SyncGroup, await syncGroup(coordinator.groups, request.body));
      case ApiKey.Heartbeat:
        return reply(ApiKey.Heartbeat, heartbeat(coordinator.groups, request.body));
      case ApiKey.LeaveGroup:
        return reply(ApiKey.LeaveGroup, leaveGroup(coordinator.groups, request.body));
      case ApiKey.OffsetCommit:
        return reply(ApiKey.OffsetCommit, offsetCommit(coordinator.groups, request.body));
      case ApiKey.OffsetFetch:
        return reply(ApiKey.OffsetFetch, offsetFetch(coordinator.groups, request.body));
      case ApiKey.DescribeGroups:
        return reply(ApiKey.DescribeGroups, describeGroups(coordinator.groups, request.body));
      case ApiKey.ListGroups:
        return reply(ApiKey.ListGroups, listGroups(coordinator.groups));
      case ApiKey.DeleteGroups:
        return reply(ApiKey.DeleteGroups, deleteGroups(coordinator.groups, request.body));
      case ApiKey.AlterPartition:
        return reply(ApiKey.AlterPartition, {
          payload: await coordinator.alterPartition(request.body.payload),
        });
      case ApiKey.ClusterMetadata:
        return reply(ApiKey.ClusterMetadata, {
          payload: { errorCode: 0, snapshot: coordinator.snapshot() },
        });
      default:
        throw KaError.of(
          "UNSUPPORTED_VERSION",
          `The coordinator does not serve API ${header.apiKey}`,
        );
    }
  };
}

/** InitProducerId with a transactional id: the transaction coordinator bumps the epoch. */
async function initTransactionalProducer(
  coordinator: Coordinator,
  body: InitProducerIdRequest,
): Promise<InitProducerIdResponse> {
  try {
    const { producerId, producerEpoch } = await coordinator.transactions.initProducerId(
      body.transactionalId!,
      body.transactionTimeoutMs,
    );
    return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch };
  } catch (err) {
    if (!isKaError(err)) throw err;
    return { throttleTimeMs: 0, errorCode: err.code, producerId: -1n, producerEpoch: -1 };
  }
}

/** AddPartitionsToTxn (v0–2 field names). */
function addPartitionsToTxn(
  coordinator: Coordinator,
  body: AddPartitionsToTxnRequest,
): AddPartitionsToTxnResponse {
  const results = coordinator.transactions.addPartitions(
    body.v3AndBelowTransactionalId,
    body.v3AndBelowProducerId,
    body.v3AndBelowProducerEpoch,
    body.v3AndBelowTopics.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.name, partition }))
    ),
  );
  const byTopic = new Map<string, { partitionIndex: number; partitionErrorCode: number }[]>();
  for (const r of results) {
    byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), {
      partitionIndex: r.partition,
      partitionErrorCode: r.errorCode,
    }]);
  }
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: [...byTopic].map(([name, resultsByPartition]) => ({
      name,
      resultsByPartition,
    })),
  };
}
