/**
 * Tests for transaction markers: the control record key and value codecs,
 * encodeControlBatch() and reading a marker's type back.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "../errors.ts";
import {
  CONTROL_BATCH_ATTRIBUTES,
  CONTROL_TYPE_ABORT,
  CONTROL_TYPE_COMMIT,
  decodeControlBatch,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  encodeControlBatch,
  encodeControlRecordKey,
  encodeEndTxnMarker,
  readControlRecordType,
} from "./control_record.ts";
import { crc32c } from "./crc32c.ts";
import {
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_OFFSETS,
  decodeRecords,
  encodeRecordBatch,
  isControlBatch,
  isTransactionalBatch,
  readBatchHeader,
  splitBatches,
  verifyBatchCrc,
} from "./record_batch.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const TIMESTAMP = 1_700_000_000_000;

function marker(commit: boolean, baseOffset?: bigint): Uint8Array {
  return encodeControlBatch({
    producerId: 4000n,
    producerEpoch: 3,
    commit,
    coordinatorEpoch: 7,
    timestamp: TIMESTAMP,
    ...(baseOffset === undefined ? {} : { baseOffset }),
  });
}

Deno.test("encodeControlRecordKey() writes int16 version then int16 type, and round trips", () => {
  const commit = encodeControlRecordKey({ version: 0, type: CONTROL_TYPE_COMMIT });
  assert.equal(hex(commit), "0000" + "0001");
  const abort = encodeControlRecordKey({ version: 0, type: CONTROL_TYPE_ABORT });
  assert.equal(hex(abort), "0000" + "0000");
  assert.deepEqual(decodeControlRecordKey(commit), { version: 0, type: 1 });
  assert.deepEqual(decodeControlRecordKey(abort), { version: 0, type: 0 });
  // A newer key version may append fields: they are ignored.
  assert.deepEqual(decodeControlRecordKey(new Uint8Array([0, 1, 0, 1, 9, 9])), {
    version: 1,
    type: 1,
  });
});

Deno.test("encodeEndTxnMarker() writes int16 version then int32 coordinatorEpoch, and round trips", () => {
  const value = encodeEndTxnMarker({ version: 0, coordinatorEpoch: 0x01020304 });
  assert.equal(hex(value), "0000" + "01020304");
  assert.deepEqual(decodeEndTxnMarker(value), { version: 0, coordinatorEpoch: 0x01020304 });
  const negative = encodeEndTxnMarker({ version: 0, coordinatorEpoch: -1 });
  assert.deepEqual(decodeEndTxnMarker(negative), { version: 0, coordinatorEpoch: -1 });
});

Deno.test("control key and marker decoders reject short, null and negative-version input", () => {
  const bad: [() => unknown, string][] = [
    [() => decodeControlRecordKey(null), "null key"],
    [() => decodeControlRecordKey(new Uint8Array(3)), "3-byte key"],
    [() => decodeControlRecordKey(new Uint8Array([0xff, 0xff, 0, 1])), "key version -1"],
    [() => decodeEndTxnMarker(null), "null value"],
    [() => decodeEndTxnMarker(new Uint8Array(5)), "5-byte value"],
    [() => decodeEndTxnMarker(new Uint8Array([0x80, 0, 0, 0, 0, 1])), "value version < 0"],
  ];
  for (const [fn, what] of bad) {
    assert.throws(fn, (e) => isKaError(e, "CORRUPT_MESSAGE"), what);
  }
});

Deno.test("encodeControlBatch() sets the transactional and control bits, baseSequence -1 and one record", () => {
  const batch = marker(true, 42n);
  const h = readBatchHeader(batch);
  assert.equal(h.attributes, ATTR_TRANSACTIONAL | ATTR_CONTROL);
  assert.equal(h.attributes, CONTROL_BATCH_ATTRIBUTES);
  assert.ok(isControlBatch(h));
  assert.ok(isTransactionalBatch(h));
  assert.equal(h.baseOffset, 42n);
  assert.equal(h.producerId, 4000n);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, -1);
  assert.equal(h.recordCount, 1);
  assert.equal(h.lastOffsetDelta, 0);
  assert.equal(h.baseTimestamp, TIMESTAMP);
  assert.equal(h.maxTimestamp, TIMESTAMP);
  assert.equal(readBatchHeader(marker(false)).baseOffset, 0n, "baseOffset defaults to 0");

  const [record] = decodeRecords(batch);
  assert.equal(record.offset, 42n);
  assert.equal(record.timestamp, TIMESTAMP);
  assert.equal(hex(record.key!), "00000001");
  assert.equal(hex(record.value!), "000000000007");
  assert.deepEqual(record.headers, []);
});

Deno.test("encodeControlBatch() writes a valid CRC", () => {
  for (const commit of [true, false]) {
    const batch = marker(commit);
    const h = readBatchHeader(batch);
    assert.ok(verifyBatchCrc(batch, 0, h));
    assert.equal(h.crc, crc32c(batch, BATCH_OFFSETS.attributes, batch.length));
    assert.equal(splitBatches(batch).length, 1);
  }
});

Deno.test("readControlRecordType() and decodeControlBatch() read markers back", () => {
  assert.equal(readControlRecordType(marker(true)), "commit");
  assert.equal(readControlRecordType(marker(false)), "abort");
  const decoded = decodeControlBatch(marker(false, 9n));
  assert.equal(decoded.type, "abort");
  assert.equal(decoded.coordinatorEpoch, 7);
  assert.equal(decoded.header.baseOffset, 9n);
  assert.equal(decoded.header.producerId, 4000n);
});

Deno.test("readControlRecordType() of a data batch is CORRUPT_MESSAGE", () => {
  const data = encodeRecordBatch([{ key: new Uint8Array([0, 0, 0, 1]), value: null }], {
    timestamp: TIMESTAMP,
    producerId: 4000n,
    producerEpoch: 3,
    baseSequence: 0,
    transactional: true,
  });
  assert.throws(
    () => readControlRecordType(data),
    (e) => isKaError(e, "CORRUPT_MESSAGE") && /not a control batch/.test(e.message),
  );
});

Deno.test("decodeControlBatch() rejects bad control batches with CORRUPT_MESSAGE", () => {
  const key = encodeControlRecordKey({ version: 0, type: CONTROL_TYPE_COMMIT });
  const value = encodeEndTxnMarker({ version: 0, coordinatorEpoch: 1 });
  const options = { timestamp: TIMESTAMP, transactional: true, control: true };
  const cases: [Uint8Array, RegExp][] = [
    [encodeRecordBatch([{ key, value }, { key, value }], options), /must hold 1 record/],
    [
      encodeRecordBatch([{
        key: encodeControlRecordKey({ version: 0, type: 2 }),
        value,
      }], options),
      /control type/,
    ],
    [encodeRecordBatch([{ key: null, value }], options), /control record key/],
    [encodeRecordBatch([{ key, value: new Uint8Array(2) }], options), /marker value/],
  ];
  for (const [batch, message] of cases) {
    assert.throws(
      () => decodeControlBatch(batch),
      (e) => isKaError(e, "CORRUPT_MESSAGE") && message.test(e.message),
      String(message),
    );
  }
  const flipped = marker(true).slice();
  flipped[flipped.length - 1] ^= 0xff;
  assert.throws(() => readControlRecordType(flipped), (e) => isKaError(e, "CORRUPT_MESSAGE"));
});

Deno.test("readControlRecordType() of any truncation or bit flip throws only KaError", () => {
  const batch = marker(true);
  for (let n = 0; n < batch.length; n++) {
    assert.throws(() => readControlRecordType(batch.subarray(0, n)), (e) => e instanceof KaError);
  }
  for (let at = 0; at < batch.length; at++) {
    for (const bits of [0x01, 0x80, 0xff]) {
      const flipped = batch.slice();
      flipped[at] ^= bits;
      try {
        const type = readControlRecordType(flipped);
        assert.ok(type === "commit" || type === "abort");
      } catch (err) {
        assert.ok(err instanceof KaError, `flip ${bits} at ${at}: ${String(err)}`);
      }
    }
  }
});
