/**
 * A consumer-group member as its own process, for integration tests that
 * SIGKILL members: it joins `--group`, consumes `--topic`, and prints one
 * JSON line per event on stdout (`assigned` after every rebalance,
 * `consumed` per batch with the offsets it handled). It commits per the
 * chosen delivery mode and exits on SIGTERM or stdin EOF.
 *
 *     deno run --allow-net=127.0.0.1 test/_group_member.ts --bootstrap 127.0.0.1:21710 \
 *       --group g --topic t [--delivery at-least-once] [--session-timeout-ms 3000]
 * @module
 */
import { parseArgs } from "node:util";
import { createClient } from "@kafka-analog/clients";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    bootstrap: { type: "string" },
    group: { type: "string" },
    topic: { type: "string" },
    delivery: { type: "string", default: "at-least-once" },
    "session-timeout-ms": { type: "string", default: "3000" },
    "auto-offset-reset": { type: "string", default: "earliest" },
    "slow-ms": { type: "string", default: "0" },
    assignor: { type: "string", default: "range" },
    "max-bytes": { type: "string", default: "1048576" },
  },
});
const client = createClient({
  bootstrap: values.bootstrap!.split(","),
  clientId: `member-${Deno.pid}`,
});
const consumer = client.groupConsumer({
  groupId: values.group!,
  delivery: values.delivery as "at-least-once" | "at-most-once",
  sessionTimeoutMs: Number(values["session-timeout-ms"]),
  heartbeatIntervalMs: 500,
  autoCommitIntervalMs: 200,
  autoOffsetReset: values["auto-offset-reset"] as "earliest" | "latest",
  maxWaitMs: 200,
  maxBytesPerPartition: Number(values["max-bytes"]),
  assignors: [values.assignor as "range" | "roundrobin" | "sticky"],
});
consumer.subscribe([values.topic!]);
const controller = new AbortController();
const stop = () => controller.abort();
Deno.addSignalListener("SIGTERM", stop);
(async () => {
  const buf = new Uint8Array(64);
  while ((await Deno.stdin.read(buf)) !== null) { /* wait for EOF */ }
  stop();
})();
const print = (event: Record<string, unknown>) =>
  console.log(JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));
let generation = -2;
const slowMs = Number(values["slow-ms"]);
await consumer.run({
  signal: controller.signal,
  eachBatch: async (batch) => {
    if (consumer.generationId !== generation) {
      generation = consumer.generationId;
      print({
        event: "assigned",
        generation,
        memberId: consumer.memberId,
        assignment: consumer.assignment(),
      });
    }
    print({
      event: "consumed",
      topic: batch.topic,
      partition: batch.partition,
      offsets: batch.messages.map((m) => m.offset),
    });
    if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
  },
  onPoll: () => {
    if (consumer.generationId !== generation) {
      generation = consumer.generationId;
      print({
        event: "assigned",
        generation,
        memberId: consumer.memberId,
        assignment: consumer.assignment(),
      });
    }
  },
});
await client.close();
print({ event: "closed" });
Deno.exit(0);
