/**
 * Tests for {@linkcode batchHeaders}, the chunked header walk used to
 * rebuild producer state and lost leader epoch checkpoints.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import { MemoryLog } from "./memory_log.ts";
import { batchHeaders } from "./partition_log.ts";

/** A memory log of 300 batches of 3 records with ~10 KiB values (more than one 1 MiB chunk). */
function bigLog(log = new MemoryLog()): MemoryLog {
  for (let i = 0; i < 300; i++) {
    const value = new Uint8Array(3500);
    const bytes = encodeRecordBatch([{ value }, { value }, { value }], { timestamp: i });
    log.append(bytes, readBatchHeader(bytes), i);
  }
  return log;
}

Deno.test("batchHeaders() yields every batch header in order, across read chunks", () => {
  const log = bigLog();
  const headers = [...batchHeaders(log)];
  assert.equal(headers.length, 300);
  assert.deepEqual(headers.slice(0, 3).map((h) => h.baseOffset), [0n, 3n, 6n]);
  assert.deepEqual(headers.map((h) => h.partitionLeaderEpoch), headers.map((_, i) => i));
  // From the middle of a batch: that batch first.
  assert.equal([...batchHeaders(log, { fromOffset: 451n })][0].baseOffset, 450n);
  assert.deepEqual([...batchHeaders(new MemoryLog())], []);
});

/** A memory log whose data from offset 600 on reads as corrupt. */
class FailingLog extends MemoryLog {
  override read(offset: bigint, maxBytes: number, endOffset?: bigint) {
    if (offset >= 600n) throw KaError.of("KAFKA_STORAGE_ERROR", "Corrupt data at 600");
    return super.read(offset, maxBytes, endOffset ?? 600n);
  }
}

Deno.test("batchHeaders() hands corrupt data to onCorrupt and stops, or throws without it", () => {
  const failing = bigLog(new FailingLog());
  const errors: KaError[] = [];
  const headers = [...batchHeaders(failing, { onCorrupt: (e) => errors.push(e) })];
  assert.equal(headers.at(-1)!.baseOffset, 597n, "everything before the damage");
  assert.equal(errors.length, 1);
  assert.throws(() => [...batchHeaders(failing)], (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
});
