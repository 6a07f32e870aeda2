/**
 * WriteTxnMarkers (from the transaction coordinator): append a COMMIT or
 * ABORT control batch to each partition of a transaction that this broker
 * leads, and answer once the markers are on every in-sync replica, so an
 * ended transaction cannot come back open after a failover.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import {
  encodeControlBatch,
  readBatchHeader,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from "@kafka-analog/lib/protocol";
import { type Broker, partitionKey } from "../broker.ts";

/** How long a marker waits for the ISR before the partition answers REQUEST_TIMED_OUT. */
const MARKER_REPLICATION_TIMEOUT_MS = 10_000;

/** Writes every marker of the request. */
export async function handleWriteTxnMarkers(
  broker: Broker,
  request: WriteTxnMarkersRequest,
): Promise<WriteTxnMarkersResponse> {
  const markers = await Promise.all(request.markers.map(async (marker) => ({
    producerId: marker.producerId,
    topics: await Promise.all(marker.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(t.partitionIndexes.map(async (partitionIndex) => {
        try {
          const hosted = broker.writablePartition(t.name, partitionIndex);
          const batch = encodeControlBatch({
            producerId: marker.producerId,
            producerEpoch: marker.producerEpoch,
            commit: marker.transactionResult,
            coordinatorEpoch: marker.coordinatorEpoch,
            timestamp: Math.floor(broker.now()),
          });
          const result = hosted.replica.appendAsLeader(batch, readBatchHeader(batch));
          // Older epochs of this producer can no longer write here (no zombie reopens a transaction).
          hosted.replica.producers.recordMarker(marker.producerId, marker.producerEpoch);
          broker.waiters.notify(partitionKey(t.name, partitionIndex));
          await hosted.replica.waitForHighWatermark(
            result.lastOffset + 1n,
            MARKER_REPLICATION_TIMEOUT_MS,
          );
          return { partitionIndex, errorCode: 0 };
        } catch (err) {
          if (!isKaError(err)) throw err;
          return { partitionIndex, errorCode: err.code };
        }
      })),
    }))),
  })));
  return { markers };
}
