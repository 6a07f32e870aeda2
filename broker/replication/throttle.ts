/**
 * A byte-rate limit (token bucket) for copying partitions that are being
 * moved onto this broker, so a reassignment cannot starve client traffic.
 * Tokens refill continuously up to one second's worth; a fetch may overdraw
 * (a batch is never split), which the next rounds pay back.
 * @module
 */

/** A token bucket over bytes. */
export class ByteRateThrottle {
  readonly bytesPerSec: number;
  #tokens: number;
  #lastMs: number;
  #now: () => number;

  /** `bytesPerSec` 0 means unlimited. */
  constructor(bytesPerSec: number, now: () => number) {
    this.bytesPerSec = bytesPerSec;
    this.#now = now;
    this.#lastMs = now();
    this.#tokens = bytesPerSec;
  }

  get unlimited(): boolean {
    return this.bytesPerSec <= 0;
  }

  /** Bytes that may be fetched now (≤ 0 when the budget is overdrawn). */
  available(): number {
    if (this.unlimited) return Number.MAX_SAFE_INTEGER;
    const now = this.#now();
    this.#tokens = Math.min(
      this.bytesPerSec,
      this.#tokens + (now - this.#lastMs) * this.bytesPerSec / 1000,
    );
    this.#lastMs = now;
    return this.#tokens;
  }

  /** Records bytes fetched under the limit. */
  consume(bytes: number): void {
    if (!this.unlimited) this.#tokens -= bytes;
  }

  /** Milliseconds until at least `bytes` are available again. */
  waitMs(bytes = 1): number {
    if (this.unlimited) return 0;
    const missing = bytes - this.available();
    return missing <= 0 ? 0 : Math.ceil(missing * 1000 / this.bytesPerSec);
  }
}
