/**
 * ListOffsets: earliest (−2), latest (−1, the high watermark) or the first
 * offset at or after a timestamp, per partition.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import {
  decodeRecords,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  readBatchHeader,
} from "@kafka-analog/lib/protocol";
import type { PartitionLog } from "../log/partition_log.ts";
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
          // read_committed (isolation level 1): the latest offset is the last stable offset.
          if (p.timestamp === LATEST_TIMESTAMP) {
            offset = request.isolationLevel === 1 ? hosted.replica.lastStableOffset() : hw;
          } else if (p.timestamp === EARLIEST_TIMESTAMP) offset = hosted.log.logStartOffset;
          else {
            const found = firstAtOrAfter(hosted.log, Number(p.timestamp));
            const visibleEnd = request.isolationLevel === 1
              ? hosted.replica.lastStableOffset()
              : hw;
            if (found !== null && found.offset < visibleEnd) {
              offset = found.offset;
              timestamp = BigInt(found.timestamp);
            } else {
              offset = -1n;
            }
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

/**
 * The first record whose timestamp is ≥ `target`: the log finds the batch,
 * then the batch's records are read. A batch whose records cannot be read
 * here (compressed) answers with its base offset and max timestamp.
 */
function firstAtOrAfter(
  log: PartitionLog,
  target: number,
): { offset: bigint; timestamp: number } | null {
  const base = log.offsetForTimestamp(target);
  if (base === null) return null;
  const [batch] = log.read(base, 1).batches;
  try {
    const record = decodeRecords(batch).find((r) => r.timestamp >= target);
    if (record) return { offset: record.offset, timestamp: record.timestamp };
  } catch (err) {
    if (!isKaError(err)) throw err;
  }
  return { offset: base, timestamp: readBatchHeader(batch).maxTimestamp };
}
