/**
 * Tests for the file-backed metadata journal in a temporary directory:
 * round trips, torn tails and corrupt lines.
 * @module
 */
import assert from "node:assert/strict";
import { FileJournal } from "./journal.ts";
import { type MetadataEvent, MetadataStore } from "./store.ts";

const CREATED: MetadataEvent = {
  type: "topic_created",
  topic: {
    name: "orders",
    configs: { "retention.ms": "1000" },
    partitions: [{ partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2], isr: [1, 2] }],
  },
};
const DELETED: MetadataEvent = { type: "topic_deleted", name: "orders" };
const CHANGED: MetadataEvent = {
  type: "partition_changed",
  topic: "orders",
  partition: 0,
  leader: 2,
  leaderEpoch: 1,
  replicas: [1, 2],
  isr: [2],
};

async function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "journal_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function lines(...events: MetadataEvent[]): string {
  return events.map((e) => JSON.stringify(e) + "\n").join("");
}

Deno.test("FileJournal.load() of a missing file is empty", async () => {
  await withTempDir((dir) => {
    assert.deepEqual(new FileJournal(`${dir}/metadata.log`).load(), []);
  });
});

Deno.test("FileJournal.append() then load() round-trips events, one JSON line each", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const journal = new FileJournal(path);
    journal.append(CREATED);
    journal.append(CHANGED);
    journal.append(DELETED);
    journal.close();
    assert.equal(Deno.readTextFileSync(path), lines(CREATED, CHANGED, DELETED));
    assert.deepEqual(new FileJournal(path).load(), [CREATED, CHANGED, DELETED]);
  });
});

Deno.test("FileJournal.append() after close() reopens and appends", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const journal = new FileJournal(path);
    journal.append(CREATED);
    journal.close();
    journal.close(); // twice is harmless
    journal.append(DELETED);
    journal.close();
    assert.deepEqual(new FileJournal(path).load(), [CREATED, DELETED]);
  });
});

Deno.test("FileJournal.load() drops a torn last line and truncates it so the next append is clean", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const good = lines(CREATED, CHANGED);
    const torn = JSON.stringify(DELETED).slice(0, 10);
    Deno.writeTextFileSync(path, good + torn);
    const journal = new FileJournal(path);
    assert.deepEqual(journal.load(), [CREATED, CHANGED]);
    assert.equal(Deno.readTextFileSync(path), good, "the torn bytes are cut off");
    journal.append(DELETED);
    journal.close();
    assert.deepEqual(new FileJournal(path).load(), [CREATED, CHANGED, DELETED]);
  });
});

Deno.test("FileJournal.load() drops a complete last line that lacks its newline", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    // The write of the newline never happened, so the change was never acknowledged.
    Deno.writeTextFileSync(path, lines(CREATED) + JSON.stringify(DELETED));
    assert.deepEqual(new FileJournal(path).load(), [CREATED]);
    assert.equal(Deno.readTextFileSync(path), lines(CREATED));
  });
});

Deno.test("FileJournal.load() treats a garbled last line (with newline) as torn", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    Deno.writeTextFileSync(path, lines(CREATED) + '{"type":"topic_del\n\n');
    assert.deepEqual(new FileJournal(path).load(), [CREATED]);
    assert.equal(Deno.readTextFileSync(path), lines(CREATED));
  });
});

Deno.test("FileJournal.load() keeps every good line when blank lines precede a torn tail", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const good = lines(CREATED) + "\n" + lines(CHANGED);
    Deno.writeTextFileSync(path, good + '{"ty');
    const journal = new FileJournal(path);
    assert.deepEqual(journal.load(), [CREATED, CHANGED]);
    assert.equal(Deno.readTextFileSync(path), good);
    journal.append(DELETED);
    journal.close();
    assert.deepEqual(new FileJournal(path).load(), [CREATED, CHANGED, DELETED]);
  });
});

Deno.test("FileJournal.load() cuts a torn tail after multi-byte characters at the right byte", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const unicode: MetadataEvent = {
      type: "topic_created",
      topic: { name: "t", configs: { "cleanup.policy": "ünïcødé ✓" }, partitions: [] },
    };
    const good = lines(unicode);
    // A torn write can even end inside a multi-byte character.
    const tornBytes = new TextEncoder().encode(JSON.stringify(unicode)).subarray(0, 40);
    const goodBytes = new TextEncoder().encode(good);
    const all = new Uint8Array(goodBytes.length + tornBytes.length);
    all.set(goodBytes);
    all.set(tornBytes, goodBytes.length);
    Deno.writeFileSync(path, all);
    assert.deepEqual(new FileJournal(path).load(), [unicode]);
    assert.deepEqual(Deno.readFileSync(path), goodBytes);
  });
});

Deno.test("FileJournal.load() fails on a corrupt line before the end", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const text = lines(CREATED) + "not json\n" + lines(DELETED);
    Deno.writeTextFileSync(path, text);
    assert.throws(() => new FileJournal(path).load(), /Corrupt metadata journal .* at line 2/);
    assert.equal(Deno.readTextFileSync(path), text, "a corrupt journal is left as found");
  });
});

Deno.test("MetadataStore over a FileJournal replays the same topics after a restart", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/metadata.log`;
    const first = new FileJournal(path);
    const store = new MetadataStore(first);
    store.createTopic(
      { name: "a", partitions: 4, replicationFactor: 2, configs: { "retention.ms": "5" } },
      [0, 1, 2],
    );
    store.createTopic({ name: "b", partitions: 1, replicationFactor: 1, configs: {} }, [0, 1, 2]);
    store.createTopic({ name: "c", partitions: 2, replicationFactor: 3, configs: {} }, [0, 1, 2]);
    store.deleteTopic("b");
    first.close();
    const second = new FileJournal(path);
    const replayed = new MetadataStore(second);
    second.close();
    assert.deepEqual(replayed.topics(), store.topics());
    assert.equal(replayed.version, store.version);
  });
});

Deno.test("FileJournal.compact() replaces the journal with a snapshot that rebuilds the same state", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/metadata.log`;
    const journal = new FileJournal(path);
    const store = new MetadataStore(journal);
    store.createTopic({ name: "t", partitions: 3, replicationFactor: 1, configs: {} }, [0, 1, 2]);
    for (let i = 0; i < 50; i++) {
      store.commitOffsets("g", [{
        topic: "t",
        partition: 0,
        offset: BigInt(i),
        metadata: null,
        commitTimestampMs: i,
      }]);
    }
    store.alterTopicConfigs("t", { "retention.ms": "1000" });
    assert.equal(journal.appendedSinceCompaction, 52);
    assert.equal(store.maybeCompact(100), false);
    assert.equal(store.maybeCompact(10), true);
    assert.equal(journal.appendedSinceCompaction, 0);
    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    assert.equal(lines.length, 2, "one topic event, one offsets event");
    journal.close();
    const reopened = new MetadataStore(new FileJournal(path));
    assert.deepEqual(reopened.topics(), store.topics());
    assert.deepEqual(reopened.committedOffsets(), store.committedOffsets());
    // Appends after a compaction go to the new file.
    reopened.deleteTopic("t");
    const again = new MetadataStore(new FileJournal(path));
    assert.deepEqual(again.topics(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
