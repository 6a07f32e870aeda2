/**
 * Tests of the dashboard's console source: the lines it sends and how it
 * turns the console's answers and failures into values and KaErrors.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { ConsoleConnectionError } from "@kafka-analog/lib/console";
import {
  ConsoleSource,
  type ConsoleTransport,
  serviceActionLine,
  topicCreateLine,
} from "./console_source.ts";

const TIMEOUTS = { readTimeoutMs: 100, actionTimeoutMs: 900 };

Deno.test("topicCreateLine() and serviceActionLine() write the console's own commands", () => {
  assert.equal(topicCreateLine({ name: "orders" }), "topic create orders");
  assert.equal(
    topicCreateLine({ name: "a.b", partitions: 4, replicationFactor: 3, retentionMs: -1 }),
    "topic create a.b --partitions 4 --replication-factor 3 --config retention.ms=-1",
  );
  assert.equal(serviceActionLine({ kind: "broker", id: 3 }, "restart"), "broker restart 3");
  assert.equal(serviceActionLine({ kind: "consumer" }, "stop"), "consumer stop");
});

Deno.test("ConsoleSource quotes group names and uses the action timeout for actions", async () => {
  const sent: [string, number][] = [];
  const transport: ConsoleTransport = (line, { timeoutMs }) => {
    sent.push([line, timeoutMs]);
    return Promise.resolve({ ok: true, text: "", json: { groups: [] } });
  };
  const source = new ConsoleSource(transport, TIMEOUTS);
  await source.group('my group "1"');
  await source.groups();
  await source.act({ kind: "broker", id: 1 }, "stop");
  assert.deepEqual(sent, [
    ['group describe "my group \\"1\\""', 100],
    ["group list", 100],
    ["broker stop 1", 900],
  ]);
});

Deno.test("ConsoleSource turns a command error into its KaError and a lost console into 503", async () => {
  const unknown = KaError.of("UNKNOWN_TOPIC_OR_PARTITION", "Unknown topic 'x'");
  const failing = new ConsoleSource(() =>
    Promise.resolve({
      ok: false,
      text: "error: ...",
      json: null,
      error: { code: unknown.code, error: unknown.errorName, message: unknown.message },
    }), TIMEOUTS);
  await assert.rejects(failing.topic("x"), (err) => {
    assert.ok(isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION"));
    assert.equal(err.message, "Unknown topic 'x'");
    assert.equal(err.httpStatus, 404);
    return true;
  });
  const gone = new ConsoleSource(
    () => Promise.reject(new ConsoleConnectionError("cannot reach the coordinator console")),
    TIMEOUTS,
  );
  await assert.rejects(gone.status(), (err) => {
    assert.ok(isKaError(err, "COORDINATOR_NOT_AVAILABLE"));
    assert.equal(err.httpStatus, 503);
    return true;
  });
  const none = new ConsoleSource(null, TIMEOUTS);
  await assert.rejects(none.brokers(), /--console host:port/);
});
