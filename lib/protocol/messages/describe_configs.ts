/**
 * DescribeConfigs (API key 32), versions 0–3: the configuration of topics
 * (resource type 2) and brokers (resource type 4), for admin tools.
 *
 * ```
 * DescribeConfigsRequest (v0-3) =>
 *   resources [resourceType int8, resourceName string,
 *              configurationKeys nullable [string]]      null = every key
 *   includeSynonyms bool (v1+)
 *   includeDocumentation bool (v3+)
 * DescribeConfigsResponse (v0-3) =>
 *   throttleTimeMs int32
 *   results [errorCode int16, errorMessage nullable string,
 *            resourceType int8, resourceName string,
 *            configs [name string, value nullable string, readOnly bool,
 *                     isDefault bool (v0), configSource int8 (v1+),
 *                     isSensitive bool,
 *                     synonyms [name string, value nullable string, source int8] (v1+),
 *                     configType int8 (v3+), documentation nullable string (v3+)]]
 * ```
 * Layout from Kafka's DescribeConfigsRequest.json / DescribeConfigsResponse.json
 * (the JSON spells the v1 request field `IncludeSynoyms`; v4 is the first
 * flexible version). `includeDocumentation` came with v3 in Kafka 2.6
 * (KIP-569), together with the response's `configType` and `documentation`.
 * The stored request definition (apache/kafka 02ec28bd) is an earlier commit
 * that already lists v3 but not the field; every released definition
 * (e.g. Kafka 2.6+, `"IncludeDocumentation", "versions": "3+"`) and so every
 * real v3 client (Java AdminClient 2.6–2.7) writes it. We write it, and read
 * it when present: a v3 body that ends after `includeSynonyms` reads it as
 * false rather than being cut.
 * @module
 */
import type { Reader, Writer } from "../codec.ts";

/** DescribeConfigs resource types (Kafka's `ConfigResource.Type`). */
export const ConfigResourceType = { Topic: 2, Broker: 4, BrokerLogger: 8 } as const;

/** Where a config value comes from (Kafka's `ConfigSource`, v1+). */
export const ConfigSource = {
  Unknown: 0,
  DynamicTopicConfig: 1,
  DynamicBrokerConfig: 2,
  DynamicDefaultBrokerConfig: 3,
  StaticBrokerConfig: 4,
  DefaultConfig: 5,
} as const;

/** A config's data type (Kafka's `ConfigType`, v3+; 0 = unknown). */
export const ConfigType = {
  Unknown: 0,
  Boolean: 1,
  String: 2,
  Int: 3,
  Short: 4,
  Long: 5,
  Double: 6,
  List: 7,
  Class: 8,
  Password: 9,
} as const;

/** A resource to describe. */
export interface DescribeConfigsResource {
  resourceType: number;
  resourceName: string;
  /** null = every key. */
  configurationKeys: string[] | null;
}

/** DescribeConfigs request body. */
export interface DescribeConfigsRequest {
  resources: DescribeConfigsResource[];
  /** v1+; default false. */
  includeSynonyms?: boolean;
  /** v3+; default false. */
  includeDocumentation?: boolean;
}

/** A synonym of a config (v1+). */
export interface DescribeConfigsSynonym {
  name: string;
  value: string | null;
  source: number;
}

/** One config of a resource. */
export interface DescribeConfigsResourceResult {
  name: string;
  value: string | null;
  readOnly: boolean;
  /** v0 only; decoded from v1+ as `configSource === DefaultConfig`. */
  isDefault?: boolean;
  /** v1+; decoded from v0 as DefaultConfig or Unknown from `isDefault`. */
  configSource?: number;
  isSensitive: boolean;
  /** v1+; [] for v0. */
  synonyms?: DescribeConfigsSynonym[];
  /** v3+; 0 (unknown) before. */
  configType?: number;
  /** v3+; null before. */
  documentation?: string | null;
}

/** One resource's outcome. */
export interface DescribeConfigsResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  configs: DescribeConfigsResourceResult[];
}

/** DescribeConfigs response body. */
export interface DescribeConfigsResponse {
  throttleTimeMs: number;
  results: DescribeConfigsResult[];
}

/** Writes a DescribeConfigsRequest body. */
export function encodeDescribeConfigsRequest(
  w: Writer,
  version: number,
  body: DescribeConfigsRequest,
): void {
  w.array(body.resources, (w, r) => {
    w.int8(r.resourceType);
    w.string(r.resourceName);
    w.array(r.configurationKeys, (w, k) => w.string(k));
  });
  if (version >= 1) w.bool(body.includeSynonyms ?? false);
  if (version >= 3) w.bool(body.includeDocumentation ?? false);
}

/** Reads a DescribeConfigsRequest body. */
export function decodeDescribeConfigsRequest(
  r: Reader,
  version: number,
): DescribeConfigsRequest {
  const resources = r.array((r) => ({
    resourceType: r.int8(),
    resourceName: r.string(),
    configurationKeys: r.nullableArray((r) => r.string()),
  }));
  const includeSynonyms = version >= 1 ? r.bool() : false;
  // The last field, so its absence is unambiguous: a v3 frame written to the stored
  // definition (no includeDocumentation) ends here and is read as false.
  const includeDocumentation = version >= 3 && r.remaining > 0 ? r.bool() : false;
  return { resources, includeSynonyms, includeDocumentation };
}

/** Writes a DescribeConfigsResponse body. */
export function encodeDescribeConfigsResponse(
  w: Writer,
  version: number,
  body: DescribeConfigsResponse,
): void {
  w.int32(body.throttleTimeMs);
  w.array(body.results, (w, res) => {
    w.int16(res.errorCode);
    w.nullableString(res.errorMessage);
    w.int8(res.resourceType);
    w.string(res.resourceName);
    w.array(res.configs, (w, c) => {
      w.string(c.name);
      w.nullableString(c.value);
      w.bool(c.readOnly);
      if (version === 0) {
        w.bool(c.isDefault ?? c.configSource === ConfigSource.DefaultConfig);
      } else {
        w.int8(c.configSource ?? -1);
      }
      w.bool(c.isSensitive);
      if (version >= 1) {
        w.array(c.synonyms ?? [], (w, s) => {
          w.string(s.name);
          w.nullableString(s.value);
          w.int8(s.source);
        });
      }
      if (version >= 3) {
        w.int8(c.configType ?? ConfigType.Unknown);
        w.nullableString(c.documentation ?? null);
      }
    });
  });
}

/** Reads a DescribeConfigsResponse body. */
export function decodeDescribeConfigsResponse(
  r: Reader,
  version: number,
): DescribeConfigsResponse {
  return {
    throttleTimeMs: r.int32(),
    results: r.array((r) => ({
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
      resourceType: r.int8(),
      resourceName: r.string(),
      configs: r.array((r): DescribeConfigsResourceResult => {
        const name = r.string();
        const value = r.nullableString();
        const readOnly = r.bool();
        let isDefault: boolean;
        let configSource: number;
        if (version === 0) {
          isDefault = r.bool();
          configSource = isDefault ? ConfigSource.DefaultConfig : ConfigSource.Unknown;
        } else {
          configSource = r.int8();
          isDefault = configSource === ConfigSource.DefaultConfig;
        }
        const isSensitive = r.bool();
        const synonyms = version >= 1
          ? r.array((r) => ({ name: r.string(), value: r.nullableString(), source: r.int8() }))
          : [];
        const configType = version >= 3 ? r.int8() : ConfigType.Unknown;
        const documentation = version >= 3 ? r.nullableString() : null;
        return {
          name,
          value,
          readOnly,
          isDefault,
          configSource,
          isSensitive,
          synonyms,
          configType,
          documentation,
        };
      }),
    })),
  };
}
