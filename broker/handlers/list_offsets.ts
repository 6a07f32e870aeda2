/**
 * ListOffsets: earliest (−2), latest (−1, the high watermark) or the first
 * offset at or after a timestamp, per partition.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import type { ListOffsetsRequest, ListOffsetsResponse } from "@kafka-analog/lib/protocol";
import type { Broker } from "../broker.ts";

/** Kafka's special timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;

/** Handles a ListOffsets request. */
export function handleListOffsets(
  broker: Broker,
  request: ListOffsetsRequest,
): ListOffsetsResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        try {
          const hosted = broker.leaderPartition(t.name, p.partitionIndex);
          const hw = broker.highWatermark(hosted);
          let offset: bigint;
          let timestamp = -1n;
          if (p.timestamp === LATEST_TIMESTAMP) offset = hw;
          else if (p.timestamp === EARLIEST_TIMESTAMP) offset = hosted.log.logStartOffset;
          else {
            const found = hosted.log.offsetForTimestamp(Number(p.timestamp));
            offset = found === null || found >= hw ? -1n : found;
            if (offset >= 0n) timestamp = p.timestamp;
          }
          return {
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            timestamp,
            offset,
            leaderEpoch: hosted.state.leaderEpoch,
          };
        } catch (err) {
          if (!isKaError(err)) throw err;
          return {
            partitionIndex: p.partitionIndex,
            errorCode: err.code,
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
        }
      }),
    })),
  };
}
