/**
 * The console's commands: one table ({@linkcode COMMANDS}) drives parsing,
 * `help`, usage lines and tab completion, so a command is declared once.
 *
 * A console line is bad input: {@linkcode parseCommand} turns it into a typed
 * {@linkcode Command} or throws `KaError` `INVALID_COMMAND` naming what was
 * wrong and the usage line. {@linkcode executeCommand} runs a command against
 * a {@linkcode ConsoleBackend} and returns both text (for people) and JSON
 * (for scripts and `deno task admin --json`).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { validateTopicName } from "@kafka-analog/lib/cluster";
import { BROKERS_MAX, PARTITIONS_MAX, STRING_BYTES_MAX } from "@kafka-analog/lib/limits";
import { type ConsoleAnswer, tokenize } from "@kafka-analog/lib/console";
import type { ConsoleBackend } from "./backend.ts";
import {
  renderBrokers,
  renderColumns,
  renderGroup,
  renderGroupList,
  renderStatus,
  renderTopic,
  renderTopicList,
  replicationFactorOf,
} from "./render.ts";

/** What a stop/start/restart command does to a service. */
export type ServiceAction = "stop" | "start" | "restart";
/** The two gateways the coordinator supervises. */
export type GatewayKind = "producer" | "consumer";
/** Where `group reset` moves committed offsets: a partition's start, its end, or one offset. */
export type ResetTarget = "earliest" | "latest" | bigint;

/** A parsed console command. */
export type Command =
  | { kind: "status" }
  | { kind: "brokerList" }
  | { kind: "brokerAction"; action: ServiceAction; brokerId: number }
  | { kind: "gatewayAction"; gateway: GatewayKind; action: ServiceAction }
  | { kind: "restartAll" }
  | {
    kind: "topicCreate";
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs: Record<string, string>;
  }
  | { kind: "topicList" }
  | { kind: "topicDescribe"; name: string }
  | { kind: "topicDelete"; name: string }
  | { kind: "topicAlter"; name: string; configs: Record<string, string>; partitions?: number }
  | { kind: "partitionReassign"; topic: string; partition: number; target: number[] }
  | { kind: "topicRebalance"; name: string }
  | { kind: "brokerDecommission"; brokerId: number; recommission: boolean }
  | { kind: "leaderBalance" }
  | { kind: "groupList" }
  | { kind: "groupDescribe"; name: string }
  | { kind: "groupReset"; name: string; topic: string; to: ResetTarget }
  | { kind: "groupDelete"; name: string }
  | { kind: "help"; words: string[] }
  | { kind: "quit" };

/** The answer to one command: text for people, JSON for scripts. */
export interface CommandResult {
  text: string;
  json: unknown;
  /** Set by `quit`: the caller ends its session (the terminal also shuts the cluster down). */
  quit?: boolean;
}

/** What a positional argument is, for tab completion. */
export type ArgumentKind =
  | "brokerId"
  | "topicName"
  | "newTopicName"
  | "groupName"
  | "resetTarget"
  | "helpWords";

/** One row of the command table. */
export interface CommandSpec {
  /** The fixed words, e.g. `["broker", "stop"]`. */
  readonly words: readonly string[];
  /** The usage suffix after the words, e.g. `N`; empty when there are no arguments. */
  readonly args: string;
  /** One line for `help`. */
  readonly description: string;
  /** Kinds of the positional arguments, in order, for completion. */
  readonly argumentKinds: readonly ArgumentKind[];
  /** Options (`--x`) the command accepts, for completion. */
  readonly options: readonly string[];
  /** What the value after an option is, for completion; free text when absent. */
  readonly optionValueKinds: Readonly<Record<string, ArgumentKind>>;
  /** Builds the command from the words after `words`; throws INVALID_COMMAND. */
  readonly build: (args: readonly string[], usage: string) => Command;
}

/** Largest broker id accepted (Kafka's broker ids are int32). */
const BROKER_ID_MAX = 2_147_483_647;
const CONFIG_KEY_PATTERN = /^[a-zA-Z0-9._-]+$/;
const TOPIC_CREATE_OPTIONS = ["--partitions", "--replication-factor", "--config"] as const;
const GROUP_RESET_OPTIONS = ["--topic", "--to"] as const;
/** Largest offset `group reset --to` accepts (Kafka's offsets are int64). */
const OFFSET_MAX = 9_223_372_036_854_775_807n;
const RESET_TARGET_WORDS = ["earliest", "latest"] as const;

function invalid(message: string, usage?: string): KaError {
  return KaError.of(
    "INVALID_COMMAND",
    usage === undefined ? message : `${message}; usage: ${usage}`,
  );
}

function noArguments(
  kind:
    | "status"
    | "brokerList"
    | "restartAll"
    | "topicList"
    | "groupList"
    | "leaderBalance"
    | "quit",
) {
  return (args: readonly string[], usage: string): Command => {
    if (args.length > 0) throw invalid(`Unexpected argument '${args[0]}'`, usage);
    return { kind } as Command;
  };
}

function parseInteger(
  text: string,
  what: string,
  range: { min: number; max: number },
  usage: string,
): number {
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw invalid(
      `Invalid ${what} '${text}': must be an integer from ${range.min} to ${range.max}`,
      usage,
    );
  }
  return value;
}

function parseBrokerId(args: readonly string[], usage: string): number {
  if (args.length === 0) throw invalid("Missing broker id", usage);
  if (args.length > 1) throw invalid(`Unexpected argument '${args[1]}'`, usage);
  return parseInteger(args[0], "broker id", { min: 0, max: BROKER_ID_MAX }, usage);
}

function parseTopicName(text: string | undefined, usage: string): string {
  if (text === undefined || text.startsWith("--")) throw invalid("Missing topic name", usage);
  try {
    validateTopicName(text);
  } catch (err) {
    throw invalid(toKaError(err).message, usage);
  }
  return text;
}

function topicNameOnly(kind: "topicDescribe" | "topicDelete" | "topicRebalance") {
  return (args: readonly string[], usage: string): Command => {
    const name = parseTopicName(args[0], usage);
    if (args.length > 1) throw invalid(`Unexpected argument '${args[1]}'`, usage);
    return { kind, name };
  };
}

function brokerAction(action: ServiceAction) {
  return (args: readonly string[], usage: string): Command => ({
    kind: "brokerAction",
    action,
    brokerId: parseBrokerId(args, usage),
  });
}

function gatewayAction(gateway: GatewayKind, action: ServiceAction) {
  return (args: readonly string[], usage: string): Command => {
    if (args.length > 0) throw invalid(`Unexpected argument '${args[0]}'`, usage);
    return { kind: "gatewayAction", gateway, action };
  };
}

/**
 * `--opt value` / `--opt=value` pairs after the positional words, each option
 * one of `allowed`; lazy, so each value is checked before the next is read.
 */
function* readOptions(
  args: readonly string[],
  start: number,
  allowed: readonly string[],
  usage: string,
): Generator<{ option: string; value: string }> {
  for (let i = start; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const isOption = arg.startsWith("--");
    const option = isOption && eq >= 0 ? arg.slice(0, eq) : arg;
    if (!isOption || !allowed.includes(option)) {
      throw invalid(
        isOption ? `Unknown option '${option}'` : `Unexpected argument '${arg}'`,
        usage,
      );
    }
    if (eq >= 0) {
      yield { option, value: arg.slice(eq + 1) };
    } else {
      if (i + 1 >= args.length) throw invalid(`Missing value for '${option}'`, usage);
      yield { option, value: args[++i] };
    }
  }
}

/** Adds one `--config k=v` to `configs`, refusing a bad or repeated key. */
function addConfig(configs: Map<string, string>, value: string, usage: string): void {
  const at = value.indexOf("=");
  const key = at > 0 ? value.slice(0, at) : "";
  if (!CONFIG_KEY_PATTERN.test(key)) {
    throw invalid(`Invalid config '${value}': must be key=value`, usage);
  }
  if (configs.has(key)) throw invalid(`Config '${key}' given twice`, usage);
  configs.set(key, value.slice(at + 1));
}

function parsePartitionCount(value: string, previous: number | undefined, usage: string): number {
  if (previous !== undefined) throw invalid("'--partitions' given twice", usage);
  return parseInteger(value, "partition count", { min: 1, max: PARTITIONS_MAX }, usage);
}

function buildTopicCreate(args: readonly string[], usage: string): Command {
  const name = parseTopicName(args[0], usage);
  let partitions: number | undefined;
  let replicationFactor: number | undefined;
  const configs = new Map<string, string>();
  for (const { option, value } of readOptions(args, 1, TOPIC_CREATE_OPTIONS, usage)) {
    if (option === "--partitions") {
      partitions = parsePartitionCount(value, partitions, usage);
    } else if (option === "--replication-factor") {
      if (replicationFactor !== undefined) {
        throw invalid("'--replication-factor' given twice", usage);
      }
      replicationFactor = parseInteger(
        value,
        "replication factor",
        { min: 1, max: BROKERS_MAX },
        usage,
      );
    } else {
      addConfig(configs, value, usage);
    }
  }
  const command: Command = { kind: "topicCreate", name, configs: Object.fromEntries(configs) };
  if (partitions !== undefined) command.partitions = partitions;
  if (replicationFactor !== undefined) command.replicationFactor = replicationFactor;
  return command;
}

function buildTopicAlter(args: readonly string[], usage: string): Command {
  const name = parseTopicName(args[0], usage);
  const configs = new Map<string, string>();
  let partitions: number | undefined;
  for (const { option, value } of readOptions(args, 1, ["--partitions", "--config"], usage)) {
    if (option === "--partitions") partitions = parsePartitionCount(value, partitions, usage);
    else addConfig(configs, value, usage);
  }
  if (configs.size === 0 && partitions === undefined) {
    throw invalid("Nothing to alter: give --partitions N or --config k=v", usage);
  }
  const command: Command = { kind: "topicAlter", name, configs: Object.fromEntries(configs) };
  if (partitions !== undefined) command.partitions = partitions;
  return command;
}

function buildPartitionReassign(args: readonly string[], usage: string): Command {
  if (args.length !== 3) throw invalid("Expected TOPIC PARTITION BROKER,BROKER", usage);
  const topic = parseTopicName(args[0], usage);
  const partition = parseInteger(args[1], "partition", { min: 0, max: PARTITIONS_MAX - 1 }, usage);
  const target = args[2].split(",").map((b) =>
    parseInteger(b, "broker id", { min: 0, max: BROKERS_MAX - 1 }, usage)
  );
  if (new Set(target).size !== target.length) throw invalid("Broker ids must be distinct", usage);
  return { kind: "partitionReassign", topic, partition, target };
}

function brokerCommission(recommission: boolean) {
  return (args: readonly string[], usage: string): Command => ({
    kind: "brokerDecommission",
    brokerId: parseBrokerId(args, usage),
    recommission,
  });
}

function parseGroupName(text: string | undefined, usage: string): string {
  if (text === undefined || text.startsWith("--")) throw invalid("Missing group name", usage);
  // Kafka allows any non-empty group id that fits a protocol STRING.
  if (text === "" || new TextEncoder().encode(text).length > STRING_BYTES_MAX) {
    throw invalid(
      `Invalid group name: must be 1 to ${STRING_BYTES_MAX} bytes`,
      usage,
    );
  }
  return text;
}

function buildGroupDescribe(args: readonly string[], usage: string): Command {
  const name = parseGroupName(args[0], usage);
  if (args.length > 1) throw invalid(`Unexpected argument '${args[1]}'`, usage);
  return { kind: "groupDescribe", name };
}

function buildGroupDelete(args: readonly string[], usage: string): Command {
  const name = parseGroupName(args[0], usage);
  if (args.length > 1) throw invalid(`Unexpected argument '${args[1]}'`, usage);
  return { kind: "groupDelete", name };
}

function parseResetTarget(text: string, usage: string): ResetTarget {
  if (text === "earliest" || text === "latest") return text;
  const offset = /^[0-9]{1,19}$/.test(text) ? BigInt(text) : -1n;
  if (offset < 0n || offset > OFFSET_MAX) {
    throw invalid(
      `Invalid reset target '${text}': must be earliest, latest or an offset from 0 to ${OFFSET_MAX}`,
      usage,
    );
  }
  return offset;
}

function buildGroupReset(args: readonly string[], usage: string): Command {
  const name = parseGroupName(args[0], usage);
  let topic: string | undefined;
  let to: ResetTarget | undefined;
  for (const { option, value } of readOptions(args, 1, GROUP_RESET_OPTIONS, usage)) {
    if (option === "--topic") {
      if (topic !== undefined) throw invalid("'--topic' given twice", usage);
      topic = parseTopicName(value, usage);
    } else {
      if (to !== undefined) throw invalid("'--to' given twice", usage);
      to = parseResetTarget(value, usage);
    }
  }
  if (topic === undefined) throw invalid("Missing '--topic'", usage);
  if (to === undefined) throw invalid("Missing '--to'", usage);
  return { kind: "groupReset", name, topic, to };
}

function buildHelp(args: readonly string[], usage: string): Command {
  if (args.length > 0 && specsWithPrefix(args).length === 0) {
    throw invalid(`No command starts with '${args.join(" ")}'`, usage);
  }
  return { kind: "help", words: [...args] };
}

/** Every console command, in `help` order. */
export const COMMANDS: readonly CommandSpec[] = Object.freeze([
  spec(
    ["status"],
    "",
    "Show every service: kind, id, pid, port, state, uptime",
    [],
    noArguments("status"),
  ),
  spec(
    ["broker", "list"],
    "",
    "List the brokers with the partitions they lead and replicate",
    [],
    noArguments("brokerList"),
  ),
  spec(
    ["broker", "stop"],
    "N",
    "Stop broker N (it stays down until started)",
    ["brokerId"],
    brokerAction("stop"),
  ),
  spec(["broker", "start"], "N", "Start broker N", ["brokerId"], brokerAction("start")),
  spec(["broker", "restart"], "N", "Restart broker N", ["brokerId"], brokerAction("restart")),
  spec(
    ["producer", "stop"],
    "",
    "Stop the producer (writer) gateway",
    [],
    gatewayAction("producer", "stop"),
  ),
  spec(
    ["producer", "start"],
    "",
    "Start the producer (writer) gateway",
    [],
    gatewayAction("producer", "start"),
  ),
  spec(
    ["producer", "restart"],
    "",
    "Restart the producer (writer) gateway",
    [],
    gatewayAction("producer", "restart"),
  ),
  spec(
    ["consumer", "stop"],
    "",
    "Stop the consumer (reader) gateway",
    [],
    gatewayAction("consumer", "stop"),
  ),
  spec(
    ["consumer", "start"],
    "",
    "Start the consumer (reader) gateway",
    [],
    gatewayAction("consumer", "start"),
  ),
  spec(
    ["consumer", "restart"],
    "",
    "Restart the consumer (reader) gateway",
    [],
    gatewayAction("consumer", "restart"),
  ),
  spec(
    ["restart", "all"],
    "",
    "Restart every broker and gateway, one at a time",
    [],
    noArguments("restartAll"),
  ),
  spec(
    ["topic", "create"],
    "NAME [--partitions N] [--replication-factor N] [--config k=v]...",
    "Create a topic (defaults come from config.yaml)",
    ["newTopicName"],
    buildTopicCreate,
    TOPIC_CREATE_OPTIONS,
  ),
  spec(
    ["topic", "list"],
    "",
    "List the topics with partition count and replication factor",
    [],
    noArguments("topicList"),
  ),
  spec(
    ["topic", "describe"],
    "NAME",
    "Show a topic's partitions: leader, replicas, ISR, leader epoch",
    ["topicName"],
    topicNameOnly("topicDescribe"),
  ),
  spec(
    ["topic", "delete"],
    "NAME",
    "Delete a topic and its data",
    ["topicName"],
    topicNameOnly("topicDelete"),
  ),
  spec(
    ["topic", "alter"],
    "NAME --config k=v ...",
    "Change topic configs live (k= removes one)",
    ["topicName"],
    buildTopicAlter,
  ),
  spec(
    ["topic", "rebalance"],
    "NAME",
    "Move only the partitions whose placement changed",
    ["topicName"],
    topicNameOnly("topicRebalance"),
  ),
  spec(
    ["partition", "reassign"],
    "TOPIC P B,B",
    "Move a partition's replicas (copy, catch up, drop old)",
    ["topicName"],
    buildPartitionReassign,
  ),
  spec(
    ["broker", "decommission"],
    "N",
    "Drain every replica off broker N",
    ["brokerId"],
    brokerCommission(false),
  ),
  spec(
    ["broker", "recommission"],
    "N",
    "Put broker N back into placement",
    ["brokerId"],
    brokerCommission(true),
  ),
  spec(
    ["leader", "balance"],
    "",
    "Move leaders back to preferred replicas",
    [],
    noArguments("leaderBalance"),
  ),
  spec(
    ["group", "list"],
    "",
    "List the consumer groups with their state and member count",
    [],
    noArguments("groupList"),
  ),
  spec(
    ["group", "describe"],
    "NAME",
    "Show a group's members, assignments, committed offsets and lag",
    ["groupName"],
    buildGroupDescribe,
  ),
  spec(
    ["group", "reset"],
    "NAME --topic T --to earliest|latest|OFFSET",
    "Move an empty group's offsets on every partition of topic T",
    ["groupName"],
    buildGroupReset,
    GROUP_RESET_OPTIONS,
    { "--topic": "topicName", "--to": "resetTarget" },
  ),
  spec(
    ["group", "delete"],
    "NAME",
    "Delete an empty group and its committed offsets",
    ["groupName"],
    buildGroupDelete,
  ),
  spec(
    ["help"],
    "[COMMAND]",
    "List the commands, or those starting with COMMAND",
    ["helpWords"],
    buildHelp,
  ),
  spec(
    ["quit"],
    "",
    "Leave the console (on the coordinator's terminal: stop the cluster)",
    [],
    noArguments("quit"),
  ),
]);

function spec(
  words: readonly string[],
  args: string,
  description: string,
  argumentKinds: readonly ArgumentKind[],
  build: CommandSpec["build"],
  options: readonly string[] = [],
  optionValueKinds: Readonly<Record<string, ArgumentKind>> = {},
): CommandSpec {
  return Object.freeze({
    words,
    args,
    description,
    argumentKinds,
    options,
    optionValueKinds: Object.freeze({ ...optionValueKinds }),
    build,
  });
}

/** The usage line of a command, e.g. `broker stop N`. */
export function usageOf(command: CommandSpec): string {
  return command.args === ""
    ? command.words.join(" ")
    : `${command.words.join(" ")} ${command.args}`;
}

/** Commands whose words start with `words` (all of them for `[]`). */
export function specsWithPrefix(words: readonly string[]): CommandSpec[] {
  return COMMANDS.filter((c) => words.every((w, i) => i < c.words.length && c.words[i] === w));
}

/** Parses one console line; throws KaError INVALID_COMMAND with the usage on bad input. */
export function parseCommand(line: string): Command {
  const words = tokenize(line);
  if (words.length === 0) throw invalid("Empty command; type 'help' for the list of commands");
  let best: CommandSpec | undefined;
  for (const command of COMMANDS) {
    const matches = command.words.every((w, i) => words[i] === w);
    if (matches && (best === undefined || command.words.length > best.words.length)) best = command;
  }
  if (best !== undefined) return best.build(words.slice(best.words.length), usageOf(best));
  const group = specsWithPrefix(words.slice(0, 1));
  if (group.length === 0) {
    throw invalid(`Unknown command '${words[0]}'; type 'help' for the list of commands`);
  }
  const usage = group.map(usageOf).join(" | ");
  if (words.length === 1) throw invalid(`Missing subcommand for '${words[0]}'`, usage);
  throw invalid(`Unknown subcommand '${words[1]}' for '${words[0]}'`, usage);
}

function ok(text: string, json: Record<string, unknown>): CommandResult {
  return { text, json: { ok: true, ...json } };
}

/** Runs `command` against `backend`. Backend errors (KaError) propagate to the caller. */
export async function executeCommand(
  command: Command,
  backend: ConsoleBackend,
): Promise<CommandResult> {
  switch (command.kind) {
    case "status": {
      const services = backend.status();
      return { text: renderStatus(services), json: { services } };
    }
    case "brokerList": {
      const brokers = backend.brokerList();
      return { text: renderBrokers(brokers), json: { brokers } };
    }
    case "brokerAction": {
      const { action, brokerId } = command;
      if (action === "stop") await backend.brokerStop(brokerId);
      else if (action === "start") await backend.brokerStart(brokerId);
      else await backend.brokerRestart(brokerId);
      return ok(`Broker ${brokerId}: ${PAST_TENSE[action]}.`, { action, broker: brokerId });
    }
    case "gatewayAction": {
      const { action, gateway } = command;
      if (action === "stop") await backend.gatewayStop(gateway);
      else if (action === "start") await backend.gatewayStart(gateway);
      else await backend.gatewayRestart(gateway);
      return ok(`The ${gateway} gateway: ${PAST_TENSE[action]}.`, { action, service: gateway });
    }
    case "restartAll":
      await backend.restartAll();
      return ok("Restarted every broker and gateway.", { action: "restart all" });
    case "topicCreate": {
      const { name, partitions, replicationFactor, configs } = command;
      const topic = await backend.topicCreate({
        name,
        configs,
        ...(partitions === undefined ? {} : { partitions }),
        ...(replicationFactor === undefined ? {} : { replicationFactor }),
      });
      return ok(
        `Created topic '${topic.name}' with ${topic.partitions.length} partition(s), ` +
          `replication factor ${replicationFactorOf(topic)}.\n${renderTopic(topic)}`,
        { action: "topic create", topic },
      );
    }
    case "topicList": {
      const listings = backend.topicList();
      const topics = listings.map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: replicationFactorOf(t),
      }));
      return { text: renderTopicList(listings), json: { topics } };
    }
    case "topicDescribe": {
      const topic = backend.topicDescribe(command.name);
      return { text: renderTopic(topic), json: topic };
    }
    case "partitionReassign": {
      const topic = await backend.partitionReassign(
        command.topic,
        command.partition,
        command.target,
      );
      return {
        text: `Reassigning ${command.topic}-${command.partition} to ${command.target.join(",")}.\n${
          renderTopic(topic)
        }`,
        json: { ok: true, action: "partition reassign", topic },
      };
    }
    case "topicRebalance": {
      const topic = await backend.topicRebalance(command.name);
      return {
        text: `Rebalancing topic '${command.name}'.\n${renderTopic(topic)}`,
        json: { ok: true, action: "topic rebalance", topic },
      };
    }
    case "brokerDecommission": {
      if (command.recommission) {
        await backend.brokerRecommission(command.brokerId);
        return ok(`Broker ${command.brokerId} is back in placement.`, {
          action: "broker recommission",
          broker: command.brokerId,
        });
      }
      const topics = await backend.brokerDecommission(command.brokerId);
      return {
        text: `Draining broker ${command.brokerId}: its replicas are moving (see topic describe).`,
        json: { ok: true, action: "broker decommission", broker: command.brokerId, topics },
      };
    }
    case "leaderBalance": {
      const moved = await backend.leaderBalance();
      return ok(`Moved ${moved} leader(s) back to their preferred replica.`, {
        action: "leader balance",
        moved,
      });
    }
    case "topicAlter": {
      if (command.partitions !== undefined) {
        await backend.topicAddPartitions(command.name, command.partitions);
      }
      const topic = Object.keys(command.configs).length > 0
        ? await backend.topicAlter(command.name, command.configs)
        : backend.topicDescribe(command.name);
      return {
        text: `Altered topic '${command.name}'.\n${renderTopic(topic)}`,
        json: { ok: true, action: "topic alter", topic },
      };
    }
    case "topicDelete":
      await backend.topicDelete(command.name);
      return ok(`Deleted topic '${command.name}'.`, {
        action: "topic delete",
        topic: command.name,
      });
    case "groupList": {
      const listings = await backend.groupList();
      // Exactly the public fields, whatever else a backend returns.
      const groups = listings.map((g) => ({ group: g.group, state: g.state, members: g.members }));
      return { text: renderGroupList(groups), json: { groups } };
    }
    case "groupDescribe": {
      const group = await backend.groupDescribe(command.name);
      return { text: renderGroup(group), json: group };
    }
    case "groupReset": {
      const { name, topic, to } = command;
      const group = await backend.groupReset(name, { topic, to });
      return ok(
        `Reset group '${name}' on topic '${topic}' to ${String(to)}.\n${renderGroup(group)}`,
        { action: "group reset", group },
      );
    }
    case "groupDelete":
      await backend.groupDelete(command.name);
      return ok(`Deleted group '${command.name}'.`, {
        action: "group delete",
        group: command.name,
      });
    case "help": {
      const commands = specsWithPrefix(command.words).map((c) => ({
        usage: usageOf(c),
        description: c.description,
      }));
      return {
        text: renderColumns(commands.map((c) => [c.usage, c.description]), {
          firstColumnWidth: HELP_USAGE_WIDTH,
        }),
        json: { commands },
      };
    }
    case "quit":
      return { text: "bye", json: { ok: true, action: "quit" }, quit: true };
  }
}

/** Width of the usage column of `help`; longer usage lines wrap. */
const HELP_USAGE_WIDTH = 38;

const PAST_TENSE: Record<ServiceAction, string> = {
  stop: "stopped",
  start: "started",
  restart: "restarted",
};

/** The error to report for anything a command threw: KaErrors as they are, others as UNKNOWN_SERVER_ERROR. */
export function toKaError(err: unknown): KaError {
  if (err instanceof KaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return KaError.of("UNKNOWN_SERVER_ERROR", message, { cause: err });
}

/** The one-line form of an error the console prints: `error: NAME: message`. */
export function formatError(err: unknown): string {
  const error = toKaError(err);
  return `error: ${error.errorName}: ${error.message}`;
}

/** What completion may ask the cluster for; a subset of {@linkcode ConsoleBackend}. */
export type CompletionSource = Pick<ConsoleBackend, "topicList" | "brokerList" | "groupList">;

interface GroupNameCache {
  names: string[];
  refresh: Promise<void> | null;
}

/**
 * Group names per completion source. `groupList()` is async but readline's
 * completer here is sync, so completion offers the last list fetched and
 * every completion call refreshes it in the background (one fetch at a time).
 */
const GROUP_NAME_CACHES = new WeakMap<CompletionSource, GroupNameCache>();

function groupNameCache(source: CompletionSource): GroupNameCache {
  let cache = GROUP_NAME_CACHES.get(source);
  if (cache === undefined) {
    cache = { names: [], refresh: null };
    GROUP_NAME_CACHES.set(source, cache);
  }
  return cache;
}

/**
 * Fetches the group names that {@linkcode completeLine} offers for `source`.
 * {@linkcode completeLine} calls it itself; call it once when a console
 * starts so the first Tab after `group describe ` has names. Never rejects:
 * a backend that cannot answer leaves nothing to offer.
 */
export function refreshGroupNames(source: CompletionSource): Promise<void> {
  const cache = groupNameCache(source);
  if (cache.refresh !== null) return cache.refresh;
  // Through then(): a backend that throws synchronously still only rejects.
  const refresh = Promise.resolve()
    .then(() => source.groupList())
    .then((groups) => {
      cache.names = groups.map((g) => g.group);
    })
    .catch(() => {
      cache.names = [];
    })
    .finally(() => {
      cache.refresh = null;
    });
  cache.refresh = refresh;
  return refresh;
}

function argumentCandidates(kind: ArgumentKind, source: CompletionSource): string[] {
  try {
    if (kind === "brokerId") return source.brokerList().map((b) => String(b.id));
    if (kind === "topicName") return source.topicList().map((t) => t.name);
    if (kind === "groupName") return [...groupNameCache(source).names];
    if (kind === "resetTarget") return [...RESET_TARGET_WORDS];
  } catch {
    // Completion is a convenience: a backend that cannot answer offers nothing.
  }
  return [];
}

function completeArgument(
  command: CommandSpec,
  args: readonly string[],
  source: CompletionSource,
): string[] {
  if (command.argumentKinds[0] === "helpWords") {
    return [...new Set(specsWithPrefix(args).map((c) => c.words[args.length]).filter(Boolean))];
  }
  if (args.length < command.argumentKinds.length) {
    return argumentCandidates(command.argumentKinds[args.length], source);
  }
  if (command.options.length === 0) return [];
  // After an option that takes a separate value, offer what that value may be, if known.
  const previous = args.at(-1);
  if (previous !== undefined && command.options.includes(previous)) {
    const kind = command.optionValueKinds[previous];
    return kind === undefined ? [] : argumentCandidates(kind, source);
  }
  return [...command.options];
}

/**
 * Tab completion for `line` (the text before the cursor), in node:readline's
 * completer form: the candidates and the partial word they would replace. A
 * single candidate comes with a trailing space. Broker ids and topic names
 * are read as it runs; group names come from the list the previous call
 * fetched (see {@linkcode refreshGroupNames}), since fetching them is async.
 */
export function completeLine(line: string, source: CompletionSource): [string[], string] {
  void refreshGroupNames(source);
  const words = line.split(/\s+/).filter((w) => w !== "");
  const partial = /\s$/.test(line) || line === "" ? "" : words.pop() ?? "";
  let candidates: string[];
  const exact = COMMANDS.filter((c) =>
    c.words.length <= words.length && c.words.every((w, i) => words[i] === w)
  );
  if (exact.length > 0) {
    const command = exact.reduce((a, b) => (b.words.length > a.words.length ? b : a));
    candidates = completeArgument(command, words.slice(command.words.length), source);
  } else {
    candidates = [
      ...new Set(specsWithPrefix(words).map((c) => c.words[words.length]).filter(Boolean)),
    ];
  }
  const matches = candidates.filter((c) => c.startsWith(partial)).sort(compareCandidates);
  // A single match is a whole word: end it with a space so the next word can follow.
  return [matches.length === 1 ? [`${matches[0]} `] : matches, partial];
}

function compareCandidates(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses and runs one line; never throws: errors become `ok: false` answers. */
export async function answerLine(line: string, backend: ConsoleBackend): Promise<ConsoleAnswer> {
  try {
    const result = await executeCommand(parseCommand(line), backend);
    const answer: ConsoleAnswer = { ok: true, text: result.text, json: result.json };
    if (result.quit) answer.quit = true;
    return answer;
  } catch (err) {
    return errorAnswer(err);
  }
}

/** The `ok: false` answer for anything a command threw. */
export function errorAnswer(err: unknown): ConsoleAnswer {
  const error = toKaError(err);
  return {
    ok: false,
    text: formatError(error),
    json: null,
    error: { code: error.code, error: error.errorName, message: error.message },
  };
}
