/**
 * The broker's link to the coordinator: register, then heartbeat. Each
 * heartbeat answer says the current metadata version and carries the
 * snapshot when this broker is behind. Requests the coordinator owns are
 * forwarded on a second connection, so a slow admin call never delays a
 * heartbeat.
 * @module
 */
import {
  ApiKey,
  type ImplementedApiKey,
  type RequestBodies,
  type ResponseBodies,
} from "@kafka-analog/lib/protocol";
import { KafkaConnection, messageOf } from "@kafka-analog/lib/net";
import { readErrorPayload, readHeartbeatResponse } from "@kafka-analog/lib/cluster";
import { ERRORS } from "@kafka-analog/lib/protocol";
import { sleep } from "@kafka-analog/lib/async";
import type { Broker } from "./broker.ts";

/** Options for {@linkcode CoordinatorLink}. */
export interface CoordinatorLinkOptions {
  coordinator: string;
  host: string;
  port: number;
  heartbeatIntervalMs: number;
  incarnation: string;
  signal: AbortSignal;
}

/** Keeps a broker registered with, and current against, the coordinator. */
export class CoordinatorLink {
  #broker: Broker;
  #options: CoordinatorLinkOptions;
  #heartbeatConn: KafkaConnection | null = null;
  #forwardConn: Promise<KafkaConnection> | null = null;
  #registered = false;

  constructor(broker: Broker, options: CoordinatorLinkOptions) {
    this.#broker = broker;
    this.#options = options;
  }

  /** Runs until the signal aborts: register, heartbeat, reconnect on failure. */
  async run(): Promise<void> {
    const { signal } = this.#options;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.#beat();
        failures = 0;
        await sleep(this.#options.heartbeatIntervalMs, signal);
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          this.#broker.logger.warn("coordinator unreachable", { reason: messageOf(err), failures });
        }
        this.#heartbeatConn?.close();
        this.#heartbeatConn = null;
        this.#registered = false;
        await sleep(Math.min(200 * failures, this.#options.heartbeatIntervalMs), signal);
      }
    }
    this.#heartbeatConn?.close();
    (await this.#forwardConn?.catch(() => null))?.close();
  }

  /** Sends a request the coordinator owns on the forwarding connection. */
  async forward<K extends ImplementedApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestBodies[K],
    options: { clientId?: string | null; timeoutMs?: number } = {},
  ): Promise<ResponseBodies[K]> {
    let pending = this.#forwardConn;
    let conn = pending ? await pending.catch(() => null) : null;
    if (!conn || conn.closed) {
      // A failed or closed connection is never cached: the next forward dials again.
      if (this.#forwardConn === pending) {
        pending = this.#open();
        this.#forwardConn = pending;
        pending.catch(() => {
          if (this.#forwardConn === pending) this.#forwardConn = null;
        });
      }
      conn = await (this.#forwardConn ?? this.#open());
    }
    return await conn.request(apiKey, apiVersion, body, options);
  }

  /**
   * Sends the leader's ISR proposals (AlterPartition). The change takes
   * effect when the coordinator's metadata arrives, not here.
   */
  async proposeIsrChanges(): Promise<void> {
    for (const { replica, isr } of this.#broker.isrProposals()) {
      replica.isrChangeInFlight = true;
      try {
        const body = await this.forward(ApiKey.AlterPartition, 0, {
          payload: {
            brokerId: this.#broker.id,
            topic: replica.topic,
            partition: replica.partition,
            leaderEpoch: replica.state.leaderEpoch,
            isr,
          },
        });
        const answer = readErrorPayload(body.payload);
        this.#broker.logger.info("ISR change proposed", {
          partition: `${replica.topic}-${replica.partition}`,
          from: replica.state.isr,
          to: isr,
          errorCode: answer.errorCode,
          message: answer.message,
        });
        if (answer.errorCode !== 0) replica.isrChangeInFlight = false;
      } catch (err) {
        replica.isrChangeInFlight = false;
        throw err;
      }
    }
  }

  #open(): Promise<KafkaConnection> {
    return KafkaConnection.open(this.#options.coordinator, {
      clientId: `broker-${this.#broker.id}`,
    });
  }

  async #beat(): Promise<void> {
    const conn = this.#heartbeatConn ??= await this.#open();
    // The write fence counts from when we asked, not when the answer came (conservative).
    const sentAtMs = this.#broker.now();
    const { incarnation } = this.#options;
    const brokerId = this.#broker.id;
    const body = this.#registered
      ? await conn.request(ApiKey.BrokerHeartbeat, 0, {
        payload: { brokerId, incarnation, metadataVersion: this.#broker.metadataVersion },
      }, { timeoutMs: 5_000 })
      : await conn.request(ApiKey.BrokerRegistration, 0, {
        payload: { brokerId, incarnation, host: this.#options.host, port: this.#options.port },
      }, { timeoutMs: 5_000 });
    const answer = readHeartbeatResponse(body.payload);
    if (answer.errorCode === ERRORS.UNKNOWN_BROKER.code) {
      this.#registered = false; // the coordinator restarted or declared us dead: register again
      return;
    }
    if (answer.errorCode !== 0) throw new Error(`coordinator answered error ${answer.errorCode}`);
    this.#broker.lastHeartbeatOkMs = sentAtMs;
    const wasRegistered = this.#registered;
    if (!wasRegistered) {
      this.#broker.logger.info("registered with the coordinator", {
        coordinator: this.#options.coordinator,
      });
    }
    this.#registered = true;
    if (answer.snapshot) this.#broker.applySnapshot(answer.snapshot, { force: !wasRegistered });
  }
}
