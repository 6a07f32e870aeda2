/**
 * API keys (Kafka's numbers, plus our own ≥ 1000 for calls inside the
 * cluster) and the version range this implementation speaks for each API.
 * Every version listed here is a classic (non-flexible) layout except those
 * from {@linkcode FLEXIBLE_VERSION_MIN} on (today ApiVersions v3, which
 * librdkafka sends first, and IncrementalAlterConfigs v1): flexible requests use request header v2 and
 * compact encodings with tagged fields (KIP-482).
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
  AlterConfigs: 33,
  CreatePartitions: 37,
  DeleteGroups: 42,
  IncrementalAlterConfigs: 44,
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
  [ApiKey.ApiVersions, { min: 0, max: 3 }],
  [ApiKey.CreateTopics, { min: 2, max: 4 }],
  [ApiKey.DeleteTopics, { min: 1, max: 3 }],
  [ApiKey.InitProducerId, { min: 0, max: 1 }],
  [ApiKey.OffsetForLeaderEpoch, { min: 2, max: 3 }],
  [ApiKey.AddPartitionsToTxn, { min: 0, max: 2 }],
  [ApiKey.AddOffsetsToTxn, { min: 0, max: 2 }],
  [ApiKey.EndTxn, { min: 0, max: 2 }],
  [ApiKey.WriteTxnMarkers, { min: 0, max: 0 }],
  [ApiKey.TxnOffsetCommit, { min: 0, max: 2 }],
  [ApiKey.DescribeConfigs, { min: 0, max: 3 }],
  [ApiKey.AlterConfigs, { min: 0, max: 1 }],
  [ApiKey.CreatePartitions, { min: 0, max: 1 }],
  [ApiKey.DeleteGroups, { min: 0, max: 1 }],
  [ApiKey.IncrementalAlterConfigs, { min: 0, max: 1 }],
  [ApiKey.BrokerRegistration, { min: 0, max: 0 }],
  [ApiKey.BrokerHeartbeat, { min: 0, max: 0 }],
  [ApiKey.UpdateMetadata, { min: 0, max: 0 }],
  [ApiKey.ClusterMetadata, { min: 0, max: 0 }],
  [ApiKey.AlterPartition, { min: 0, max: 0 }],
  [ApiKey.SchemaRegistry, { min: 0, max: 0 }],
  [ApiKey.ConsoleCommand, { min: 0, max: 0 }],
]);

/**
 * First flexible version of each API we implement a flexible version of
 * (Kafka's `flexibleVersions`). A flexible request has request header v2
 * (header v1 plus tagged fields) and its response header v1 (correlation id
 * plus tagged fields) — except ApiVersions, whose response header is always
 * v0 so that a client can read it whatever version the broker speaks.
 */
export const FLEXIBLE_VERSION_MIN: ReadonlyMap<number, number> = new Map<number, number>([
  [ApiKey.ApiVersions, 3],
  [ApiKey.IncrementalAlterConfigs, 1],
]);

/** True when version `version` of API `key` is flexible (compact encodings, tagged fields). */
export function isFlexibleVersion(key: number, version: number): boolean {
  const min = FLEXIBLE_VERSION_MIN.get(key);
  return min !== undefined && version >= min;
}

/** Request header version for a request: 2 when flexible, else 1. */
export function requestHeaderVersion(key: number, version: number): 1 | 2 {
  return isFlexibleVersion(key, version) ? 2 : 1;
}

/** Response header version for a response: 1 when flexible (never for ApiVersions), else 0. */
export function responseHeaderVersion(key: number, version: number): 0 | 1 {
  return key !== ApiKey.ApiVersions && isFlexibleVersion(key, version) ? 1 : 0;
}

/** True when we implement version `version` of API `key`. */
export function isSupportedVersion(key: number, version: number): boolean {
  const range = SUPPORTED_VERSIONS.get(key);
  return range !== undefined && version >= range.min && version <= range.max;
}

for (const [key, range] of SUPPORTED_VERSIONS) {
  assert(NAMES.has(key), `supported API key ${key} must have a name`);
  assert(0 <= range.min && range.min <= range.max, `bad version range for API ${key}`);
}
