/**
 * Fetch: serve stored batch bytes from an offset, up to the partition's and
 * the request's byte limits, parking the request (long poll) until min bytes
 * arrive or max wait passes.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import type { FetchRequest, FetchResponse } from "@kafka-analog/lib/protocol";
import { FETCH_WAIT_MS_MAX, PENDING_FETCHES_MAX } from "@kafka-analog/lib/limits";
import { type Broker, partitionKey } from "../broker.ts";

type PartitionResult = FetchResponse["responses"][number]["partitions"][number];

/** Handles a Fetch request, waiting up to `maxWaitMs` for `minBytes`. */
export async function handleFetch(
  broker: Broker,
  request: FetchRequest,
  signal?: AbortSignal,
): Promise<FetchResponse> {
  const maxWaitMs = Math.min(Math.max(request.maxWaitMs, 0), FETCH_WAIT_MS_MAX);
  const deadline = broker.now() + maxWaitMs;
  const keys = request.topics.flatMap((t) =>
    t.partitions.map((p) => partitionKey(t.topic, p.partition))
  );
  if (request.replicaId >= 0) recordFollowerFetch(broker, request);
  while (true) {
    const { response, bytes, failed } = readOnce(broker, request);
    const remaining = deadline - broker.now();
    if (bytes >= Math.max(request.minBytes, 1) || failed || remaining <= 0 || signal?.aborted) {
      return response;
    }
    // A full park answers wait() at once; looping on it would spin and starve the event loop.
    if (broker.waiters.size >= PENDING_FETCHES_MAX) return response;
    await broker.waiters.wait(keys, remaining, signal);
  }
}

function readOnce(
  broker: Broker,
  request: FetchRequest,
): { response: FetchResponse; bytes: number; failed: boolean } {
  let budget = request.maxBytes ?? 0x7fffffff;
  let bytes = 0;
  let failed = false;
  const responses = request.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p): PartitionResult => {
      try {
        const hosted = broker.leaderPartition(t.topic, p.partition);
        checkEpoch(hosted.state.leaderEpoch, p.currentLeaderEpoch, `${t.topic}-${p.partition}`);
        const log = hosted.log;
        const highWatermark = broker.highWatermark(hosted);
        // Followers read up to the log end; consumers (and anyone not a replica) only what
        // every in-sync replica has.
        const isFollower = request.replicaId >= 0 && request.replicaId !== broker.id &&
          hosted.state.replicas.includes(request.replicaId);
        // read_committed consumers stop at the last stable offset (no open transaction's records).
        const lastStableOffset = hosted.replica.lastStableOffset();
        const readCommitted = !isFollower && request.isolationLevel === 1;
        const readEnd = isFollower
          ? log.logEndOffset
          : readCommitted
          ? lastStableOffset
          : highWatermark;
        if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) {
          throw KaError.of(
            "OFFSET_OUT_OF_RANGE",
            `Offset ${p.fetchOffset} is out of range for ${t.topic}-${p.partition} (${log.logStartOffset}..${log.logEndOffset})`,
          );
        }
        const limit = Math.min(p.partitionMaxBytes, budget);
        const read = limit > 0 || bytes === 0
          ? log.read(p.fetchOffset, Math.max(limit, 1), readEnd)
          : { batches: [], bytes: 0 };
        budget -= read.bytes;
        bytes += read.bytes;
        return {
          partitionIndex: p.partition,
          errorCode: 0,
          highWatermark,
          lastStableOffset,
          logStartOffset: log.logStartOffset,
          // Only read_committed readers get the aborted ranges (to drop those records).
          abortedTransactions: readCommitted
            ? hosted.replica.txns.abortedIn(p.fetchOffset, readEnd).map((a) => ({
              producerId: a.producerId,
              firstOffset: a.firstOffset,
            }))
            : null,
          preferredReadReplica: -1,
          records: concat(read.batches, read.bytes),
        };
      } catch (err) {
        if (!isKaError(err)) throw err;
        failed = true;
        return {
          partitionIndex: p.partition,
          errorCode: err.code,
          highWatermark: -1n,
          lastStableOffset: -1n,
          logStartOffset: -1n,
          abortedTransactions: [],
          preferredReadReplica: -1,
          records: null,
        };
      }
    }),
  }));
  return {
    response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses },
    bytes,
    failed,
  };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * A follower's fetch offset says what it has: update the leader's view,
 * which may advance the high watermark (and so release acks=all produces
 * and wake consumers waiting for newly committed data).
 */
function recordFollowerFetch(broker: Broker, request: FetchRequest): void {
  const now = broker.now();
  for (const t of request.topics) {
    for (const p of t.partitions) {
      let hosted;
      try {
        // Only a fetch that will be served counts: right leader, current epoch, offset in range.
        hosted = broker.leaderPartition(t.topic, p.partition);
        checkEpoch(hosted.state.leaderEpoch, p.currentLeaderEpoch, `${t.topic}-${p.partition}`);
      } catch (err) {
        if (isKaError(err)) continue; // answered per partition by readOnce
        throw err;
      }
      const log = hosted.log;
      if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) continue;
      if (!hosted.state.replicas.includes(request.replicaId) || request.replicaId === broker.id) {
        continue;
      }
      const before = hosted.replica.highWatermark;
      hosted.replica.onFollowerFetch(request.replicaId, p.fetchOffset, now);
      if (hosted.replica.highWatermark !== before) {
        broker.waiters.notify(partitionKey(t.topic, p.partition));
      }
    }
  }
}

/** Fences a request made with another leader epoch (KIP-320): older is fenced, newer is unknown here. */
export function checkEpoch(current: number, asked: number | undefined, where: string): void {
  if (asked === undefined || asked < 0 || asked === current) return;
  if (asked < current) {
    throw KaError.of(
      "FENCED_LEADER_EPOCH",
      `Leader epoch ${asked} for ${where} is older than the current ${current}`,
    );
  }
  throw KaError.of(
    "UNKNOWN_LEADER_EPOCH",
    `Leader epoch ${asked} for ${where} is newer than this broker's ${current}`,
  );
}
