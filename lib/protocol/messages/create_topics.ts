/**
 * CreateTopics (API key 19), versions 2–4: create topics with a partition
 * count and replication factor, or an explicit replica assignment.
 *
 * ```
 * CreateTopicsRequest (v2-4) =>
 *   topics [name string, numPartitions int32, replicationFactor int16,
 *           assignments [partitionIndex int32, brokerIds [int32]],
 *           configs [name string, value nullable string]]
 *   timeoutMs int32
 *   validateOnly bool
 * CreateTopicsResponse (v2-4) =>
 *   throttleTimeMs int32
 *   topics [name string, errorCode int16, errorMessage nullable string]
 * ```
 * Layout from Kafka's CreateTopicsRequest.json / CreateTopicsResponse.json.
 * `numPartitions` and `replicationFactor` are -1 when `assignments` is given.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** An explicit replica list for one partition. */
export interface CreatableReplicaAssignment {
  partitionIndex: number;
  brokerIds: number[];
}

/** A topic config to set at creation. */
export interface CreatableTopicConfig {
  name: string;
  value: string | null;
}

/** A topic to create. */
export interface CreatableTopic {
  name: string;
  /** -1 to use the default or `assignments`. */
  numPartitions: number;
  /** -1 to use the default or `assignments`. */
  replicationFactor: number;
  assignments: CreatableReplicaAssignment[];
  configs: CreatableTopicConfig[];
}

/** CreateTopics request body. */
export interface CreateTopicsRequest {
  topics: CreatableTopic[];
  timeoutMs: number;
  /** Check the request without creating anything. */
  validateOnly: boolean;
}

/** One topic's outcome. */
export interface CreatableTopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/** CreateTopics response body. */
export interface CreateTopicsResponse {
  throttleTimeMs: number;
  topics: CreatableTopicResult[];
}

/** Writes a CreateTopicsRequest body. */
export function encodeCreateTopicsRequest(
  w: Writer,
  _version: number,
  body: CreateTopicsRequest,
): void {
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.int32(t.numPartitions);
    w.int16(t.replicationFactor);
    w.array(t.assignments, (w, a) => {
      w.int32(a.partitionIndex);
      w.int32Array(a.brokerIds);
    });
    w.array(t.configs, (w, c) => {
      w.string(c.name);
      w.nullableString(c.value);
    });
  });
  w.int32(body.timeoutMs);
  w.bool(body.validateOnly);
}

/** Reads a CreateTopicsRequest body. */
export function decodeCreateTopicsRequest(r: Reader, _version: number): CreateTopicsRequest {
  return {
    topics: r.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((r) => ({ partitionIndex: r.int32(), brokerIds: r.int32Array() })),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    })),
    timeoutMs: r.int32(),
    validateOnly: r.bool(),
  };
}

/** Writes a CreateTopicsResponse body. */
export function encodeCreateTopicsResponse(
  w: Writer,
  _version: number,
  body: CreateTopicsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.int16(t.errorCode);
    w.nullableString(t.errorMessage);
  });
}

/** Reads a CreateTopicsResponse body. */
export function decodeCreateTopicsResponse(r: Reader, _version: number): CreateTopicsResponse {
  return {
    throttleTimeMs: r.int32(),
    topics: r.array((r) => ({
      name: r.string(),
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
    })),
  };
}
