/**
 * An exactly-once copier as its own process, for the transactions chaos
 * test: a consumer-group member of `--group` in exactly-once mode reads
 * `--in` (read_committed) and a transactional producer (`--transactional-id`)
 * copies every record to the same partition of `--out`, committing the
 * consumed offsets in the same transaction (`consumeTransformProduce`).
 *
 * It prints one JSON line per event on stdout: `ready` after
 * initTransactions (with its epoch), `committed` / `aborted` per transaction
 * (with the offsets it committed), `fenced` when a newer instance took over
 * (it then starts a new producer), and `closed`. It exits on SIGTERM or
 * stdin EOF after finishing the current transaction.
 *
 *     deno run --allow-net=127.0.0.1 test/_eos_worker.ts --bootstrap 127.0.0.1:22310 \
 *       --group copier --in in --out out --transactional-id copier-0
 * @module
 */
import { parseArgs } from "node:util";
import {
  consumeTransformProduce,
  createClient,
  isFatalTransactionError,
  type Producer,
} from "@kafka-analog/clients";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    bootstrap: { type: "string" },
    group: { type: "string" },
    in: { type: "string" },
    out: { type: "string" },
    "transactional-id": { type: "string" },
    "session-timeout-ms": { type: "string", default: "3000" },
    "max-bytes": { type: "string", default: "1" },
    // Chaos harness: tag each copy with its transaction (`<value>|w<pid>-t<n>`) and print
    // every transaction's output values, so aborted reads can be told from committed ones.
    tag: { type: "boolean", default: false },
  },
});
const client = createClient({
  bootstrap: values.bootstrap!.split(","),
  clientId: `eos-worker-${Deno.pid}`,
});
const print = (event: Record<string, unknown>) =>
  console.log(JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));

const controller = new AbortController();
const stop = () => controller.abort();
Deno.addSignalListener("SIGTERM", stop);
(async () => {
  const buf = new Uint8Array(64);
  while ((await Deno.stdin.read(buf)) !== null) { /* wait for EOF */ }
  stop();
})();

function newProducer(): Producer<Uint8Array | null, Uint8Array | null> {
  return client.producer<Uint8Array | null, Uint8Array | null>({
    transactionalId: values["transactional-id"]!,
    transactionTimeoutMs: 30_000,
    lingerMs: 2,
    retries: 100,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 500,
    maxBlockMs: 30_000,
  });
}

const consumer = client.groupConsumer({
  groupId: values.group!,
  delivery: "exactly-once",
  sessionTimeoutMs: Number(values["session-timeout-ms"]),
  heartbeatIntervalMs: 500,
  maxPollIntervalMs: 30_000,
  autoOffsetReset: "earliest",
  maxWaitMs: 200,
  // One batch per partition and poll (the broker always returns a whole batch): ~100 records.
  maxBytesPerPartition: Number(values["max-bytes"]),
});
consumer.subscribe([values.in!]);

const enc = new TextEncoder();
const dec = new TextDecoder();
let txnSeq = 0;
let txnValues: string[] = [];
const txnTag = () => `w${Deno.pid}-t${txnSeq}`;
/** The current transaction's tag and output values (with --tag), then the next transaction. */
function endTxn(): { txn?: string; values?: string[] } {
  const out = values.tag ? { txn: txnTag(), values: txnValues } : {};
  txnSeq++;
  txnValues = [];
  return out;
}

let exitCode = 0;
let producer = newProducer();
while (!controller.signal.aborted) {
  try {
    // Before the first poll: an older instance's transaction is finished (committed offsets
    // included) before this member reads the group's offsets.
    await producer.initTransactions();
    print({ event: "ready", epoch: producer.producerId?.producerEpoch ?? -1 });
    await consumeTransformProduce({
      consumer,
      producer,
      transform: (m) => {
        if (!values.tag) {
          return { topic: values.out!, partition: m.partition, key: m.key, value: m.value };
        }
        const tagged = `${dec.decode(m.value ?? new Uint8Array())}|${txnTag()}`;
        txnValues.push(tagged);
        return {
          topic: values.out!,
          partition: m.partition,
          key: m.key,
          value: enc.encode(tagged),
        };
      },
      signal: controller.signal,
      onTransaction: (o) =>
        print({
          event: o.committed ? "committed" : "aborted",
          inputCount: o.inputCount,
          offsets: o.offsets.map((x) => ({ partition: x.partition, offset: x.offset })),
          error: o.error === undefined ? undefined : String(o.error),
          ...endTxn(),
        }),
    });
  } catch (err) {
    if (!isFatalTransactionError(err)) {
      print({ event: "error", error: String(err) });
      exitCode = 1;
      break;
    }
    print({ event: "fenced", error: String(err), ...endTxn() });
    await producer.close().catch(() => {});
    producer = newProducer();
  }
}
await producer.close().catch(() => {});
await consumer.close();
await client.close();
print({ event: "closed" });
Deno.exit(exitCode);
