/**
 * Kafka admin APIs the coordinator answers for Kafka clients (brokers forward
 * them): CreatePartitions (grow a topic, as the console's
 * `topic alter NAME --partitions N`), DescribeConfigs (a topic's configs
 * over the broker defaults, and the brokers' configs under Kafka's names) and
 * AlterConfigs / IncrementalAlterConfigs (replace or change a topic's configs,
 * as `topic alter NAME --config k=v`).
 * @module
 */
import type { Config } from "@kafka-analog/lib/config";
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import {
  type AlterConfigsRequest,
  type AlterConfigsResourceResponse,
  type AlterConfigsResponse,
  ConfigOperation,
  ConfigResourceType,
  ConfigSource,
  ConfigType,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type DescribeConfigsRequest,
  type DescribeConfigsResourceResult,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from "@kafka-analog/lib/protocol";
import type { Coordinator } from "./coordinator.ts";
import { isTopicConfigKey } from "./metadata/store.ts";

/** One config we can report: its value, where it comes from, its type and a line of doc. */
export interface ConfigEntry {
  value: string;
  source: number;
  type: number;
  doc: string;
}

/** Kafka's "never" for `flush.messages` / `flush.ms` (Long.MAX_VALUE). */
const LONG_MAX = "9223372036854775807";

/**
 * Broker defaults of every topic config a user may set, under Kafka's names
 * (static broker config where `config.yaml` sets it, else Kafka's default).
 */
export function topicConfigDefaults(config: Config): Record<string, ConfigEntry> {
  const fromBroker = ConfigSource.StaticBrokerConfig;
  const fixed = ConfigSource.DefaultConfig;
  return {
    "cleanup.policy": {
      value: "delete",
      source: fixed,
      type: ConfigType.List,
      doc: "delete or compact (compaction is not implemented: delete applies)",
    },
    "flush.messages": {
      value: LONG_MAX,
      source: fixed,
      type: ConfigType.Long,
      doc: "fsync after this many records",
    },
    "flush.ms": {
      value: LONG_MAX,
      source: fixed,
      type: ConfigType.Long,
      doc: "fsync when the oldest unflushed record is this old",
    },
    "max.message.bytes": {
      value: String(config.broker.maxMessageBytes),
      source: fromBroker,
      type: ConfigType.Int,
      doc: "Largest record batch a producer may send",
    },
    "min.insync.replicas": {
      value: "1",
      source: fixed,
      type: ConfigType.Int,
      doc: "In-sync replicas an acks=all write needs",
    },
    "retention.bytes": {
      value: String(config.broker.retentionBytes),
      source: fromBroker,
      type: ConfigType.Long,
      doc: "Delete the oldest segments above this partition size (-1 = unlimited)",
    },
    "retention.ms": {
      value: String(config.broker.retentionMs),
      source: fromBroker,
      type: ConfigType.Long,
      doc: "Delete segments older than this (-1 = forever)",
    },
    "segment.bytes": {
      value: String(config.broker.segmentBytes),
      source: fromBroker,
      type: ConfigType.Int,
      doc: "Roll the log to a new segment at this size",
    },
    "segment.ms": {
      value: String(7 * 24 * 60 * 60 * 1000),
      source: fixed,
      type: ConfigType.Long,
      doc: "Roll the log to a new segment at least this often",
    },
    "unclean.leader.election.enable": {
      value: "false",
      source: fixed,
      type: ConfigType.Boolean,
      doc: "Elect an out-of-sync replica when no in-sync one is alive",
    },
  };
}

/** The configs of every broker, under Kafka's names, from `config.yaml`. */
export function brokerConfigs(config: Config): Record<string, ConfigEntry> {
  const s = ConfigSource.StaticBrokerConfig;
  const entry = (value: string | number | boolean, type: number, doc: string): ConfigEntry => ({
    value: String(value),
    source: s,
    type,
    doc,
  });
  return {
    "auto.create.topics.enable": entry(
      config.topics.autoCreate,
      ConfigType.Boolean,
      "Metadata requests create unknown topics (topics.auto_create)",
    ),
    "default.replication.factor": entry(
      config.topics.replicationFactor,
      ConfigType.Int,
      "Replicas of an auto-created topic (topics.replication_factor)",
    ),
    "num.partitions": entry(
      config.topics.defaultPartitions,
      ConfigType.Int,
      "Partitions of an auto-created topic (topics.default_partitions)",
    ),
    "log.retention.ms": entry(config.broker.retentionMs, ConfigType.Long, "broker.retention_ms"),
    "log.retention.bytes": entry(
      config.broker.retentionBytes,
      ConfigType.Long,
      "broker.retention_bytes",
    ),
    "log.segment.bytes": entry(config.broker.segmentBytes, ConfigType.Int, "broker.segment_bytes"),
    "message.max.bytes": entry(
      config.broker.maxMessageBytes,
      ConfigType.Int,
      "broker.max_message_bytes",
    ),
    "replica.lag.time.max.ms": entry(
      config.broker.replicaLagTimeMaxMs,
      ConfigType.Long,
      "broker.replica_lag_time_max_ms",
    ),
    "max.connections": entry(
      config.broker.connectionsMax,
      ConfigType.Int,
      "broker.connections_max",
    ),
    "fetch.max.wait.ms": entry(
      config.broker.fetchMaxWaitMs,
      ConfigType.Int,
      "broker.fetch_max_wait_ms",
    ),
  };
}

/** CreatePartitions: grow each topic; placement is the cluster's (no manual assignments). */
export async function createPartitions(
  coordinator: Coordinator,
  request: CreatePartitionsRequest,
): Promise<CreatePartitionsResponse> {
  const results = [];
  for (const t of request.topics) {
    try {
      if (t.assignments !== null) {
        throw KaError.of(
          "INVALID_REQUEST",
          "Manual replica assignments are not supported; omit them to use placement",
        );
      }
      await coordinator.topicAddPartitions(t.name, t.count, {
        validateOnly: request.validateOnly,
      });
      results.push({ name: t.name, errorCode: 0, errorMessage: null });
    } catch (err) {
      if (!isKaError(err)) throw err;
      results.push({ name: t.name, errorCode: err.code, errorMessage: err.message });
    }
  }
  return { throttleTimeMs: 0, results };
}

function describeEntries(
  entries: Record<string, ConfigEntry>,
  keys: string[] | null,
  options: { includeSynonyms: boolean; includeDocumentation: boolean; alterable: boolean },
): DescribeConfigsResourceResult[] {
  const names = keys ?? Object.keys(entries).sort();
  return names.filter((name) => Object.hasOwn(entries, name)).map((name) => {
    const e = entries[name];
    return {
      name,
      value: e.value,
      // Topic configs AlterConfigs can set are writable; broker configs are static (config.yaml).
      readOnly: !(options.alterable && isTopicConfigKey(name)),
      isDefault: e.source === ConfigSource.DefaultConfig,
      configSource: e.source,
      isSensitive: false,
      synonyms: options.includeSynonyms ? [{ name, value: e.value, source: e.source }] : [],
      configType: e.type,
      documentation: options.includeDocumentation ? e.doc : null,
    };
  });
}

/**
 * DescribeConfigs: a topic's configs (set ones as DYNAMIC_TOPIC_CONFIG, the
 * rest from the broker defaults) and a broker's static configs. Unknown keys
 * are left out, as Kafka does; other resource types get INVALID_REQUEST.
 */
export function describeConfigs(
  coordinator: Coordinator,
  config: Config,
  request: DescribeConfigsRequest,
): DescribeConfigsResponse {
  const options = {
    includeSynonyms: request.includeSynonyms ?? false,
    includeDocumentation: request.includeDocumentation ?? false,
  };
  const results = request.resources.map((res): DescribeConfigsResult => {
    const base = {
      resourceType: res.resourceType,
      resourceName: res.resourceName,
    };
    try {
      if (res.resourceType === ConfigResourceType.Topic) {
        const topic = coordinator.store.topic(res.resourceName);
        const entries = topicConfigDefaults(config);
        for (const [name, value] of Object.entries(topic.configs)) {
          entries[name] = {
            value,
            source: ConfigSource.DynamicTopicConfig,
            type: entries[name]?.type ?? ConfigType.String,
            doc: entries[name]?.doc ?? "",
          };
        }
        return {
          ...base,
          errorCode: 0,
          errorMessage: null,
          configs: describeEntries(entries, res.configurationKeys, { ...options, alterable: true }),
        };
      }
      if (res.resourceType === ConfigResourceType.Broker) {
        const id = Number(res.resourceName);
        const known = res.resourceName === "" ||
          (/^\d+$/.test(res.resourceName) &&
            coordinator.snapshot().brokers.some((b) => b.id === id));
        if (!known) {
          throw KaError.of("INVALID_REQUEST", `Unknown broker '${res.resourceName}'`);
        }
        return {
          ...base,
          errorCode: 0,
          errorMessage: null,
          configs: describeEntries(brokerConfigs(config), res.configurationKeys, {
            ...options,
            alterable: false,
          }),
        };
      }
      throw KaError.of(
        "INVALID_REQUEST",
        `Resource type ${res.resourceType} is not supported: use 2 (topic) or 4 (broker)`,
      );
    } catch (err) {
      if (!isKaError(err)) throw err;
      return { ...base, errorCode: err.code, errorMessage: err.message, configs: [] };
    }
  });
  return { throttleTimeMs: 0, results };
}

/**
 * AlterConfigs: each topic resource's configs become exactly the ones listed
 * (Kafka's semantics: a config not listed goes back to its default; a null
 * value is "not set"), journaled and applied live by the brokers, as the
 * console's `topic alter NAME --config k=v`. An unknown key or a bad value is
 * INVALID_CONFIG and changes nothing; `validateOnly` only checks. Broker
 * configs come from `config.yaml` and cannot change live: INVALID_REQUEST.
 */
export function alterConfigs(
  coordinator: Coordinator,
  request: AlterConfigsRequest,
): Promise<AlterConfigsResponse> {
  return alterEach(coordinator, request, (_current, res) => {
    const configs: Record<string, string> = {};
    const seen = new Set<string>();
    for (const c of res.configs) {
      checkOnce(seen, c.name);
      if (c.value !== null) configs[c.name] = c.value;
    }
    return configs;
  });
}

/**
 * IncrementalAlterConfigs: each topic resource's listed keys are SET or
 * DELETEd (back to the default); the others stay. Otherwise as
 * {@linkcode alterConfigs}. APPEND and SUBTRACT (list configs) are
 * INVALID_REQUEST: no topic config we keep holds a list of several values.
 */
export function incrementalAlterConfigs(
  coordinator: Coordinator,
  request: IncrementalAlterConfigsRequest,
): Promise<IncrementalAlterConfigsResponse> {
  return alterEach(coordinator, request, (current, res) => {
    const configs = { ...current };
    const seen = new Set<string>();
    for (const c of res.configs) {
      checkOnce(seen, c.name);
      if (c.configOperation === ConfigOperation.Set) {
        if (c.value === null) {
          throw KaError.of("INVALID_REQUEST", `SET of config '${c.name}' needs a value`);
        }
        configs[c.name] = c.value;
      } else if (c.configOperation === ConfigOperation.Delete) {
        delete configs[c.name];
      } else {
        throw KaError.of(
          "INVALID_REQUEST",
          `Config operation ${c.configOperation} on '${c.name}' is not supported: use 0 (SET) or 1 (DELETE)`,
        );
      }
    }
    return configs;
  });
}

/** INVALID_REQUEST for a key listed twice, INVALID_CONFIG for an unknown one. */
function checkOnce(seen: Set<string>, name: string): void {
  if (seen.has(name)) {
    throw KaError.of("INVALID_REQUEST", `Config '${name}' is listed more than once`);
  }
  seen.add(name);
  if (!isTopicConfigKey(name)) {
    throw KaError.of("INVALID_CONFIG", `Unknown topic config '${name}'`);
  }
}

/**
 * Runs `newConfigs` (current topic configs → the whole new set) for each
 * resource and applies the result; errors are per resource.
 */
async function alterEach<R extends { resourceType: number; resourceName: string }>(
  coordinator: Coordinator,
  request: { resources: R[]; validateOnly: boolean },
  newConfigs: (current: Record<string, string>, res: R) => Record<string, string>,
): Promise<{ throttleTimeMs: number; responses: AlterConfigsResourceResponse[] }> {
  const responses: AlterConfigsResourceResponse[] = [];
  for (const res of request.resources) {
    const base = { resourceType: res.resourceType, resourceName: res.resourceName };
    try {
      if (res.resourceType === ConfigResourceType.Topic) {
        const current = coordinator.store.topic(res.resourceName).configs;
        await coordinator.topicReplaceConfigs(res.resourceName, newConfigs(current, res), {
          validateOnly: request.validateOnly,
        });
      } else if (res.resourceType === ConfigResourceType.Broker) {
        throw KaError.of(
          "INVALID_REQUEST",
          "Broker configs cannot be altered live: set them in config.yaml and restart the broker",
        );
      } else {
        throw KaError.of(
          "INVALID_REQUEST",
          `Resource type ${res.resourceType} is not supported: use 2 (topic)`,
        );
      }
      responses.push({ ...base, errorCode: 0, errorMessage: null });
    } catch (err) {
      if (!isKaError(err)) throw err;
      responses.push({ ...base, errorCode: err.code, errorMessage: err.message });
    }
  }
  return { throttleTimeMs: 0, responses };
}
