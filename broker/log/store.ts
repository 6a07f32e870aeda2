/**
 * The bottom layer of the disk log (store → index → segment → log, as in
 * proglog): one append-only file of bytes. It knows nothing of batches or
 * offsets; it appends, reads at a position, truncates and syncs.
 *
 * The file is opened once in append mode, so every write lands at the end
 * whatever the read position is; reads seek first. All calls are
 * synchronous: the partition log interface is synchronous, and these calls
 * hit the page cache (an fsync only when the flush policy asks for one).
 * Every I/O failure becomes a `KAFKA_STORAGE_ERROR` naming the file.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { assert } from "@kafka-analog/lib/assert";
import { messageOf } from "@kafka-analog/lib/net";

/** An append-only file of bytes. */
export class Store {
  /** Path of the file. */
  readonly path: string;
  #file: Deno.FsFile | null;
  #sizeBytes: number;

  private constructor(path: string, file: Deno.FsFile, sizeBytes: number) {
    this.path = path;
    this.#file = file;
    this.#sizeBytes = sizeBytes;
  }

  /**
   * Opens (and with `create`, creates) the file at `path`. With `truncate`
   * any existing content is dropped first.
   */
  static open(path: string, options: { create?: boolean; truncate?: boolean } = {}): Store {
    return storageCall(`open ${path}`, () => {
      const file = Deno.openSync(path, {
        read: true,
        append: true,
        create: options.create ?? true,
      });
      try {
        if (options.truncate) file.truncateSync(0);
        return new Store(path, file, file.statSync().size);
      } catch (err) {
        file.close();
        throw err;
      }
    });
  }

  /** Bytes in the file. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** False once {@linkcode Store.close} ran. */
  get isOpen(): boolean {
    return this.#file !== null;
  }

  /**
   * Appends `bytes` and returns the position they start at. A failed write
   * is cut back off, so the file never keeps half a write; if even that
   * fails the error says so.
   */
  append(bytes: Uint8Array): number {
    const file = this.#open();
    const position = this.#sizeBytes;
    try {
      let written = 0;
      while (written < bytes.length) {
        const n = file.writeSync(bytes.subarray(written));
        assert(n > 0, "writeSync makes progress");
        written += n;
      }
    } catch (err) {
      let restored = true;
      try {
        file.truncateSync(position);
      } catch {
        // The file may now end in half a write: close it so nothing appends after that.
        restored = false;
        this.close();
      }
      throw KaError.of(
        "KAFKA_STORAGE_ERROR",
        `Cannot append ${bytes.length} bytes to ${this.path}: ${messageOf(err)}${
          restored ? "" : " (and the partial write could not be cut off)"
        }`,
        { cause: err },
      );
    }
    this.#sizeBytes += bytes.length;
    return position;
  }

  /** Reads `length` bytes at `position`; both must lie within the file. */
  readAt(position: number, length: number): Uint8Array {
    const file = this.#open();
    if (position < 0 || length < 0 || position + length > this.#sizeBytes) {
      throw KaError.of(
        "KAFKA_STORAGE_ERROR",
        `Cannot read ${length} bytes at ${position} of ${this.path}: the file holds ${this.#sizeBytes}`,
      );
    }
    const out = new Uint8Array(length);
    storageCall(`read ${this.path}`, () => {
      file.seekSync(position, Deno.SeekMode.Start);
      let read = 0;
      while (read < length) {
        const n = file.readSync(out.subarray(read));
        if (n === null || n === 0) {
          throw new Error(`the file ended ${length - read} bytes early (changed underneath?)`);
        }
        read += n;
      }
    });
    return out;
  }

  /** Cuts the file to `sizeBytes` (no larger than now). */
  truncate(sizeBytes: number): void {
    const file = this.#open();
    assert(sizeBytes >= 0 && sizeBytes <= this.#sizeBytes, "truncate only shrinks");
    storageCall(`truncate ${this.path}`, () => file.truncateSync(sizeBytes));
    this.#sizeBytes = sizeBytes;
  }

  /** Forces the file's content to stable storage (fsync). */
  sync(): void {
    const file = this.#open();
    storageCall(`fsync ${this.path}`, () => file.syncSync());
  }

  /**
   * Forces the content to stable storage without blocking the event loop
   * (used when a segment rolls). Resolves with the error rather than
   * rejecting, so a caller may log it.
   */
  syncInBackground(): Promise<Error | null> {
    const file = this.#file;
    if (!file) return Promise.resolve(null);
    return file.sync().then(
      () => null,
      (err) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Closes the file; later calls throw `KAFKA_STORAGE_ERROR`. Idempotent. */
  close(): void {
    const file = this.#file;
    this.#file = null;
    if (file) {
      try {
        file.close();
      } catch {
        // Already closed underneath: nothing left to release.
      }
    }
  }

  #open(): Deno.FsFile {
    if (!this.#file) throw KaError.of("KAFKA_STORAGE_ERROR", `${this.path} is closed`);
    return this.#file;
  }
}

/**
 * Writes `bytes` to `path` whole or not at all: to a temporary file first,
 * then renamed over `path`. With `sync` (the default) the temporary file is
 * fsynced before the rename; without it a crash may leave an empty or short
 * file, which the reader must detect (index files are validated and rebuilt).
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: { sync?: boolean } = {},
): void {
  const tmp = `${path}.tmp`;
  storageCall(`write ${path}`, () => {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      if (options.sync ?? true) file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  });
}

/** Reads a whole file, or returns null when it does not exist. */
export function readFileIfExists(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw KaError.of("KAFKA_STORAGE_ERROR", `Cannot read ${path}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Removes a file; a file that is already gone is fine. */
export function removeIfExists(path: string, options: { recursive?: boolean } = {}): void {
  try {
    Deno.removeSync(path, options);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw KaError.of("KAFKA_STORAGE_ERROR", `Cannot remove ${path}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Runs `fn`, turning any I/O error into a `KAFKA_STORAGE_ERROR` about `what`. */
export function storageCall<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KaError) throw err;
    throw KaError.of("KAFKA_STORAGE_ERROR", `Cannot ${what}: ${messageOf(err)}`, { cause: err });
  }
}
