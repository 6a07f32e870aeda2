/**
 * CreatePartitions (API key 37), versions 0–1: raise a topic's partition
 * count (partitions are never removed). v1 only changes how brokers
 * throttle, so both versions share one layout.
 *
 * ```
 * CreatePartitionsRequest (v0-1) =>
 *   topics [name string, count int32,
 *           assignments nullable [brokerIds [int32]]]   null = let the cluster place them
 *   timeoutMs int32
 *   validateOnly bool
 * CreatePartitionsResponse (v0-1) =>
 *   throttleTimeMs int32
 *   results [name string, errorCode int16, errorMessage nullable string]
 * ```
 * Layout from Kafka's CreatePartitionsRequest.json / CreatePartitionsResponse.json
 * (v2 is the first flexible version).
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** Replicas of one new partition, when the client places them itself. */
export interface CreatePartitionsAssignment {
  brokerIds: number[];
}

/** A topic to grow. */
export interface CreatePartitionsTopic {
  name: string;
  /** The new total partition count. */
  count: number;
  /** One entry per new partition, or null to let the cluster place them. */
  assignments: CreatePartitionsAssignment[] | null;
}

/** CreatePartitions request body. */
export interface CreatePartitionsRequest {
  topics: CreatePartitionsTopic[];
  timeoutMs: number;
  /** Check the request without adding anything. */
  validateOnly: boolean;
}

/** One topic's outcome. */
export interface CreatePartitionsTopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/** CreatePartitions response body. */
export interface CreatePartitionsResponse {
  throttleTimeMs: number;
  results: CreatePartitionsTopicResult[];
}

/** Writes a CreatePartitionsRequest body. */
export function encodeCreatePartitionsRequest(
  w: Writer,
  _version: number,
  body: CreatePartitionsRequest,
): void {
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.int32(t.count);
    w.array(t.assignments, (w, a) => w.int32Array(a.brokerIds));
  });
  w.int32(body.timeoutMs);
  w.bool(body.validateOnly);
}

/** Reads a CreatePartitionsRequest body. */
export function decodeCreatePartitionsRequest(
  r: Reader,
  _version: number,
): CreatePartitionsRequest {
  return {
    topics: r.array((r) => ({
      name: r.string(),
      count: r.int32(),
      assignments: r.nullableArray((r) => ({ brokerIds: r.int32Array() })),
    })),
    timeoutMs: r.int32(),
    validateOnly: r.bool(),
  };
}

/** Writes a CreatePartitionsResponse body. */
export function encodeCreatePartitionsResponse(
  w: Writer,
  _version: number,
  body: CreatePartitionsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.results, (w, t) => {
    w.string(t.name);
    w.int16(t.errorCode);
    w.nullableString(t.errorMessage);
  });
}

/** Reads a CreatePartitionsResponse body. */
export function decodeCreatePartitionsResponse(
  r: Reader,
  _version: number,
): CreatePartitionsResponse {
  return {
    throttleTimeMs: r.int32(),
    results: r.array((r) => ({
      name: r.string(),
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
    })),
  };
}
