/**
 * Control records: the transaction markers a partition leader appends when a
 * transaction ends (WriteTxnMarkers), so consumers reading with
 * `isolationLevel` 1 (read committed) know where a producer's transaction
 * committed or aborted. A marker is a RecordBatch v2 with the transactional
 * and control attribute bits set, the producer's id and epoch, baseSequence
 * -1 and exactly one record whose key and value are:
 *
 * ```
 * ControlRecordKey (v0) =>
 *   version int16              0
 *   type int16                 0 = ABORT, 1 = COMMIT
 * EndTxnMarker value (v0) =>
 *   version int16              0
 *   coordinatorEpoch int32     epoch of the coordinator that wrote the marker
 * ```
 * Layouts from Kafka's `ControlRecordType` and `EndTransactionMarker`. As
 * Kafka does, readers accept a newer key or value version and read the
 * fields they know, ignoring any bytes after them; control types other than
 * ABORT and COMMIT (Kafka uses 2+ for its own metadata log) are rejected.
 * @module
 */
import { assert } from "../assert.ts";
import { KaError } from "../errors.ts";
import {
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  type BatchHeader,
  decodeRecords,
  encodeRecordBatch,
  isControlBatch,
  readBatchHeader,
} from "./record_batch.ts";

/** The control record key version we write. */
export const CONTROL_RECORD_KEY_VERSION = 0;
/** The end-transaction marker value version we write. */
export const END_TXN_MARKER_VERSION = 0;
/** Control record type of an aborted transaction's marker. */
export const CONTROL_TYPE_ABORT = 0;
/** Control record type of a committed transaction's marker. */
export const CONTROL_TYPE_COMMIT = 1;
/** The attribute bits every transaction marker batch has set: transactional and control. */
export const CONTROL_BATCH_ATTRIBUTES: number = ATTR_TRANSACTIONAL | ATTR_CONTROL;
/** Bytes of a v0 control record key: version int16 + type int16. */
export const CONTROL_RECORD_KEY_BYTES = 4;
/** Bytes of a v0 end-transaction marker value: version int16 + coordinatorEpoch int32. */
export const END_TXN_MARKER_BYTES = 6;

assert(CONTROL_RECORD_KEY_BYTES === 2 + 2, "a control record key is int16 version + int16 type");
assert(END_TXN_MARKER_BYTES === 2 + 4, "a marker value is int16 version + int32 coordinatorEpoch");

/** The outcome a transaction marker records. */
export type ControlRecordTypeName = "commit" | "abort";

/** The key of a control record. */
export interface ControlRecordKey {
  version: number;
  /** {@linkcode CONTROL_TYPE_ABORT} or {@linkcode CONTROL_TYPE_COMMIT}. */
  type: number;
}

/** The value of a transaction marker (Kafka's EndTransactionMarker). */
export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

/** Options for {@linkcode encodeControlBatch}. */
export interface EncodeControlBatchOptions {
  /** The producer whose transaction ends. */
  producerId: bigint;
  /** That producer's epoch. */
  producerEpoch: number;
  /** True for a COMMIT marker, false for ABORT. */
  commit: boolean;
  /** Epoch of the transaction coordinator writing the marker. */
  coordinatorEpoch: number;
  /** Marker timestamp (ms since the epoch). */
  timestamp: number;
  /** Default 0n; the leader overwrites it on append. */
  baseOffset?: bigint;
}

/** A decoded transaction marker batch. */
export interface ControlBatch {
  header: BatchHeader;
  type: ControlRecordTypeName;
  coordinatorEpoch: number;
}

function corrupt(message: string): KaError {
  return KaError.of("CORRUPT_MESSAGE", message);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encodes a control record key (4 bytes). */
export function encodeControlRecordKey(key: ControlRecordKey): Uint8Array {
  const out = new Uint8Array(CONTROL_RECORD_KEY_BYTES);
  const v = viewOf(out);
  v.setInt16(0, key.version);
  v.setInt16(2, key.type);
  return out;
}

/**
 * Decodes a control record key. Throws CORRUPT_MESSAGE when it is null,
 * shorter than 4 bytes or has a negative version; bytes after the type are
 * ignored (a newer version may append fields).
 */
export function decodeControlRecordKey(bytes: Uint8Array | null): ControlRecordKey {
  if (bytes === null || bytes.length < CONTROL_RECORD_KEY_BYTES) {
    throw corrupt(
      `Cannot read control record key as it must be at least ${CONTROL_RECORD_KEY_BYTES} bytes: current value is ${
        bytes === null ? "null" : bytes.length
      }`,
    );
  }
  const v = viewOf(bytes);
  const version = v.getInt16(0);
  if (version < 0) {
    throw corrupt(
      `Cannot read control record key as 'version' must not be negative: current value is ${version}`,
    );
  }
  return { version, type: v.getInt16(2) };
}

/** Encodes an end-transaction marker value (6 bytes). */
export function encodeEndTxnMarker(marker: EndTxnMarker): Uint8Array {
  const out = new Uint8Array(END_TXN_MARKER_BYTES);
  const v = viewOf(out);
  v.setInt16(0, marker.version);
  v.setInt32(2, marker.coordinatorEpoch);
  return out;
}

/**
 * Decodes an end-transaction marker value. Throws CORRUPT_MESSAGE when it is
 * null, shorter than 6 bytes or has a negative version; bytes after
 * `coordinatorEpoch` are ignored.
 */
export function decodeEndTxnMarker(bytes: Uint8Array | null): EndTxnMarker {
  if (bytes === null || bytes.length < END_TXN_MARKER_BYTES) {
    throw corrupt(
      `Cannot read transaction marker value as it must be at least ${END_TXN_MARKER_BYTES} bytes: current value is ${
        bytes === null ? "null" : bytes.length
      }`,
    );
  }
  const v = viewOf(bytes);
  const version = v.getInt16(0);
  if (version < 0) {
    throw corrupt(
      `Cannot read transaction marker value as 'version' must not be negative: current value is ${version}`,
    );
  }
  return { version, coordinatorEpoch: v.getInt32(2) };
}

/**
 * Encodes a transaction marker: a RecordBatch v2 with the transactional and
 * control bits set, baseSequence -1 and one control record (key = type,
 * value = coordinator epoch), with a valid CRC.
 */
export function encodeControlBatch(options: EncodeControlBatchOptions): Uint8Array {
  const key = encodeControlRecordKey({
    version: CONTROL_RECORD_KEY_VERSION,
    type: options.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT,
  });
  const value = encodeEndTxnMarker({
    version: END_TXN_MARKER_VERSION,
    coordinatorEpoch: options.coordinatorEpoch,
  });
  return encodeRecordBatch([{ key, value }], {
    baseOffset: options.baseOffset ?? 0n,
    timestamp: options.timestamp,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}

/**
 * Decodes a transaction marker batch. Throws CORRUPT_MESSAGE when the batch
 * is malformed, fails its CRC, is not a control batch, does not hold exactly
 * one record, or its record is not an ABORT or COMMIT marker (a compressed
 * batch is UNSUPPORTED_COMPRESSION_TYPE: markers are never compressed).
 */
export function decodeControlBatch(batch: Uint8Array): ControlBatch {
  const header = readBatchHeader(batch, 0);
  if (!isControlBatch(header)) {
    throw corrupt(
      `Cannot read transaction marker as batch (baseOffset ${header.baseOffset}) is not a control batch: attributes are 0x${
        header.attributes.toString(16)
      }`,
    );
  }
  const records = decodeRecords(batch);
  if (records.length !== 1) {
    throw corrupt(
      `Cannot read transaction marker as a control batch must hold 1 record: current value is ${records.length}`,
    );
  }
  const key = decodeControlRecordKey(records[0].key);
  if (key.type !== CONTROL_TYPE_ABORT && key.type !== CONTROL_TYPE_COMMIT) {
    throw corrupt(
      `Cannot read transaction marker as control type must be ${CONTROL_TYPE_ABORT} (ABORT) or ${CONTROL_TYPE_COMMIT} (COMMIT): current value is ${key.type}`,
    );
  }
  const marker = decodeEndTxnMarker(records[0].value);
  return {
    header,
    type: key.type === CONTROL_TYPE_COMMIT ? "commit" : "abort",
    coordinatorEpoch: marker.coordinatorEpoch,
  };
}

/**
 * Whether a transaction marker batch commits or aborts. Throws
 * CORRUPT_MESSAGE as {@linkcode decodeControlBatch} does, in particular
 * when the batch is not a control batch.
 */
export function readControlRecordType(batch: Uint8Array): ControlRecordTypeName {
  return decodeControlBatch(batch).type;
}
