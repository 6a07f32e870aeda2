/**
 * The file-backed metadata journal: one JSON event a line, appended and
 * synced before the change is acknowledged. A torn last line (a crash
 * mid-write) is dropped on load; a corrupt line before it is an error.
 * @module
 */
import type { MetadataEvent, MetadataJournal } from "./store.ts";

/** Appends events to `path`, fsyncing each. */
export class FileJournal implements MetadataJournal {
  #path: string;
  #file: Deno.FsFile | null = null;
  #appended = 0;

  constructor(path: string) {
    this.#path = path;
  }

  load(): MetadataEvent[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.#path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    const lines = text.split("\n");
    const events: MetadataEvent[] = [];
    let goodChars = 0; // where line i starts: blank lines count too
    for (let i = 0; i < lines.length; goodChars += lines[i].length + 1, i++) {
      if (lines[i] === "") continue;
      const isLast = i === lines.length - 1; // no newline after it: the write was torn
      try {
        if (isLast) throw new Error("line has no newline");
        events.push(JSON.parse(lines[i]) as MetadataEvent);
      } catch (err) {
        if (isLast || lines.slice(i + 1).every((l) => l === "")) {
          // A torn write at the end: that change was never acknowledged. Cut it
          // off so later appends start on a clean line.
          Deno.truncateSync(this.#path, new TextEncoder().encode(text.slice(0, goodChars)).length);
          break;
        }
        throw new Error(
          `Corrupt metadata journal ${this.#path} at line ${i + 1}: ${(err as Error).message}`,
        );
      }
    }
    return events;
  }

  /** Events appended since the journal was opened or last compacted. */
  get appendedSinceCompaction(): number {
    return this.#appended;
  }

  /**
   * Replaces the journal with `events` — a snapshot of the state as the
   * fewest events that rebuild it. Written to a temporary file, fsynced and
   * renamed over the journal, so a crash leaves either the old journal or the
   * new one, never a mix.
   */
  compact(events: MetadataEvent[]): void {
    const tmp = `${this.#path}.compacting`;
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(events.map((e) => JSON.stringify(e) + "\n").join(""));
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    this.close();
    Deno.renameSync(tmp, this.#path);
    this.#appended = 0;
  }

  append(event: MetadataEvent): void {
    this.#appended++;
    this.#file ??= Deno.openSync(this.#path, { append: true, create: true });
    const bytes = new TextEncoder().encode(JSON.stringify(event) + "\n");
    const before = this.#file.statSync().size;
    try {
      let written = 0;
      while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
      this.#file.syncSync();
    } catch (err) {
      // A half-written line would make the next start refuse the journal: cut it off.
      try {
        this.#file.truncateSync(before);
      } catch { /* the error below says what went wrong */ }
      throw err;
    }
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
