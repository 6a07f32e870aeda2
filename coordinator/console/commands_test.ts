/**
 * Tests of the console command table: parsing every command and the bad
 * inputs, running commands against a fake backend (text and JSON), and tab
 * completion.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  answerLine,
  type Command,
  COMMANDS,
  completeLine,
  executeCommand,
  formatError,
  parseCommand,
  refreshGroupNames,
  usageOf,
} from "./commands.ts";
import { createFakeBackend } from "./_fake_backend.ts";
import { formatUptime, renderGroup } from "./render.ts";

Deno.test("parseCommand() parses every command", () => {
  const cases: [string, Command][] = [
    ["status", { kind: "status" }],
    ["  status  ", { kind: "status" }],
    ["broker list", { kind: "brokerList" }],
    ["broker stop 1", { kind: "brokerAction", action: "stop", brokerId: 1 }],
    ["broker start 0", { kind: "brokerAction", action: "start", brokerId: 0 }],
    ["broker restart 12", { kind: "brokerAction", action: "restart", brokerId: 12 }],
    ["producer stop", { kind: "gatewayAction", gateway: "producer", action: "stop" }],
    ["producer start", { kind: "gatewayAction", gateway: "producer", action: "start" }],
    ["producer restart", { kind: "gatewayAction", gateway: "producer", action: "restart" }],
    ["consumer stop", { kind: "gatewayAction", gateway: "consumer", action: "stop" }],
    ["consumer start", { kind: "gatewayAction", gateway: "consumer", action: "start" }],
    ["consumer restart", { kind: "gatewayAction", gateway: "consumer", action: "restart" }],
    ["restart all", { kind: "restartAll" }],
    ["topic create t", { kind: "topicCreate", name: "t", configs: {} }],
    [
      "topic create my.topic_1-x --partitions 6 --replication-factor 3 --config retention.ms=100 --config cleanup.policy=compact",
      {
        kind: "topicCreate",
        name: "my.topic_1-x",
        partitions: 6,
        replicationFactor: 3,
        configs: { "retention.ms": "100", "cleanup.policy": "compact" },
      },
    ],
    [
      "topic create t --partitions=10000 --config=a.b= --replication-factor=1",
      {
        kind: "topicCreate",
        name: "t",
        partitions: 10000,
        replicationFactor: 1,
        configs: { "a.b": "" },
      },
    ],
    [
      `topic create t --config "note=a b=c"`,
      { kind: "topicCreate", name: "t", configs: { note: "a b=c" } },
    ],
    ["topic list", { kind: "topicList" }],
    ["topic describe orders", { kind: "topicDescribe", name: "orders" }],
    ["topic delete orders", { kind: "topicDelete", name: "orders" }],
    ["group list", { kind: "groupList" }],
    ["group describe billing", { kind: "groupDescribe", name: "billing" }],
    [`group describe "my group"`, { kind: "groupDescribe", name: "my group" }],
    [
      "group reset audit --topic orders --to earliest",
      { kind: "groupReset", name: "audit", topic: "orders", to: "earliest" },
    ],
    [
      "group delete audit",
      { kind: "groupDelete", name: "audit" },
    ],
    [
      "group reset audit --to latest --topic orders",
      { kind: "groupReset", name: "audit", topic: "orders", to: "latest" },
    ],
    [
      "group reset audit --topic=orders --to=0",
      { kind: "groupReset", name: "audit", topic: "orders", to: 0n },
    ],
    [
      "group reset audit --topic orders --to 9223372036854775807",
      { kind: "groupReset", name: "audit", topic: "orders", to: 9_223_372_036_854_775_807n },
    ],
    ["help", { kind: "help", words: [] }],
    ["help topic", { kind: "help", words: ["topic"] }],
    ["help broker stop", { kind: "help", words: ["broker", "stop"] }],
    ["quit", { kind: "quit" }],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(parseCommand(line), expected, line);
  }
});

function assertInvalid(line: string, ...fragments: string[]): void {
  assert.throws(
    () => parseCommand(line),
    (err: unknown) => {
      assert.ok(isKaError(err, "INVALID_COMMAND"), `${line}: ${String(err)}`);
      for (const fragment of fragments) {
        assert.ok(err.message.includes(fragment), `${line}: '${err.message}' lacks '${fragment}'`);
      }
      return true;
    },
    line,
  );
}

Deno.test("parseCommand() rejects bad input with INVALID_COMMAND, what was wrong and the usage", () => {
  assertInvalid("", "Empty command");
  assertInvalid("   \t ", "Empty command");
  assertInvalid("frobnicate", "Unknown command 'frobnicate'", "help");
  assertInvalid("broker", "Missing subcommand for 'broker'", "broker list | broker stop N");
  assertInvalid("broker nuke 1", "Unknown subcommand 'nuke'", "broker restart N");
  assertInvalid("restart", "Missing subcommand", "usage: restart all");
  assertInvalid("topic", "Missing subcommand", "topic describe NAME");
  assertInvalid("status now", "Unexpected argument 'now'", "usage: status");
  assertInvalid("broker list 1", "Unexpected argument '1'");
  assertInvalid("producer stop 1", "Unexpected argument '1'", "usage: producer stop");
  assertInvalid("restart all now", "Unexpected argument 'now'");
  assertInvalid("quit now", "Unexpected argument");
  assertInvalid("broker stop", "Missing broker id", "usage: broker stop N");
  assertInvalid("broker stop x", "Invalid broker id 'x'", "integer");
  assertInvalid("broker stop -1", "Invalid broker id '-1'");
  assertInvalid("broker stop 1.5", "Invalid broker id '1.5'");
  assertInvalid("broker stop 1e3", "Invalid broker id '1e3'");
  assertInvalid("broker stop 99999999999", "Invalid broker id");
  assertInvalid("broker restart 1 2", "Unexpected argument '2'");
  assertInvalid("topic create", "Missing topic name", "usage: topic create NAME");
  assertInvalid("topic create --partitions 3", "Missing topic name");
  assertInvalid("topic create bad/name", "Invalid topic name 'bad/name'");
  assertInvalid("topic create ..", "Invalid topic name");
  assertInvalid(`topic create ${"x".repeat(250)}`, "Invalid topic name");
  assertInvalid("topic create t --partitions 0", "Invalid partition count '0'", "1 to 10000");
  assertInvalid("topic create t --partitions 10001", "Invalid partition count '10001'");
  assertInvalid("topic create t --partitions abc", "Invalid partition count 'abc'");
  assertInvalid("topic create t --partitions", "Missing value for '--partitions'");
  assertInvalid("topic create t --partitions 1 --partitions 2", "'--partitions' given twice");
  assertInvalid("topic create t --replication-factor 0", "Invalid replication factor '0'");
  assertInvalid("topic create t --config", "Missing value for '--config'");
  assertInvalid("topic create t --config novalue", "Invalid config 'novalue'", "key=value");
  assertInvalid("topic create t --config =v", "Invalid config '=v'");
  assertInvalid("topic create t --config a=1 --config a=2", "Config 'a' given twice");
  assertInvalid("topic create t --replicas 2", "Unknown option '--replicas'");
  assertInvalid("topic create t extra", "Unexpected argument 'extra'");
  assertInvalid("topic describe", "Missing topic name", "usage: topic describe NAME");
  assertInvalid("topic delete a b", "Unexpected argument 'b'");
  assertInvalid("help nothing", "No command starts with 'nothing'");
  assertInvalid(
    "group",
    "Missing subcommand",
    "group list | group describe NAME | group reset NAME --topic T --to earliest|latest|OFFSET | group delete NAME",
  );
  assertInvalid("group delete", "Missing group name", "usage: group delete NAME");
  assertInvalid("group delete a b", "Unexpected argument 'b'");
  assertInvalid("group lsit", "Unknown subcommand 'lsit'", "group list");
  assertInvalid("group list billing", "Unexpected argument 'billing'", "usage: group list");
  assertInvalid("group describe", "Missing group name", "usage: group describe NAME");
  assertInvalid(`group describe ""`, "Invalid group name", "1 to 32767 bytes");
  assertInvalid(`group describe ${"g".repeat(32_768)}`, "Invalid group name");
  assertInvalid("group describe a b", "Unexpected argument 'b'");
  const resetUsage = "usage: group reset NAME --topic T --to earliest|latest|OFFSET";
  assertInvalid("group reset", "Missing group name", resetUsage);
  assertInvalid("group reset --topic orders --to latest", "Missing group name", resetUsage);
  assertInvalid("group reset g", "Missing '--topic'", resetUsage);
  assertInvalid("group reset g --to latest", "Missing '--topic'");
  assertInvalid("group reset g --topic orders", "Missing '--to'", resetUsage);
  assertInvalid("group reset g --topic orders --to", "Missing value for '--to'");
  assertInvalid("group reset g --to latest --topic", "Missing value for '--topic'");
  assertInvalid("group reset g --topic --to latest", "Missing topic name");
  assertInvalid("group reset g --topic bad/t --to latest", "Invalid topic name 'bad/t'");
  assertInvalid("group reset g --topic t --to newest", "Invalid reset target 'newest'", resetUsage);
  assertInvalid("group reset g --topic t --to -1", "Invalid reset target '-1'");
  assertInvalid("group reset g --topic t --to 1.5", "Invalid reset target '1.5'");
  assertInvalid("group reset g --topic t --to 1e3", "Invalid reset target '1e3'");
  assertInvalid("group reset g --topic t --to ''", "Invalid reset target ''");
  assertInvalid("group reset g --topic t --to 9223372036854775808", "Invalid reset target");
  assertInvalid("group reset g --topic t --to 12345678901234567890", "Invalid reset target");
  assertInvalid("group reset g --topic t --topic u --to 0", "'--topic' given twice");
  assertInvalid("group reset g --topic t --to 0 --to=1", "'--to' given twice");
  assertInvalid("group reset g --topic t --to 0 --force", "Unknown option '--force'");
  assertInvalid("group reset g extra --topic t --to 0", "Unexpected argument 'extra'");
  assertInvalid(`topic create "t`, "Unclosed double quote");
  assertInvalid("topic create 't", "Unclosed single quote");
});

Deno.test("executeCommand() status: table text and the public JSON shape", async () => {
  const backend = createFakeBackend();
  backend.brokers.set(2, "dead");
  const result = await executeCommand(parseCommand("status"), backend);
  const json = result.json as { services: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(json), ["services"]);
  assert.equal(json.services.length, 6);
  for (const s of json.services) {
    assert.deepEqual(Object.keys(s).sort(), ["id", "kind", "pid", "port", "state", "uptimeMs"]);
  }
  assert.deepEqual(json.services[0], {
    kind: "coordinator",
    id: 0,
    pid: 100,
    port: 8080,
    state: "alive",
    uptimeMs: 3_723_000,
  });
  assert.match(result.text, /KIND\s*│\s*ID\s*│\s*PID\s*│\s*PORT\s*│\s*STATE\s*│\s*UPTIME/);
  assert.match(
    result.text,
    /coordinator\s*│\s*0\s*│\s*100\s*│\s*8080\s*│\s*alive\s*│\s*1h 02m 03s/,
  );
  assert.match(result.text, /broker\s*│\s*2\s*│\s*-\s*│\s*9093\s*│\s*dead\s*│\s*-/);
  assert.equal(result.quit, undefined);
});

Deno.test("executeCommand() broker list and broker actions", async () => {
  const backend = createFakeBackend();
  const list = await executeCommand(parseCommand("broker list"), backend);
  const brokers = (list.json as { brokers: { id: number; partitionsLed: number }[] }).brokers;
  assert.deepEqual(brokers.map((b) => [b.id, b.partitionsLed]), [[1, 1], [2, 1], [3, 0]]);
  assert.match(list.text, /LEADER FOR/);

  const stop = await executeCommand(parseCommand("broker stop 2"), backend);
  assert.deepEqual(stop.json, { ok: true, action: "stop", broker: 2 });
  assert.equal(stop.text, "Broker 2: stopped.");
  assert.equal(backend.brokers.get(2), "stopped");
  await executeCommand(parseCommand("broker start 2"), backend);
  await executeCommand(parseCommand("broker restart 3"), backend);
  assert.deepEqual(backend.calls.slice(-3), ["brokerStop 2", "brokerStart 2", "brokerRestart 3"]);

  await assert.rejects(
    executeCommand(parseCommand("broker stop 9"), backend),
    (err: unknown) => isKaError(err, "UNKNOWN_BROKER"),
  );
});

Deno.test("executeCommand() gateways, restart all and quit", async () => {
  const backend = createFakeBackend();
  const stop = await executeCommand(parseCommand("producer stop"), backend);
  assert.deepEqual(stop.json, { ok: true, action: "stop", service: "producer" });
  assert.equal(stop.text, "The producer gateway: stopped.");
  await executeCommand(parseCommand("consumer start"), backend);
  await executeCommand(parseCommand("consumer restart"), backend);
  await executeCommand(parseCommand("producer start"), backend);
  const all = await executeCommand(parseCommand("restart all"), backend);
  assert.deepEqual(all.json, { ok: true, action: "restart all" });
  assert.deepEqual(backend.calls, [
    "gatewayStop producer",
    "gatewayStart consumer",
    "gatewayRestart consumer",
    "gatewayStart producer",
    "restartAll",
  ]);
  const quit = await executeCommand(parseCommand("quit"), backend);
  assert.equal(quit.quit, true);
  assert.equal(quit.text, "bye");
  assert.equal(backend.shutDown, false, "executeCommand leaves shutdown to the caller");
});

Deno.test("executeCommand() topic create, list, describe, delete", async () => {
  const backend = createFakeBackend();
  const created = await executeCommand(
    parseCommand("topic create events --partitions 3 --replication-factor 2 --config a=b"),
    backend,
  );
  assert.deepEqual(
    backend.calls.at(-1),
    `topicCreate ${
      JSON.stringify({ name: "events", configs: { a: "b" }, partitions: 3, replicationFactor: 2 })
    }`,
  );
  const createdJson = created.json as { ok: boolean; topic: { name: string } };
  assert.equal(createdJson.ok, true);
  assert.equal(createdJson.topic.name, "events");
  assert.match(created.text, /Created topic 'events' with 3 partition\(s\), replication factor 2/);

  await executeCommand(parseCommand("topic create defaults"), backend);
  assert.equal(
    backend.calls.at(-1),
    `topicCreate ${JSON.stringify({ name: "defaults", configs: {} })}`,
  );

  const list = await executeCommand(parseCommand("topic list"), backend);
  assert.deepEqual(list.json, {
    topics: [
      { name: "orders", partitions: 2, replicationFactor: 2 },
      { name: "events", partitions: 3, replicationFactor: 2 },
      { name: "defaults", partitions: 3, replicationFactor: 2 },
    ],
  });
  assert.match(list.text, /events\s*│\s*3\s*│\s*2/);

  const describe = await executeCommand(parseCommand("topic describe orders"), backend);
  assert.deepEqual(describe.json, {
    name: "orders",
    partitions: [
      { partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2], leaderEpoch: 0 },
      { partition: 1, leader: 2, replicas: [2, 3], isr: [2, 3], leaderEpoch: 0 },
    ],
    configs: { "retention.ms": "1000" },
  });
  assert.match(
    describe.text,
    /Topic: orders {2}Partitions: 2 {2}ReplicationFactor: 2 {2}Configs: retention.ms=1000/,
  );
  assert.match(describe.text, /1\s*│\s*2\s*│\s*2,3\s*│\s*2,3\s*│\s*0/);

  const deleted = await executeCommand(parseCommand("topic delete orders"), backend);
  assert.deepEqual(deleted.json, { ok: true, action: "topic delete", topic: "orders" });
  await assert.rejects(
    executeCommand(parseCommand("topic describe orders"), backend),
    (err: unknown) => isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
  backend.topics.clear();
  assert.equal((await executeCommand(parseCommand("topic list"), backend)).text, "No topics.");
});

Deno.test("executeCommand() group list: table text and the public JSON shape", async () => {
  const backend = createFakeBackend();
  const list = await executeCommand(parseCommand("group list"), backend);
  assert.deepEqual(list.json, {
    groups: [
      { group: "audit", state: "Empty", members: 0 },
      { group: "billing", state: "Stable", members: 2 },
    ],
  });
  assert.match(list.text, /GROUP\s*│\s*STATE\s*│\s*MEMBERS/);
  assert.match(list.text, /audit\s*│\s*Empty\s*│\s*0/);
  assert.match(list.text, /billing\s*│\s*Stable\s*│\s*2/);

  // Only the public fields reach JSON, whatever else a backend adds.
  backend.groupList = () =>
    Promise.resolve([{ group: "g", state: "Dead", members: 0, extra: true }]);
  const extra = await executeCommand(parseCommand("group list"), backend);
  assert.deepEqual(extra.json, { groups: [{ group: "g", state: "Dead", members: 0 }] });

  backend.groupList = () => Promise.resolve([]);
  const none = await executeCommand(parseCommand("group list"), backend);
  assert.equal(none.text, "No groups.");
  assert.deepEqual(none.json, { groups: [] });
});

Deno.test("executeCommand() group describe: header, members and offsets; JSON as returned", async () => {
  const backend = createFakeBackend();
  const result = await executeCommand(parseCommand("group describe billing"), backend);
  const expected = {
    group: "billing",
    state: "Stable",
    generation: 3,
    protocol: "range",
    members: [
      { memberId: "m-1", clientId: "billing-a", assignment: [{ topic: "orders", partition: 0 }] },
      { memberId: "m-2", clientId: "billing-b", assignment: [{ topic: "orders", partition: 1 }] },
    ],
    offsets: [
      { topic: "orders", partition: 0, committed: 5, end: 10, lag: 5 },
      { topic: "orders", partition: 1, committed: null, end: 4, lag: null },
    ],
  };
  assert.deepEqual(result.json, expected);
  assert.deepEqual(Object.keys(result.json as object), Object.keys(expected));
  const lines = result.text.split("\n");
  assert.equal(
    lines[0],
    "Group: billing  State: Stable  Generation: 3  Protocol: range  Members: 2",
  );
  assert.match(result.text, /MEMBER ID\s*│\s*CLIENT ID\s*│\s*PARTITIONS/);
  assert.match(result.text, /m-1\s*│\s*billing-a\s*│\s*orders-0\s/);
  assert.match(result.text, /TOPIC\s*│\s*PARTITION\s*│\s*COMMITTED\s*│\s*END\s*│\s*LAG/);
  assert.match(result.text, /orders\s*│\s*0\s*│\s*5\s*│\s*10\s*│\s*5\s/);
  assert.match(result.text, /orders\s*│\s*1\s*│\s*-\s*│\s*4\s*│\s*-\s/);
  assert.equal(backend.calls.at(-1), "groupDescribe billing");

  const empty = await executeCommand(parseCommand("group describe audit"), backend);
  assert.ok(
    empty.text.startsWith("Group: audit  State: Empty  Generation: 0  Protocol: -  Members: 0\n"),
  );
  assert.ok(!empty.text.includes("MEMBER ID"), "no members table for an empty group");

  await assert.rejects(
    executeCommand(parseCommand("group describe nobody"), backend),
    (err: unknown) => isKaError(err, "GROUP_ID_NOT_FOUND"),
  );
});

Deno.test("renderGroup() joins partitions, and shows '-' for unknown values and no offsets", () => {
  const text = renderGroup({
    group: "g",
    state: "PreparingRebalance",
    generation: 7,
    protocol: "roundrobin",
    members: [
      {
        memberId: "a",
        clientId: "",
        assignment: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }, {
          topic: "u",
          partition: 3,
        }],
      },
      { memberId: "b", clientId: "cb", assignment: [] },
    ],
    offsets: [],
  });
  assert.match(text, /a\s*│\s*-\s*│\s*t-0,t-1,u-3\s/);
  assert.match(text, /b\s*│\s*cb\s*│\s*-\s/);
  assert.ok(text.endsWith("\nNo offsets."));
  const unknownEnd = renderGroup({
    group: "g",
    state: "Empty",
    generation: 0,
    protocol: "",
    members: [],
    offsets: [{ topic: "t", partition: 0, committed: 3, end: -1, lag: null }],
  });
  assert.match(unknownEnd, /t\s*│\s*0\s*│\s*3\s*│\s*-\s*│\s*-\s/);
});

Deno.test("executeCommand() group reset: earliest, latest, an offset; JSON and describe text", async () => {
  const backend = createFakeBackend();
  const earliest = await executeCommand(
    parseCommand("group reset audit --topic orders --to earliest"),
    backend,
  );
  assert.equal(backend.calls.at(-1), "groupReset audit orders earliest");
  const audit = (offsets: unknown[]) => ({
    group: "audit",
    state: "Empty",
    generation: 0,
    protocol: "",
    members: [],
    offsets,
  });
  assert.deepEqual(earliest.json, {
    ok: true,
    action: "group reset",
    group: audit([
      { topic: "orders", partition: 0, committed: 0, end: 10, lag: 10 },
      { topic: "orders", partition: 1, committed: 2, end: 4, lag: 2 },
    ]),
  });
  assert.deepEqual(Object.keys(earliest.json as object), ["ok", "action", "group"]);
  const [first, ...rest] = earliest.text.split("\n");
  assert.equal(first, "Reset group 'audit' on topic 'orders' to earliest.");
  assert.equal(
    rest.join("\n"),
    renderGroup((earliest.json as { group: Parameters<typeof renderGroup>[0] }).group),
  );
  assert.match(earliest.text, /orders\s*│\s*1\s*│\s*2\s*│\s*4\s*│\s*2\s/);

  const latest = await executeCommand(
    parseCommand("group reset audit --topic orders --to latest"),
    backend,
  );
  assert.deepEqual(
    (latest.json as { group: unknown }).group,
    audit([
      { topic: "orders", partition: 0, committed: 10, end: 10, lag: 0 },
      { topic: "orders", partition: 1, committed: 4, end: 4, lag: 0 },
    ]),
  );

  const offset = await executeCommand(
    parseCommand("group reset fresh --topic orders --to 3"),
    backend,
  );
  assert.equal(backend.calls.at(-1), "groupReset fresh orders 3");
  assert.match(offset.text, /^Reset group 'fresh' on topic 'orders' to 3\.\nGroup: fresh/);
  assert.deepEqual((offset.json as { group: { offsets: unknown } }).group.offsets, [
    { topic: "orders", partition: 0, committed: 3, end: 10, lag: 7 },
    { topic: "orders", partition: 1, committed: 3, end: 4, lag: 1 },
  ]);

  await assert.rejects(
    executeCommand(parseCommand("group reset billing --topic orders --to 0"), backend),
    (err: unknown) => isKaError(err, "NON_EMPTY_GROUP"),
  );
  await assert.rejects(
    executeCommand(parseCommand("group reset audit --topic nope --to 0"), backend),
    (err: unknown) => isKaError(err, "UNKNOWN_TOPIC_OR_PARTITION"),
  );
  const answer = await answerLine("group reset billing --topic orders --to latest", backend);
  assert.equal(answer.ok, false);
  assert.equal(answer.error?.error, "NON_EMPTY_GROUP");
  const bad = await answerLine("group reset audit --topic orders --to soon", backend);
  assert.equal(bad.error?.error, "INVALID_COMMAND");
});

Deno.test("executeCommand() help lists every command with its description", async () => {
  const backend = createFakeBackend();
  const help = await executeCommand(parseCommand("help"), backend);
  const lines = help.text.split("\n");
  for (const command of COMMANDS) {
    const line = lines.find((l) => l.startsWith(`${usageOf(command)} `));
    const firstWords = usageOf(command).split(" ").slice(0, 3).join(" ");
    const wrapped = lines.find((l) => l.startsWith(firstWords));
    assert.ok((line ?? wrapped)?.endsWith(command.description), usageOf(command));
  }
  assert.ok(lines.every((l) => l.length <= 110), "help fits a wide terminal");
  const json = help.json as { commands: { usage: string }[] };
  assert.deepEqual(json.commands.map((c) => c.usage), COMMANDS.map(usageOf));
  const topicHelp = await executeCommand(parseCommand("help topic"), backend);
  assert.ok(topicHelp.text.includes("topic delete NAME"));
  assert.ok(!topicHelp.text.includes("broker"));
});

Deno.test("answerLine() turns errors into ok:false answers", async () => {
  const backend = createFakeBackend();
  const good = await answerLine("broker stop 1", backend);
  assert.equal(good.ok, true);
  const bad = await answerLine("broker stop 7", backend);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.error, { code: 1001, error: "UNKNOWN_BROKER", message: "Unknown broker 7" });
  assert.equal(bad.text, "error: UNKNOWN_BROKER: Unknown broker 7");
  const parse = await answerLine("nope", backend);
  assert.equal(parse.error?.error, "INVALID_COMMAND");
  backend.status = () => {
    throw new TypeError("boom");
  };
  const bug = await answerLine("status", backend);
  assert.equal(bug.text, "error: UNKNOWN_SERVER_ERROR: boom");
  assert.equal(formatError(KaError.of("INVALID_COMMAND", "x")), "error: INVALID_COMMAND: x");
});

Deno.test("completeLine() completes command words, sub-words, topics, broker ids and options", () => {
  const backend = createFakeBackend();
  backend.topics.set("other", { name: "other", partitions: [], configs: {} });
  const words = (line: string) => completeLine(line, backend)[0];
  assert.deepEqual(words(""), [
    "broker",
    "consumer",
    "group",
    "help",
    "leader",
    "partition",
    "producer",
    "quit",
    "restart",
    "status",
    "topic",
  ]);
  assert.deepEqual(completeLine("to", backend), [["topic "], "to"]);
  assert.deepEqual(words("topic "), ["alter", "create", "delete", "describe", "list", "rebalance"]);
  assert.deepEqual(completeLine("topic de", backend), [["delete", "describe"], "de"]);
  assert.deepEqual(words("broker "), [
    "decommission",
    "list",
    "recommission",
    "restart",
    "start",
    "stop",
  ]);
  assert.deepEqual(words("broker st"), ["start", "stop"]);
  assert.deepEqual(words("restart "), ["all "]);
  assert.deepEqual(words("broker stop "), ["1", "2", "3"]);
  assert.deepEqual(words("broker restart 2"), ["2 "]);
  assert.deepEqual(words("broker stop 1 "), []);
  assert.deepEqual(words("topic describe "), ["orders", "other"]);
  assert.deepEqual(completeLine("topic delete or", backend), [["orders "], "or"]);
  assert.deepEqual(words("topic create "), []);
  assert.deepEqual(words("topic create t "), ["--config", "--partitions", "--replication-factor"]);
  assert.deepEqual(words("topic create t --p"), ["--partitions "]);
  assert.deepEqual(words("topic create t --partitions "), []);
  assert.deepEqual(
    words("topic create t --partitions 3 --"),
    ["--config", "--replication-factor", "--partitions"].sort(),
  );
  assert.deepEqual(words("help "), words(""));
  assert.deepEqual(words("help topic "), [
    "alter",
    "create",
    "delete",
    "describe",
    "list",
    "rebalance",
  ]);
  assert.deepEqual(words("status "), []);
  assert.deepEqual(words("nope "), []);
  assert.deepEqual(words("group "), ["delete", "describe", "list", "reset"]);
  assert.deepEqual(words("group reset g "), ["--to", "--topic"]);
  assert.deepEqual(words("group reset g --topic "), ["orders", "other"]);
  assert.deepEqual(words("group reset g --topic orders --to "), ["earliest", "latest"]);
  assert.deepEqual(words("group reset g --topic orders --to l"), ["latest "]);
  backend.topicList = () => {
    throw new Error("down");
  };
  assert.deepEqual(words("topic describe "), [], "a failing backend offers nothing");
});

Deno.test("completeLine() offers group names from a list refreshed in the background", async () => {
  const backend = createFakeBackend();
  const words = (line: string) => completeLine(line, backend)[0];
  // Nothing fetched yet: the first call offers nothing and starts a fetch.
  assert.deepEqual(words("group describe "), []);
  await refreshGroupNames(backend);
  assert.deepEqual(words("group describe "), ["audit", "billing"]);
  assert.deepEqual(completeLine("group reset b", backend), [["billing "], "b"]);

  // A change shows on the call after the one that fetched it.
  backend.groups.delete("audit");
  assert.deepEqual(words("group describe "), ["audit", "billing"], "stale until refreshed");
  await refreshGroupNames(backend);
  assert.deepEqual(words("group describe "), ["billing "]);
  assert.equal(words("group describe billing ").length, 0);

  // One fetch at a time, however often Tab is pressed.
  const before = backend.calls.filter((c) => c === "groupList").length;
  for (let i = 0; i < 5; i++) words("group describe ");
  await refreshGroupNames(backend);
  assert.equal(backend.calls.filter((c) => c === "groupList").length, before + 1);

  // A failing backend (rejecting or throwing) offers nothing and completion carries on.
  backend.groupList = () => Promise.reject(new Error("down"));
  await refreshGroupNames(backend);
  assert.deepEqual(words("group describe "), []);
  backend.groupList = () => {
    throw new Error("down");
  };
  await refreshGroupNames(backend);
  assert.deepEqual(words("group describe "), []);
  assert.deepEqual(words("topic describe "), ["orders "]);
});

Deno.test("formatUptime() renders days, hours, minutes and seconds", () => {
  assert.equal(formatUptime(0), "0s");
  assert.equal(formatUptime(59_999), "59s");
  assert.equal(formatUptime(65_000), "1m 05s");
  assert.equal(formatUptime(3_723_000), "1h 02m 03s");
  assert.equal(formatUptime(90_061_000), "1d 01h 01m");
  assert.equal(formatUptime(-1), "-");
});

Deno.test("parseCommand() topic alter takes --config k=v pairs and refuses nothing to alter", async () => {
  assert.deepEqual(
    parseCommand("topic alter orders --config retention.ms=1000 --config=retention.bytes="),
    {
      kind: "topicAlter",
      name: "orders",
      configs: { "retention.ms": "1000", "retention.bytes": "" },
    },
  );
  assert.throws(() => parseCommand("topic alter orders"), (e) => isKaError(e, "INVALID_COMMAND"));
  assert.deepEqual(parseCommand("topic alter orders --partitions 12"), {
    kind: "topicAlter",
    name: "orders",
    configs: {},
    partitions: 12,
  });
  assert.throws(
    () => parseCommand("topic alter orders --replicas 3"),
    (e) => isKaError(e, "INVALID_COMMAND"),
  );
  assert.deepEqual(parseCommand("partition reassign orders 3 1,4"), {
    kind: "partitionReassign",
    topic: "orders",
    partition: 3,
    target: [1, 4],
  });
  assert.throws(
    () => parseCommand("partition reassign orders 3 1,1"),
    (e) => isKaError(e, "INVALID_COMMAND"),
  );
  assert.deepEqual(parseCommand("broker decommission 2"), {
    kind: "brokerDecommission",
    brokerId: 2,
    recommission: false,
  });
  assert.deepEqual(parseCommand("leader balance"), { kind: "leaderBalance" });
  const backend = createFakeBackend();
  const result = await executeCommand(
    parseCommand("topic alter orders --config retention.ms=1000"),
    backend,
  );
  assert.equal(
    (result.json as { topic: { configs: Record<string, string> } }).topic.configs["retention.ms"],
    "1000",
  );
});

Deno.test("executeCommand() group delete: an empty group goes; a group with members or an unknown one is refused", async () => {
  const backend = createFakeBackend();
  const deleted = await executeCommand(parseCommand("group delete audit"), backend);
  assert.equal(backend.calls.at(-1), "groupDelete audit");
  assert.equal(deleted.text, "Deleted group 'audit'.");
  assert.deepEqual(deleted.json, { ok: true, action: "group delete", group: "audit" });
  const listed = await executeCommand(parseCommand("group list"), backend);
  assert.deepEqual(
    (listed.json as { groups: { group: string }[] }).groups.map((g) => g.group),
    ["billing"],
  );
  await assert.rejects(
    executeCommand(parseCommand("group delete billing"), backend),
    (err: unknown) => isKaError(err, "NON_EMPTY_GROUP"),
  );
  const gone = await answerLine("group delete audit", backend);
  assert.equal(gone.ok, false);
  assert.equal(gone.error?.error, "GROUP_ID_NOT_FOUND");
});
