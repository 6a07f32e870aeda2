/**
 * Micro-benchmark of the disk log (not a test): appends 100k batches of
 * 1 KiB (no fsync), then reads them back sequentially in 1 MiB fetches,
 * reopens (recovery scan of the active segment), reads again (first reads
 * of sealed segments check CRCs), does random single-batch reads, and
 * measures appends with an fsync every 100 records and every record.
 *
 *     deno run --allow-read --allow-write broker/log/_disk_log_bench.ts [batches] [segmentBytes]
 * @module
 */
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import { DiskLog } from "./disk_log.ts";
import { MemoryLog } from "./memory_log.ts";
import type { PartitionLog } from "./partition_log.ts";

const BATCHES = Number(Deno.args[0] ?? 100_000);
const SEGMENT_BYTES = Number(Deno.args[1] ?? 16 * 1024 * 1024);
const MIB = 1024 * 1024;

function makeBatches(): Uint8Array[] {
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    const value = new Uint8Array(1024 - 61 - 12).fill(i);
    pool.push(encodeRecordBatch([{ value }], { timestamp: 1_700_000_000_000 + i }));
  }
  return pool;
}

function appendAll(log: PartitionLog, pool: Uint8Array[]): number {
  const headers = pool.map((b) => readBatchHeader(b));
  const t0 = performance.now();
  for (let i = 0; i < BATCHES; i++) {
    log.append(pool[i % pool.length], headers[i % pool.length], 0);
  }
  return performance.now() - t0;
}

function readAll(log: PartitionLog): { ms: number; bytes: number } {
  const t0 = performance.now();
  let offset = log.logStartOffset;
  let bytes = 0;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, MIB);
    bytes += read.bytes;
    offset = readBatchHeader(read.batches[read.batches.length - 1]).baseOffset + 1n;
  }
  return { ms: performance.now() - t0, bytes };
}

function randomReads(log: PartitionLog, count: number): number {
  let seed = 42;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    log.read(BigInt(seed % BATCHES), 1);
  }
  return performance.now() - t0;
}

function line(what: string, ms: number, bytes: number, ops = BATCHES): void {
  console.log(
    `${what.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${
      (ops / (ms / 1000) / 1000).toFixed(0).padStart(5)
    }k ops/s  ${(bytes / MIB / (ms / 1000)).toFixed(0).padStart(5)} MiB/s`,
  );
}

const pool = makeBatches();
const total = BATCHES * pool[0].length;
const dir = Deno.makeTempDirSync({ prefix: "disk_log_bench_" });
const logger = createLogger("bench", { sink: () => {} });
try {
  const memory = new MemoryLog();
  line("MemoryLog append", appendAll(memory, pool), total);
  line("MemoryLog sequential read (1 MiB)", readAll(memory).ms, total);

  const log = DiskLog.open(dir, { segmentBytes: SEGMENT_BYTES, logger });
  line("DiskLog append (no fsync)", appendAll(log, pool), total);
  console.log(`  ${log.segmentInfo().length} segments of ${SEGMENT_BYTES} bytes`);
  line("DiskLog sequential read (1 MiB)", readAll(log).ms, total);
  line("DiskLog random 1-batch reads", randomReads(log, 10_000), 10_000 * 1024, 10_000);
  let t0 = performance.now();
  log.close();
  console.log(`DiskLog close (fsync)               ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  const reopened = DiskLog.open(dir, { segmentBytes: SEGMENT_BYTES, logger });
  console.log(
    `DiskLog reopen (scan active segment) ${
      (performance.now() - t0).toFixed(0)
    } ms, end ${reopened.logEndOffset}`,
  );
  line("DiskLog read after reopen (CRCs)", readAll(reopened).ms, total);
  line("DiskLog read again (verified)", readAll(reopened).ms, total);
  reopened.close();
  // The flush policy's price: fsync every N records.
  for (const [flushMessages, count] of [[100, 20_000], [1, 2_000]]) {
    const synced = DiskLog.open(`${dir}/flush-${flushMessages}`, {
      segmentBytes: SEGMENT_BYTES,
      flushMessages,
      logger,
    });
    const header = readBatchHeader(pool[0]);
    const start = performance.now();
    for (let i = 0; i < count; i++) synced.append(pool[0], header, 0);
    line(
      `DiskLog append, flush.messages=${flushMessages}`,
      performance.now() - start,
      count * 1024,
      count,
    );
    synced.close();
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
