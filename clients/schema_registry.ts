/**
 * The client side of the schema registry the coordinator keeps (internal API
 * SchemaRegistry, key 1010, JSON payloads defined in
 * `@kafka-analog/lib/schema_registry`). Requests go to any reachable
 * bootstrap address: the coordinator answers them, and brokers forward them
 * to it. Schema texts never change once registered, so lookups by id are
 * cached for the client's lifetime, and so are registrations.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import { ApiKey, ERRORS } from "@kafka-analog/lib/protocol";
import {
  readSchemaRegistryResponse,
  type SchemaEntry,
  type SchemaRegistryRequest,
} from "@kafka-analog/lib/schema_registry";
import type { ClusterView } from "./cluster.ts";

export type { SchemaEntry };

/** What the Avro serde needs from a registry (the real client, or a stand-in in tests). */
export interface SchemaRegistryApi {
  /** Registers `schema` (JSON text) under `subject`; the same schema keeps its id. */
  register(subject: string, schema: string): Promise<SchemaEntry>;
  /** The schema text with id `id`; SCHEMA_NOT_FOUND if there is none. */
  schemaById(id: number): Promise<string>;
  /** Every subject's versions, or one subject's. */
  list(subject?: string): Promise<SchemaEntry[]>;
}

/** Talks to the coordinator's schema registry. */
export class SchemaRegistryClient implements SchemaRegistryApi {
  #cluster: ClusterView;
  #byId = new Map<number, Promise<string>>();
  #registered = new Map<string, Promise<SchemaEntry>>();

  constructor(cluster: ClusterView) {
    this.#cluster = cluster;
  }

  register(subject: string, schema: string): Promise<SchemaEntry> {
    const key = `${subject}\u0000${schema}`;
    let entry = this.#registered.get(key);
    if (entry === undefined) {
      entry = this.#call({ op: "register", subject, schema }).then((entries) => {
        const first = entries[0];
        if (first === undefined) {
          throw KaError.of(
            "INVALID_REQUEST",
            "The schema registry answered a register with nothing",
          );
        }
        if (first.schema !== undefined) this.#byId.set(first.id, Promise.resolve(first.schema));
        return first;
      });
      this.#registered.set(key, entry);
      entry.catch(() => this.#registered.delete(key));
    }
    return entry;
  }

  schemaById(id: number): Promise<string> {
    let text = this.#byId.get(id);
    if (text === undefined) {
      text = this.#call({ op: "get", id }).then((entries) => {
        const schema = entries[0]?.schema;
        if (schema === undefined) throw KaError.of("SCHEMA_NOT_FOUND", `No schema has id ${id}`);
        return schema;
      });
      this.#byId.set(id, text);
      text.catch(() => this.#byId.delete(id));
    }
    return text;
  }

  list(subject?: string): Promise<SchemaEntry[]> {
    return this.#call(subject === undefined ? { op: "list" } : { op: "list", subject });
  }

  async #call(request: SchemaRegistryRequest): Promise<SchemaEntry[]> {
    const conn = await this.#cluster.anyConnection();
    const response = await conn.request(ApiKey.SchemaRegistry, 0, { payload: request });
    const answer = readSchemaRegistryResponse(response.payload);
    if (answer.errorCode !== ERRORS.NONE.code) {
      throw new KaError(answer.errorCode, answer.errorMessage ?? undefined);
    }
    return answer.entries;
  }
}
