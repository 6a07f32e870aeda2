/**
 * What the coordinator runs: one spec per child process, each with only the
 * permissions it needs, computed from the config. Pure, so the permission
 * scopes can be unit-tested.
 * @module
 */
import { type Config, listenerLimits, toYamlKeys } from "@kafka-analog/lib/config";
import type { ServiceSpec } from "./supervisor.ts";

/** Where things are on disk. All paths absolute. */
export interface ServicePaths {
  /** The real deno binary (`Deno.execPath()`), not a symlink. */
  deno: string;
  brokerMain: string;
  writerMain: string;
  readerMain: string;
  /** Parent of every broker's `broker-N/` directory. */
  dataDir: string;
  /** Where each child's log file goes. */
  logDir: string;
}

/** The environment variable that hands `gateway.auth_token` to the gateways. */
export const GATEWAY_TOKEN_ENV = "KAFKA_ANALOG_GATEWAY_TOKENS";

/** The ids of the brokers the config asks for: 0..broker_count−1. */
export function brokerIdsOf(config: Config): number[] {
  return Array.from({ length: config.coordinator.brokerCount }, (_, i) => i);
}

/** The cluster-protocol address brokers and clients use for the coordinator. */
export function coordinatorAddress(config: Config): string {
  return `${config.coordinator.host}:${config.coordinator.port}`;
}

/** Every broker's address, in id order. */
export function brokerAddresses(config: Config): string[] {
  return brokerIdsOf(config).map((id) => `${config.broker.host}:${config.broker.basePort + id}`);
}

/**
 * Every broker's advertised address (what clients and peers dial), in id
 * order: the listen address unless `broker.advertised_base_port` puts a proxy
 * in front.
 */
export function advertisedBrokerAddresses(config: Config): string[] {
  const base = config.broker.advertisedBasePort || config.broker.basePort;
  return brokerIdsOf(config).map((id) => `${config.broker.host}:${base + id}`);
}

/** The address brokers dial for the coordinator (`broker.coordinator_port` may put a proxy in between). */
export function coordinatorAddressForBrokers(config: Config): string {
  return `${config.coordinator.host}:${config.broker.coordinatorPort || config.coordinator.port}`;
}

/** A broker's data directory. */
export function brokerDataDir(paths: ServicePaths, id: number): string {
  return `${paths.dataDir}/broker-${id}`;
}

/**
 * The Unix socket a gateway serves HTTP on, behind its TCP front (which
 * enforces the connection limits): in the data directory, which only the
 * cluster's user can write. `name` is the service name ("producer", "consumer").
 */
export function gatewaySocketPath(paths: ServicePaths, name: string): string {
  return `${paths.dataDir}/gateway-${name}.sock`;
}

/** Specs for every broker, then the writer ("producer") and reader ("consumer") gateways. */
export function serviceSpecs(config: Config, paths: ServicePaths): ServiceSpec[] {
  const coordinator = coordinatorAddress(config);
  const brokers = brokerAddresses(config);
  const advertised = advertisedBrokerAddresses(config);
  const coordinatorForBrokers = coordinatorAddressForBrokers(config);
  // Advertised addresses that differ from the listen ones (proxies): peers and gateways dial them.
  const proxied = advertised.filter((a, i) => a !== brokers[i]);
  const configJson = JSON.stringify(toYamlKeys(config));
  const run = ["run", "--no-prompt", "--quiet"];
  const specs: ServiceSpec[] = brokerIdsOf(config).map((id) => {
    const port = config.broker.basePort + id;
    const dir = brokerDataDir(paths, id);
    // Its own port (listen), the coordinator, and its peers (replication).
    const net = [
      `${config.broker.host}:${port}`,
      coordinatorForBrokers,
      ...brokers.filter((_, i) => i !== id),
      ...proxied.filter((a) => a !== advertised[id]),
    ];
    return {
      name: `broker-${id}`,
      kind: "broker",
      id,
      host: config.broker.host,
      port,
      command: paths.deno,
      args: [
        ...run,
        `--allow-net=${net.join(",")}`,
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        paths.brokerMain,
        "--id",
        String(id),
        "--host",
        config.broker.host,
        "--port",
        String(port),
        "--coordinator",
        coordinatorForBrokers,
        ...(advertised[id] === `${config.broker.host}:${port}`
          ? []
          : ["--advertised-port", String(config.broker.advertisedBasePort + id)]),
        "--data-dir",
        dir,
        "--config-json",
        configJson,
      ],
      logFile: `${paths.logDir}/broker-${id}.log`,
    };
  });
  const gateways = [
    {
      name: "producer",
      kind: "producer" as const,
      port: config.gateway.writerPort,
      main: paths.writerMain,
    },
    {
      name: "consumer",
      kind: "consumer" as const,
      port: config.gateway.readerPort,
      main: paths.readerMain,
    },
  ];
  // The writer gateway's dashboard (/ui) asks the coordinator console, so only it may reach it.
  const consoleAddress = `${config.coordinator.host}:${config.coordinator.consolePort}`;
  const limits = listenerLimits(config, "gateway");
  for (const g of gateways) {
    const dashboard = g.kind === "producer";
    const socket = gatewaySocketPath(paths, g.name);
    const net = [
      `${config.gateway.host}:${g.port}`,
      // Its own HTTP server's socket (listen, and the front's connections to it).
      `unix:${socket}`,
      coordinator,
      ...brokers,
      ...proxied,
      ...(dashboard ? [consoleAddress] : []),
    ];
    specs.push({
      name: g.name,
      kind: g.kind,
      id: 0,
      host: config.gateway.host,
      port: g.port,
      command: paths.deno,
      args: [
        ...run,
        `--allow-net=${net.join(",")}`,
        // That one socket file, which Deno checks for read and write too.
        `--allow-read=${socket}`,
        `--allow-write=${socket}`,
        ...(config.gateway.authToken === null ? [] : [`--allow-env=${GATEWAY_TOKEN_ENV}`]),
        g.main,
        "--host",
        config.gateway.host,
        "--port",
        String(g.port),
        "--bootstrap",
        [coordinator, ...brokers].join(","),
        // Required by the gateway itself when it binds a non-loopback address. Passed in the
        // environment, not as a flag, so it does not show in the process list.
        ...(config.gateway.authToken === null ? [] : ["--auth-token-env", GATEWAY_TOKEN_ENV]),
        ...(dashboard ? ["--console", consoleAddress] : []),
        "--requests-max",
        String(config.limits.gatewayRequestsMax),
        "--requests-per-ip-max",
        String(config.limits.gatewayRequestsPerIpMax),
        "--request-timeout-ms",
        String(config.limits.gatewayRequestTimeoutMs),
        "--socket",
        socket,
        "--connections-max",
        String(limits.connectionsMax),
        "--connections-per-ip-max",
        String(limits.connectionsPerIpMax),
        "--idle-timeout-ms",
        String(limits.idleTimeoutMs),
        "--io-timeout-ms",
        String(limits.requestTimeoutMs),
      ],
      logFile: `${paths.logDir}/${g.name}.log`,
      ...(config.gateway.authToken === null
        ? {}
        : { env: { [GATEWAY_TOKEN_ENV]: config.gateway.authToken } }),
    });
  }
  return specs;
}
