/**
 * Text rendering of console answers: plain cli-table3 tables, no colours, so
 * the output reads the same on a terminal, through `nc` and in a log file.
 * The JSON answers are built in `commands.ts`; this file only makes text.
 * @module
 */
import Table from "cli-table3";
import type {
  BrokerListing,
  GroupDescription,
  GroupListing,
  ServiceStatus,
  TopicListing,
} from "@kafka-analog/lib/console";

/** Cell value accepted by {@linkcode renderTable}. */
export type Cell = string | number;

const COMPACT_CHARS = {
  mid: "",
  "left-mid": "",
  "mid-mid": "",
  "right-mid": "",
};

const BLANK_CHARS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

/** A bordered table with a header row and no lines between body rows. */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({
    head: [...head],
    chars: COMPACT_CHARS,
    style: { head: [], border: [] },
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString();
}

/**
 * Two or more columns without borders, e.g. the `help` listing. With
 * `firstColumnWidth`, longer first cells wrap onto more lines.
 */
export function renderColumns(
  rows: readonly (readonly Cell[])[],
  options: { firstColumnWidth?: number } = {},
): string {
  const table = new Table({
    chars: BLANK_CHARS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
    ...(options.firstColumnWidth === undefined
      ? {}
      : { colWidths: [options.firstColumnWidth], wordWrap: true }),
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString().split("\n").map((line) => line.trimEnd()).join("\n");
}

/** `1h 02m 03s`, `4m 05s`, `6s`; a negative or non-finite value renders as `-`. */
export function formatUptime(uptimeMs: number): string {
  if (!Number.isFinite(uptimeMs) || uptimeMs < 0) return "-";
  const totalSeconds = Math.floor(uptimeMs / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (days > 0) return `${days}d ${pad(hours)}h ${pad(minutes)}m`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
  if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}

function pidCell(pid: number): Cell {
  return pid > 0 ? pid : "-";
}

/** The `status` table. */
export function renderStatus(services: readonly ServiceStatus[]): string {
  if (services.length === 0) return "No services.";
  return renderTable(
    ["KIND", "ID", "PID", "PORT", "STATE", "UPTIME"],
    services.map((s) => [
      s.kind,
      s.id,
      pidCell(s.pid),
      s.port,
      s.state,
      s.state === "alive" ? formatUptime(s.uptimeMs) : "-",
    ]),
  );
}

/** The `broker list` table. */
export function renderBrokers(brokers: readonly BrokerListing[]): string {
  if (brokers.length === 0) return "No brokers.";
  return renderTable(
    ["ID", "PORT", "STATE", "PID", "LEADER FOR", "REPLICA OF", "UNDER-REPLICATED"],
    brokers.map((b) => [
      b.id,
      b.port,
      b.state,
      pidCell(b.pid),
      b.partitionsLed,
      b.partitionsReplicated,
      b.underReplicated,
    ]),
  );
}

/** Replication factor of a topic as listed: the replica count of its partitions (the largest). */
export function replicationFactorOf(topic: TopicListing): number {
  let factor = 0;
  for (const p of topic.partitions) factor = Math.max(factor, p.replicas.length);
  return factor;
}

/** The `topic list` table. */
export function renderTopicList(topics: readonly TopicListing[]): string {
  if (topics.length === 0) return "No topics.";
  return renderTable(
    ["TOPIC", "PARTITIONS", "REPLICATION FACTOR"],
    topics.map((t) => [t.name, t.partitions.length, replicationFactorOf(t)]),
  );
}

function idList(ids: readonly number[]): string {
  return ids.length === 0 ? "-" : ids.join(",");
}

/** The `topic describe` header line and partition table. */
export function renderTopic(topic: TopicListing): string {
  const configs = Object.entries(topic.configs).map(([k, v]) => `${k}=${v}`).join(",");
  const header = `Topic: ${topic.name}  Partitions: ${topic.partitions.length}  ` +
    `ReplicationFactor: ${replicationFactorOf(topic)}  Configs: ${configs === "" ? "-" : configs}`;
  if (topic.partitions.length === 0) return header;
  const moving = topic.partitions.some((p) => p.adding !== undefined);
  const rows = topic.partitions.map((p) => [
    p.partition,
    p.leader >= 0 ? p.leader : "none",
    idList(p.replicas),
    idList(p.isr),
    p.leaderEpoch,
    ...(moving ? [p.adding ? `+${idList(p.adding)} -${idList(p.removing ?? [])}` : "-"] : []),
  ]);
  const head = [
    "PARTITION",
    "LEADER",
    "REPLICAS",
    "ISR",
    "LEADER EPOCH",
    ...(moving ? ["MOVING"] : []),
  ];
  return `${header}\n${renderTable(head, rows)}`;
}

/** The `group list` table. */
export function renderGroupList(groups: readonly GroupListing[]): string {
  if (groups.length === 0) return "No groups.";
  return renderTable(
    ["GROUP", "STATE", "MEMBERS"],
    groups.map((g) => [g.group, g.state, g.members]),
  );
}

function nullableCell(value: number | null): Cell {
  return value === null ? "-" : value;
}

/**
 * The `group describe` header line, members table and offsets table. An empty
 * members table is left out (the header gives the count); an unknown
 * committed offset, end offset (negative) or lag shows as `-`.
 */
export function renderGroup(group: GroupDescription): string {
  const header = `Group: ${group.group}  State: ${group.state}  ` +
    `Generation: ${group.generation}  Protocol: ${group.protocol === "" ? "-" : group.protocol}  ` +
    `Members: ${group.members.length}`;
  const parts = [header];
  if (group.members.length > 0) {
    parts.push(renderTable(
      ["MEMBER ID", "CLIENT ID", "PARTITIONS"],
      group.members.map((m) => [
        m.memberId,
        m.clientId === "" ? "-" : m.clientId,
        m.assignment.length === 0
          ? "-"
          : m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(","),
      ]),
    ));
  }
  if (group.offsets.length === 0) {
    parts.push("No offsets.");
  } else {
    parts.push(renderTable(
      ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG"],
      group.offsets.map((o) => [
        o.topic,
        o.partition,
        nullableCell(o.committed),
        // The coordinator reports -1 when the partition's leader could not be asked.
        o.end >= 0 ? o.end : "-",
        nullableCell(o.lag),
      ]),
    ));
  }
  return parts.join("\n");
}
