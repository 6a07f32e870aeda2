/**
 * The leader epoch cache of one partition: for every leader epoch, the first
 * offset written in it. After a leadership change a follower asks the leader
 * where its latest epoch ends and truncates anything past that (KIP-101,
 * KIP-279), so replicas never keep a divergent tail.
 *
 * On disk the cache is kept in the partition directory's
 * `leader-epoch-checkpoint` (Kafka's text format: a version line `0`, a
 * count line, then `epoch startOffset` lines), rewritten whole, atomically
 * and fsynced, on every change — epochs change rarely. A missing or damaged
 * checkpoint is rebuilt from the batches' own leader epochs.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";
import { batchHeaders, type PartitionLog } from "./partition_log.ts";
import { readFileIfExists, writeFileAtomic } from "./store.ts";

/** One cache entry. */
export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

/** Where a cache keeps its entries between runs. */
export interface EpochCheckpoint {
  /** The saved entries; null when nothing was saved yet. Throws `KAFKA_STORAGE_ERROR` when damaged. */
  read(): EpochEntry[] | null;
  /** Replaces the saved entries, durably. */
  write(entries: EpochEntry[]): void;
}

/** File name of the checkpoint in a partition directory. */
export const EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
const CHECKPOINT_VERSION = 0;

/** Encodes entries in Kafka's `leader-epoch-checkpoint` text format. */
export function encodeEpochCheckpoint(entries: EpochEntry[]): string {
  const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
  for (const e of entries) lines.push(`${e.epoch} ${e.startOffset}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Decodes a `leader-epoch-checkpoint`; throws `KAFKA_STORAGE_ERROR` naming
 * `where` for anything but a well-formed file of increasing epochs.
 */
export function decodeEpochCheckpoint(text: string, where: string): EpochEntry[] {
  const bad = (why: string) =>
    KaError.of("KAFKA_STORAGE_ERROR", `Cannot read leader epoch checkpoint ${where}: ${why}`);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines[0] !== String(CHECKPOINT_VERSION)) {
    throw bad(`version must be ${CHECKPOINT_VERSION}: current value is '${lines[0] ?? ""}'`);
  }
  if (!/^\d+$/.test(lines[1] ?? "") || Number(lines[1]) !== lines.length - 2) {
    throw bad(`count line '${lines[1] ?? ""}' does not match ${lines.length - 2} entries`);
  }
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const match = /^(\d{1,10}) (\d{1,19})$/.exec(line);
    if (!match) throw bad(`bad entry '${line}'`);
    const entry = { epoch: Number(match[1]), startOffset: BigInt(match[2]) };
    const last = entries.at(-1);
    if (
      entry.epoch > 0x7fff_ffff ||
      (last && (entry.epoch <= last.epoch || entry.startOffset < last.startOffset))
    ) {
      throw bad(`entry '${line}' does not follow epoch ${last?.epoch} from ${last?.startOffset}`);
    }
    entries.push(entry);
  }
  return entries;
}

/** A checkpoint kept in a file, replaced atomically (temporary file, fsync, rename). */
export class EpochCheckpointFile implements EpochCheckpoint {
  /** Path of the checkpoint file. */
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  read(): EpochEntry[] | null {
    const bytes = readFileIfExists(this.path);
    if (bytes === null) return null;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw KaError.of(
        "KAFKA_STORAGE_ERROR",
        `Cannot read leader epoch checkpoint ${this.path}: not UTF-8`,
      );
    }
    return decodeEpochCheckpoint(text, this.path);
  }

  write(entries: EpochEntry[]): void {
    writeFileAtomic(this.path, new TextEncoder().encode(encodeEpochCheckpoint(entries)));
  }
}

/** Options for {@linkcode LeaderEpochCache}. */
export interface LeaderEpochCacheOptions {
  /** Saved on every change. */
  checkpoint?: EpochCheckpoint;
  /** Entries to start from (already saved), oldest first. */
  entries?: EpochEntry[];
}

/** Epoch → start offset, epochs strictly increasing. */
export class LeaderEpochCache {
  #entries: EpochEntry[];
  #checkpoint: EpochCheckpoint | null;

  constructor(options: LeaderEpochCacheOptions = {}) {
    this.#checkpoint = options.checkpoint ?? null;
    this.#entries = (options.entries ?? []).map((e) => ({ ...e }));
  }

  /** The newest epoch, or −1 when empty. */
  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? -1;
  }

  /** Every entry, oldest first. */
  entries(): EpochEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  /**
   * Records that `epoch` starts at `startOffset`. Older or equal epochs are
   * ignored (a batch of the current epoch, or a replayed old one).
   */
  assign(epoch: number, startOffset: bigint): void {
    if (epoch < 0 || epoch <= this.latestEpoch) return;
    this.#entries.push({ epoch, startOffset });
    this.#save();
  }

  /**
   * Where `epoch` ends on this replica: the largest known epoch ≤ `epoch` and
   * the start offset of the epoch after it (or `logEndOffset` when it is the
   * latest). `{leaderEpoch: −1, endOffset: −1n}` when no such epoch is known.
   */
  endOffsetFor(epoch: number, logEndOffset: bigint): { leaderEpoch: number; endOffset: bigint } {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i].epoch <= epoch) {
        const next = this.#entries[i + 1];
        return {
          leaderEpoch: this.#entries[i].epoch,
          endOffset: next ? next.startOffset : logEndOffset,
        };
      }
    }
    return { leaderEpoch: -1, endOffset: -1n };
  }

  /** Drops entries that start at or after `offset` (the log was truncated there). */
  truncateFromEnd(offset: bigint): void {
    const before = this.#entries.length;
    while (
      this.#entries.length > 0 && this.#entries[this.#entries.length - 1].startOffset >= offset
    ) {
      this.#entries.pop();
    }
    if (this.#entries.length !== before) this.#save();
  }

  /** Forgets everything (the log was emptied). */
  clear(): void {
    if (this.#entries.length === 0) return;
    this.#entries = [];
    this.#save();
  }

  /** Stops saving changes (the partition's directory is being deleted). */
  detach(): void {
    this.#checkpoint = null;
  }

  #save(): void {
    this.#checkpoint?.write(this.#entries);
  }
}

/**
 * The leader epoch cache of a partition whose log was just opened: the
 * checkpoint's entries when it can be read, else rebuilt from the leader
 * epochs stored in the log's batches (and saved). Entries starting past the
 * log end — the recovery scan may have cut a torn tail — are dropped.
 */
export function openLeaderEpochCache(
  log: PartitionLog,
  checkpoint: EpochCheckpoint,
  logger: Logger,
): LeaderEpochCache {
  let entries: EpochEntry[] | null = null;
  try {
    entries = checkpoint.read();
  } catch (err) {
    if (!(err instanceof KaError)) throw err;
    logger.warn("leader epoch checkpoint unreadable; rebuilding it from the log", {
      reason: err.message,
    });
  }
  if (entries === null) {
    const rebuilt = new LeaderEpochCache();
    const headers = batchHeaders(log, {
      onCorrupt: (err) =>
        logger.warn("leader epochs rebuilt only up to corrupt data", { reason: err.message }),
    });
    for (const header of headers) rebuilt.assign(header.partitionLeaderEpoch, header.baseOffset);
    entries = rebuilt.entries();
    checkpoint.write(entries);
  }
  const cache = new LeaderEpochCache({ checkpoint, entries });
  cache.truncateFromEnd(log.logEndOffset + 1n);
  return cache;
}
