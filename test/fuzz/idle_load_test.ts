/**
 * Load of useless connections against one broker: 1,000 idle connections
 * plus 200 slow ones (each declares a 100 MB frame and trickles a byte a
 * second). Meanwhile a normal producer sends with acks=all: it must see no
 * error, the broker's RSS must grow by less than 100 MB, the slow
 * connections must be dropped at `limits.request_timeout_ms` (10 s here) and
 * the idle ones kept (the idle timeout is 10 minutes).
 *
 * Open files: the connections are held by a helper process
 * (`_load_clients.ts`) and the cluster runs under `sh -c 'ulimit -n N'`, so
 * neither depends on the test runner's limit. When the hard limit is too low
 * for 1,200 connections, the counts are scaled down to fit and the test says
 * so in its output.
 * @module
 */
import assert from "node:assert/strict";
import { createClient } from "@kafka-analog/clients";
import { openFilesLimits, ROOT, rssBytes, startCluster } from "../_cluster.ts";

const BASE_PORT = 22960;
const IDLE = 1000;
const SLOW = 200;
const REQUEST_TIMEOUT_MS = 10_000;
const RSS_GROWTH_MAX_BYTES = 100 * 1024 * 1024;

/** Reads JSON lines from the helper's stdout. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line.startsWith("{")) yield JSON.parse(line);
    }
  }
}

Deno.test({
  name: "1,000 idle and 200 slow connections: a producer sees no error, broker RSS grows < 100 MB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { soft, hard } = openFilesLimits();
    // Each side needs one descriptor per connection, plus ~200 for Deno itself.
    const wanted = IDLE + SLOW + 300;
    const openFiles = Math.min(hard, Math.max(soft, 4096));
    const scale = Math.min(1, (openFiles - 300) / (IDLE + SLOW));
    const idle = Math.floor(IDLE * scale);
    const slow = Math.floor(SLOW * scale);
    console.log(
      `open files: soft ${soft}, hard ${hard}; cluster and helper run with ulimit -n ${openFiles}` +
        (scale < 1 ? ` — too low for ${wanted}: scaled to ${idle} idle + ${slow} slow` : ""),
    );
    const cluster = await startCluster(BASE_PORT, {
      brokers: 1,
      openFiles,
      stopTimeoutMs: 15_000,
      brokerConfig: { connections_max: 4096 },
      yaml: [
        "topics:",
        "  replication_factor: 1",
        "limits:",
        "  connections_per_ip_max: 4096",
        `  request_timeout_ms: ${REQUEST_TIMEOUT_MS}`,
      ],
    });
    const client = createClient({ bootstrap: cluster.brokerAddresses, clientId: "load" });
    let helper: Deno.ChildProcess | null = null;
    try {
      const brokerPid = (await cluster.services()).find((s) => s.kind === "broker")!.pid;
      await client.admin.createTopic({ name: "load", partitions: 4, replicationFactor: 1 });
      const producer = client.producer({ acks: "all", lingerMs: 1 });
      const value = "x".repeat(100);
      let sent = 0;
      let errors = 0;
      const produceFor = async (ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          try {
            await producer.send(
              "load",
              Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value })),
            );
            sent += 10;
          } catch (err) {
            errors++;
            console.log(`producer error: ${err}`);
          }
        }
      };
      await produceFor(2_000); // warm up before the baseline
      const baseline = rssBytes(brokerPid)!;
      const deno = Deno.execPath();
      const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
      helper = new Deno.Command("sh", {
        args: [
          "-c",
          `ulimit -n ${openFiles} && exec ${
            [
              deno,
              "run",
              "--quiet",
              "--allow-net=127.0.0.1",
              `${ROOT}/test/fuzz/_load_clients.ts`,
              "--port",
              String(cluster.ports.brokerBase),
              "--idle",
              String(idle),
              "--slow",
              String(slow),
              "--duration-ms",
              String(REQUEST_TIMEOUT_MS + 8_000),
            ].map(quote).join(" ")
          }`,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
        env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
      }).spawn();
      const lines = jsonLines(helper.stdout);
      const ready = (await lines.next()).value as { ready: boolean; idle: number; slow: number };
      assert.deepEqual(ready, { ready: true, idle, slow });
      await new Promise((r) => setTimeout(r, 1_000));
      const withConnections = rssBytes(brokerPid)!;
      let peak = withConnections;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssBytes(brokerPid) ?? 0);
      }, 250);
      const sentBefore = sent;
      await produceFor(REQUEST_TIMEOUT_MS + 3_000);
      clearInterval(sampler);
      peak = Math.max(peak, rssBytes(brokerPid)!);
      const report = (await lines.next()).value as {
        idleOpen: number;
        idleClosedAfterMs: number[];
        slowOpen: number;
        slowClosedAfterMs: number[];
      };
      await helper.status;
      helper = null;
      const growth = peak - baseline;
      const slowTimes = report.slowClosedAfterMs.sort((a, b) => a - b);
      console.log(
        `produced ${sent - sentBefore} messages under load (${sent} in all), ${errors} errors; ` +
          `broker RSS ${(baseline / 2 ** 20).toFixed(1)} MB -> ${
            (withConnections / 2 ** 20).toFixed(1)
          } MB with the connections open -> peak under load ${
            (peak / 2 ** 20).toFixed(1)
          } MB (growth ${(growth / 2 ** 20).toFixed(1)} MB); ` +
          `idle still open ${report.idleOpen}/${idle}; slow dropped ${slowTimes.length}/${slow} ` +
          `${slowTimes[0]}..${slowTimes.at(-1)} ms after their header`,
      );
      assert.equal(errors, 0, "the producer saw no error");
      assert.ok(sent - sentBefore > 0);
      assert.ok(growth < RSS_GROWTH_MAX_BYTES, `RSS grew ${growth} bytes`);
      assert.equal(report.idleOpen, idle, "idle connections are kept (idle timeout 10 min)");
      assert.equal(report.slowOpen, 0, "every slow connection was dropped");
      // Dropped at the request timeout (plus the sweep tick and a busy machine), not before.
      assert.ok(slowTimes[0] >= REQUEST_TIMEOUT_MS - 100, `first slow drop at ${slowTimes[0]} ms`);
      assert.equal(
        cluster.childLogs().match(/TypeError|RangeError|unexpected error/g),
        null,
      );
    } finally {
      if (helper) {
        await helper.stdin.close().catch(() => {});
        await helper.status;
      }
      await client.close();
      await cluster.stop();
    }
  },
});
