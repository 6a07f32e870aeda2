/**
 * The Avro schema registry the coordinator keeps in its metadata: register a
 * schema text under a subject (the same schema gets the same global id under
 * every subject, and the same version when registered again under one
 * subject), look a schema up by id, list subjects' versions.
 *
 * Schemas are compared after JSON normalisation (`JSON.stringify(JSON.parse(
 * text))`), so whitespace does not make a new schema; that normal form is what
 * is stored and returned. The registry checks that a schema is JSON within
 * `SCHEMA_BYTES_MAX`; whether it is valid *Avro* is checked by the client
 * (with avsc) before it registers, so the coordinator needs no Avro library.
 *
 * Each registration is persisted through the `persist` callback as
 * `{type: "schema_registered", subject, version, id, schema}` before it is
 * applied (the coordinator journals it); a restart replays the events.
 * {@linkcode handleSchemaRegistryRequest} turns a request payload into a
 * response payload, so the coordinator's wiring is one line.
 * @module
 */
import { isKaError, KaError } from "@kafka-analog/lib/errors";
import { SCHEMAS_MAX } from "@kafka-analog/lib/limits";
import { ERRORS } from "@kafka-analog/lib/protocol";
import {
  readSchemaRegistryRequest,
  type SchemaEntry,
  type SchemaRegistryResponse,
  validateSubject,
} from "@kafka-analog/lib/schema_registry";

/** A durable registration. */
export interface SchemaRegisteredEvent {
  type: "schema_registered";
  subject: string;
  version: number;
  id: number;
  /** Normalised schema text. */
  schema: string;
}

/** Options for {@linkcode SchemaRegistry}. */
export interface SchemaRegistryOptions {
  /** Makes an event durable before returning (the coordinator's journal). */
  persist?: (event: SchemaRegisteredEvent) => void;
  /** Events persisted earlier, oldest first. */
  events?: Iterable<SchemaRegisteredEvent>;
}

/** Normalises schema text; throws KaError INVALID_SCHEMA when it is not JSON. */
export function normalizeSchema(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch (err) {
    throw KaError.of(
      "INVALID_SCHEMA",
      `Invalid schema: it must be JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** Subjects → versions → ids, and ids → schema text. */
export class SchemaRegistry {
  #persist: (event: SchemaRegisteredEvent) => void;
  #textById = new Map<number, string>();
  #idByText = new Map<string, number>();
  /** subject → ids by version (index 0 is version 1). */
  #subjects = new Map<string, number[]>();

  constructor(options: SchemaRegistryOptions = {}) {
    this.#persist = options.persist ?? (() => {});
    for (const event of options.events ?? []) this.apply(event);
  }

  /** Schemas (distinct ids) held. */
  get size(): number {
    return this.#textById.size;
  }

  /** Replays one persisted event without persisting it. */
  apply(event: SchemaRegisteredEvent): void {
    this.#textById.set(event.id, event.schema);
    this.#idByText.set(event.schema, event.id);
    const versions = this.#subjects.get(event.subject) ?? [];
    versions[event.version - 1] = event.id;
    this.#subjects.set(event.subject, versions);
  }

  /**
   * Registers `schema` under `subject`; returns its entry (existing or new).
   * Throws KaError INVALID_SCHEMA (not JSON) or INVALID_REQUEST (registry full).
   */
  register(subject: string, schema: string): SchemaEntry {
    validateSubject(subject);
    const text = normalizeSchema(schema);
    const versions = this.#subjects.get(subject) ?? [];
    const known = this.#idByText.get(text);
    if (known !== undefined) {
      const index = versions.indexOf(known);
      if (index >= 0) return { subject, version: index + 1, id: known, schema: text };
    }
    if (known === undefined && this.#textById.size >= SCHEMAS_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot register schema: the registry holds ${SCHEMAS_MAX} schemas already`,
      );
    }
    const event: SchemaRegisteredEvent = {
      type: "schema_registered",
      subject,
      version: versions.length + 1,
      id: known ?? this.#nextId(),
      schema: text,
    };
    this.#persist(event);
    this.apply(event);
    return { subject, version: event.version, id: event.id, schema: text };
  }

  /** Every subject/version holding schema `id`, with its text; SCHEMA_NOT_FOUND if none. */
  get(id: number): SchemaEntry[] {
    const schema = this.#textById.get(id);
    if (schema === undefined) throw KaError.of("SCHEMA_NOT_FOUND", `No schema has id ${id}`);
    const entries: SchemaEntry[] = [];
    for (const [subject, versions] of this.#sortedSubjects()) {
      versions.forEach((v, i) => {
        if (v === id) entries.push({ subject, version: i + 1, id, schema });
      });
    }
    return entries;
  }

  /** Every subject's versions (or one subject's), without texts; unknown subject → SCHEMA_NOT_FOUND. */
  list(subject?: string): SchemaEntry[] {
    if (subject !== undefined && !this.#subjects.has(subject)) {
      throw KaError.of("SCHEMA_NOT_FOUND", `No schema is registered under subject '${subject}'`);
    }
    const entries: SchemaEntry[] = [];
    for (const [name, versions] of this.#sortedSubjects()) {
      if (subject !== undefined && name !== subject) continue;
      versions.forEach((id, i) => entries.push({ subject: name, version: i + 1, id }));
    }
    return entries;
  }

  #nextId(): number {
    let max = 0;
    for (const id of this.#textById.keys()) if (id > max) max = id;
    return max + 1;
  }

  #sortedSubjects(): [string, number[]][] {
    return [...this.#subjects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/**
 * The coordinator's SchemaRegistry (1010) handler: validates the request
 * payload and answers the response payload. KaErrors become `errorCode` and
 * `errorMessage`; anything else (a journal that cannot write) is thrown.
 */
export function handleSchemaRegistryRequest(
  registry: SchemaRegistry,
  payload: unknown,
): SchemaRegistryResponse {
  try {
    const request = readSchemaRegistryRequest(payload);
    let entries: SchemaEntry[];
    switch (request.op) {
      case "register":
        entries = [registry.register(request.subject, request.schema)];
        break;
      case "get":
        entries = registry.get(request.id);
        break;
      case "list":
        entries = registry.list(request.subject);
        break;
    }
    return { errorCode: ERRORS.NONE.code, errorMessage: null, entries };
  } catch (err) {
    if (!isKaError(err)) throw err;
    return { errorCode: err.code, errorMessage: err.message, entries: [] };
  }
}
