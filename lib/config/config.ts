/**
 * `config.yaml` → a validated, deep-frozen {@linkcode Config}.
 *
 * One schema table names every YAML key once, with its type, default, bounds and a line of
 * documentation. Defaults ({@linkcode DEFAULT_CONFIG}), validation ({@linkcode parseConfig}),
 * command-line overrides ({@linkcode applyOverrides}, {@linkcode parseConfigArgs}), printing
 * ({@linkcode toYamlKeys}) and the reference in `docs/configuration.md`
 * ({@linkcode configReference}) all derive from it, so they cannot disagree.
 *
 * YAML keys keep the seed's snake_case form (`base_port`); the typed config uses camelCase
 * (`basePort`). Bad input never crashes: every problem is a {@linkcode ConfigError} that names
 * the key and the file. Only {@linkcode loadConfig} touches the file system, through an
 * injectable reader.
 *
 * ```ts
 * const { config } = await loadConfig(Deno.args);
 * config.broker.basePort; // 9092
 * ```
 * @module
 */
import { loadAll } from "js-yaml";
import { KaError } from "../errors.ts";
import { assert } from "../assert.ts";
import { CODEC_NAMES, type CodecName } from "../compression/codecs.ts";
import {
  BATCH_BYTES_MAX,
  BROKERS_MAX,
  CONNECTION_IDLE_TIMEOUT_MS,
  CONNECTION_QUEUED_BYTES_MAX,
  CONNECTIONS_MAX,
  CONNECTIONS_PER_IP_MAX,
  CONSOLE_CONNECTIONS_MAX,
  DEFAULT_LISTENER_LIMITS,
  FETCH_WAIT_MS_MAX,
  FRAME_BYTES_MAX,
  GATEWAY_REQUEST_TIMEOUT_MS,
  GATEWAY_REQUESTS_MAX,
  GATEWAY_REQUESTS_PER_IP_MAX,
  IN_FLIGHT_REQUESTS_MAX,
  LISTENER_BUFFERED_BYTES_MAX,
  LISTENER_REQUEST_TIMEOUT_MS,
  type ListenerLimits,
  PARTITIONS_MAX,
} from "../limits.ts";
import { ERRORS } from "../protocol/error_codes.ts";

/** The whole cluster configuration, validated and frozen. */
export interface Config {
  readonly coordinator: {
    readonly host: string;
    readonly port: number;
    readonly consolePort: number;
    readonly brokerCount: number;
    readonly dataDir: string;
    readonly brokerSessionTimeoutMs: number;
    readonly brokerHeartbeatIntervalMs: number;
  };
  readonly broker: {
    readonly host: string;
    readonly basePort: number;
    /** 0: brokers advertise base_port + N (a proxy in between sets it). */
    readonly advertisedBasePort: number;
    /** 0: brokers dial coordinator.port. */
    readonly coordinatorPort: number;
    readonly dataDir: string;
    readonly storage: "memory" | "disk";
    readonly maxMessageBytes: number;
    readonly segmentBytes: number;
    /** -1 keeps segments forever. */
    readonly retentionMs: number;
    /** -1 means no size limit. */
    readonly retentionBytes: number;
    readonly fetchMaxWaitMs: number;
    readonly connectionsMax: number;
    readonly replicaLagTimeMaxMs: number;
    readonly reassignmentThrottleBytesPerSec: number;
  };
  readonly topics: {
    readonly defaultPartitions: number;
    readonly replicationFactor: number;
    readonly autoCreate: boolean;
  };
  readonly consumer: {
    readonly sessionTimeoutMs: number;
    readonly heartbeatIntervalMs: number;
    readonly autoCommitIntervalMs: number;
    readonly autoOffsetReset: "earliest" | "latest";
  };
  readonly producer: {
    readonly batchSize: number;
    readonly lingerMs: number;
    readonly acks: "0" | "1" | "all";
    readonly retries: number;
    readonly retryBackoffMs: number;
    readonly retryBackoffMaxMs: number;
    readonly requestTimeoutMs: number;
    readonly deliveryTimeoutMs: number;
    readonly bufferMemory: number;
    readonly maxBlockMs: number;
    readonly idempotence: boolean;
    readonly compression: CodecName;
  };
  readonly gateway: {
    readonly host: string;
    readonly writerPort: number;
    readonly readerPort: number;
    /** null disables authentication. */
    readonly authToken: string | null;
  };
  /** Finite limits of every listener (SPEC: nothing unbounded); see `listenerLimits()`. */
  readonly limits: {
    readonly frameBytesMax: number;
    readonly connectionsPerIpMax: number;
    readonly idleTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly inFlightRequestsMax: number;
    readonly queuedBytesMax: number;
    readonly bufferedBytesMax: number;
    readonly coordinatorConnectionsMax: number;
    readonly consoleConnectionsMax: number;
    readonly gatewayConnectionsMax: number;
    readonly gatewayRequestsMax: number;
    readonly gatewayRequestsPerIpMax: number;
    readonly gatewayRequestTimeoutMs: number;
  };
}

/** A section of {@linkcode Config}: `coordinator`, `broker`, … */
export type ConfigSection = keyof Config;

/**
 * A bad `config.yaml` or flag. `key` is the YAML path (`broker.base_port`, or `""` when the
 * whole file is at fault) and `file` is where the value came from (a path, `command line`, or
 * null when unknown). Its code is `INVALID_CONFIG`.
 */
export class ConfigError extends KaError {
  override name = "ConfigError";
  /** YAML path of the offending key, e.g. `broker.base_port`; `""` for the file as a whole. */
  readonly key: string;
  /** Where the value came from: a file path, `command line`, or null. */
  readonly file: string | null;
  /** The message without the `Invalid config '…' in …:` prefix. */
  readonly reason: string;

  constructor(key: string, file: string | null, reason: string, options?: ErrorOptions) {
    const where = (key === "" ? "" : ` '${key}'`) + (file === null ? "" : ` in ${file}`);
    super(ERRORS.INVALID_CONFIG.code, `Invalid config${where}: ${reason}`, options);
    this.key = key;
    this.file = file;
    this.reason = reason;
  }
}

/** One documented key of the schema, as listed by {@linkcode CONFIG_KEYS}. */
export interface ConfigKeyInfo {
  /** `broker.base_port`: the YAML path, also the flag name after `--`. */
  readonly path: string;
  /** `broker`. */
  readonly section: ConfigSection;
  /** `base_port`: the key inside its YAML section. */
  readonly key: string;
  /** `basePort`: the field inside its {@linkcode Config} section. */
  readonly field: string;
  /** Short type for docs, e.g. `integer in 1..65535`. */
  readonly type: string;
  /** The default value. */
  readonly default: unknown;
  /** One line saying what the key does. */
  readonly doc: string;
}

type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

interface KeySpec<T> {
  readonly key: string;
  readonly default: T;
  readonly type: string;
  readonly doc: string;
  /** Validates a value as YAML parsed it. */
  check(value: unknown): Checked<T>;
  /** Parses and validates a command-line string. */
  parseText(text: string): Checked<T>;
}

interface KeyEntry extends ConfigKeyInfo {
  check(value: unknown): Checked<unknown>;
  parseText(text: string): Checked<unknown>;
}

type Schema = {
  readonly [S in ConfigSection]: { readonly [F in keyof Config[S]]-?: KeySpec<Config[S][F]> };
};

const PORT_MAX = 65_535;
const MS_MAX = 3_600_000;
const INT32_MAX = 2_147_483_647;

function ok<T>(value: T): Checked<T> {
  return { ok: true, value };
}

function fail<T>(expected: string, got: unknown): Checked<T> {
  return { ok: false, reason: `must be ${expected}, got ${describeValue(got)}` };
}

/** Shows a bad value the way the user wrote it: strings quoted, containers named. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

interface IntBounds {
  readonly min: number;
  readonly max: number;
  /** Also accept -1, meaning "no limit". */
  readonly unlimited?: boolean;
}

function intKey(
  key: string,
  defaultValue: number,
  bounds: IntBounds,
  doc: string,
): KeySpec<number> {
  const range = bounds.max === Number.MAX_SAFE_INTEGER
    ? `an integer >= ${bounds.min}`
    : `an integer in ${bounds.min}..${bounds.max}`;
  const expected = bounds.unlimited ? `-1 (unlimited) or ${range}` : range;
  const type = expected.replace(/\ban integer\b/, "integer");
  function inBounds(value: number): boolean {
    return (value >= bounds.min && value <= bounds.max) ||
      (bounds.unlimited === true && value === -1);
  }
  return {
    key,
    default: defaultValue,
    type,
    doc,
    check(value) {
      if (typeof value === "number" && Number.isSafeInteger(value) && inBounds(value)) {
        return ok(value);
      }
      return fail(expected, value);
    },
    parseText(text) {
      const value = /^[+-]?[0-9]+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      if (Number.isSafeInteger(value) && inBounds(value)) return ok(value);
      return fail(expected, text);
    },
  };
}

function portKey(key: string, defaultValue: number, doc: string): KeySpec<number> {
  return intKey(key, defaultValue, { min: 1, max: PORT_MAX }, doc);
}

function boolKey(key: string, defaultValue: boolean, doc: string): KeySpec<boolean> {
  const expected = "true or false";
  return {
    key,
    default: defaultValue,
    type: "boolean",
    doc,
    check(value) {
      return typeof value === "boolean" ? ok(value) : fail(expected, value);
    },
    parseText(text) {
      const trimmed = text.trim();
      if (trimmed === "true") return ok(true);
      if (trimmed === "false") return ok(false);
      return fail(expected, text);
    },
  };
}

function enumKey<const V extends string>(
  key: string,
  values: readonly V[],
  defaultValue: NoInfer<V>,
  doc: string,
  aliases: Readonly<Record<string, NoInfer<V>>> = {},
): KeySpec<V> {
  const quoted = values.map((v) => JSON.stringify(v));
  const expected = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  function lookup(text: string): V | undefined {
    return (values as readonly string[]).includes(text) ? text as V : aliases[text];
  }
  return {
    key,
    default: defaultValue,
    type: `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`,
    doc,
    check(value) {
      // YAML reads `acks: 1` as a number; accept it as the enum's text.
      const text = typeof value === "string" || typeof value === "number" ? String(value) : null;
      const found = text === null ? undefined : lookup(text);
      return found === undefined ? fail(expected, value) : ok(found);
    },
    parseText(text) {
      const found = lookup(text.trim());
      return found === undefined ? fail(expected, text) : ok(found);
    },
  };
}

function hostKey(key: string, defaultValue: string, doc: string): KeySpec<string> {
  const expected = "a host name or IP address";
  function valid(value: string): boolean {
    return value.length <= 253 && /^[A-Za-z0-9._:\-\[\]]+$/.test(value);
  }
  return {
    key,
    default: defaultValue,
    type: "host name or IP address",
    doc,
    check(value) {
      return typeof value === "string" && valid(value) ? ok(value) : fail(expected, value);
    },
    parseText(text) {
      return valid(text) ? ok(text) : fail(expected, text);
    },
  };
}

function pathKey(key: string, defaultValue: string, doc: string): KeySpec<string> {
  const expected = "a non-empty path";
  function valid(value: string): boolean {
    return value.trim() !== "" && !value.includes("\0");
  }
  return {
    key,
    default: defaultValue,
    type: "path",
    doc,
    check(value) {
      return typeof value === "string" && valid(value) ? ok(value) : fail(expected, value);
    },
    parseText(text) {
      return valid(text) ? ok(text) : fail(expected, text);
    },
  };
}

/** A secret such as a bearer token: null, or a non-empty string without whitespace. */
function tokenKey(key: string, defaultValue: string | null, doc: string): KeySpec<string | null> {
  const expected = "null or a non-empty string without whitespace";
  function valid(value: string): boolean {
    return /^\S+$/.test(value);
  }
  function rejected(got: string): Checked<string | null> {
    return { ok: false, reason: `must be ${expected}, got ${got}` };
  }
  return {
    key,
    default: defaultValue,
    type: "string or null",
    doc,
    check(value) {
      if (value === null) return ok(null);
      // Never echo a rejected secret back: describe it instead.
      if (typeof value === "string") {
        if (valid(value)) return ok(value);
        return rejected(value === "" ? '""' : "a string with whitespace");
      }
      if (typeof value === "number") return rejected("a number (quote it)");
      return fail(expected, value);
    },
    parseText(text) {
      // An empty flag value (`--gateway.auth_token=`) turns authentication off.
      if (text === "") return ok(null);
      return valid(text) ? ok(text) : rejected("a string with whitespace");
    },
  };
}

/** The one schema table: every key, its type, default, bounds and documentation. */
const SCHEMA: Schema = {
  coordinator: {
    host: hostKey("host", "127.0.0.1", "Interface the coordinator listens on."),
    port: portKey(
      "port",
      8080,
      "Cluster-protocol port: broker registration, heartbeats, metadata.",
    ),
    consolePort: portKey("console_port", 8081, "TCP port of the admin console."),
    brokerCount: intKey(
      "broker_count",
      5,
      { min: 1, max: BROKERS_MAX },
      "Brokers the coordinator starts and supervises (ids 0..broker_count-1).",
    ),
    dataDir: pathKey("data_dir", "./data/coordinator", "Where the coordinator persists metadata."),
    brokerSessionTimeoutMs: intKey(
      "broker_session_timeout_ms",
      3000,
      { min: 10, max: MS_MAX },
      "A broker silent this long is declared dead and loses leadership.",
    ),
    brokerHeartbeatIntervalMs: intKey(
      "broker_heartbeat_interval_ms",
      500,
      { min: 1, max: MS_MAX },
      "How often each broker heartbeats to the coordinator.",
    ),
  },
  broker: {
    host: hostKey("host", "127.0.0.1", "Interface the brokers listen on."),
    basePort: portKey("base_port", 9092, "Port of broker 0; broker N listens on base_port + N."),
    advertisedBasePort: intKey(
      "advertised_base_port",
      0,
      { min: 0, max: 65535 },
      "Clients and peers reach broker N at this + N (a proxy); 0: base_port.",
    ),
    coordinatorPort: intKey(
      "coordinator_port",
      0,
      { min: 0, max: 65535 },
      "Port brokers dial for the coordinator (a proxy); 0: coordinator.port.",
    ),
    dataDir: pathKey(
      "data_dir",
      "./data",
      "Root of broker data; broker N writes data_dir/broker-N.",
    ),
    storage: enumKey(
      "storage",
      ["memory", "disk"],
      "memory",
      "memory keeps logs in RAM (lost on restart); disk writes segment files.",
    ),
    maxMessageBytes: intKey(
      "max_message_bytes",
      1_048_576,
      { min: 1, max: BATCH_BYTES_MAX },
      "Largest record batch a broker accepts; larger gets MESSAGE_TOO_LARGE.",
    ),
    segmentBytes: intKey(
      "segment_bytes",
      16_777_216,
      { min: 1024, max: INT32_MAX },
      "Size at which a partition's log rolls to a new segment.",
    ),
    retentionMs: intKey(
      "retention_ms",
      604_800_000,
      { min: 1, max: Number.MAX_SAFE_INTEGER, unlimited: true },
      "Delete closed segments older than this; -1 keeps them forever.",
    ),
    retentionBytes: intKey(
      "retention_bytes",
      -1,
      { min: 1, max: Number.MAX_SAFE_INTEGER, unlimited: true },
      "Delete the oldest closed segments above this partition size; -1 = unlimited.",
    ),
    fetchMaxWaitMs: intKey(
      "fetch_max_wait_ms",
      500,
      { min: 0, max: FETCH_WAIT_MS_MAX },
      "Longest a fetch waits for new data (long poll) before answering.",
    ),
    connectionsMax: intKey(
      "connections_max",
      1024,
      { min: 1, max: CONNECTIONS_MAX },
      "Client connections one broker accepts at once.",
    ),
    replicaLagTimeMaxMs: intKey(
      "replica_lag_time_max_ms",
      10_000,
      { min: 100, max: 3_600_000 },
      "A follower that has not caught up with its leader for this long leaves the ISR.",
    ),
    reassignmentThrottleBytesPerSec: intKey(
      "reassignment_throttle_bytes_per_sec",
      52_428_800,
      { min: 0, max: 10_737_418_240 },
      "Bytes/s a broker copies for partitions being moved onto it (0 = unthrottled).",
    ),
  },
  topics: {
    defaultPartitions: intKey(
      "default_partitions",
      10,
      { min: 1, max: PARTITIONS_MAX },
      "Partitions of a topic created without an explicit count.",
    ),
    replicationFactor: intKey(
      "replication_factor",
      2,
      { min: 1, max: BROKERS_MAX },
      "Replicas per partition (leader included) for new topics.",
    ),
    autoCreate: boolKey(
      "auto_create",
      false,
      "Create unknown topics on first use instead of UNKNOWN_TOPIC_OR_PARTITION.",
    ),
  },
  consumer: {
    sessionTimeoutMs: intKey(
      "session_timeout_ms",
      10_000,
      { min: 10, max: MS_MAX },
      "A group member silent this long is removed and the group rebalances.",
    ),
    heartbeatIntervalMs: intKey(
      "heartbeat_interval_ms",
      3000,
      { min: 1, max: MS_MAX },
      "How often a consumer heartbeats to its group.",
    ),
    autoCommitIntervalMs: intKey(
      "auto_commit_interval_ms",
      5000,
      { min: 1, max: MS_MAX },
      "How often consumers with auto-commit on commit their offsets.",
    ),
    autoOffsetReset: enumKey(
      "auto_offset_reset",
      ["earliest", "latest"],
      "latest",
      "Where a consumer with no committed offset starts.",
    ),
  },
  producer: {
    batchSize: intKey(
      "batch_size",
      16_384,
      { min: 0, max: BATCH_BYTES_MAX },
      "Bytes collected per partition before a batch is sent; 0 disables batching.",
    ),
    lingerMs: intKey(
      "linger_ms",
      5,
      { min: 0, max: MS_MAX },
      "Longest a producer waits to fill a batch before sending it.",
    ),
    acks: enumKey(
      "acks",
      ["0", "1", "all"],
      "all",
      "Ack after: 0 nothing, 1 the leader's append, all every in-sync replica (-1 = all).",
      { "-1": "all" },
    ),
    retries: intKey(
      "retries",
      5,
      { min: 0, max: INT32_MAX },
      "Times a retriable send error is retried before the send fails.",
    ),
    retryBackoffMs: intKey(
      "retry_backoff_ms",
      100,
      { min: 0, max: MS_MAX },
      "Base wait before a retry; it doubles per attempt, with ±20% jitter.",
    ),
    retryBackoffMaxMs: intKey(
      "retry_backoff_max_ms",
      1000,
      { min: 0, max: MS_MAX },
      "Cap on the wait before a retry.",
    ),
    requestTimeoutMs: intKey(
      "request_timeout_ms",
      30_000,
      { min: 1, max: MS_MAX },
      "Longest a producer waits for a broker's answer.",
    ),
    deliveryTimeoutMs: intKey(
      "delivery_timeout_ms",
      120_000,
      { min: 1, max: MS_MAX },
      "Longest from send() to success or failure, retries included.",
    ),
    bufferMemory: intKey(
      "buffer_memory",
      33_554_432,
      { min: 1, max: Number.MAX_SAFE_INTEGER },
      "Bytes of unsent records a producer buffers before send() blocks.",
    ),
    maxBlockMs: intKey(
      "max_block_ms",
      60_000,
      { min: 0, max: MS_MAX },
      "Longest send() blocks on a full buffer or missing metadata.",
    ),
    idempotence: boolKey(
      "idempotence",
      true,
      "Producer id + sequence numbers so retries never duplicate a record.",
    ),
    compression: enumKey(
      "compression",
      CODEC_NAMES,
      "none",
      `Compression of each record batch: ${CODEC_NAMES.slice(0, -1).join(", ")} or ${
        CODEC_NAMES[CODEC_NAMES.length - 1]
      }.`,
    ),
  },
  gateway: {
    host: hostKey("host", "127.0.0.1", "Interface the HTTP/WebSocket gateways listen on."),
    writerPort: portKey("writer_port", 3001, "Port of the writer gateway (produce, topic admin)."),
    readerPort: portKey("reader_port", 3002, "Port of the reader gateway (consume, offsets)."),
    authToken: tokenKey(
      "auth_token",
      null,
      "Bearer token the gateways require; null turns authentication off.",
    ),
  },
  limits: {
    frameBytesMax: intKey(
      "frame_bytes_max",
      FRAME_BYTES_MAX,
      { min: 65_536, max: 1_073_741_824 },
      "Largest request a broker or the coordinator reads; the declared length is checked before allocating.",
    ),
    connectionsPerIpMax: intKey(
      "connections_per_ip_max",
      CONNECTIONS_PER_IP_MAX,
      { min: 1, max: CONNECTIONS_MAX },
      "Connections one IP address may hold on each listener: brokers, coordinator, console, gateways.",
    ),
    idleTimeoutMs: intKey(
      "idle_timeout_ms",
      CONNECTION_IDLE_TIMEOUT_MS,
      { min: 100, max: 86_400_000 },
      "A connection that sends nothing and awaits no answer this long is closed.",
    ),
    requestTimeoutMs: intKey(
      "request_timeout_ms",
      LISTENER_REQUEST_TIMEOUT_MS,
      { min: 100, max: MS_MAX },
      "Longest a peer may take to send one whole request, or to read one answer, before it is dropped.",
    ),
    inFlightRequestsMax: intKey(
      "in_flight_requests_max",
      IN_FLIGHT_REQUESTS_MAX,
      { min: 1, max: 65_536 },
      "Unanswered requests per connection; the listener reads no more from it until one is answered.",
    ),
    queuedBytesMax: intKey(
      "queued_bytes_max",
      CONNECTION_QUEUED_BYTES_MAX,
      { min: 65_536, max: 1_073_741_824 },
      "Answer bytes one connection may have waiting to be written; a slower reader is dropped.",
    ),
    bufferedBytesMax: intKey(
      "buffered_bytes_max",
      LISTENER_BUFFERED_BYTES_MAX,
      { min: 65_536, max: 68_719_476_736 },
      "Bytes all connections of one listener may hold together (requests partly received or being handled, queued answers); the connection that would pass it is closed, unless it is the only one holding bytes.",
    ),
    coordinatorConnectionsMax: intKey(
      "coordinator_connections_max",
      DEFAULT_LISTENER_LIMITS.connectionsMax,
      { min: 1, max: CONNECTIONS_MAX },
      "Connections the coordinator's cluster port accepts at once.",
    ),
    consoleConnectionsMax: intKey(
      "console_connections_max",
      CONSOLE_CONNECTIONS_MAX,
      { min: 1, max: 1024 },
      "Connections the console port accepts at once.",
    ),
    gatewayConnectionsMax: intKey(
      "gateway_connections_max",
      DEFAULT_LISTENER_LIMITS.connectionsMax,
      { min: 1, max: CONNECTIONS_MAX },
      "Connections each HTTP/WebSocket gateway port accepts at once.",
    ),
    gatewayRequestsMax: intKey(
      "gateway_requests_max",
      GATEWAY_REQUESTS_MAX,
      { min: 1, max: 65_536 },
      "HTTP requests one gateway handles at once; more get 429.",
    ),
    gatewayRequestsPerIpMax: intKey(
      "gateway_requests_per_ip_max",
      GATEWAY_REQUESTS_PER_IP_MAX,
      { min: 1, max: 65_536 },
      "HTTP requests one IP address may have in progress on a gateway; more get 429.",
    ),
    gatewayRequestTimeoutMs: intKey(
      "gateway_request_timeout_ms",
      GATEWAY_REQUEST_TIMEOUT_MS,
      { min: FETCH_WAIT_MS_MAX + 1_000, max: MS_MAX },
      "Longest a gateway works on one HTTP request (long polls included) before answering 504.",
    ),
  },
};

function buildKeyList(): readonly KeyEntry[] {
  const entries: KeyEntry[] = [];
  for (const section of Object.keys(SCHEMA) as ConfigSection[]) {
    const specs = SCHEMA[section] as unknown as Record<string, KeySpec<unknown>>;
    for (const [field, spec] of Object.entries(specs)) {
      entries.push(Object.freeze({
        path: `${section}.${spec.key}`,
        section,
        key: spec.key,
        field,
        type: spec.type,
        default: spec.default,
        doc: spec.doc,
        check: spec.check,
        parseText: spec.parseText,
      }));
    }
  }
  return Object.freeze(entries);
}

const KEYS: readonly KeyEntry[] = buildKeyList();
const KEYS_BY_PATH: ReadonlyMap<string, KeyEntry> = new Map(KEYS.map((k) => [k.path, k]));
const SECTIONS: readonly ConfigSection[] = Object.freeze(Object.keys(SCHEMA) as ConfigSection[]);

/** Every key of the schema in file order: the source of the docs and of `config show`. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = KEYS;

/** Seed sections that no longer exist, with where their settings went. */
const RENAMED_SECTIONS: Readonly<Record<string, string>> = {
  nodejs_writer: "the writer service is the gateway now: use gateway.writer_port",
  nodejs_reader: "the reader service is the gateway now: use gateway.reader_port",
};

/** Values keyed by YAML path; the mutable form a config is assembled in. */
type Values = Map<string, unknown>;

function valuesOf(config: Config): Values {
  const values: Values = new Map();
  for (const entry of KEYS) {
    const section = config[entry.section] as unknown as Record<string, unknown>;
    values.set(entry.path, section[entry.field]);
  }
  return values;
}

function freezeConfig(values: Values): Config {
  const root: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const section of SECTIONS) {
    const fields: Record<string, unknown> = {};
    for (const entry of KEYS) {
      if (entry.section === section) fields[entry.field] = values.get(entry.path);
    }
    root[section] = Object.freeze(fields);
  }
  return Object.freeze(root) as unknown as Config;
}

interface Problem {
  readonly key: string;
  readonly reason: string;
}

interface CrossCheck {
  /** The rule in words, for the docs. */
  readonly doc: string;
  check(config: Config): Problem | null;
}

/** Rules that span keys, checked after every key is valid on its own. */
const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    doc: "`broker.base_port + coordinator.broker_count - 1` <= 65535.",
    check(c) {
      const last = c.broker.basePort + c.coordinator.brokerCount - 1;
      if (last <= PORT_MAX) return null;
      return {
        key: "broker.base_port",
        reason: `must leave room for ${c.coordinator.brokerCount} broker ports ` +
          `(coordinator.broker_count), but the last would be ${last} > ${PORT_MAX}`,
      };
    },
  },
  {
    doc:
      "All listener ports differ: coordinator, console, every broker, writer and reader gateway.",
    check: checkPortsDistinct,
  },
  {
    doc: "`topics.replication_factor` <= `coordinator.broker_count`.",
    check(c) {
      if (c.topics.replicationFactor <= c.coordinator.brokerCount) return null;
      return {
        key: "topics.replication_factor",
        reason: `must be at most coordinator.broker_count (${c.coordinator.brokerCount}), ` +
          `got ${c.topics.replicationFactor}`,
      };
    },
  },
  {
    doc: "`coordinator.broker_heartbeat_interval_ms` < `coordinator.broker_session_timeout_ms`.",
    check(c) {
      const { brokerHeartbeatIntervalMs: beat, brokerSessionTimeoutMs: session } = c.coordinator;
      if (beat < session) return null;
      return {
        key: "coordinator.broker_heartbeat_interval_ms",
        reason: `must be less than coordinator.broker_session_timeout_ms (${session}), got ${beat}`,
      };
    },
  },
  {
    doc: "`consumer.heartbeat_interval_ms` < `consumer.session_timeout_ms`.",
    check(c) {
      const { heartbeatIntervalMs: beat, sessionTimeoutMs: session } = c.consumer;
      if (beat < session) return null;
      return {
        key: "consumer.heartbeat_interval_ms",
        reason: `must be less than consumer.session_timeout_ms (${session}), got ${beat}`,
      };
    },
  },
  {
    doc: "`producer.batch_size` <= `broker.max_message_bytes`, so a full batch is accepted.",
    check(c) {
      if (c.producer.batchSize <= c.broker.maxMessageBytes) return null;
      return {
        key: "producer.batch_size",
        reason: `must be at most broker.max_message_bytes (${c.broker.maxMessageBytes}), ` +
          `got ${c.producer.batchSize}`,
      };
    },
  },
  {
    doc: "`limits.frame_bytes_max` >= `broker.max_message_bytes` + 65536 (batch plus headers).",
    check(c) {
      const needed = c.broker.maxMessageBytes + 65_536;
      if (c.limits.frameBytesMax >= needed) return null;
      return {
        key: "limits.frame_bytes_max",
        reason: `must be at least broker.max_message_bytes + 65536 (${needed}), ` +
          `got ${c.limits.frameBytesMax}`,
      };
    },
  },
  {
    doc: "`limits.buffered_bytes_max` >= `limits.frame_bytes_max`, so one largest request fits.",
    check(c) {
      const { bufferedBytesMax, frameBytesMax } = c.limits;
      if (bufferedBytesMax >= frameBytesMax) return null;
      return {
        key: "limits.buffered_bytes_max",
        reason: `must be at least limits.frame_bytes_max (${frameBytesMax}), ` +
          `got ${bufferedBytesMax}`,
      };
    },
  },
  {
    doc: "`limits.buffered_bytes_max` >= `limits.queued_bytes_max`, so one full answer queue fits.",
    check(c) {
      const { bufferedBytesMax, queuedBytesMax } = c.limits;
      if (bufferedBytesMax >= queuedBytesMax) return null;
      return {
        key: "limits.buffered_bytes_max",
        reason: `must be at least limits.queued_bytes_max (${queuedBytesMax}), ` +
          `got ${bufferedBytesMax}`,
      };
    },
  },
  {
    doc: "`producer.buffer_memory` >= `producer.batch_size`.",
    check(c) {
      if (c.producer.bufferMemory >= c.producer.batchSize) return null;
      return {
        key: "producer.buffer_memory",
        reason: `must be at least producer.batch_size (${c.producer.batchSize}), ` +
          `got ${c.producer.bufferMemory}`,
      };
    },
  },
  {
    doc: "`producer.retry_backoff_max_ms` >= `producer.retry_backoff_ms`.",
    check(c) {
      if (c.producer.retryBackoffMaxMs >= c.producer.retryBackoffMs) return null;
      return {
        key: "producer.retry_backoff_max_ms",
        reason: `must be at least producer.retry_backoff_ms (${c.producer.retryBackoffMs}), ` +
          `got ${c.producer.retryBackoffMaxMs}`,
      };
    },
  },
  {
    doc: "`producer.delivery_timeout_ms` >= `producer.linger_ms + producer.request_timeout_ms`.",
    check(c) {
      const least = c.producer.lingerMs + c.producer.requestTimeoutMs;
      if (c.producer.deliveryTimeoutMs >= least) return null;
      return {
        key: "producer.delivery_timeout_ms",
        reason: `must be at least producer.linger_ms + producer.request_timeout_ms (${least}), ` +
          `got ${c.producer.deliveryTimeoutMs}`,
      };
    },
  },
  {
    doc: "`producer.idempotence: true` needs `producer.acks: all` and `producer.retries >= 1`.",
    check(c) {
      if (!c.producer.idempotence) return null;
      if (c.producer.acks !== "all") {
        return {
          key: "producer.acks",
          reason: `must be "all" when producer.idempotence is true, got "${c.producer.acks}"`,
        };
      }
      if (c.producer.retries < 1) {
        return {
          key: "producer.retries",
          reason: `must be at least 1 when producer.idempotence is true, got ${c.producer.retries}`,
        };
      }
      return null;
    },
  },
];

function checkPortsDistinct(c: Config): Problem | null {
  const used = new Map<number, string>();
  const claims: { port: number; key: string; label: string }[] = [
    { port: c.coordinator.port, key: "coordinator.port", label: "coordinator.port" },
    {
      port: c.coordinator.consolePort,
      key: "coordinator.console_port",
      label: "coordinator.console_port",
    },
  ];
  for (let id = 0; id < c.coordinator.brokerCount; id++) {
    claims.push({
      port: c.broker.basePort + id,
      key: "broker.base_port",
      label: `broker ${id} (broker.base_port + ${id})`,
    });
  }
  claims.push(
    { port: c.gateway.writerPort, key: "gateway.writer_port", label: "gateway.writer_port" },
    { port: c.gateway.readerPort, key: "gateway.reader_port", label: "gateway.reader_port" },
  );
  for (const claim of claims) {
    const owner = used.get(claim.port);
    if (owner !== undefined) {
      const who = claim.key === "broker.base_port" ? `${claim.label} uses port` : "port";
      return { key: claim.key, reason: `${who} ${claim.port}, already used by ${owner}` };
    }
    used.set(claim.port, claim.label);
  }
  return null;
}

function firstCrossProblem(config: Config): Problem | null {
  for (const rule of CROSS_CHECKS) {
    const problem = rule.check(config);
    if (problem !== null) return problem;
  }
  return null;
}

function finish(values: Values, file: string | null): Config {
  const config = freezeConfig(values);
  const problem = firstCrossProblem(config);
  if (problem !== null) throw new ConfigError(problem.key, file, problem.reason);
  return config;
}

/** The configuration used when `config.yaml` is absent or leaves a key out. */
export const DEFAULT_CONFIG: Config = freezeConfig(new Map(KEYS.map((k) => [k.path, k.default])));

{
  const problem = firstCrossProblem(DEFAULT_CONFIG);
  assert(problem === null, `DEFAULT_CONFIG breaks a rule: ${problem?.key}: ${problem?.reason}`);
  for (const entry of KEYS) {
    assert(entry.check(entry.default).ok, `default of ${entry.path} fails its own check`);
  }
}

/** Edit distance, for "did you mean" hints on misspelt keys. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost));
    }
    previous = current;
  }
  return previous[b.length];
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, "_");
}

function unknownKeyError(section: ConfigSection, key: string, file: string | null): ConfigError {
  const path = `${section}.${key}`;
  const inSection = KEYS.filter((k) => k.section === section);
  let hint: string | null = null;
  const snake = snakeCase(key);
  const exact = KEYS_BY_PATH.get(`${section}.${snake}`) ??
    KEYS.find((k) => k.key === key || k.key === snake);
  if (exact !== undefined) {
    hint = `did you mean '${exact.path}'?`;
  } else {
    let best: KeyEntry | null = null;
    let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
    for (const candidate of inSection) {
      const distance = editDistance(key, candidate.key);
      if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
    }
    if (best !== null) hint = `did you mean '${best.path}'?`;
  }
  const known = inSection.map((k) => k.key).join(", ");
  return new ConfigError(
    path,
    file,
    `unknown key; ${hint ?? `known keys in '${section}' are ${known}`}`,
  );
}

function unknownSectionError(section: string, file: string | null): ConfigError {
  const renamed = RENAMED_SECTIONS[section];
  const hint = renamed ?? `known sections are ${SECTIONS.join(", ")}`;
  return new ConfigError(section, file, `unknown section; ${hint}`);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isSection(name: string): name is ConfigSection {
  return (SECTIONS as readonly string[]).includes(name);
}

function parseYaml(text: string, file: string | null): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text, file === null ? {} : { filename: file });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError("", file, `not valid YAML: ${reason}`, { cause: err });
  }
  if (documents.length > 1) {
    throw new ConfigError("", file, `must hold one YAML document, found ${documents.length}`);
  }
  return documents[0] ?? null;
}

/**
 * Parses `config.yaml` text into a validated, frozen {@linkcode Config}. Missing sections and
 * keys take their defaults; unknown ones, wrong types, values out of range and broken
 * cross-key rules throw {@linkcode ConfigError} naming the key and `options.file`.
 */
export function parseConfig(text: string, options: { file?: string } = {}): Config {
  const file = options.file ?? null;
  const document = parseYaml(text, file);
  const values = valuesOf(DEFAULT_CONFIG);
  if (document === null) return finish(values, file);
  if (!isMapping(document)) {
    throw new ConfigError(
      "",
      file,
      `must be a mapping of sections (${SECTIONS.join(", ")}), got ${describeValue(document)}`,
    );
  }
  for (const [sectionName, body] of Object.entries(document)) {
    if (!isSection(sectionName)) throw unknownSectionError(sectionName, file);
    // `broker:` with every key commented out is null: keep the defaults.
    if (body === null) continue;
    if (!isMapping(body)) {
      throw new ConfigError(
        sectionName,
        file,
        `must be a mapping of keys, got ${describeValue(body)}`,
      );
    }
    for (const [key, raw] of Object.entries(body)) {
      const entry = KEYS_BY_PATH.get(`${sectionName}.${key}`);
      if (entry === undefined) throw unknownKeyError(sectionName, key, file);
      const checked = entry.check(raw);
      if (!checked.ok) throw new ConfigError(entry.path, file, checked.reason);
      values.set(entry.path, checked.value);
    }
  }
  return finish(values, file);
}

/**
 * Returns a new frozen config with `overrides` applied. Keys are YAML paths
 * (`broker.base_port`), values are strings as typed on a command line, parsed per the key's
 * type (`"true"`, `"9092"`, `"disk"`; an empty `gateway.auth_token` means null). Errors name
 * `options.source` (default `command line`) as the file.
 */
export function applyOverrides(
  config: Config,
  overrides: Readonly<Record<string, string>>,
  options: { source?: string } = {},
): Config {
  const source = options.source ?? "command line";
  const values = valuesOf(config);
  for (const [path, text] of Object.entries(overrides)) {
    const entry = KEYS_BY_PATH.get(path);
    if (entry === undefined) throw unknownPathError(path, source);
    const checked = entry.parseText(text);
    if (!checked.ok) throw new ConfigError(entry.path, source, checked.reason);
    values.set(entry.path, checked.value);
  }
  return finish(values, source);
}

function unknownPathError(path: string, source: string): ConfigError {
  const dot = path.indexOf(".");
  const section = dot === -1 ? path : path.slice(0, dot);
  if (!isSection(section)) return unknownSectionError(section, source);
  return unknownKeyError(section, path.slice(dot + 1), source);
}

/** What {@linkcode parseConfigArgs} found on a command line. */
export interface ConfigArgs {
  /** The `--config FILE` value, or null when not given. */
  configFile: string | null;
  /** `--section.key VALUE` flags by YAML path; the last of repeated flags wins. */
  overrides: Record<string, string>;
  /** Every other argument, in order; `--` and all after it are passed through untouched. */
  rest: string[];
}

/**
 * Picks the config flags out of `args`: `--config FILE`, `--config=FILE`, and
 * `--<section>.<key> VALUE` / `--<section>.<key>=VALUE` for every schema key. Other arguments go
 * to `rest`. A flag naming a known section but an unknown key (`--broker.bse_port`) or missing
 * its value is a {@linkcode ConfigError}, so a typo is never silently ignored.
 */
export function parseConfigArgs(args: readonly string[]): ConfigArgs {
  const source = "command line";
  let configFile: string | null = null;
  const overrides: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith("--")) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const dot = name.indexOf(".");
    const isConfigFlag = name === "config";
    if (!isConfigFlag && (dot === -1 || !isSection(name.slice(0, dot)))) {
      rest.push(arg);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      if (value !== undefined) i++;
    }
    if (isConfigFlag) {
      if (value === undefined || value === "") {
        throw new ConfigError("--config", source, "needs a file path: --config FILE");
      }
      configFile = value;
      continue;
    }
    const entry = KEYS_BY_PATH.get(name);
    if (entry === undefined) throw unknownPathError(name, source);
    if (value === undefined) {
      throw new ConfigError(entry.path, source, `needs a value: --${entry.path} VALUE`);
    }
    overrides[entry.path] = value;
  }
  return { configFile, overrides, rest };
}

function isNotFound(err: unknown): boolean {
  if (typeof Deno !== "undefined" && err instanceof Deno.errors.NotFound) return true;
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ENOENT";
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Reads a file; defaults to `Deno.readTextFile` (needs `--allow-read` for the file). */
  readTextFile?: (path: string) => Promise<string>;
  /** File read when no `--config` is given; default `config.yaml`. */
  defaultFile?: string;
}

/**
 * Reads the config file named by `--config` (or `options.defaultFile`), validates it and
 * applies `--section.key` overrides from `args`. A missing default file means defaults; a
 * missing `--config` file is a {@linkcode ConfigError}. `file` is the path read, or null when
 * only defaults were used; `rest` holds the arguments that were not config flags.
 */
export async function loadConfig(
  args: readonly string[],
  options: LoadConfigOptions = {},
): Promise<{ config: Config; file: string | null; rest: string[] }> {
  const { configFile, overrides, rest } = parseConfigArgs(args);
  const read = options.readTextFile ?? ((path: string) => Deno.readTextFile(path));
  const path = configFile ?? options.defaultFile ?? "config.yaml";
  let text: string | null;
  try {
    text = await read(path);
  } catch (err) {
    if (configFile === null && isNotFound(err)) {
      text = null;
    } else {
      const reason = isNotFound(err) ? "file not found" : `cannot read the file: ${String(err)}`;
      throw new ConfigError("", path, reason, { cause: err });
    }
  }
  let config = text === null ? DEFAULT_CONFIG : parseConfig(text, { file: path });
  if (Object.keys(overrides).length > 0) config = applyOverrides(config, overrides);
  return { config, file: text === null ? null : path, rest };
}

/** `config` as a nested object with the YAML's snake_case keys, for printing (`config show`). */
export function toYamlKeys(config: Config): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const values = valuesOf(config);
  for (const entry of KEYS) {
    (out[entry.section] ??= {})[entry.key] = values.get(entry.path);
  }
  return out;
}

function formatDefault(value: unknown): string {
  return value === null ? "null" : String(value);
}

function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length), 3));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Which TCP listener {@linkcode listenerLimits} is asked about. */
export type ListenerKind = "broker" | "coordinator" | "console" | "gateway";

/**
 * The limits of one TCP listener from `config`: the shared `limits.*` keys,
 * with the listener's own connection maximum (`broker.connections_max`,
 * `limits.coordinator_connections_max`, `limits.console_connections_max`,
 * `limits.gateway_connections_max`).
 */
export function listenerLimits(config: Config, kind: ListenerKind): ListenerLimits {
  const l = config.limits;
  return {
    connectionsMax: kind === "broker"
      ? config.broker.connectionsMax
      : kind === "coordinator"
      ? l.coordinatorConnectionsMax
      : kind === "gateway"
      ? l.gatewayConnectionsMax
      : l.consoleConnectionsMax,
    connectionsPerIpMax: l.connectionsPerIpMax,
    frameBytesMax: l.frameBytesMax,
    idleTimeoutMs: l.idleTimeoutMs,
    requestTimeoutMs: l.requestTimeoutMs,
    inFlightRequestsMax: l.inFlightRequestsMax,
    queuedBytesMax: l.queuedBytesMax,
    bufferedBytesMax: l.bufferedBytesMax,
  };
}

/**
 * The reference for every key, as Markdown: one table per section plus the cross-key rules.
 * `docs/configuration.md` embeds this text verbatim (a test keeps them equal).
 */
export function configReference(): string {
  const parts: string[] = [];
  for (const section of SECTIONS) {
    const rows = KEYS.filter((k) => k.section === section).map((k) => [
      `\`${k.path}\``,
      k.type,
      `\`${formatDefault(k.default)}\``,
      k.doc,
    ]);
    parts.push(`### ${section}\n\n${markdownTable(["Key", "Type", "Default", "Meaning"], rows)}`);
  }
  parts.push(`### Rules across keys\n\n${CROSS_CHECKS.map((r) => `- ${r.doc}`).join("\n")}`);
  return `${parts.join("\n\n")}\n`;
}
