/**
 * API keys (Kafka's numbers, plus our own ≥ 1000 for calls inside the
 * cluster) and the version range this implementation speaks for each API.
 * Every version listed here is a classic (non-flexible) layout.
 * @module
 */
import { assert } from "../assert.ts";

/** Every API key we know by name. Keys ≥ 1000 are internal to the cluster. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  WriteTxnMarkers: 27,
  TxnOffsetCommit: 28,
  DescribeConfigs: 32,
  CreatePartitions: 37,
  // Ours, internal to the cluster:
  BrokerRegistration: 1000,
  BrokerHeartbeat: 1001,
  UpdateMetadata: 1002,
  ClusterMetadata: 1003,
  AlterPartition: 1004,
  SchemaRegistry: 1010,
  ConsoleCommand: 1100,
} as const;

/** Name of an API in {@linkcode ApiKey}. */
export type ApiName = keyof typeof ApiKey;
/** A key in {@linkcode ApiKey}. */
export type ApiKeyValue = (typeof ApiKey)[ApiName];

/** First API key that is ours rather than Kafka's. */
export const INTERNAL_API_KEY_MIN = 1000;

const NAMES: ReadonlyMap<number, ApiName> = new Map(
  (Object.entries(ApiKey) as [ApiName, number][]).map(([name, key]) => [key, name]),
);

/** The name of API `key` (e.g. "Produce"), or `Unknown(key)`. */
export function apiName(key: number): string {
  return NAMES.get(key) ?? `Unknown(${key})`;
}

/** An inclusive range of API versions. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** The versions we implement now, by API key: what ApiVersions advertises. */
export const SUPPORTED_VERSIONS: ReadonlyMap<number, VersionRange> = new Map<
  number,
  VersionRange
>([
  [ApiKey.Produce, { min: 3, max: 8 }],
  [ApiKey.Fetch, { min: 4, max: 11 }],
  [ApiKey.ListOffsets, { min: 1, max: 5 }],
  [ApiKey.Metadata, { min: 1, max: 8 }],
  [ApiKey.OffsetCommit, { min: 2, max: 7 }],
  [ApiKey.OffsetFetch, { min: 1, max: 5 }],
  [ApiKey.FindCoordinator, { min: 0, max: 2 }],
  [ApiKey.JoinGroup, { min: 0, max: 5 }],
  [ApiKey.Heartbeat, { min: 0, max: 3 }],
  [ApiKey.LeaveGroup, { min: 0, max: 3 }],
  [ApiKey.SyncGroup, { min: 0, max: 3 }],
  [ApiKey.DescribeGroups, { min: 0, max: 4 }],
  [ApiKey.ListGroups, { min: 0, max: 2 }],
  [ApiKey.ApiVersions, { min: 0, max: 2 }],
  [ApiKey.CreateTopics, { min: 2, max: 4 }],
  [ApiKey.DeleteTopics, { min: 1, max: 3 }],
  [ApiKey.InitProducerId, { min: 0, max: 1 }],
  [ApiKey.OffsetForLeaderEpoch, { min: 2, max: 3 }],
  [ApiKey.AddPartitionsToTxn, { min: 0, max: 2 }],
  [ApiKey.AddOffsetsToTxn, { min: 0, max: 2 }],
  [ApiKey.EndTxn, { min: 0, max: 2 }],
  [ApiKey.WriteTxnMarkers, { min: 0, max: 0 }],
  [ApiKey.TxnOffsetCommit, { min: 0, max: 2 }],
  [ApiKey.BrokerRegistration, { min: 0, max: 0 }],
  [ApiKey.BrokerHeartbeat, { min: 0, max: 0 }],
  [ApiKey.UpdateMetadata, { min: 0, max: 0 }],
  [ApiKey.ClusterMetadata, { min: 0, max: 0 }],
  [ApiKey.AlterPartition, { min: 0, max: 0 }],
  [ApiKey.SchemaRegistry, { min: 0, max: 0 }],
  [ApiKey.ConsoleCommand, { min: 0, max: 0 }],
]);

/** True when we implement version `version` of API `key`. */
export function isSupportedVersion(key: number, version: number): boolean {
  const range = SUPPORTED_VERSIONS.get(key);
  return range !== undefined && version >= range.min && version <= range.max;
}

for (const [key, range] of SUPPORTED_VERSIONS) {
  assert(NAMES.has(key), `supported API key ${key} must have a name`);
  assert(0 <= range.min && range.min <= range.max, `bad version range for API ${key}`);
}
