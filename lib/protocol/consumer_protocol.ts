/**
 * Kafka's embedded "consumer" group protocol: the bytes a consumer puts in
 * JoinGroup `protocols[].metadata` (its subscription) and the bytes the group
 * leader sends in SyncGroup `assignments[].assignment` (each member's
 * partitions). The group coordinator treats both as opaque; consumers and
 * assignors read and write them with these codecs.
 *
 * ```
 * ConsumerProtocolSubscription (v0-2) =>
 *   version int16
 *   topics [string]
 *   userData nullable bytes
 *   ownedPartitions [topic string, partitions [int32]] (v1+)
 *   generationId int32 (v2+)
 * ConsumerProtocolAssignment (v0-2) =>
 *   version int16
 *   assignedPartitions [topic string, partitions [int32]]
 *   userData nullable bytes
 * ```
 * Layout from Kafka's ConsumerProtocolSubscription.json /
 * ConsumerProtocolAssignment.json (apache/kafka commit 36ad0635 and
 * 3bb84688, `clients/src/main/resources/common/message/`); classic encoding,
 * no tagged fields. Assignment v1 and v2 have the same layout as v0 (they were
 * bumped along with the subscription).
 *
 * As in Kafka, a decoder reads a version newer than it knows with the newest
 * layout it knows and ignores the bytes after it, because newer versions only
 * append fields (Kafka 3.5+ subscriptions are v3, which adds a rack id). A
 * negative version, or input cut short, throws KaError INVALID_REQUEST.
 * Encoders write only versions listed here (UNSUPPORTED_VERSION otherwise).
 * @module
 */
import { KaError } from "../errors.ts";
import { Reader, Writer } from "./codec.ts";

/** The protocol type consumer groups use in JoinGroup `protocolType`. */
export const CONSUMER_PROTOCOL_TYPE = "consumer";
/** Newest ConsumerProtocolSubscription version we encode (and the layout newer ones decode with). */
export const CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX = 2;
/** Newest ConsumerProtocolAssignment version we encode (and the layout newer ones decode with). */
export const CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX = 2;

/** Partitions of one topic (Kafka's nested `TopicPartition` struct of both messages). */
export interface ConsumerProtocolTopicPartition {
  topic: string;
  partitions: number[];
}

/** What a consumer subscribes to, sent as JoinGroup protocol metadata. */
export interface ConsumerProtocolSubscription {
  /** Layout version (int16 on the wire); the version read when decoded. */
  version: number;
  topics: string[];
  /** Assignor-specific data (e.g. sticky's previous assignment); null for none. */
  userData: Uint8Array | null;
  /** v1+; the partitions the member owns now (cooperative rebalancing); decoded as [] for v0. */
  ownedPartitions?: ConsumerProtocolTopicPartition[];
  /** v2+; the generation `ownedPartitions` belong to; decoded as -1 for older versions. */
  generationId?: number;
}

/** One member's partitions, sent by the leader in SyncGroup and returned to the member. */
export interface ConsumerProtocolAssignment {
  /** Layout version (int16 on the wire); the version read when decoded. */
  version: number;
  assignedPartitions: ConsumerProtocolTopicPartition[];
  /** Assignor-specific data; null for none. */
  userData: Uint8Array | null;
}

function checkEncodable(what: string, version: number, max: number): void {
  if (!Number.isInteger(version) || version < 0 || version > max) {
    throw KaError.of(
      "UNSUPPORTED_VERSION",
      `Cannot encode ${what} v${version} as the version must be 0-${max}`,
    );
  }
}

function readVersion(r: Reader, what: string): number {
  const version = r.int16();
  if (version < 0) throw r.error(`Cannot read ${what}: bad version ${version}`);
  return version;
}

function writeTopicPartitions(w: Writer, items: readonly ConsumerProtocolTopicPartition[]): void {
  w.array(items, (w, tp) => {
    w.string(tp.topic);
    w.int32Array(tp.partitions);
  });
}

function readTopicPartitions(r: Reader): ConsumerProtocolTopicPartition[] {
  return r.array((r) => ({ topic: r.string(), partitions: r.int32Array() }));
}

/** Encodes a subscription (version prefix included) as JoinGroup protocol metadata. */
export function encodeConsumerProtocolSubscription(
  subscription: ConsumerProtocolSubscription,
): Uint8Array {
  const { version } = subscription;
  checkEncodable(
    "ConsumerProtocolSubscription",
    version,
    CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX,
  );
  const w = new Writer(64);
  w.int16(version);
  w.array(subscription.topics, (w, t) => w.string(t));
  w.nullableBytes(subscription.userData);
  if (version >= 1) writeTopicPartitions(w, subscription.ownedPartitions ?? []);
  if (version >= 2) w.int32(subscription.generationId ?? -1);
  return w.finish().slice();
}

/**
 * Decodes JoinGroup protocol metadata written by a consumer. Versions above
 * {@linkcode CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX} are read with that
 * layout; `version` keeps the number read. Byte fields are copies.
 */
export function decodeConsumerProtocolSubscription(
  bytes: Uint8Array,
): ConsumerProtocolSubscription {
  const r = new Reader(bytes, 0, "INVALID_REQUEST");
  const version = readVersion(r, "ConsumerProtocolSubscription");
  const topics = r.array((r) => r.string());
  const userData = r.nullableBytes()?.slice() ?? null;
  const ownedPartitions = version >= 1 ? readTopicPartitions(r) : [];
  const generationId = version >= 2 ? r.int32() : -1;
  return { version, topics, userData, ownedPartitions, generationId };
}

/** Encodes an assignment (version prefix included) for SyncGroup. */
export function encodeConsumerProtocolAssignment(
  assignment: ConsumerProtocolAssignment,
): Uint8Array {
  const { version } = assignment;
  checkEncodable("ConsumerProtocolAssignment", version, CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX);
  const w = new Writer(64);
  w.int16(version);
  writeTopicPartitions(w, assignment.assignedPartitions);
  w.nullableBytes(assignment.userData);
  return w.finish().slice();
}

/**
 * Decodes a SyncGroup assignment written by a consumer group leader. Every
 * version has the same layout; bytes after it are ignored. Byte fields are
 * copies. (An empty SyncGroup assignment, as sent with an error, is not a
 * valid assignment: check the response's errorCode first.)
 */
export function decodeConsumerProtocolAssignment(bytes: Uint8Array): ConsumerProtocolAssignment {
  const r = new Reader(bytes, 0, "INVALID_REQUEST");
  const version = readVersion(r, "ConsumerProtocolAssignment");
  const assignedPartitions = readTopicPartitions(r);
  const userData = r.nullableBytes()?.slice() ?? null;
  return { version, assignedPartitions, userData };
}
