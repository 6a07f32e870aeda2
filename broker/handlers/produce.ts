/**
 * Produce: validate each partition's batches (CRC-32C, size, magic), check
 * min.insync.replicas for acks = all, assign offsets, append, wake parked
 * fetches (consumers and followers), then wait for the ISR when asked. Every failure is per partition, with
 * a code; nothing a producer sends can crash the broker.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  ERRORS,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
  splitBatches,
} from "@kafka-analog/lib/protocol";
import { type Broker, type HostedPartition, partitionKey } from "../broker.ts";

/**
 * Handles a Produce request; null means no response (acks = 0). Every
 * partition is appended first, in request order; with acks = all the answer
 * then waits until the high watermark passes each partition's last offset
 * (every in-sync replica has it), or the request's timeout.
 */
export async function handleProduce(
  broker: Broker,
  request: ProduceRequest,
): Promise<ProduceResponse | null> {
  const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
  const waits: Promise<void>[] = [];
  const responses = request.topicData.map((topicData) => ({
    name: topicData.name,
    partitionResponses: topicData.partitionData.map((data): ProducePartitionResponse => {
      if (!acksValid) {
        return failure(
          data.index,
          KaError.of("INVALID_REQUIRED_ACKS", `Invalid acks ${request.acks}`),
        );
      }
      try {
        const { response, hosted, lastOffset } = appendPartition(
          broker,
          topicData.name,
          data.index,
          data.records,
          request.acks,
        );
        if (request.acks === -1 && lastOffset >= 0n) {
          waits.push(
            hosted.replica.waitForHighWatermark(lastOffset + 1n, Math.max(request.timeoutMs, 1))
              .then(
                () => {
                  // Committed, but to fewer replicas than the topic asks for: say so (Kafka does too).
                  const minIsr = minInsyncReplicas(hosted);
                  if (hosted.replica.state.isr.length < minIsr) {
                    Object.assign(
                      response,
                      failure(
                        data.index,
                        KaError.of(
                          "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
                          `Written to ${topicData.name}-${data.index}, but the ISR shrank to ${hosted.replica.state.isr.length} (min.insync.replicas ${minIsr})`,
                        ),
                      ),
                    );
                  }
                },
                (err) => {
                  if (!isKaError(err)) throw err;
                  Object.assign(response, failure(data.index, err));
                },
              ),
          );
        }
        return response;
      } catch (err) {
        if (!isKaError(err)) throw err;
        return failure(data.index, err);
      }
    }),
  }));
  if (request.acks === 0) return null;
  await Promise.all(waits);
  return { responses, throttleTimeMs: 0 };
}

function appendPartition(
  broker: Broker,
  topic: string,
  partition: number,
  records: Uint8Array | null,
  acks: number,
): { response: ProducePartitionResponse; hosted: HostedPartition; lastOffset: bigint } {
  const hosted = broker.writablePartition(topic, partition);
  if (records === null || records.length === 0) {
    throw KaError.of("CORRUPT_MESSAGE", `Produce to ${topic}-${partition} carries no record batch`);
  }
  const maxBytes = broker.maxMessageBytes(hosted.topic);
  const batches = splitBatches(records, { verifyCrc: true });
  for (const { bytes } of batches) {
    if (bytes.length > maxBytes) {
      throw KaError.of(
        "MESSAGE_TOO_LARGE",
        `Batch of ${bytes.length} bytes to ${topic}-${partition} exceeds max.message.bytes ${maxBytes}`,
      );
    }
  }
  if (acks === -1) {
    const minIsr = minInsyncReplicas(hosted);
    if (hosted.state.isr.length < minIsr) {
      throw KaError.of(
        "NOT_ENOUGH_REPLICAS",
        `${topic}-${partition} has ${hosted.state.isr.length} in-sync replica(s) (${
          hosted.state.isr.join(",")
        }) but min.insync.replicas is ${minIsr}`,
      );
    }
  }
  let baseOffset = -1n;
  let lastOffset = -1n;
  for (const { header, bytes } of batches) {
    // Idempotence: a batch is new, a duplicate of one we have, or out of order (throws).
    const seen = hosted.replica.producers.check(header);
    if (seen.kind === "duplicate") {
      // A retry of a batch we already have: answer with its original offsets, append nothing.
      if (baseOffset < 0n) baseOffset = seen.baseOffset;
      if (seen.lastOffset > lastOffset) lastOffset = seen.lastOffset;
      continue;
    }
    const result = hosted.replica.appendAsLeader(bytes, header);
    hosted.replica.producers.record(header, result.baseOffset);
    if (baseOffset < 0n) baseOffset = result.baseOffset;
    lastOffset = result.lastOffset;
  }
  broker.waiters.notify(partitionKey(topic, partition));
  return {
    response: {
      index: partition,
      errorCode: 0,
      baseOffset,
      logAppendTimeMs: -1n,
      logStartOffset: hosted.log.logStartOffset,
      recordErrors: [],
      errorMessage: null,
    },
    hosted,
    lastOffset,
  };
}

function failure(index: number, err: KaError): ProducePartitionResponse {
  return {
    index,
    errorCode: err.code === ERRORS.UNSUPPORTED_VERSION.code
      ? ERRORS.INVALID_REQUEST.code
      : err.code,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: err.message,
  };
}

function minInsyncReplicas(hosted: HostedPartition): number {
  return Number(hosted.topic.configs["min.insync.replicas"] ?? "1");
}
