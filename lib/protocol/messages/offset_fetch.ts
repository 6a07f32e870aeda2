/**
 * OffsetFetch (API key 9), versions 1–5: the offsets a consumer group has
 * committed, read from the group coordinator.
 *
 * ```
 * OffsetFetchRequest (v1-5) =>
 *   groupId string
 *   topics [name string, partitionIndexes [int32]]  (nullable in v2+: null = all topics)
 * OffsetFetchResponse (v1-5) =>
 *   throttleTimeMs int32 (v3+)
 *   topics [name string, partitions [
 *     partitionIndex int32, committedOffset int64,
 *     committedLeaderEpoch int32 (v5+), metadata nullable string, errorCode int16]]
 *   errorCode int16 (v2+)
 * ```
 * Layout from Kafka's OffsetFetchRequest.json / OffsetFetchResponse.json. v0
 * (offsets in ZooKeeper) is left out, as the response file starts at v1;
 * v6+ are flexible. A partition without a committed offset answers
 * committedOffset -1 with errorCode 0.
 * @module
 */
import { KaError } from "../../errors.ts";
import type { Reader, Writer } from "../codec.ts";

/** One topic whose offsets are asked for. */
export interface OffsetFetchRequestTopic {
  name: string;
  partitionIndexes: number[];
}

/** OffsetFetch request body. */
export interface OffsetFetchRequest {
  groupId: string;
  /** null (v2+ only) fetches every topic the group has offsets for. */
  topics: OffsetFetchRequestTopic[] | null;
}

/** One partition's committed offset. */
export interface OffsetFetchResponsePartition {
  partitionIndex: number;
  /** -1 when nothing is committed. */
  committedOffset: bigint;
  /** v5+; decoded as -1 for older versions. */
  committedLeaderEpoch?: number;
  metadata: string | null;
  errorCode: number;
}

/** One topic's committed offsets. */
export interface OffsetFetchResponseTopic {
  name: string;
  partitions: OffsetFetchResponsePartition[];
}

/** OffsetFetch response body. */
export interface OffsetFetchResponse {
  /** v3+; decoded as 0 for older versions. */
  throttleTimeMs?: number;
  topics: OffsetFetchResponseTopic[];
  /** v2+ (group-level error); decoded as 0 for v1. */
  errorCode?: number;
}

/** Writes an OffsetFetchRequest body; null topics need v2+ (UNSUPPORTED_VERSION otherwise). */
export function encodeOffsetFetchRequest(
  w: Writer,
  version: number,
  body: OffsetFetchRequest,
): void {
  if (body.topics === null && version < 2) {
    throw KaError.of(
      "UNSUPPORTED_VERSION",
      `Cannot encode OffsetFetch v${version} request as 'topics' must not be null before v2`,
    );
  }
  w.string(body.groupId);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.int32Array(t.partitionIndexes);
  });
}

/** Reads an OffsetFetchRequest body. */
export function decodeOffsetFetchRequest(r: Reader, version: number): OffsetFetchRequest {
  const groupId = r.string();
  const at = r.offset;
  const topics = r.nullableArray((r) => ({ name: r.string(), partitionIndexes: r.int32Array() }));
  if (topics === null && version < 2) {
    throw r.error(`Cannot read topics at offset ${at}: null is only allowed from v2`);
  }
  return { groupId, topics };
}

/** Writes an OffsetFetchResponse body. */
export function encodeOffsetFetchResponse(
  w: Writer,
  version: number,
  body: OffsetFetchResponse,
): void {
  if (version >= 3) w.int32(body.throttleTimeMs ?? 0);
  w.array(body.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partitionIndex);
      w.int64(p.committedOffset);
      if (version >= 5) w.int32(p.committedLeaderEpoch ?? -1);
      w.nullableString(p.metadata);
      w.int16(p.errorCode);
    });
  });
  if (version >= 2) w.int16(body.errorCode ?? 0);
}

/** Reads an OffsetFetchResponse body. */
export function decodeOffsetFetchResponse(r: Reader, version: number): OffsetFetchResponse {
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): OffsetFetchResponsePartition => {
      const partitionIndex = r.int32();
      const committedOffset = r.int64();
      const committedLeaderEpoch = version >= 5 ? r.int32() : -1;
      const metadata = r.nullableString();
      return {
        partitionIndex,
        committedOffset,
        committedLeaderEpoch,
        metadata,
        errorCode: r.int16(),
      };
    }),
  }));
  const errorCode = version >= 2 ? r.int16() : 0;
  return { throttleTimeMs, topics, errorCode };
}
