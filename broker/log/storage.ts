/**
 * How a broker stores its partitions (`broker.storage`): the two factories
 * {@linkcode Broker} takes — one log per hosted partition and its leader
 * epoch cache — for memory or disk. With disk storage each partition lives
 * in `<data_dir>/broker-N/<topic>-<partition>/`; opening it recovers the log
 * and restores the epoch cache from its checkpoint.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";
import { validateTopicName } from "@kafka-analog/lib/cluster";
import type { Logger } from "@kafka-analog/lib/log";
import { DiskLog, diskLogSettings } from "./disk_log.ts";
import {
  EPOCH_CHECKPOINT_FILE,
  EpochCheckpointFile,
  LeaderEpochCache,
  openLeaderEpochCache,
} from "./leader_epoch_cache.ts";
import { MemoryLog } from "./memory_log.ts";
import type { PartitionLog } from "./partition_log.ts";

/** The per-partition factories a broker is built with. */
export interface PartitionStorage {
  /** Opens (or creates) the log of a partition this broker hosts. */
  makeLog(topic: string, partition: number, configs: Record<string, string>): PartitionLog;
  /** The leader epoch cache of a partition whose log `makeLog` just opened. */
  makeEpochCache(topic: string, partition: number, log: PartitionLog): LeaderEpochCache;
}

/** Logs in memory, lost on restart; epoch caches in memory too. */
export function memoryStorage(): PartitionStorage {
  return {
    makeLog: () => new MemoryLog(),
    makeEpochCache: () => new LeaderEpochCache(),
  };
}

/** Options for {@linkcode diskStorage}. */
export interface DiskStorageOptions {
  /** This broker's directory (`<data_dir>/broker-N`). */
  dataDir: string;
  /** `broker.segment_bytes`, used when a topic sets no `segment.bytes`. */
  segmentBytes: number;
  logger: Logger;
  /** Clock for `segment.ms` and `flush.ms`; default `Date.now`. */
  now?: () => number;
}

/** The directory of one partition: `<dataDir>/<topic>-<partition>`. */
export function partitionDir(dataDir: string, topic: string, partition: number): string {
  // Topic names are checked where topics are created; checked again before they become a path.
  validateTopicName(topic);
  assert(Number.isInteger(partition) && partition >= 0, "partition ids are non-negative integers");
  return `${dataDir}/${topic}-${partition}`;
}

/** Segmented logs on disk, recovered on open; epoch caches checkpointed beside them. */
export function diskStorage(options: DiskStorageOptions): PartitionStorage {
  return {
    makeLog(topic, partition, configs) {
      const dir = partitionDir(options.dataDir, topic, partition);
      const log = DiskLog.open(dir, {
        ...diskLogSettings(configs, { segmentBytes: options.segmentBytes }),
        logger: options.logger,
        now: options.now,
      });
      options.logger.info("opened partition log", {
        partition: `${topic}-${partition}`,
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
        segments: log.segmentInfo().length,
      });
      return log;
    },
    makeEpochCache(topic, partition, log) {
      const dir = partitionDir(options.dataDir, topic, partition);
      return openLeaderEpochCache(
        log,
        new EpochCheckpointFile(`${dir}/${EPOCH_CHECKPOINT_FILE}`),
        options.logger,
      );
    },
  };
}
