/**
 * Tests that every child process gets only the permissions it needs: each
 * broker its own port, the coordinator and its peers, and its own data
 * directory; the gateways network plus the one Unix socket their HTTP
 * server listens on behind the TCP front.
 * @module
 */
import assert from "node:assert/strict";
import { applyOverrides, type Config, DEFAULT_CONFIG } from "@kafka-analog/lib/config";
import {
  brokerAddresses,
  brokerDataDir,
  brokerIdsOf,
  coordinatorAddress,
  GATEWAY_TOKEN_ENV,
  gatewaySocketPath,
  type ServicePaths,
  serviceSpecs,
} from "./services.ts";
import type { ServiceSpec } from "./supervisor.ts";

const PATHS: ServicePaths = {
  deno: "/opt/deno/bin/deno",
  brokerMain: "/srv/ka/broker/main.ts",
  writerMain: "/srv/ka/gateway/main_writer.ts",
  readerMain: "/srv/ka/gateway/main_reader.ts",
  dataDir: "/srv/ka/data",
  logDir: "/srv/ka/logs",
};

/** Flags that would widen a child's sandbox beyond what it needs. */
const FORBIDDEN = [
  "-A",
  "--allow-all",
  "--allow-run",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
  "--allow-hrtime",
  "--allow-import",
];

/** The Deno flags: every argument before the script path. */
function denoFlags(spec: ServiceSpec, main: string): string[] {
  const at = spec.args.indexOf(main);
  assert.ok(at > 0, `${spec.name} must run ${main}`);
  assert.equal(spec.args[0], "run");
  return spec.args.slice(0, at);
}

/** The values of `--flag=a,b,c` among `flags`, or null when absent. */
function flagValues(flags: string[], flag: string): string[] | null {
  const found = flags.filter((f) => f === flag || f.startsWith(`${flag}=`));
  assert.ok(found.length <= 1, `${flag} given more than once`);
  if (found.length === 0) return null;
  assert.ok(found[0].startsWith(`${flag}=`), `${flag} must be scoped, not blanket`);
  return found[0].slice(flag.length + 1).split(",");
}

function checkSpecs(config: Config): void {
  const specs = serviceSpecs(config, PATHS);
  const ids = brokerIdsOf(config);
  const addresses = brokerAddresses(config);
  const coordinator = coordinatorAddress(config);
  assert.deepEqual(specs.map((s) => s.name), [
    ...ids.map((id) => `broker-${id}`),
    "producer",
    "consumer",
  ]);

  for (const id of ids) {
    const spec = specs[id];
    const own = `${config.broker.host}:${config.broker.basePort + id}`;
    assert.equal(spec.kind, "broker");
    assert.equal(spec.id, id);
    assert.equal(spec.port, config.broker.basePort + id);
    assert.equal(spec.command, PATHS.deno);
    const flags = denoFlags(spec, PATHS.brokerMain);
    const net = flagValues(flags, "--allow-net");
    assert.ok(net !== null);
    const expected = [own, coordinator, ...addresses.filter((a) => a !== own)];
    assert.deepEqual([...net].sort(), [...expected].sort(), `broker-${id} --allow-net`);
    assert.equal(new Set(net).size, net.length, "no address twice");
    const dir = brokerDataDir(PATHS, id);
    assert.equal(dir, `${PATHS.dataDir}/broker-${id}`);
    assert.deepEqual(flagValues(flags, "--allow-read"), [dir], `broker-${id} --allow-read`);
    assert.deepEqual(flagValues(flags, "--allow-write"), [dir], `broker-${id} --allow-write`);
    for (const bad of FORBIDDEN) {
      assert.equal(flagValues(flags, bad), null, `broker-${id} has ${bad}`);
    }
    // The script arguments point the broker at the same places.
    const args = spec.args.slice(spec.args.indexOf(PATHS.brokerMain) + 1);
    const arg = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(arg("--id"), String(id));
    assert.equal(arg("--port"), String(config.broker.basePort + id));
    assert.equal(arg("--coordinator"), coordinator);
    assert.equal(arg("--data-dir"), dir);
    assert.equal(typeof JSON.parse(arg("--config-json")), "object");
  }

  for (
    const [name, main, port] of [
      ["producer", PATHS.writerMain, config.gateway.writerPort],
      ["consumer", PATHS.readerMain, config.gateway.readerPort],
    ] as const
  ) {
    const spec = specs.find((s) => s.name === name);
    assert.ok(spec);
    assert.equal(spec.port, port);
    const flags = denoFlags(spec, main);
    const net = flagValues(flags, "--allow-net");
    assert.ok(net !== null);
    // Only the writer (whose dashboard asks the console) may reach the console port.
    const consoleAddress = `${config.coordinator.host}:${config.coordinator.consolePort}`;
    const extra = name === "producer" ? [consoleAddress] : [];
    const socket = gatewaySocketPath(PATHS, name);
    assert.equal(socket, `${PATHS.dataDir}/gateway-${name}.sock`);
    assert.deepEqual(
      [...net].sort(),
      [`${config.gateway.host}:${port}`, `unix:${socket}`, coordinator, ...addresses, ...extra]
        .sort(),
      `${name} --allow-net`,
    );
    const args = spec.args;
    assert.equal(
      args.includes("--console") ? args[args.indexOf("--console") + 1] : null,
      name === "producer" ? consoleAddress : null,
      `${name} --console`,
    );
    // Files: only its own socket (Deno checks read and write on a Unix socket path).
    assert.deepEqual(flagValues(flags, "--allow-read"), [socket], `${name} --allow-read`);
    assert.deepEqual(flagValues(flags, "--allow-write"), [socket], `${name} --allow-write`);
    // The connection limits of its TCP front come from the `limits:` section.
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(arg("--socket"), socket, `${name} --socket`);
    assert.equal(arg("--connections-max"), String(config.limits.gatewayConnectionsMax));
    assert.equal(arg("--connections-per-ip-max"), String(config.limits.connectionsPerIpMax));
    assert.equal(arg("--idle-timeout-ms"), String(config.limits.idleTimeoutMs));
    assert.equal(arg("--io-timeout-ms"), String(config.limits.requestTimeoutMs));
    for (const bad of FORBIDDEN) assert.equal(flagValues(flags, bad), null, `${name} has ${bad}`);
  }

  for (const spec of specs) {
    for (const arg of spec.args) {
      for (const bad of FORBIDDEN) {
        assert.ok(arg !== bad && !arg.startsWith(`${bad}=`), `${spec.name} passes ${arg}`);
      }
    }
  }
}

Deno.test("serviceSpecs() scopes every child's permissions (default config)", () => {
  checkSpecs(DEFAULT_CONFIG);
});

Deno.test("serviceSpecs() scopes permissions for other broker counts and ports", () => {
  checkSpecs(
    applyOverrides(DEFAULT_CONFIG, {
      "coordinator.broker_count": "1",
      "topics.replication_factor": "1",
    }),
  );
  checkSpecs(
    applyOverrides(DEFAULT_CONFIG, {
      "coordinator.broker_count": "7",
      "broker.base_port": "19000",
      "coordinator.port": "18080",
      "gateway.writer_port": "13001",
      "gateway.reader_port": "13002",
      "limits.gateway_connections_max": "50",
      "limits.connections_per_ip_max": "20",
      "limits.idle_timeout_ms": "5000",
      "limits.request_timeout_ms": "2000",
    }),
  );
});

Deno.test("serviceSpecs() hands gateway.auth_token over in the environment, not in the arguments", () => {
  const token = "s3cret-token-123";
  const specs = serviceSpecs(
    applyOverrides(DEFAULT_CONFIG, { "gateway.auth_token": token }),
    PATHS,
  );
  const gateways = specs.filter((s) => s.kind === "producer" || s.kind === "consumer");
  assert.equal(gateways.length, 2);
  for (const spec of gateways) {
    assert.ok(!spec.args.some((a) => a.includes(token)), `${spec.name} shows the token in ps`);
    assert.deepEqual(spec.env, { [GATEWAY_TOKEN_ENV]: token });
    const main = spec.args.find((a) => a.endsWith(".ts"))!;
    const flags = denoFlags(spec, main);
    // The one variable, scoped: never a blanket --allow-env.
    assert.deepEqual(flags.filter((f) => f.startsWith("--allow-env")), [
      `--allow-env=${GATEWAY_TOKEN_ENV}`,
    ]);
    const at = spec.args.indexOf("--auth-token-env");
    assert.equal(spec.args[at + 1], GATEWAY_TOKEN_ENV);
  }
  for (const spec of specs.filter((s) => s.kind === "broker")) assert.equal(spec.env, undefined);
});

Deno.test("serviceSpecs() gives each broker its own data directory and log file", () => {
  const specs = serviceSpecs(DEFAULT_CONFIG, PATHS);
  const brokers = specs.filter((s) => s.kind === "broker");
  assert.equal(brokers.length, DEFAULT_CONFIG.coordinator.brokerCount);
  const dirs = brokers.map((s) => s.args.find((a) => a.startsWith("--allow-write=")));
  assert.equal(new Set(dirs).size, brokers.length);
  const logs = specs.map((s) => s.logFile);
  assert.equal(new Set(logs).size, specs.length);
  assert.ok(logs.every((l) => l.startsWith(`${PATHS.logDir}/`)));
});

Deno.test("serviceSpecs() points brokers at fault proxies when advertised/coordinator ports are set", () => {
  const config = applyOverrides(DEFAULT_CONFIG, {
    "coordinator.broker_count": "3",
    "broker.base_port": "19000",
    "broker.advertised_base_port": "19100",
    "broker.coordinator_port": "18090",
  });
  const specs = serviceSpecs(config, PATHS);
  for (const id of [0, 1, 2]) {
    const spec = specs[id];
    const args = spec.args.slice(spec.args.indexOf(PATHS.brokerMain) + 1);
    const arg = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(arg("--port"), String(19000 + id), "it still listens on base_port + N");
    assert.equal(arg("--advertised-port"), String(19100 + id));
    assert.equal(arg("--coordinator"), "127.0.0.1:18090");
    const net = flagValues(denoFlags(spec, PATHS.brokerMain), "--allow-net")!;
    for (const peer of [0, 1, 2].filter((p) => p !== id)) {
      assert.ok(net.includes(`127.0.0.1:${19100 + peer}`), `broker-${id} may dial peer proxies`);
    }
    assert.ok(net.includes("127.0.0.1:18090"));
  }
  const writer = specs.find((s) => s.name === "producer")!;
  const net = flagValues(denoFlags(writer, PATHS.writerMain), "--allow-net")!;
  assert.ok(net.includes("127.0.0.1:19101"), "gateways may dial the advertised addresses");
  // Unset (the default): no --advertised-port flag.
  const plain = serviceSpecs(DEFAULT_CONFIG, PATHS)[0].args;
  assert.ok(!plain.includes("--advertised-port"));
});
