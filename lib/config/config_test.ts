/**
 * Tests for `config.ts`: defaults, per-key validation naming key and file, unknown keys,
 * cross-key rules, command-line overrides, loading, and that the checked-in `config.yaml` and
 * `docs/configuration.md` match the schema.
 * @module
 */
import assert from "node:assert/strict";
import repoConfigYaml from "../../config.yaml" with { type: "text" };
import configurationDoc from "../../docs/configuration.md" with { type: "text" };
import { isKaError } from "../errors.ts";
import {
  applyOverrides,
  type Config,
  CONFIG_KEYS,
  ConfigError,
  configReference,
  DEFAULT_CONFIG,
  listenerLimits,
  loadConfig,
  parseConfig,
  parseConfigArgs,
  toYamlKeys,
} from "./config.ts";

/** Runs `fn`, expecting a ConfigError; returns it for further checks. */
function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail("expected a ConfigError, but nothing was thrown");
}

async function catchConfigErrorAsync(fn: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail("expected a ConfigError, but nothing was thrown");
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

/** Reads the value at a YAML path (`broker.base_port`) from a config. */
function valueAt(config: Config, path: string): unknown {
  const [section, key] = path.split(".");
  return toYamlKeys(config)[section][key];
}

Deno.test("DEFAULT_CONFIG holds the documented defaults", () => {
  assert.deepEqual(DEFAULT_CONFIG, {
    coordinator: {
      host: "127.0.0.1",
      port: 8080,
      consolePort: 8081,
      brokerCount: 5,
      dataDir: "./data/coordinator",
      brokerSessionTimeoutMs: 3000,
      brokerHeartbeatIntervalMs: 500,
    },
    broker: {
      host: "127.0.0.1",
      basePort: 9092,
      advertisedBasePort: 0,
      coordinatorPort: 0,
      dataDir: "./data",
      storage: "memory",
      maxMessageBytes: 1048576,
      segmentBytes: 16777216,
      retentionMs: 604800000,
      retentionBytes: -1,
      fetchMaxWaitMs: 500,
      connectionsMax: 1024,
      replicaLagTimeMaxMs: 10000,
      reassignmentThrottleBytesPerSec: 52428800,
    },
    topics: { defaultPartitions: 10, replicationFactor: 2, autoCreate: false },
    consumer: {
      sessionTimeoutMs: 10000,
      heartbeatIntervalMs: 3000,
      autoCommitIntervalMs: 5000,
      autoOffsetReset: "latest",
    },
    producer: {
      batchSize: 16384,
      lingerMs: 5,
      acks: "all",
      retries: 5,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      requestTimeoutMs: 30000,
      deliveryTimeoutMs: 120000,
      bufferMemory: 33554432,
      maxBlockMs: 60000,
      idempotence: true,
      compression: "none",
    },
    gateway: { host: "127.0.0.1", writerPort: 3001, readerPort: 3002, authToken: null },
    limits: {
      frameBytesMax: 104857600,
      connectionsPerIpMax: 1024,
      idleTimeoutMs: 600000,
      requestTimeoutMs: 30000,
      inFlightRequestsMax: 1024,
      queuedBytesMax: 67108864,
      bufferedBytesMax: 536870912,
      coordinatorConnectionsMax: 1024,
      consoleConnectionsMax: 64,
      gatewayConnectionsMax: 1024,
      gatewayRequestsMax: 1024,
      gatewayRequestsPerIpMax: 1024,
      gatewayRequestTimeoutMs: 60000,
    },
  });
  assert.ok(isDeepFrozen(DEFAULT_CONFIG));
});

Deno.test("parseConfig() gives defaults for empty, comment-only and empty-section files", () => {
  assert.deepEqual(parseConfig(""), DEFAULT_CONFIG);
  assert.deepEqual(parseConfig("# nothing here\n"), DEFAULT_CONFIG);
  assert.deepEqual(parseConfig("broker:\n  # base_port: 9092\n"), DEFAULT_CONFIG);
});

Deno.test("parseConfig() reads keys, keeps defaults for the rest, and deep-freezes", () => {
  const config = parseConfig(
    [
      "coordinator:",
      "  broker_count: 3",
      "broker:",
      "  base_port: 19092",
      "  storage: disk",
      "  retention_bytes: 1000000",
      "topics:",
      "  replication_factor: 3",
      "  auto_create: true",
      "producer:",
      "  acks: all",
      "  linger_ms: 100",
      "gateway:",
      "  auth_token: s3cret",
    ].join("\n"),
    { file: "test.yaml" },
  );
  assert.equal(config.coordinator.brokerCount, 3);
  assert.equal(config.broker.basePort, 19092);
  assert.equal(config.broker.storage, "disk");
  assert.equal(config.broker.retentionBytes, 1_000_000);
  assert.equal(config.topics.replicationFactor, 3);
  assert.equal(config.topics.autoCreate, true);
  assert.equal(config.producer.lingerMs, 100);
  assert.equal(config.gateway.authToken, "s3cret");
  assert.equal(config.consumer.sessionTimeoutMs, 10000, "unset keys keep their default");
  assert.ok(isDeepFrozen(config));
  assert.throws(() => {
    (config.broker as { basePort: number }).basePort = 1;
  }, TypeError);
});

Deno.test("parseConfig() accepts the seed's acks numbers and -1 as all", () => {
  assert.equal(parseConfig("producer: {acks: 1, idempotence: false}").producer.acks, "1");
  assert.equal(parseConfig("producer: {acks: 0, idempotence: false}").producer.acks, "0");
  assert.equal(parseConfig("producer: {acks: -1}").producer.acks, "all");
});

Deno.test("config.yaml in the repo parses and equals DEFAULT_CONFIG", () => {
  assert.deepEqual(parseConfig(repoConfigYaml, { file: "config.yaml" }), DEFAULT_CONFIG);
  for (const entry of CONFIG_KEYS) {
    const line = new RegExp(`^  ${entry.key}: .+ # \\S`, "m");
    assert.match(repoConfigYaml, line, `config.yaml lists ${entry.path} with a comment`);
  }
});

Deno.test("docs/configuration.md contains configReference() verbatim", () => {
  const reference = configReference();
  assert.ok(
    configurationDoc.includes(reference),
    "docs/configuration.md is stale: paste the output of configReference() into it",
  );
  for (const entry of CONFIG_KEYS) assert.ok(reference.includes(`\`${entry.path}\``));
});

Deno.test("the error examples in docs/configuration.md are real messages", () => {
  const examples = [
    catchConfigError(() => parseConfig("broker:\n  base_port: abc\n", { file: "config.yaml" })),
    catchConfigError(() => parseConfig("broker:\n  bse_port: 1\n", { file: "config.yaml" })),
    catchConfigError(() => applyOverrides(DEFAULT_CONFIG, { "topics.replication_factor": "6" })),
    catchConfigError(() => parseConfig("nodejs_writer:\n  port: 3001\n", { file: "config.yaml" })),
  ];
  for (const err of examples) assert.ok(configurationDoc.includes(err.message), err.message);
});

Deno.test("ConfigError message follows the std style and names key and file", () => {
  const err = catchConfigError(() =>
    parseConfig("broker:\n  base_port: abc\n", { file: "config.yaml" })
  );
  assert.equal(
    err.message,
    `Invalid config 'broker.base_port' in config.yaml: must be an integer in 1..65535, got "abc"`,
  );
  assert.equal(err.key, "broker.base_port");
  assert.equal(err.file, "config.yaml");
  assert.equal(err.name, "ConfigError");
  assert.ok(err instanceof Error);
  assert.ok(isKaError(err, "INVALID_CONFIG"));
  assert.equal(err.retriable, false);
});

/** A wrong value for every key, by type, so each key's check is exercised. */
function wrongValuesFor(type: string): string[] {
  if (type.startsWith("integer") || type.startsWith("-1")) {
    return ['"abc"', "1.5", "true", "[1, 2]", "{a: 1}", "null", "99999999999999999999"];
  }
  if (type === "boolean") return ["yes", "1", '"true"', "null"];
  if (type === "string or null") return ['""', '"two words"', "42", "[a]"];
  if (type === "path") return ['""', "12", "[a]", "null"];
  if (type === "host name or IP address") return ['""', '"bad host"', "7", "{a: 1}", "null"];
  return ['"nope"', "true", "[a]", "null"]; // enums
}

Deno.test("every key rejects wrong values with an error naming the key and the file", () => {
  let checked = 0;
  for (const entry of CONFIG_KEYS) {
    for (const value of wrongValuesFor(entry.type)) {
      const yaml = `${entry.section}:\n  ${entry.key}: ${value}\n`;
      const err = catchConfigError(() => parseConfig(yaml, { file: "bad.yaml" }));
      assert.equal(err.key, entry.path, `${entry.path}: ${value}`);
      assert.equal(err.file, "bad.yaml");
      assert.ok(
        err.message.startsWith(`Invalid config '${entry.path}' in bad.yaml: must be `),
        err.message,
      );
      checked++;
    }
  }
  assert.ok(checked > CONFIG_KEYS.length * 3);
});

Deno.test("integer bounds: ports, -1 for unlimited retention, limits", () => {
  for (const bad of [0, 65536, -1]) {
    const err = catchConfigError(() => parseConfig(`gateway:\n  writer_port: ${bad}\n`));
    assert.equal(err.key, "gateway.writer_port");
    assert.equal(err.file, null);
    assert.match(
      err.message,
      /^Invalid config 'gateway.writer_port': must be an integer in 1\.\.65535/,
    );
  }
  assert.equal(parseConfig("broker: {retention_ms: -1}").broker.retentionMs, -1);
  const zero = catchConfigError(() => parseConfig("broker: {retention_bytes: 0}"));
  assert.match(zero.message, /must be -1 \(unlimited\) or an integer >= 1, got 0$/);
  const huge = catchConfigError(() => parseConfig("coordinator: {broker_count: 65}"));
  assert.match(huge.message, /must be an integer in 1\.\.64, got 65$/);
});

Deno.test("enum keys list their values", () => {
  const err = catchConfigError(() => parseConfig("broker:\n  storage: ssd\n", { file: "c.yaml" }));
  assert.equal(
    err.message,
    `Invalid config 'broker.storage' in c.yaml: must be "memory" or "disk", got "ssd"`,
  );
  const acks = catchConfigError(() => parseConfig("producer: {acks: 2}"));
  assert.match(acks.message, /must be "0", "1" or "all", got 2$/);
  const reset = catchConfigError(() => parseConfig("consumer: {auto_offset_reset: none}"));
  assert.equal(reset.key, "consumer.auto_offset_reset");
});

Deno.test("a rejected auth token is described, never echoed", () => {
  const err = catchConfigError(() => parseConfig('gateway: {auth_token: "my secret"}'));
  assert.equal(err.key, "gateway.auth_token");
  assert.ok(!err.message.includes("my secret"), err.message);
});

Deno.test("unknown keys and sections are errors, with hints", () => {
  const typo = catchConfigError(() => parseConfig("broker:\n  bse_port: 1\n", { file: "c.yaml" }));
  assert.equal(typo.key, "broker.bse_port");
  assert.match(typo.message, /unknown key; did you mean 'broker.base_port'\?$/);

  const moved = catchConfigError(() => parseConfig("broker: {replication_factor: 2}"));
  assert.match(moved.message, /did you mean 'topics.replication_factor'\?$/);

  const camel = catchConfigError(() => parseConfig("broker: {basePort: 9092}"));
  assert.match(camel.message, /did you mean 'broker.base_port'\?$/);

  const legacy = catchConfigError(() =>
    parseConfig("coordinator:\n  broker_executable: ./bin/broker\n", { file: "c.yaml" })
  );
  assert.equal(legacy.key, "coordinator.broker_executable");
  assert.match(legacy.message, /unknown key; known keys in 'coordinator' are host, port/);

  const section = catchConfigError(() => parseConfig("brokers:\n  base_port: 1\n"));
  assert.equal(section.key, "brokers");
  assert.match(section.message, /unknown section; known sections are coordinator, broker,/);
});

Deno.test("the seed's nodejs_writer/nodejs_reader sections point to the gateway keys", () => {
  const writer = catchConfigError(() =>
    parseConfig("nodejs_writer:\n  port: 3001\n  producer_url: localhost:9093\n")
  );
  assert.equal(writer.key, "nodejs_writer");
  assert.match(writer.message, /use gateway\.writer_port/);
  const reader = catchConfigError(() => parseConfig("nodejs_reader:\n  port: 3002\n"));
  assert.match(reader.message, /use gateway\.reader_port/);
});

Deno.test("the whole seed example fails on its legacy keys, not silently", () => {
  const seed = [
    "coordinator:",
    "  port: 8080",
    "  console_port: 8081",
    "  broker_count: 5",
    "  broker_executable: ./bin/broker",
  ].join("\n");
  const err = catchConfigError(() => parseConfig(seed, { file: "config.yaml" }));
  assert.equal(err.key, "coordinator.broker_executable");
});

Deno.test("structural errors: bad YAML, wrong shapes, several documents", () => {
  const syntax = catchConfigError(() => parseConfig("broker: [1\n", { file: "c.yaml" }));
  assert.equal(syntax.key, "");
  assert.match(syntax.message, /^Invalid config in c\.yaml: not valid YAML: /);

  const dup = catchConfigError(() => parseConfig("broker:\n  base_port: 1\n  base_port: 2\n"));
  assert.match(dup.message, /duplicated mapping key/);

  const list = catchConfigError(() => parseConfig("- a\n- b\n"));
  assert.match(list.message, /must be a mapping of sections .*, got a list$/);

  const scalar = catchConfigError(() => parseConfig("broker: 5\n"));
  assert.equal(scalar.key, "broker");
  assert.match(scalar.message, /must be a mapping of keys, got 5$/);

  const docs = catchConfigError(() => parseConfig("broker: {}\n---\ntopics: {}\n"));
  assert.match(docs.message, /must hold one YAML document, found 2$/);
});

Deno.test("cross-key: ports must be distinct and broker ports must fit", () => {
  const clash = catchConfigError(() =>
    parseConfig("gateway:\n  writer_port: 9094\n", { file: "c.yaml" })
  );
  assert.equal(clash.key, "gateway.writer_port");
  assert.equal(
    clash.message,
    "Invalid config 'gateway.writer_port' in c.yaml: port 9094, " +
      "already used by broker 2 (broker.base_port + 2)",
  );

  const console = catchConfigError(() => parseConfig("coordinator: {console_port: 8080}"));
  assert.equal(console.key, "coordinator.console_port");

  const brokers = catchConfigError(() => parseConfig("broker: {base_port: 8078}"));
  assert.equal(brokers.key, "broker.base_port");
  assert.match(brokers.message, /broker 2 \(broker.base_port \+ 2\) uses port 8080/);

  const gateways = catchConfigError(() => parseConfig("gateway: {reader_port: 3001}"));
  assert.equal(gateways.key, "gateway.reader_port");

  const overflow = catchConfigError(() => parseConfig("broker: {base_port: 65533}"));
  assert.equal(overflow.key, "broker.base_port");
  assert.match(overflow.message, /the last would be 65537 > 65535$/);

  // Fewer brokers free the ports above them.
  const fewer = parseConfig("coordinator: {broker_count: 2}\ngateway: {writer_port: 9094}");
  assert.equal(fewer.gateway.writerPort, 9094);
});

Deno.test("cross-key: replication, heartbeats, batch sizes, idempotence", () => {
  const cases: [string, string, RegExp][] = [
    [
      "coordinator: {broker_count: 2}\ntopics: {replication_factor: 3}",
      "topics.replication_factor",
      /must be at most coordinator.broker_count \(2\), got 3$/,
    ],
    [
      "coordinator: {broker_heartbeat_interval_ms: 3000}",
      "coordinator.broker_heartbeat_interval_ms",
      /must be less than coordinator.broker_session_timeout_ms \(3000\), got 3000$/,
    ],
    [
      "consumer: {heartbeat_interval_ms: 20000}",
      "consumer.heartbeat_interval_ms",
      /must be less than consumer.session_timeout_ms \(10000\), got 20000$/,
    ],
    [
      "broker: {max_message_bytes: 1000}",
      "producer.batch_size",
      /must be at most broker.max_message_bytes \(1000\), got 16384$/,
    ],
    [
      "producer: {buffer_memory: 1000}",
      "producer.buffer_memory",
      /must be at least producer.batch_size \(16384\), got 1000$/,
    ],
    [
      "producer: {retry_backoff_ms: 500, retry_backoff_max_ms: 200}",
      "producer.retry_backoff_max_ms",
      /must be at least producer.retry_backoff_ms \(500\), got 200$/,
    ],
    [
      "producer: {linger_ms: 100, request_timeout_ms: 1000, delivery_timeout_ms: 1000}",
      "producer.delivery_timeout_ms",
      /must be at least producer.linger_ms \+ producer.request_timeout_ms \(1100\), got 1000$/,
    ],
    ["producer: {acks: 1}", "producer.acks", /must be "all" when producer.idempotence is true/],
    ["producer: {retries: 0}", "producer.retries", /must be at least 1 when producer.idempotence/],
  ];
  for (const [yaml, key, message] of cases) {
    const err = catchConfigError(() => parseConfig(yaml, { file: "x.yaml" }));
    assert.equal(err.key, key, yaml);
    assert.equal(err.file, "x.yaml");
    assert.match(err.message, message);
  }
  const relaxed = parseConfig("producer: {acks: 1, retries: 0, idempotence: false}");
  assert.equal(relaxed.producer.retries, 0);
  for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
    assert.equal(parseConfig(`producer: {compression: ${codec}}`).producer.compression, codec);
  }
  assert.equal(
    catchConfigError(() => parseConfig("producer: {compression: brotli}")).key,
    "producer.compression",
  );
});

Deno.test("applyOverrides() parses strings per key type and returns a new frozen config", () => {
  const config = applyOverrides(DEFAULT_CONFIG, {
    "broker.base_port": "19092",
    "broker.storage": "disk",
    "topics.auto_create": "true",
    "producer.acks": "-1",
    "broker.retention_ms": "-1",
    "gateway.auth_token": "tok",
  });
  assert.equal(config.broker.basePort, 19092);
  assert.equal(config.broker.storage, "disk");
  assert.equal(config.topics.autoCreate, true);
  assert.equal(config.producer.acks, "all");
  assert.equal(config.broker.retentionMs, -1);
  assert.equal(config.gateway.authToken, "tok");
  assert.ok(isDeepFrozen(config));
  assert.equal(DEFAULT_CONFIG.broker.basePort, 9092, "the input is not changed");
  assert.equal(applyOverrides(config, { "gateway.auth_token": "" }).gateway.authToken, null);
});

Deno.test("applyOverrides() errors name the key and the source", () => {
  const bad = catchConfigError(() => applyOverrides(DEFAULT_CONFIG, { "broker.base_port": "abc" }));
  assert.equal(
    bad.message,
    `Invalid config 'broker.base_port' in command line: must be an integer in 1..65535, got "abc"`,
  );
  const flag = catchConfigError(() =>
    applyOverrides(DEFAULT_CONFIG, { "topics.auto_create": "yes" }, { source: "--flags" })
  );
  assert.equal(flag.file, "--flags");
  assert.match(flag.message, /must be true or false, got "yes"$/);
  for (const [key, text] of [["broker.base_port", "12.5"], ["broker.base_port", ""]]) {
    assert.equal(catchConfigError(() => applyOverrides(DEFAULT_CONFIG, { [key]: text })).key, key);
  }
  const unknown = catchConfigError(() => applyOverrides(DEFAULT_CONFIG, { "broker.nope": "1" }));
  assert.equal(unknown.key, "broker.nope");
  const section = catchConfigError(() => applyOverrides(DEFAULT_CONFIG, { "nope.x": "1" }));
  assert.equal(section.key, "nope");
  const cross = catchConfigError(() =>
    applyOverrides(DEFAULT_CONFIG, { "coordinator.broker_count": "1" })
  );
  assert.equal(cross.key, "topics.replication_factor");
});

Deno.test("every key can be overridden with its default's text", () => {
  for (const entry of CONFIG_KEYS) {
    const text = entry.default === null ? "" : String(entry.default);
    const config = applyOverrides(DEFAULT_CONFIG, { [entry.path]: text });
    assert.deepEqual(valueAt(config, entry.path), entry.default, entry.path);
  }
});

Deno.test("parseConfigArgs() picks config flags in both forms and passes the rest", () => {
  const parsed = parseConfigArgs([
    "start",
    "--config",
    "alt.yaml",
    "--broker.base_port",
    "19092",
    "--topics.auto_create=true",
    "--broker.retention_ms",
    "-1",
    "--verbose",
    "--partitions=3",
    "name",
    "--gateway.auth_token=",
    "--",
    "--broker.storage",
    "disk",
  ]);
  assert.equal(parsed.configFile, "alt.yaml");
  assert.deepEqual(parsed.overrides, {
    "broker.base_port": "19092",
    "topics.auto_create": "true",
    "broker.retention_ms": "-1",
    "gateway.auth_token": "",
  });
  assert.deepEqual(parsed.rest, [
    "start",
    "--verbose",
    "--partitions=3",
    "name",
    "--",
    "--broker.storage",
    "disk",
  ]);
  assert.equal(parseConfigArgs(["--config=x.yaml"]).configFile, "x.yaml");
  assert.deepEqual(parseConfigArgs([]), { configFile: null, overrides: {}, rest: [] });
  assert.deepEqual(
    parseConfigArgs(["--broker.storage=memory", "--broker.storage=disk"]).overrides,
    { "broker.storage": "disk" },
    "the last repeated flag wins",
  );
});

Deno.test("parseConfigArgs() rejects typos and missing values", () => {
  const typo = catchConfigError(() => parseConfigArgs(["--broker.bse_port", "1"]));
  assert.equal(typo.key, "broker.bse_port");
  assert.equal(typo.file, "command line");
  assert.match(typo.message, /did you mean 'broker.base_port'\?$/);
  const missing = catchConfigError(() => parseConfigArgs(["--broker.base_port"]));
  assert.match(missing.message, /needs a value: --broker.base_port VALUE$/);
  assert.equal(catchConfigError(() => parseConfigArgs(["--config"])).key, "--config");
  assert.equal(catchConfigError(() => parseConfigArgs(["--config="])).key, "--config");
});

function fakeFiles(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) => {
    const text = files[path];
    if (text === undefined) return Promise.reject(new Deno.errors.NotFound(`no ${path}`));
    return Promise.resolve(text);
  };
}

Deno.test("loadConfig() reads the default file and applies overrides over it", async () => {
  const read = fakeFiles({ "config.yaml": "broker:\n  storage: disk\n  base_port: 19092\n" });
  const loaded = await loadConfig(["--broker.base_port=29092", "serve"], { readTextFile: read });
  assert.equal(loaded.file, "config.yaml");
  assert.equal(loaded.config.broker.storage, "disk");
  assert.equal(loaded.config.broker.basePort, 29092, "the flag beats the file");
  assert.deepEqual(loaded.rest, ["serve"]);
  assert.ok(isDeepFrozen(loaded.config));
});

Deno.test("loadConfig() uses defaults when the default file is missing", async () => {
  const loaded = await loadConfig([], { readTextFile: fakeFiles({}) });
  assert.equal(loaded.file, null);
  assert.deepEqual(loaded.config, DEFAULT_CONFIG);
  const other = await loadConfig([], {
    readTextFile: fakeFiles({ "cluster.yaml": "topics: {default_partitions: 3}" }),
    defaultFile: "cluster.yaml",
  });
  assert.equal(other.file, "cluster.yaml");
  assert.equal(other.config.topics.defaultPartitions, 3);
});

Deno.test("loadConfig() fails when an explicit --config file is missing", async () => {
  const err = await catchConfigErrorAsync(() =>
    loadConfig(["--config", "nope.yaml"], { readTextFile: fakeFiles({}) })
  );
  assert.equal(err.file, "nope.yaml");
  assert.equal(err.message, "Invalid config in nope.yaml: file not found");
});

Deno.test("loadConfig() reports unreadable files and bad content with the file name", async () => {
  const denied = await catchConfigErrorAsync(() =>
    loadConfig([], {
      readTextFile: () => Promise.reject(new Deno.errors.PermissionDenied("no read access")),
    })
  );
  assert.equal(denied.file, "config.yaml");
  assert.match(denied.message, /cannot read the file: .*no read access/);

  const bad = await catchConfigErrorAsync(() =>
    loadConfig(["--config=alt.yaml"], {
      readTextFile: fakeFiles({ "alt.yaml": "topics: {replication_factor: 9}" }),
    })
  );
  assert.equal(bad.file, "alt.yaml");
  assert.equal(bad.key, "topics.replication_factor");
});

Deno.test("toYamlKeys() uses the YAML names and round-trips through parseConfig()", () => {
  const config = applyOverrides(DEFAULT_CONFIG, { "broker.storage": "disk" });
  const yamlKeys = toYamlKeys(config);
  assert.equal(yamlKeys.broker.base_port, 9092);
  assert.equal(yamlKeys.broker.storage, "disk");
  assert.equal(yamlKeys.gateway.auth_token, null);
  assert.deepEqual(Object.keys(yamlKeys), [
    "coordinator",
    "broker",
    "topics",
    "consumer",
    "producer",
    "gateway",
    "limits",
  ]);
  assert.deepEqual(parseConfig(JSON.stringify(yamlKeys)), config);
});

Deno.test("listenerLimits() picks each listener's connection maximum and the shared limits", () => {
  const config = parseConfig(
    "broker: {connections_max: 7}\nlimits: {coordinator_connections_max: 8, " +
      "console_connections_max: 9, idle_timeout_ms: 1000, request_timeout_ms: 2000}",
  );
  assert.equal(listenerLimits(config, "broker").connectionsMax, 7);
  assert.equal(listenerLimits(config, "coordinator").connectionsMax, 8);
  assert.deepEqual(listenerLimits(config, "console"), {
    connectionsMax: 9,
    connectionsPerIpMax: 1024,
    frameBytesMax: 104857600,
    idleTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    inFlightRequestsMax: 1024,
    queuedBytesMax: 67108864,
    bufferedBytesMax: 536870912,
  });
  const small = catchConfigError(() => parseConfig("limits: {frame_bytes_max: 65536}"));
  assert.equal(small.key, "limits.frame_bytes_max");
  assert.equal(listenerLimits(parseConfig(""), "gateway").bufferedBytesMax, 536870912);
});

Deno.test("limits.buffered_bytes_max must hold one largest frame and one full answer queue", () => {
  const belowFrame = catchConfigError(() =>
    parseConfig("limits: {buffered_bytes_max: 104857599, queued_bytes_max: 65536}")
  );
  assert.equal(belowFrame.key, "limits.buffered_bytes_max");
  assert.match(belowFrame.message, /limits\.frame_bytes_max \(104857600\)/);
  const belowQueue = catchConfigError(() =>
    parseConfig("limits: {buffered_bytes_max: 200000000, queued_bytes_max: 300000000}")
  );
  assert.equal(belowQueue.key, "limits.buffered_bytes_max");
  assert.match(belowQueue.message, /limits\.queued_bytes_max \(300000000\)/);
  const equal = parseConfig(
    "limits: {buffered_bytes_max: 104857600, frame_bytes_max: 104857600, queued_bytes_max: 104857600}",
  );
  assert.equal(equal.limits.bufferedBytesMax, 104857600);
});
