/**
 * High-watermark checkpoints: a disk log saves and reads back its high
 * watermark, and a replica opened on it starts from the saved value (capped
 * by the recovered log end) instead of 0.
 * @module
 */
import assert from "node:assert/strict";
import { createLogger } from "@kafka-analog/lib/log";
import { encodeRecordBatch, readBatchHeader } from "@kafka-analog/lib/protocol";
import { DiskLog } from "./disk_log.ts";
import { Replica } from "../replication/replica.ts";

const QUIET = createLogger("t", { sink: () => {} });

Deno.test("DiskLog high-watermark checkpoint: none, saved, read back; a replica starts from it", () => {
  const dir = Deno.makeTempDirSync({ prefix: "hw_test_" });
  try {
    const log = DiskLog.open(dir, { segmentBytes: 1 << 20, logger: QUIET });
    assert.equal(log.readHighWatermark(), null);
    for (let i = 0; i < 3; i++) {
      const batch = encodeRecordBatch([{ value: new Uint8Array([i]) }, { value: null }], {
        timestamp: 1_000,
      });
      log.append(batch, readBatchHeader(batch), 0);
    }
    log.writeHighWatermark(4n);
    assert.equal(log.readHighWatermark(), 4n);
    log.close();
    const reopened = DiskLog.open(dir, { segmentBytes: 1 << 20, logger: QUIET });
    const state = { partition: 0, leader: 0, leaderEpoch: 1, replicas: [0, 1], isr: [0, 1] };
    const replica = new Replica("t", 0, 0, reopened, state, 0);
    assert.equal(
      replica.highWatermark,
      4n,
      "committed offsets are servable at once after a restart",
    );
    reopened.writeHighWatermark(99n); // more than the log holds: capped on open
    reopened.close();
    const capped = new Replica(
      "t",
      0,
      0,
      DiskLog.open(dir, { segmentBytes: 1 << 20, logger: QUIET }),
      state,
      0,
    );
    assert.equal(capped.highWatermark, 6n);
    capped.log.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
