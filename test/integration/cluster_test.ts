/**
 * The foundation, end to end through real processes and sockets: a
 * 7-process cluster starts, a 10-partition topic takes 10,000 keyed messages
 * through the client library and gives every one back in order, the console
 * stops and starts a broker over TCP, permissions are scoped, and bad input
 * gets a coded error without hurting anyone.
 * @module
 */
import assert from "node:assert/strict";
import {
  ApiKey,
  decodeResponse,
  encodeRecordBatch,
  encodeRequest,
  ERRORS,
} from "@kafka-analog/lib/protocol";
import { FrameDecoder } from "@kafka-analog/lib/framing";
import { createClient, keyPartition } from "@kafka-analog/clients";
import { cmdline, pidAlive, ROOT, startCluster, type TestCluster, waitFor } from "../_cluster.ts";

const BASE_PORT = 21000;
const MESSAGES = 10_000;
const PARTITIONS = 10;

Deno.test({
  name: "cluster: topics, 10,000 keyed messages, console, permissions, bad input",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await startCluster(BASE_PORT);
    try {
      console.log(`cluster start-up: ${cluster.startupMs} ms`);
      await t.step("status shows 8 alive services", async () => {
        const answer = await cluster.console("status");
        assert.equal(answer.ok, true);
        const services = (answer.json as { services: { kind: string; state: string }[] }).services;
        assert.equal(services.length, 8);
        assert.deepEqual(
          services.map((s) => s.kind),
          ["coordinator", "broker", "broker", "broker", "broker", "broker", "producer", "consumer"],
        );
        assert.ok(services.every((s) => s.state === "alive"), JSON.stringify(services));
      });

      await t.step("10,000 keyed messages round-trip in order per partition", async () => {
        await roundTrip(cluster);
      });

      await t.step(
        "a client bootstrapped from the coordinator (8080) finds the leaders",
        async () => {
          const client = createClient({
            bootstrap: [`127.0.0.1:${cluster.ports.coordinator}`],
            clientId: "via-coordinator",
          });
          try {
            assert.deepEqual(await client.admin.listTopics(), ["events"]);
            const [meta] = await client.producer({ acks: 1 }).send("events", [{
              partition: 3,
              value: "via coordinator",
            }]);
            assert.equal(meta.partition, 3);
            const { messages } = await client.consumer().fetch({
              topic: "events",
              partition: 3,
              offset: meta.offset,
            });
            assert.equal(new TextDecoder().decode(messages[0].value!), "via coordinator");
          } finally {
            await client.close();
          }
        },
      );

      await t.step("leaders are spread: every broker leads 2 of 10", async () => {
        const answer = await cluster.console("topic describe events");
        const topic = answer.json as { partitions: { leader: number; replicas: number[] }[] };
        const led = new Map<number, number>();
        for (const p of topic.partitions) {
          led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
          assert.equal(new Set(p.replicas).size, 2);
          assert.equal(p.replicas[0], p.leader);
        }
        assert.deepEqual([...led.values()], [2, 2, 2, 2, 2]);
      });

      await t.step("broker stop 3 / start 3 over the TCP console", async () => {
        await brokerStopStart(cluster);
      });

      await t.step("each broker's permissions are scoped (from /proc/<pid>/cmdline)", async () => {
        await checkPermissions(cluster);
      });

      await t.step("a broker cannot write outside its data dir", async () => {
        await checkWriteScope(cluster);
      });

      await t.step(
        "bad input: CRC mismatch, unknown topic, oversized and garbage frames",
        async () => {
          await badInput(cluster);
        },
      );

      await t.step("writer gateway produces over HTTP; unknown topic is a 404", async () => {
        const base = `http://127.0.0.1:${cluster.ports.writer}`;
        const ok = await fetch(`${base}/api/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "events", key: "user-7", value: { n: 1 } }),
        });
        assert.equal(ok.status, 201);
        const body = await ok.json();
        assert.equal(body.topic, "events");
        assert.equal(body.partition, keyPartition(new TextEncoder().encode("user-7"), PARTITIONS));
        assert.equal(typeof body.offset, "number");
        const missing = await fetch(`${base}/api/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "no-such-topic", value: "x" }),
        });
        assert.equal(missing.status, 404);
        assert.equal((await missing.json()).error.name, "UNKNOWN_TOPIC_OR_PARTITION");
        const bad = await fetch(`${base}/api/v1/messages`, { method: "POST", body: "{not json" });
        assert.equal(bad.status, 400);
        await bad.body?.cancel();
      });
    } finally {
      await cluster.stop();
    }
  },
});

async function roundTrip(cluster: TestCluster): Promise<void> {
  const client = cluster.client();
  const created = await client.admin.createTopic({
    name: "events",
    partitions: PARTITIONS,
    replicationFactor: 2,
  });
  assert.equal(created.partitions.length, PARTITIONS);
  const producer = client.producer({ acks: 1, lingerMs: 5 });
  const started = performance.now();
  const sends = [];
  for (let i = 0; i < MESSAGES; i++) {
    sends.push(producer.send("events", [{ key: `key-${i % 500}`, value: `value-${i}` }]));
  }
  const results = (await Promise.all(sends)).flat();
  const produceMs = performance.now() - started;
  console.log(
    `produced ${MESSAGES} messages (acks=1, ~16 B values, linger 5 ms) in ${
      produceMs.toFixed(0)
    } ms: ${(MESSAGES / produceMs * 1000).toFixed(0)} msg/s`,
  );
  // Key → partition is murmur2, the same as Kafka's default partitioner.
  const expectedByPartition = new Map<number, string[]>();
  results.forEach((meta, i) => {
    assert.equal(
      meta.partition,
      keyPartition(new TextEncoder().encode(`key-${i % 500}`), PARTITIONS),
    );
    const list = expectedByPartition.get(meta.partition) ?? [];
    list.push(`value-${i}`);
    expectedByPartition.set(meta.partition, list);
  });
  const reader = client.consumer();
  const readStarted = performance.now();
  let total = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const seen: string[] = [];
    let offset = 0n;
    for (
      let round = 0;
      round < 1000 && seen.length < (expectedByPartition.get(partition)?.length ?? 0);
      round++
    ) {
      const { messages, nextOffset } = await reader.fetch({
        topic: "events",
        partition,
        offset,
        maxWaitMs: 100,
      });
      for (const m of messages) {
        assert.equal(m.offset, offset + BigInt(seen.length - Number(offset)), "offsets are dense");
        seen.push(new TextDecoder().decode(m.value!));
      }
      offset = nextOffset;
    }
    // Per key, order is the send order; the whole partition is in offset order, which is send order here.
    assert.deepEqual(seen, expectedByPartition.get(partition) ?? []);
    total += seen.length;
  }
  const readMs = performance.now() - readStarted;
  console.log(
    `read back ${total} messages in ${readMs.toFixed(0)} ms: ${
      (total / readMs * 1000).toFixed(0)
    } msg/s`,
  );
  assert.equal(total, MESSAGES);
  assert.equal(await reader.listOffset("events", 0, "earliest"), 0n);
  assert.equal(
    await reader.listOffset("events", 0, "latest"),
    BigInt(expectedByPartition.get(0)?.length ?? 0),
  );
}

async function brokerStopStart(cluster: TestCluster): Promise<void> {
  const stateOf = async (id: number) => {
    const answer = await cluster.console("status");
    const services =
      (answer.json as { services: { kind: string; id: number; state: string; pid: number }[] })
        .services;
    return services.find((s) => s.kind === "broker" && s.id === id)!;
  };
  const before = await stateOf(3);
  assert.equal(before.state, "alive");
  const stop = await cluster.console("broker stop 3");
  assert.equal(stop.ok, true, stop.text);
  assert.equal((await stateOf(3)).state, "stopped");
  const gone = await waitFor(() => !pidAlive(before.pid), 10_000);
  assert.ok(gone, `broker 3 (pid ${before.pid}) still running after stop`);
  // The metadata no longer offers broker 3.
  const client = cluster.client();
  await client.cluster.refresh();
  assert.ok(!client.cluster.brokers().some((b) => b.nodeId === 3));
  const bad = await cluster.console("broker stop 99");
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.error, "UNKNOWN_BROKER");
  const start = await cluster.console("broker start 3");
  assert.equal(start.ok, true, start.text);
  const after = await stateOf(3);
  assert.equal(after.state, "alive");
  assert.notEqual(after.pid, before.pid);
  await client.cluster.refresh();
  assert.ok(client.cluster.brokers().some((b) => b.nodeId === 3));
}

async function brokerPids(cluster: TestCluster): Promise<Map<number, number>> {
  const answer = await cluster.console("status");
  const services =
    (answer.json as { services: { kind: string; id: number; pid: number }[] }).services;
  return new Map(services.filter((s) => s.kind === "broker").map((s) => [s.id, s.pid]));
}

async function checkPermissions(cluster: TestCluster): Promise<void> {
  for (const [id, pid] of await brokerPids(cluster)) {
    const args = cmdline(pid);
    const flags = args.filter((a) => a.startsWith("--allow") || a === "-A");
    const dataDir = `${cluster.dir}/data/broker-${id}`;
    assert.deepEqual(flags.filter((f) => !f.startsWith("--allow-net=")).sort(), [
      `--allow-read=${dataDir}`,
      `--allow-write=${dataDir}`,
    ]);
    const net = flags.find((f) => f.startsWith("--allow-net="))!.slice("--allow-net=".length).split(
      ",",
    );
    assert.ok(
      net.includes(`127.0.0.1:${cluster.ports.brokerBase + id}`),
      "may listen on its own port",
    );
    assert.ok(net.includes(`127.0.0.1:${cluster.ports.coordinator}`), "may reach the coordinator");
    assert.equal(net.length, 1 + 1 + 4, `own port, coordinator, 4 peers: ${net}`);
    for (
      const banned of [
        "-A",
        "--allow-all",
        "--allow-run",
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
      ]
    ) {
      assert.ok(
        !args.some((a) => a === banned || a.startsWith(`${banned}=`)),
        `${banned} must not be granted`,
      );
    }
  }
}

async function checkWriteScope(cluster: TestCluster): Promise<void> {
  const pid = (await brokerPids(cluster)).get(1)!;
  const flags = cmdline(pid).filter((a) => a.startsWith("--allow"));
  const dataDir = `${cluster.dir}/data/broker-1`;
  const outside = `${cluster.dir}/data/broker-2/intruder.txt`;
  const probe = `${cluster.dir}/probe.ts`;
  await Deno.writeTextFile(
    probe,
    `const results = {};
for (const [name, path] of [["inside", ${JSON.stringify(`${dataDir}/ok.txt`)}], ["outside", ${
      JSON.stringify(outside)
    }], ["root", ${JSON.stringify(`${ROOT}/intruder.txt`)}]]) {
  try { Deno.writeTextFileSync(path, "x"); results[name] = "written"; } catch (e) { results[name] = e.name; }
}
console.log(JSON.stringify(results));`,
  );
  // Same permission flags the coordinator gave broker 1, running a probe instead of the broker.
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--quiet", ...flags, probe],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(success);
  const results = JSON.parse(new TextDecoder().decode(stdout));
  assert.deepEqual(results, { inside: "written", outside: "NotCapable", root: "NotCapable" });
}

async function badInput(cluster: TestCluster): Promise<void> {
  const leaderOf0 =
    ((await cluster.console("topic describe events")).json as { partitions: { leader: number }[] })
      .partitions[0].leader;
  const address = { hostname: "127.0.0.1", port: cluster.ports.brokerBase + leaderOf0 };
  const conn = await Deno.connect(address);
  const decoder = new FrameDecoder();
  const roundtrip = async <K extends 0>(
    apiKey: K,
    body: Parameters<typeof encodeRequest<K>>[1],
  ) => {
    await conn.write(
      encodeRequest({ apiKey, apiVersion: 8, correlationId: 7, clientId: "t" }, body),
    );
    const buf = new Uint8Array(65536);
    for (let i = 0; i < 100; i++) {
      const n = await conn.read(buf);
      assert.ok(n !== null, "broker closed the connection");
      const frames = decoder.push(buf.subarray(0, n));
      if (frames.length > 0) return decodeResponse(ApiKey.Produce, 8, frames[0]).body;
    }
    throw new Error("no response");
  };
  // A batch whose CRC does not match its bytes.
  const batch = encodeRecordBatch([{ value: new TextEncoder().encode("hello") }], {
    timestamp: Date.now(),
  });
  batch[batch.length - 1] ^= 0xff;
  const corrupt = await roundtrip(ApiKey.Produce, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: "events", partitionData: [{ index: 0, records: batch }] }],
  });
  assert.equal(corrupt.responses[0].partitionResponses[0].errorCode, ERRORS.CORRUPT_MESSAGE.code);
  const unknown = await roundtrip(ApiKey.Produce, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: "nope", partitionData: [{ index: 0, records: batch }] }],
  });
  assert.equal(
    unknown.responses[0].partitionResponses[0].errorCode,
    ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
  );
  conn.close();
  // A frame that claims 2 GiB, and one of garbage: the broker drops that connection and lives on.
  for (
    const evil of [
      new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]),
      new Uint8Array([0, 0, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9]),
    ]
  ) {
    const c = await Deno.connect(address);
    await c.write(evil);
    const n = await c.read(new Uint8Array(16)).catch(() => null);
    assert.equal(n, null, "the broker closes a connection that sent a bad frame");
    c.close();
  }
  const client = cluster.client();
  const [meta] = await client.producer({ acks: 1 }).send("events", [{
    partition: 0,
    value: "still alive",
  }]);
  assert.equal(meta.partition, 0);
}
