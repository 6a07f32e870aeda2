/**
 * The cluster's metadata as the coordinator owns it and brokers cache it, and
 * the JSON payloads of our internal APIs (keys ≥ 1000) that carry it. The
 * framing and API keys are Kafka's (see `lib/protocol`); these payloads are
 * decoded from untrusted JSON, so every reader validates.
 * @module
 */
import { KaError } from "./errors.ts";
import { ApiKey } from "./protocol/api_keys.ts";

/**
 * Kafka APIs whose state the coordinator process owns (topics and their
 * configs, groups, offsets, producer ids, transactions, schemas). Kafka
 * clients send them to a broker; the broker forwards them unchanged and the
 * coordinator answers.
 */
export const COORDINATOR_OWNED_API_KEYS: readonly number[] = Object.freeze([
  ApiKey.CreateTopics,
  ApiKey.DeleteTopics,
  ApiKey.CreatePartitions,
  ApiKey.DescribeConfigs,
  ApiKey.AlterConfigs,
  ApiKey.IncrementalAlterConfigs,
  ApiKey.JoinGroup,
  ApiKey.SyncGroup,
  ApiKey.Heartbeat,
  ApiKey.LeaveGroup,
  ApiKey.OffsetCommit,
  ApiKey.OffsetFetch,
  ApiKey.DescribeGroups,
  ApiKey.ListGroups,
  ApiKey.DeleteGroups,
  ApiKey.InitProducerId,
  ApiKey.AddPartitionsToTxn,
  ApiKey.AddOffsetsToTxn,
  ApiKey.EndTxn,
  ApiKey.TxnOffsetCommit,
  ApiKey.SchemaRegistry,
]);

/** A broker's address. */
export interface BrokerEndpoint {
  id: number;
  host: string;
  port: number;
}

/** One partition's placement and leadership. leader −1 means no live leader. */
export interface PartitionState {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /**
   * While a reassignment runs: the replica set it moves to. `replicas` then
   * holds the old and new replicas together until the new ones are in sync.
   */
  targetReplicas?: number[];
}

/** One topic. */
export interface TopicState {
  name: string;
  partitions: PartitionState[];
  configs: Record<string, string>;
}

/** Everything a broker needs to serve: the live brokers and every topic, at `version`. */
export interface ClusterSnapshot {
  clusterId: string;
  version: number;
  controllerId: number;
  brokers: BrokerEndpoint[];
  topics: TopicState[];
}

/** BrokerRegistration (1000) request payload. */
export interface RegisterRequest {
  brokerId: number;
  host: string;
  port: number;
  /** Changes every process start, so the coordinator can tell a restart from a retry. */
  incarnation: string;
}

/** BrokerHeartbeat (1001) request payload. */
export interface HeartbeatRequest {
  brokerId: number;
  incarnation: string;
  metadataVersion: number;
}

/** BrokerRegistration / BrokerHeartbeat response payload; snapshot only when the broker is behind. */
export interface HeartbeatResponse {
  errorCode: number;
  metadataVersion: number;
  snapshot: ClusterSnapshot | null;
}

/** UpdateMetadata (1002) request payload: the coordinator pushes a snapshot. */
export interface UpdateMetadataRequest {
  snapshot: ClusterSnapshot;
}

/** Reads a JSON payload field by field, throwing INVALID_REQUEST naming the bad field. */
class Fields {
  constructor(readonly value: Record<string, unknown>, readonly path: string) {}

  static of(value: unknown, path: string): Fields {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw bad(path, "must be an object");
    }
    return new Fields(value as Record<string, unknown>, path);
  }

  int(name: string): number {
    const v = this.value[name];
    if (!Number.isInteger(v)) throw bad(`${this.path}.${name}`, "must be an integer");
    return v as number;
  }

  str(name: string): string {
    const v = this.value[name];
    if (typeof v !== "string") throw bad(`${this.path}.${name}`, "must be a string");
    return v;
  }

  ints(name: string): number[] {
    const v = this.value[name];
    if (!Array.isArray(v) || !v.every(Number.isInteger)) {
      throw bad(`${this.path}.${name}`, "must be an array of integers");
    }
    return v as number[];
  }

  list<T>(name: string, read: (f: Fields) => T): T[] {
    const v = this.value[name];
    if (!Array.isArray(v)) throw bad(`${this.path}.${name}`, "must be an array");
    return v.map((item, i) => read(Fields.of(item, `${this.path}.${name}[${i}]`)));
  }

  strMap(name: string): Record<string, string> {
    const f = Fields.of(this.value[name], `${this.path}.${name}`);
    const out: Record<string, string> = {};
    for (const key of Object.keys(f.value)) out[key] = f.str(key);
    return out;
  }
}

function bad(path: string, what: string): KaError {
  return KaError.of("INVALID_REQUEST", `Invalid payload field '${path}': ${what}`);
}

/** Validates a snapshot received as JSON. */
export function readSnapshot(value: unknown, path = "snapshot"): ClusterSnapshot {
  const f = Fields.of(value, path);
  return {
    clusterId: f.str("clusterId"),
    version: f.int("version"),
    controllerId: f.int("controllerId"),
    brokers: f.list(
      "brokers",
      (b) => ({ id: b.int("id"), host: b.str("host"), port: b.int("port") }),
    ),
    topics: f.list("topics", (t) => {
      const partitions = t.list("partitions", (p): PartitionState => ({
        partition: p.int("partition"),
        leader: p.int("leader"),
        leaderEpoch: p.int("leaderEpoch"),
        replicas: p.ints("replicas"),
        isr: p.ints("isr"),
        ...(p.value.targetReplicas === undefined
          ? {}
          : { targetReplicas: p.ints("targetReplicas") }),
      }));
      // Brokers find partition N at index N.
      partitions.forEach((p, i) => {
        if (p.partition !== i) throw bad(`${t.path}.partitions[${i}].partition`, `must be ${i}`);
      });
      return { name: t.str("name"), configs: t.strMap("configs"), partitions };
    }),
  };
}

/** Validates a BrokerRegistration payload. */
export function readRegisterRequest(value: unknown): RegisterRequest {
  const f = Fields.of(value, "payload");
  return {
    brokerId: f.int("brokerId"),
    host: f.str("host"),
    port: f.int("port"),
    incarnation: f.str("incarnation"),
  };
}

/** Validates a BrokerHeartbeat payload. */
export function readHeartbeatRequest(value: unknown): HeartbeatRequest {
  const f = Fields.of(value, "payload");
  return {
    brokerId: f.int("brokerId"),
    incarnation: f.str("incarnation"),
    metadataVersion: f.int("metadataVersion"),
  };
}

/** Validates a registration/heartbeat response payload. */
export function readHeartbeatResponse(value: unknown): HeartbeatResponse {
  const f = Fields.of(value, "payload");
  const raw = f.value.snapshot;
  return {
    errorCode: f.int("errorCode"),
    metadataVersion: f.int("metadataVersion"),
    snapshot: raw === null || raw === undefined ? null : readSnapshot(raw, "payload.snapshot"),
  };
}

/** AlterPartition (1004) request payload: the ISR a leader wants. */
export interface AlterPartitionRequest {
  brokerId: number;
  topic: string;
  partition: number;
  leaderEpoch: number;
  isr: number[];
}

/** Validates an AlterPartition payload. */
export function readAlterPartitionRequest(value: unknown): AlterPartitionRequest {
  const f = Fields.of(value, "payload");
  return {
    brokerId: f.int("brokerId"),
    topic: f.str("topic"),
    partition: f.int("partition"),
    leaderEpoch: f.int("leaderEpoch"),
    isr: f.ints("isr"),
  };
}

/** Validates an UpdateMetadata payload. */
export function readUpdateMetadataRequest(value: unknown): UpdateMetadataRequest {
  const f = Fields.of(value, "payload");
  return { snapshot: readSnapshot(f.value.snapshot, "payload.snapshot") };
}

/** Reads `{errorCode}` (and an optional message) from a generic internal response payload. */
export function readErrorPayload(value: unknown): { errorCode: number; message: string | null } {
  const f = Fields.of(value, "payload");
  const message = f.value.message;
  return { errorCode: f.int("errorCode"), message: typeof message === "string" ? message : null };
}

/** A topic name Kafka would accept: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): void {
  if (
    name.length === 0 || name.length > 249 || name === "." || name === ".." ||
    !/^[a-zA-Z0-9._-]+$/.test(name)
  ) {
    throw KaError.of(
      "INVALID_TOPIC_EXCEPTION",
      `Invalid topic name '${name}': use 1..249 characters of a-z, A-Z, 0-9, '.', '_' or '-'`,
    );
  }
}
