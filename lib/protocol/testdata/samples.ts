/**
 * Sample request and response bodies for every implemented API and version,
 * used by the round-trip, truncation, fuzz and golden-frame tests. Fields a
 * version lacks hold the default its decoder fills in, so
 * `decode(encode(sample)) deep-equals sample`.
 * @module
 */
import { ApiKey, SUPPORTED_VERSIONS } from "../api_keys.ts";
import { encodeRecordBatch } from "../record_batch.ts";
import type { ImplementedApiKey, RequestBodies, ResponseBodies } from "../mod.ts";

/** One API version's sample bodies. */
export interface Sample<K extends ImplementedApiKey = ImplementedApiKey> {
  apiKey: K;
  version: number;
  request: RequestBodies[K];
  response: ResponseBodies[K];
}

const enc = new TextEncoder();
/** A fixed record batch so golden frames stay stable. */
export const SAMPLE_BATCH: Uint8Array = encodeRecordBatch([
  { key: enc.encode("k"), value: enc.encode("hello"), headers: [{ key: "h", value: null }] },
  { key: null, value: null },
], { timestamp: 1_700_000_000_000, baseOffset: 0n });

function produce(v: number): Sample<0> {
  return {
    apiKey: 0,
    version: v,
    request: {
      transactionalId: v % 2 === 0 ? null : "txn-1",
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        {
          name: "orders",
          partitionData: [{ index: 0, records: SAMPLE_BATCH }, { index: 3, records: null }],
        },
        { name: "empty", partitionData: [] },
      ],
    },
    response: {
      responses: [{
        name: "orders",
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 42n,
            logAppendTimeMs: -1n,
            logStartOffset: v >= 5 ? 7n : -1n,
            recordErrors: v >= 8 ? [{ batchIndex: 1, batchIndexErrorMessage: "bad" }] : [],
            errorMessage: v >= 8 ? "partly" : null,
          },
          {
            index: 3,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: 1_700_000_000_000n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
          },
        ],
      }],
      throttleTimeMs: 5,
    },
  };
}

function fetch(v: number): Sample<1> {
  return {
    apiKey: 1,
    version: v,
    request: {
      replicaId: v % 2 === 0 ? -1 : 2,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 1,
      sessionId: v >= 7 ? 11 : 0,
      sessionEpoch: v >= 7 ? 2 : -1,
      topics: [{
        topic: "orders",
        partitions: [{
          partition: 1,
          currentLeaderEpoch: v >= 9 ? 4 : -1,
          fetchOffset: 12345678901n,
          logStartOffset: v >= 5 ? 3n : -1n,
          partitionMaxBytes: 1_048_576,
        }],
      }],
      forgottenTopicsData: v >= 7 ? [{ topic: "old", partitions: [0, 9] }] : [],
      rackId: v >= 11 ? "rack-a" : "",
    },
    response: {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: v >= 7 ? 11 : 0,
      responses: [{
        topic: "orders",
        partitions: [
          {
            partitionIndex: 1,
            errorCode: 0,
            highWatermark: 100n,
            lastStableOffset: 99n,
            logStartOffset: v >= 5 ? 0n : -1n,
            abortedTransactions: [{ producerId: 9n, firstOffset: 50n }],
            preferredReadReplica: v >= 11 ? 2 : -1,
            records: SAMPLE_BATCH,
          },
          {
            partitionIndex: 2,
            errorCode: 1,
            highWatermark: -1n,
            lastStableOffset: -1n,
            logStartOffset: -1n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: null,
          },
        ],
      }],
    },
  };
}

function listOffsets(v: number): Sample<2> {
  return {
    apiKey: 2,
    version: v,
    request: {
      replicaId: -1,
      isolationLevel: v >= 2 ? 1 : 0,
      topics: [{
        name: "orders",
        partitions: [
          { partitionIndex: 0, currentLeaderEpoch: v >= 4 ? 3 : -1, timestamp: -1n },
          { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000n },
        ],
      }],
    },
    response: {
      throttleTimeMs: v >= 2 ? 10 : 0,
      topics: [{
        name: "orders",
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            timestamp: -1n,
            offset: 100n,
            leaderEpoch: v >= 4 ? 3 : -1,
          },
        ],
      }],
    },
  };
}

function metadata(v: number): Sample<3> {
  return {
    apiKey: 3,
    version: v,
    request: {
      topics: v % 2 === 0 ? null : [{ name: "orders" }, { name: "ünï" }],
      allowAutoTopicCreation: v >= 4 ? false : true,
      includeClusterAuthorizedOperations: v >= 8,
      includeTopicAuthorizedOperations: v >= 8,
    },
    response: {
      throttleTimeMs: v >= 3 ? 1 : 0,
      brokers: [
        { nodeId: 0, host: "127.0.0.1", port: 9092, rack: null },
        { nodeId: 1, host: "127.0.0.1", port: 9093, rack: "r1" },
      ],
      clusterId: v >= 2 ? "cluster-x" : null,
      controllerId: 1,
      topics: [{
        errorCode: 0,
        name: "orders",
        isInternal: false,
        partitions: [{
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: v >= 7 ? 5 : -1,
          replicaNodes: [1, 0],
          isrNodes: [1],
          offlineReplicas: v >= 5 ? [0] : [],
        }],
        topicAuthorizedOperations: v >= 8 ? 0 : -2147483648,
      }],
      clusterAuthorizedOperations: v === 8 ? 12 : -2147483648,
    },
  };
}

function apiVersions(v: number): Sample<18> {
  return {
    apiKey: 18,
    version: v,
    request: v >= 3 ? { clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" } : {},
    response: {
      errorCode: 0,
      apiKeys: [...SUPPORTED_VERSIONS].map(([apiKey, r]) => ({
        apiKey,
        minVersion: r.min,
        maxVersion: r.max,
      })),
      throttleTimeMs: v >= 1 ? 3 : 0,
    },
  };
}

function createTopics(v: number): Sample<19> {
  return {
    apiKey: 19,
    version: v,
    request: {
      topics: [
        {
          name: "orders",
          numPartitions: 3,
          replicationFactor: 2,
          assignments: [],
          configs: [{ name: "retention.ms", value: "1000" }, { name: "x", value: null }],
        },
        {
          name: "manual",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [],
        },
      ],
      timeoutMs: 60_000,
      validateOnly: v === 3,
    },
    response: {
      throttleTimeMs: 0,
      topics: [
        { name: "orders", errorCode: 0, errorMessage: null },
        { name: "manual", errorCode: 36, errorMessage: "Topic 'manual' already exists" },
      ],
    },
  };
}

function deleteTopics(v: number): Sample<20> {
  return {
    apiKey: 20,
    version: v,
    request: { topicNames: ["orders", "manual"], timeoutMs: 30_000 },
    response: {
      throttleTimeMs: 0,
      responses: [{ name: "orders", errorCode: 0 }, { name: "manual", errorCode: 3 }],
    },
  };
}

function offsetForLeaderEpoch(v: number): Sample<23> {
  return {
    apiKey: 23,
    version: v,
    request: {
      replicaId: v >= 3 ? 2 : -2,
      topics: [{
        topic: "orders",
        partitions: [{ partition: 1, currentLeaderEpoch: 4, leaderEpoch: 3 }],
      }],
    },
    response: {
      throttleTimeMs: 0,
      topics: [{
        topic: "orders",
        partitions: [
          { errorCode: 0, partition: 1, leaderEpoch: 3, endOffset: 1234n },
          { errorCode: 6, partition: 2, leaderEpoch: -1, endOffset: -1n },
        ],
      }],
    },
  };
}

function initProducerId(v: number): Sample<22> {
  return {
    apiKey: 22,
    version: v,
    request: { transactionalId: v === 0 ? null : "txn-1", transactionTimeoutMs: 60_000 },
    response: { throttleTimeMs: 0, errorCode: 0, producerId: 4_000_000_000n, producerEpoch: 3 },
  };
}

function offsetCommit(v: number): Sample<8> {
  return {
    apiKey: 8,
    version: v,
    request: {
      groupId: "billing",
      generationIdOrMemberEpoch: 4,
      memberId: "consumer-1-ab12",
      groupInstanceId: v >= 7 ? "host-a" : null,
      retentionTimeMs: v <= 4 ? 86_400_000n : -1n,
      topics: [{
        name: "orders",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 12345678901n,
            committedLeaderEpoch: v >= 6 ? 3 : -1,
            committedMetadata: "m",
          },
          {
            partitionIndex: 1,
            committedOffset: 0n,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
        ],
      }],
    },
    response: {
      throttleTimeMs: v >= 3 ? 2 : 0,
      topics: [{
        name: "orders",
        partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 22 }],
      }],
    },
  };
}

function offsetFetch(v: number): Sample<9> {
  return {
    apiKey: 9,
    version: v,
    request: {
      groupId: "billing",
      topics: v >= 2 && v % 2 === 0 ? null : [{ name: "orders", partitionIndexes: [0, 1] }],
    },
    response: {
      throttleTimeMs: v >= 3 ? 1 : 0,
      topics: [{
        name: "orders",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 42n,
            committedLeaderEpoch: v >= 5 ? 3 : -1,
            metadata: "",
            errorCode: 0,
          },
          {
            partitionIndex: 1,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: null,
            errorCode: 0,
          },
        ],
      }],
      errorCode: v >= 2 ? 14 : 0,
    },
  };
}

function findCoordinator(v: number): Sample<10> {
  return {
    apiKey: 10,
    version: v,
    request: { key: v === 2 ? "txn-1" : "billing", keyType: v === 2 ? 1 : 0 },
    response: {
      throttleTimeMs: v >= 1 ? 4 : 0,
      errorCode: 0,
      errorMessage: v === 0 ? "" : v === 1 ? null : "ok",
      nodeId: 2,
      host: "127.0.0.1",
      port: 9094,
    },
  };
}

function joinGroup(v: number): Sample<11> {
  return {
    apiKey: 11,
    version: v,
    request: {
      groupId: "billing",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: v >= 1 ? 30_000 : -1,
      memberId: v % 2 === 0 ? "" : "consumer-1-ab12",
      groupInstanceId: v >= 5 ? "host-a" : null,
      protocolType: "consumer",
      protocols: [
        {
          name: "range",
          metadata: new Uint8Array([0, 0, 0, 0, 0, 1, 0, 1, 0x78, 0xff, 0xff, 0xff, 0xff]),
        },
        { name: "roundrobin", metadata: new Uint8Array() },
      ],
    },
    response: {
      throttleTimeMs: v >= 2 ? 5 : 0,
      errorCode: 0,
      generationId: 7,
      protocolName: "range",
      leader: "consumer-1-ab12",
      memberId: "consumer-1-ab12",
      members: [
        {
          memberId: "consumer-1-ab12",
          groupInstanceId: v >= 5 ? "host-a" : null,
          metadata: new Uint8Array([0, 1, 2]),
        },
        { memberId: "consumer-2-cd34", groupInstanceId: null, metadata: new Uint8Array() },
      ],
    },
  };
}

function heartbeat(v: number): Sample<12> {
  return {
    apiKey: 12,
    version: v,
    request: {
      groupId: "billing",
      generationId: 7,
      memberId: "consumer-1-ab12",
      groupInstanceId: v >= 3 ? "host-a" : null,
    },
    response: { throttleTimeMs: v >= 1 ? 6 : 0, errorCode: v === 2 ? 27 : 0 },
  };
}

function leaveGroup(v: number): Sample<13> {
  return {
    apiKey: 13,
    version: v,
    request: {
      groupId: "billing",
      memberId: v <= 2 ? "consumer-1-ab12" : "",
      members: v >= 3
        ? [
          { memberId: "consumer-1-ab12", groupInstanceId: null },
          { memberId: "", groupInstanceId: "host-b" },
        ]
        : [],
    },
    response: {
      throttleTimeMs: v >= 1 ? 1 : 0,
      errorCode: 0,
      members: v >= 3
        ? [
          { memberId: "consumer-1-ab12", groupInstanceId: null, errorCode: 0 },
          { memberId: "", groupInstanceId: "host-b", errorCode: 25 },
        ]
        : [],
    },
  };
}

function syncGroup(v: number): Sample<14> {
  return {
    apiKey: 14,
    version: v,
    request: {
      groupId: "billing",
      generationId: 7,
      memberId: "consumer-1-ab12",
      groupInstanceId: v >= 3 ? "host-a" : null,
      assignments: v === 1 ? [] : [
        { memberId: "consumer-1-ab12", assignment: new Uint8Array([0, 0, 0, 0, 0, 0]) },
        { memberId: "consumer-2-cd34", assignment: new Uint8Array([1, 2, 3]) },
      ],
    },
    response: {
      throttleTimeMs: v >= 1 ? 3 : 0,
      errorCode: 0,
      assignment: new Uint8Array([0, 0, 0, 0, 0, 0]),
    },
  };
}

function describeGroups(v: number): Sample<15> {
  return {
    apiKey: 15,
    version: v,
    request: { groups: ["billing", "gone"], includeAuthorizedOperations: v >= 3 },
    response: {
      throttleTimeMs: v >= 1 ? 2 : 0,
      groups: [
        {
          errorCode: 0,
          groupId: "billing",
          groupState: "Stable",
          protocolType: "consumer",
          protocolData: "range",
          members: [{
            memberId: "consumer-1-ab12",
            groupInstanceId: v >= 4 ? "host-a" : null,
            clientId: "app",
            clientHost: "/127.0.0.1",
            memberMetadata: new Uint8Array([0, 1]),
            memberAssignment: new Uint8Array([2, 3, 4]),
          }],
          authorizedOperations: v >= 3 ? 8 : -2147483648,
        },
        {
          errorCode: 0,
          groupId: "gone",
          groupState: "Dead",
          protocolType: "",
          protocolData: "",
          members: [],
          authorizedOperations: -2147483648,
        },
      ],
    },
  };
}

function listGroups(v: number): Sample<16> {
  return {
    apiKey: 16,
    version: v,
    request: {},
    response: {
      throttleTimeMs: v >= 1 ? 1 : 0,
      errorCode: 0,
      groups: [
        { groupId: "billing", protocolType: "consumer" },
        { groupId: "offsets-only", protocolType: "" },
      ],
    },
  };
}

function addPartitionsToTxn(v: number): Sample<24> {
  return {
    apiKey: 24,
    version: v,
    request: {
      v3AndBelowTransactionalId: "txn-1",
      v3AndBelowProducerId: 4000n + BigInt(v),
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [
        { name: "orders", partitions: [0, 2] },
        { name: "empty", partitions: [] },
      ],
    },
    response: {
      throttleTimeMs: v,
      resultsByTopicV3AndBelow: [{
        name: "orders",
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: 0 },
          { partitionIndex: 2, partitionErrorCode: v >= 2 ? 90 : 47 },
        ],
      }],
    },
  };
}

function addOffsetsToTxn(v: number): Sample<25> {
  return {
    apiKey: 25,
    version: v,
    request: {
      transactionalId: "txn-1",
      producerId: 4000n,
      producerEpoch: 3 + v,
      groupId: "billing",
    },
    response: { throttleTimeMs: 1, errorCode: v >= 2 ? 90 : 0 },
  };
}

function endTxn(v: number): Sample<26> {
  return {
    apiKey: 26,
    version: v,
    request: {
      transactionalId: "txn-1",
      producerId: 4000n,
      producerEpoch: 3,
      committed: v % 2 === 0,
    },
    response: { throttleTimeMs: 0, errorCode: v === 1 ? 48 : 0 },
  };
}

function writeTxnMarkers(v: number): Sample<27> {
  return {
    apiKey: 27,
    version: v,
    request: {
      markers: [
        {
          producerId: 4000n,
          producerEpoch: 3,
          transactionResult: true,
          topics: [{ name: "orders", partitionIndexes: [0, 2] }, {
            name: "__consumer_offsets",
            partitionIndexes: [17],
          }],
          coordinatorEpoch: 5,
        },
        {
          producerId: 4001n,
          producerEpoch: 0,
          transactionResult: false,
          topics: [],
          coordinatorEpoch: 5,
        },
      ],
    },
    response: {
      markers: [
        {
          producerId: 4000n,
          topics: [{
            name: "orders",
            partitions: [{ partitionIndex: 0, errorCode: 0 }, {
              partitionIndex: 2,
              errorCode: 6,
            }],
          }],
        },
        { producerId: 4001n, topics: [] },
      ],
    },
  };
}

function txnOffsetCommit(v: number): Sample<28> {
  return {
    apiKey: 28,
    version: v,
    request: {
      transactionalId: "txn-1",
      groupId: "billing",
      producerId: 4000n,
      producerEpoch: 3,
      topics: [{
        name: "orders",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 12345678901n,
            committedLeaderEpoch: v >= 2 ? 4 : -1,
            committedMetadata: "m",
          },
          {
            partitionIndex: 2,
            committedOffset: 0n,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
        ],
      }],
    },
    response: {
      throttleTimeMs: v,
      topics: [{
        name: "orders",
        partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 2, errorCode: 25 }],
      }],
    },
  };
}

function describeConfigs(v: number): Sample<32> {
  return {
    apiKey: 32,
    version: v,
    request: {
      resources: [
        { resourceType: 2, resourceName: "orders", configurationKeys: null },
        { resourceType: 4, resourceName: "0", configurationKeys: ["log.retention.ms"] },
      ],
      includeSynonyms: v >= 1,
      includeDocumentation: v >= 3,
    },
    response: {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: "orders",
          configs: [
            {
              name: "retention.ms",
              value: "1000",
              readOnly: false,
              isDefault: false,
              configSource: v >= 1 ? 1 : 0,
              isSensitive: false,
              synonyms: v >= 1 ? [{ name: "retention.ms", value: "1000", source: 1 }] : [],
              configType: v >= 3 ? 5 : 0,
              documentation: v >= 3 ? "How long to keep data" : null,
            },
            {
              name: "cleanup.policy",
              value: null,
              readOnly: true,
              isDefault: true,
              configSource: 5,
              isSensitive: true,
              synonyms: [],
              configType: v >= 3 ? 7 : 0,
              documentation: null,
            },
          ],
        },
        {
          errorCode: 3,
          errorMessage: "Unknown topic",
          resourceType: 2,
          resourceName: "gone",
          configs: [],
        },
      ],
    },
  };
}

function createPartitions(v: number): Sample<37> {
  return {
    apiKey: 37,
    version: v,
    request: {
      topics: [
        { name: "orders", count: 6, assignments: null },
        { name: "audit", count: 3, assignments: [{ brokerIds: [0, 1] }, { brokerIds: [1, 2] }] },
      ],
      timeoutMs: 30_000,
      validateOnly: v === 1,
    },
    response: {
      throttleTimeMs: 5,
      results: [
        { name: "orders", errorCode: 0, errorMessage: null },
        { name: "audit", errorCode: 37, errorMessage: "too few" },
      ],
    },
  };
}

function alterConfigs(v: number): Sample<33> {
  return {
    apiKey: 33,
    version: v,
    request: {
      resources: [
        {
          resourceType: 2,
          resourceName: "orders",
          configs: [{ name: "retention.ms", value: "60000" }, { name: "flush.ms", value: null }],
        },
        { resourceType: 4, resourceName: "0", configs: [] },
      ],
      validateOnly: v === 1,
    },
    response: {
      throttleTimeMs: 3,
      responses: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "orders" },
        { errorCode: 42, errorMessage: "not supported", resourceType: 4, resourceName: "0" },
      ],
    },
  };
}

function deleteGroups(v: number): Sample<42> {
  return {
    apiKey: 42,
    version: v,
    request: { groupsNames: ["billing", "audit", ""] },
    response: {
      throttleTimeMs: v,
      results: [
        { groupId: "billing", errorCode: 0 },
        { groupId: "audit", errorCode: 68 },
        { groupId: "", errorCode: 69 },
      ],
    },
  };
}

function incrementalAlterConfigs(v: number): Sample<44> {
  return {
    apiKey: 44,
    version: v,
    request: {
      resources: [
        {
          resourceType: 2,
          resourceName: "orders",
          configs: [
            { name: "retention.ms", configOperation: 0, value: "60000" },
            { name: "flush.ms", configOperation: 1, value: null },
          ],
        },
        { resourceType: 4, resourceName: "0", configs: [] },
      ],
      validateOnly: v === 1,
    },
    response: {
      throttleTimeMs: 2,
      responses: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "orders" },
        { errorCode: 42, errorMessage: "not supported", resourceType: 4, resourceName: "0" },
      ],
    },
  };
}

function internal(apiKey: 1000 | 1001 | 1002 | 1003 | 1004 | 1010 | 1100): Sample {
  return {
    apiKey,
    version: 0,
    request: {
      payload: {
        brokerId: 2,
        metadataVersion: 123456789012345678n,
        hosts: ["127.0.0.1"],
        nested: { bytes: new Uint8Array([0, 1, 255]), nothing: null, flag: true },
      },
    },
    response: { payload: { ok: true, epoch: -1n, list: [1, "two", 3.5] } },
  };
}

const BUILDERS: Record<number, (v: number) => Sample> = {
  [ApiKey.Produce]: produce,
  [ApiKey.Fetch]: fetch,
  [ApiKey.ListOffsets]: listOffsets,
  [ApiKey.Metadata]: metadata,
  [ApiKey.OffsetCommit]: offsetCommit,
  [ApiKey.OffsetFetch]: offsetFetch,
  [ApiKey.FindCoordinator]: findCoordinator,
  [ApiKey.JoinGroup]: joinGroup,
  [ApiKey.Heartbeat]: heartbeat,
  [ApiKey.LeaveGroup]: leaveGroup,
  [ApiKey.SyncGroup]: syncGroup,
  [ApiKey.DescribeGroups]: describeGroups,
  [ApiKey.ListGroups]: listGroups,
  [ApiKey.ApiVersions]: apiVersions,
  [ApiKey.CreateTopics]: createTopics,
  [ApiKey.DeleteTopics]: deleteTopics,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch,
  [ApiKey.InitProducerId]: initProducerId,
  [ApiKey.AddPartitionsToTxn]: addPartitionsToTxn,
  [ApiKey.AddOffsetsToTxn]: addOffsetsToTxn,
  [ApiKey.EndTxn]: endTxn,
  [ApiKey.WriteTxnMarkers]: writeTxnMarkers,
  [ApiKey.TxnOffsetCommit]: txnOffsetCommit,
  [ApiKey.DescribeConfigs]: describeConfigs,
  [ApiKey.CreatePartitions]: createPartitions,
  [ApiKey.AlterConfigs]: alterConfigs,
  [ApiKey.DeleteGroups]: deleteGroups,
  [ApiKey.IncrementalAlterConfigs]: incrementalAlterConfigs,
};

/** Samples for every implemented API key and every version we support. */
export function allSamples(): Sample[] {
  const out: Sample[] = [];
  for (const [apiKey, range] of SUPPORTED_VERSIONS) {
    for (let v = range.min; v <= range.max; v++) {
      const build = BUILDERS[apiKey];
      out.push(
        build ? build(v) : internal(apiKey as 1000 | 1001 | 1002 | 1003 | 1004 | 1010 | 1100),
      );
    }
  }
  return out;
}
