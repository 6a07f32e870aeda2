/**
 * An in-memory schema registry for gateway tests, with the coordinator's
 * rules: global ids from 1 (the same normalised text keeps its id), versions
 * per subject from 1, SCHEMA_NOT_FOUND for unknown ids.
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { SchemaEntry, SchemaRegistryApi } from "@kafka-analog/clients";

/** Schemas kept in a list: id = index + 1. */
export class MemoryRegistry implements SchemaRegistryApi {
  readonly texts: string[] = [];
  readonly subjects = new Map<string, number[]>();

  register(subject: string, schema: string): Promise<SchemaEntry> {
    const text = JSON.stringify(JSON.parse(schema));
    let id = this.texts.indexOf(text) + 1;
    if (id === 0) id = this.texts.push(text);
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return Promise.resolve({ subject, version: versions.indexOf(id) + 1, id, schema: text });
  }

  schemaById(id: number): Promise<string> {
    const text = this.texts[id - 1];
    return text === undefined
      ? Promise.reject(KaError.of("SCHEMA_NOT_FOUND", `No schema has id ${id}`))
      : Promise.resolve(text);
  }

  list(subject?: string): Promise<SchemaEntry[]> {
    const out: SchemaEntry[] = [];
    for (const [name, ids] of this.subjects) {
      if (subject === undefined || subject === name) {
        ids.forEach((id, i) => out.push({ subject: name, version: i + 1, id }));
      }
    }
    return Promise.resolve(out);
  }
}
