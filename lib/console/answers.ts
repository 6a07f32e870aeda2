/**
 * The shapes of the console's answers: the JSON each command returns
 * (`status`, `broker list`, `topic describe`, `group describe`, ...), part
 * of the public interface (`deno task admin --json`, the gateway dashboard),
 * and the answer envelope both TCP dialects carry.
 * @module
 */

/** Kind of a supervised service, as shown by `status`. */
export type ServiceKind = "coordinator" | "broker" | "producer" | "consumer";
/** Liveness of a service. */
export type ServiceState = "alive" | "dead" | "stopped";

/** One row of `status` (JSON shape is part of the public interface). */
export interface ServiceStatus {
  kind: ServiceKind;
  id: number;
  pid: number;
  port: number;
  state: ServiceState;
  uptimeMs: number;
}

/** One row of `broker list`. */
export interface BrokerListing {
  id: number;
  port: number;
  state: ServiceState;
  pid: number;
  partitionsLed: number;
  partitionsReplicated: number;
  /** Partitions this broker leads whose ISR is smaller than their replica set. */
  underReplicated: number;
}

/** A partition as `topic describe` shows it. */
export interface PartitionListing {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
  /** Only while a reassignment runs: replicas being added and removed. */
  adding?: number[];
  removing?: number[];
}

/** `topic describe` JSON shape (public interface). */
export interface TopicListing {
  name: string;
  partitions: PartitionListing[];
  configs: Record<string, string>;
}

/** One row of `group list` (JSON shape is part of the public interface). */
export interface GroupListing {
  group: string;
  state: string;
  members: number;
}

/** `group describe` JSON shape (public interface). */
export interface GroupDescription {
  group: string;
  state: string;
  generation: number;
  protocol: string;
  members: {
    memberId: string;
    clientId: string;
    assignment: { topic: string; partition: number }[];
  }[];
  offsets: {
    topic: string;
    partition: number;
    committed: number | null;
    end: number;
    lag: number | null;
  }[];
}

/** A console answer in the form both TCP dialects carry (see `wire.ts`). */
export interface ConsoleAnswer {
  ok: boolean;
  text: string;
  json: unknown;
  error?: { code: number; error: string; message: string };
  /** The command was `quit`: the caller ends the session. */
  quit?: boolean;
}
