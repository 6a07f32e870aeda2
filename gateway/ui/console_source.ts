/**
 * The dashboard's one source of cluster state and admin actions: the
 * coordinator console, over its framed dialect (ConsoleCommand, API 1100, on
 * `coordinator.console_port`) — the very commands `deno task admin` and the
 * terminal console run (`status`, `broker list`, `topic describe`, `group
 * describe`, `broker stop N`, ...). Their JSON answers (shapes in
 * `lib/console/answers.ts`) go to the page as they are.
 *
 * A failed command becomes the `KaError` it named (so the gateway's error
 * handler answers the table's HTTP status); an unreachable console is
 * COORDINATOR_NOT_AVAILABLE (503).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { parseHostPort } from "@kafka-analog/lib/net";
import { ConsoleConnectionError, sendConsoleLine } from "@kafka-analog/lib/console";
import type { ConsoleResponsePayload } from "@kafka-analog/lib/console";
import { quoteWord } from "@kafka-analog/lib/console";
import type {
  BrokerListing,
  GroupDescription,
  GroupListing,
  ServiceStatus,
  TopicListing,
} from "@kafka-analog/lib/console";

export type { BrokerListing, GroupDescription, GroupListing, ServiceStatus, TopicListing };

/** Sends one console line and returns the answer; rejects when the console cannot be reached. */
export type ConsoleTransport = (
  line: string,
  options: { timeoutMs: number },
) => Promise<ConsoleResponsePayload>;

/** A {@linkcode ConsoleTransport} over TCP to `address` ("host:port"). */
export function consoleOverTcp(address: string): ConsoleTransport {
  const { hostname, port } = parseHostPort(address);
  return (line, { timeoutMs }) =>
    sendConsoleLine(line, { hostname, port, timeoutMs, clientId: "gateway-dashboard" });
}

/** One row of `topic list --json`. */
export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
}

/** A service the dashboard can stop, start or restart. */
export type ServiceTarget = { kind: "broker"; id: number } | { kind: "producer" | "consumer" };

/** What a stop/start/restart does. */
export type ServiceAction = "stop" | "start" | "restart";

/** Options of {@linkcode topicCreateLine}. */
export interface TopicCreateOptions {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  retentionMs?: number;
}

/** The console line creating a topic. */
export function topicCreateLine(options: TopicCreateOptions): string {
  const words = ["topic", "create", quoteWord(options.name)];
  if (options.partitions !== undefined) words.push("--partitions", String(options.partitions));
  if (options.replicationFactor !== undefined) {
    words.push("--replication-factor", String(options.replicationFactor));
  }
  if (options.retentionMs !== undefined) {
    words.push("--config", `retention.ms=${options.retentionMs}`);
  }
  return words.join(" ");
}

/** The console line acting on a service: `broker stop 2`, `producer restart`, ... */
export function serviceActionLine(target: ServiceTarget, action: ServiceAction): string {
  return target.kind === "broker" ? `broker ${action} ${target.id}` : `${target.kind} ${action}`;
}

/** The console's answers, typed; every method runs one or two console commands. */
export class ConsoleSource {
  readonly #transport: ConsoleTransport | null;
  readonly #readTimeoutMs: number;
  readonly #actionTimeoutMs: number;

  /** `transport` null: the gateway was started without `--console`; every call is a 503. */
  constructor(
    transport: ConsoleTransport | null,
    options: { readTimeoutMs: number; actionTimeoutMs: number },
  ) {
    this.#transport = transport;
    this.#readTimeoutMs = options.readTimeoutMs;
    this.#actionTimeoutMs = options.actionTimeoutMs;
  }

  /** Runs `line` and returns its JSON answer; the command's error as a KaError. */
  async run(line: string, options: { action: boolean }): Promise<unknown> {
    if (this.#transport === null) {
      throw KaError.of(
        "COORDINATOR_NOT_AVAILABLE",
        "The dashboard has no console to ask: start the writer gateway with --console host:port",
      );
    }
    let answer: ConsoleResponsePayload;
    try {
      answer = await this.#transport(line, {
        timeoutMs: options.action ? this.#actionTimeoutMs : this.#readTimeoutMs,
      });
    } catch (err) {
      if (err instanceof ConsoleConnectionError) {
        throw KaError.of("COORDINATOR_NOT_AVAILABLE", err.message, { cause: err });
      }
      throw err;
    }
    if (!answer.ok) {
      const error = answer.error;
      if (error === undefined) throw KaError.of("UNKNOWN_SERVER_ERROR", answer.text);
      throw new KaError(error.code, error.message);
    }
    return answer.json;
  }

  /** `status`: every service. */
  async status(): Promise<ServiceStatus[]> {
    const json = await this.run("status", { action: false }) as { services: ServiceStatus[] };
    return json.services;
  }

  /** `broker list`: every broker with partitions led, replicated and under-replicated. */
  async brokers(): Promise<BrokerListing[]> {
    const json = await this.run("broker list", { action: false }) as { brokers: BrokerListing[] };
    return json.brokers;
  }

  /** `topic list`. */
  async topics(): Promise<TopicSummary[]> {
    const json = await this.run("topic list", { action: false }) as { topics: TopicSummary[] };
    return json.topics;
  }

  /** `topic describe NAME`. */
  async topic(name: string): Promise<TopicListing> {
    return await this.run(`topic describe ${quoteWord(name)}`, { action: false }) as TopicListing;
  }

  /** `topic create ...`; the new topic's description. */
  async createTopic(options: TopicCreateOptions): Promise<TopicListing> {
    const json = await this.run(topicCreateLine(options), { action: true }) as {
      topic: TopicListing;
    };
    return json.topic;
  }

  /** `topic delete NAME`. */
  async deleteTopic(name: string): Promise<void> {
    await this.run(`topic delete ${quoteWord(name)}`, { action: true });
  }

  /** `group list`. */
  async groups(): Promise<GroupListing[]> {
    const json = await this.run("group list", { action: false }) as { groups: GroupListing[] };
    return json.groups;
  }

  /** `group describe NAME`: members, assignment, committed and end offsets, lag. */
  async group(name: string): Promise<GroupDescription> {
    return await this.run(`group describe ${quoteWord(name)}`, {
      action: false,
    }) as GroupDescription;
  }

  /** `broker|producer|consumer stop|start|restart`. */
  async act(target: ServiceTarget, action: ServiceAction): Promise<unknown> {
    return await this.run(serviceActionLine(target, action), { action: true });
  }
}
