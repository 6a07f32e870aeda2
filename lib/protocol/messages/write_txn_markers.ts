/**
 * WriteTxnMarkers (API key 27), version 0: the transaction coordinator asks a
 * partition leader to append a COMMIT or ABORT control batch (see
 * `control_record.ts`) for a producer to each listed partition, ending that
 * producer's transaction there. Sent broker to broker, never by clients.
 *
 * ```
 * WriteTxnMarkersRequest (v0) =>
 *   markers [
 *     producerId int64
 *     producerEpoch int16
 *     transactionResult bool          false = ABORT, true = COMMIT
 *     topics [name string, partitionIndexes [int32]]
 *     coordinatorEpoch int32]
 * WriteTxnMarkersResponse (v0) =>
 *   markers [producerId int64,
 *     topics [name string, partitions [partitionIndex int32, errorCode int16]]]
 * ```
 * Layout from Kafka's WriteTxnMarkersRequest.json / WriteTxnMarkersResponse.json:
 * every field there is marked `0+` except `transactionVersion` (v2+), so v0
 * is fully defined. v1+ are flexible and not spoken here. Kafka 4.0 dropped
 * v0 from the request's validVersions (the response still lists it); we keep
 * it because only our own coordinator sends this API to our own brokers.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** One topic's partitions to write a marker to. */
export interface WritableTxnMarkerTopic {
  name: string;
  partitionIndexes: number[];
}

/** One producer's transaction outcome to write. */
export interface WritableTxnMarker {
  producerId: bigint;
  producerEpoch: number;
  /** false = ABORT, true = COMMIT. */
  transactionResult: boolean;
  topics: WritableTxnMarkerTopic[];
  /** Epoch of the transaction state partition on the coordinator that sends this. */
  coordinatorEpoch: number;
}

/** WriteTxnMarkers request body. */
export interface WriteTxnMarkersRequest {
  markers: WritableTxnMarker[];
}

/** One partition's outcome. */
export interface WritableTxnMarkerPartitionResult {
  partitionIndex: number;
  errorCode: number;
}

/** One topic's outcomes. */
export interface WritableTxnMarkerTopicResult {
  name: string;
  partitions: WritableTxnMarkerPartitionResult[];
}

/** One producer's outcomes. */
export interface WritableTxnMarkerResult {
  producerId: bigint;
  topics: WritableTxnMarkerTopicResult[];
}

/** WriteTxnMarkers response body. */
export interface WriteTxnMarkersResponse {
  markers: WritableTxnMarkerResult[];
}

/** Writes a WriteTxnMarkersRequest body. */
export function encodeWriteTxnMarkersRequest(
  w: Writer,
  _version: number,
  body: WriteTxnMarkersRequest,
): void {
  w.array(body.markers, (w, m) => {
    w.int64(m.producerId);
    w.int16(m.producerEpoch);
    w.bool(m.transactionResult);
    w.array(m.topics, (w, t) => {
      w.string(t.name);
      w.int32Array(t.partitionIndexes);
    });
    w.int32(m.coordinatorEpoch);
  });
}

/** Reads a WriteTxnMarkersRequest body. */
export function decodeWriteTxnMarkersRequest(r: Reader, _version: number): WriteTxnMarkersRequest {
  return {
    markers: r.array((r) => ({
      producerId: r.int64(),
      producerEpoch: r.int16(),
      transactionResult: r.bool(),
      topics: r.array((r) => ({ name: r.string(), partitionIndexes: r.int32Array() })),
      coordinatorEpoch: r.int32(),
    })),
  };
}

/** Writes a WriteTxnMarkersResponse body. */
export function encodeWriteTxnMarkersResponse(
  w: Writer,
  _version: number,
  body: WriteTxnMarkersResponse,
): void {
  w.array(body.markers, (w, m) => {
    w.int64(m.producerId);
    w.array(m.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => {
        w.int32(p.partitionIndex);
        w.int16(p.errorCode);
      });
    });
  });
}

/** Reads a WriteTxnMarkersResponse body. */
export function decodeWriteTxnMarkersResponse(
  r: Reader,
  _version: number,
): WriteTxnMarkersResponse {
  return {
    markers: r.array((r) => ({
      producerId: r.int64(),
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({ partitionIndex: r.int32(), errorCode: r.int16() })),
      })),
    })),
  };
}
