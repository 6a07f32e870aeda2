/**
 * The leader epoch cache of one partition: for every leader epoch, the first
 * offset written in it. After a leadership change a follower asks the leader
 * where its latest epoch ends and truncates anything past that (KIP-101,
 * KIP-279), so replicas never keep a divergent tail.
 * @module
 */

/** One cache entry. */
export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

/** Epoch → start offset, epochs strictly increasing. */
export class LeaderEpochCache {
  #entries: EpochEntry[] = [];

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
    while (
      this.#entries.length > 0 && this.#entries[this.#entries.length - 1].startOffset >= offset
    ) {
      this.#entries.pop();
    }
  }

  /** Forgets everything (the log was emptied). */
  clear(): void {
    this.#entries = [];
  }
}
