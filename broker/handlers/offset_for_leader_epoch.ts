/**
 * OffsetForLeaderEpoch on the leader: where a given leader epoch ends in its
 * log, so a follower can cut a divergent tail.
 * @module
 */
import { isKaError } from "@kafka-analog/lib/errors";
import type {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from "@kafka-analog/lib/protocol";
import type { Broker } from "../broker.ts";
import { checkEpoch } from "./fetch.ts";

/** Answers each partition from the leader's epoch cache. */
export function handleOffsetForLeaderEpoch(
  broker: Broker,
  request: OffsetForLeaderEpochRequest,
): OffsetForLeaderEpochResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        try {
          const { replica, log, state } = broker.leaderPartition(t.topic, p.partition);
          checkEpoch(state.leaderEpoch, p.currentLeaderEpoch, `${t.topic}-${p.partition}`);
          const { leaderEpoch, endOffset } = replica.epochCache.endOffsetFor(
            p.leaderEpoch,
            log.logEndOffset,
          );
          return { errorCode: 0, partition: p.partition, leaderEpoch, endOffset };
        } catch (err) {
          if (!isKaError(err)) throw err;
          return { errorCode: err.code, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
        }
      }),
    })),
  };
}
