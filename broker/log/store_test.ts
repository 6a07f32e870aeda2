/**
 * Tests for the store, the bottom layer of the disk log: appends, positional
 * reads, truncation, reopening, and storage errors as typed KaErrors.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { readFileIfExists, removeIfExists, Store, writeFileAtomic } from "./store.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "store_test_" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("Store.append() returns each write's position and readAt() reads it back", () => {
  withDir((dir) => {
    const store = Store.open(`${dir}/a.log`);
    assert.equal(store.sizeBytes, 0);
    assert.equal(store.append(bytes(1, 2, 3)), 0);
    assert.equal(store.append(bytes(4, 5)), 3);
    assert.equal(store.sizeBytes, 5);
    assert.deepEqual(store.readAt(3, 2), bytes(4, 5));
    assert.deepEqual(store.readAt(1, 3), bytes(2, 3, 4));
    // Reads move the file position; appends still land at the end.
    assert.equal(store.append(bytes(6)), 5);
    assert.deepEqual(store.readAt(0, 6), bytes(1, 2, 3, 4, 5, 6));
    store.close();
  });
});

Deno.test("Store keeps its bytes across reopen, truncate() shrinks, open({truncate}) empties", () => {
  withDir((dir) => {
    const path = `${dir}/a.log`;
    const store = Store.open(path);
    store.append(bytes(1, 2, 3, 4));
    store.sync();
    store.close();
    const again = Store.open(path, { create: false });
    assert.equal(again.sizeBytes, 4);
    again.truncate(2);
    assert.equal(again.sizeBytes, 2);
    assert.equal(again.append(bytes(9)), 2);
    assert.deepEqual(again.readAt(0, 3), bytes(1, 2, 9));
    again.close();
    assert.deepEqual(Deno.readFileSync(path), bytes(1, 2, 9));
    const fresh = Store.open(path, { truncate: true });
    assert.equal(fresh.sizeBytes, 0);
    fresh.close();
  });
});

Deno.test("Store errors are KAFKA_STORAGE_ERROR: missing file, read past the end, closed", () => {
  withDir((dir) => {
    assert.throws(
      () => Store.open(`${dir}/missing.log`, { create: false }),
      (e) => isKaError(e, "KAFKA_STORAGE_ERROR") && e.message.includes("missing.log"),
    );
    const store = Store.open(`${dir}/a.log`);
    store.append(bytes(1, 2));
    assert.throws(() => store.readAt(1, 2), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    assert.throws(() => store.readAt(-1, 1), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    store.close();
    store.close(); // idempotent
    assert.equal(store.isOpen, false);
    assert.throws(() => store.append(bytes(3)), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
    assert.throws(() => store.readAt(0, 1), (e) => isKaError(e, "KAFKA_STORAGE_ERROR"));
  });
});

Deno.test("Store.syncInBackground() resolves null once synced", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "store_test_" });
  try {
    const store = Store.open(`${dir}/a.log`);
    store.append(bytes(1));
    assert.equal(await store.syncInBackground(), null);
    store.close();
    assert.equal(await store.syncInBackground(), null, "nothing to sync once closed");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() replaces a file whole; readFileIfExists() and removeIfExists() tolerate absence", () => {
  withDir((dir) => {
    const path = `${dir}/f`;
    assert.equal(readFileIfExists(path), null);
    writeFileAtomic(path, bytes(1, 2, 3));
    writeFileAtomic(path, bytes(4), { sync: false });
    assert.deepEqual(readFileIfExists(path), bytes(4));
    assert.equal(readFileIfExists(`${path}.tmp`), null, "no temporary file is left");
    removeIfExists(path);
    removeIfExists(path);
    assert.equal(readFileIfExists(path), null);
  });
});
