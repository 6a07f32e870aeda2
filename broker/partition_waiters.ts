/**
 * Parked long-poll fetches. A fetch that found too little data waits here
 * until an append to one of its partitions or its deadline, whichever comes
 * first. The number parked is bounded.
 * @module
 */
import { PENDING_FETCHES_MAX } from "@kafka-analog/lib/limits";

interface Waiter {
  keys: string[];
  wake: () => void;
}

/** Wake-ups keyed by "topic/partition". */
export class PartitionWaiters {
  #byKey = new Map<string, Set<Waiter>>();
  #count = 0;

  /** Waiters parked now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Resolves on the first append to any of `keys`, after `timeoutMs`, or
   * when `signal` aborts. Resolves at once when the park is full.
   */
  wait(keys: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#count >= PENDING_FETCHES_MAX || timeoutMs <= 0 || signal?.aborted) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        keys,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", waiter.wake);
          this.#remove(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener("abort", waiter.wake, { once: true });
      for (const key of keys) {
        let set = this.#byKey.get(key);
        if (!set) this.#byKey.set(key, set = new Set());
        set.add(waiter);
      }
      this.#count++;
    });
  }

  /** Wakes every fetch waiting on `key`. */
  notify(key: string): void {
    const set = this.#byKey.get(key);
    if (!set) return;
    for (const waiter of [...set]) waiter.wake();
  }

  #remove(waiter: Waiter): void {
    let present = false;
    for (const key of waiter.keys) {
      const set = this.#byKey.get(key);
      if (set?.delete(waiter)) present = true;
      if (set && set.size === 0) this.#byKey.delete(key);
    }
    if (present) this.#count--;
  }
}
