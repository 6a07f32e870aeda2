/**
 * Produce: validate each partition's batches (CRC-32C, size, magic), assign
 * offsets, append, wake parked fetches. Every failure is per partition, with
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
import { type Broker, partitionKey } from "../broker.ts";

/** Handles a Produce request; null means no response (acks = 0). */
export function handleProduce(broker: Broker, request: ProduceRequest): ProduceResponse | null {
  const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
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
        return appendPartition(broker, topicData.name, data.index, data.records);
      } catch (err) {
        if (!isKaError(err)) throw err;
        return failure(data.index, err);
      }
    }),
  }));
  return request.acks === 0 ? null : { responses, throttleTimeMs: 0 };
}

function appendPartition(
  broker: Broker,
  topic: string,
  partition: number,
  records: Uint8Array | null,
): ProducePartitionResponse {
  const hosted = broker.leaderPartition(topic, partition);
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
  let baseOffset = -1n;
  for (const { header, bytes } of batches) {
    const result = hosted.log.append(bytes, header, hosted.state.leaderEpoch);
    if (baseOffset < 0n) baseOffset = result.baseOffset;
  }
  broker.waiters.notify(partitionKey(topic, partition));
  return {
    index: partition,
    errorCode: 0,
    baseOffset,
    logAppendTimeMs: -1n,
    logStartOffset: hosted.log.logStartOffset,
    recordErrors: [],
    errorMessage: null,
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
