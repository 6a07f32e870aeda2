/**
 * Tests for the coordinator's schema registry: ids, versions, lookups,
 * persistence and replay, and the payload handler's validation.
 * @module
 */
import assert from "node:assert/strict";
import { isKaError } from "@kafka-analog/lib/errors";
import { ERRORS } from "@kafka-analog/lib/protocol";
import { readSchemaRegistryResponse } from "@kafka-analog/lib/schema_registry";
import {
  handleSchemaRegistryRequest,
  type SchemaRegisteredEvent,
  SchemaRegistry,
} from "./schema_registry.ts";

const USER_V1 = JSON.stringify({
  type: "record",
  name: "User",
  fields: [{ name: "name", type: "string" }],
});
const USER_V2 = JSON.stringify({
  type: "record",
  name: "User",
  fields: [{ name: "name", type: "string" }, { name: "age", type: "int", default: 0 }],
});

Deno.test("SchemaRegistry.register(): same text → same id and version; new text → next version", () => {
  const registry = new SchemaRegistry();
  const a = registry.register("users-value", USER_V1);
  assert.deepEqual({ ...a, schema: undefined }, {
    subject: "users-value",
    version: 1,
    id: 1,
    schema: undefined,
  });
  // Whitespace does not matter.
  const again = registry.register("users-value", JSON.stringify(JSON.parse(USER_V1), null, 2));
  assert.equal(again.id, 1);
  assert.equal(again.version, 1);
  const b = registry.register("users-value", USER_V2);
  assert.deepEqual([b.id, b.version], [2, 2]);
  // The same schema under another subject keeps its global id, version 1 there.
  const c = registry.register("audit-value", USER_V2);
  assert.deepEqual([c.id, c.version], [2, 1]);
  assert.equal(registry.size, 2);
});

Deno.test("SchemaRegistry.get() and list() answer by id and subject", () => {
  const registry = new SchemaRegistry();
  registry.register("b", USER_V1);
  registry.register("a", USER_V1);
  registry.register("a", USER_V2);
  assert.deepEqual(registry.get(1).map((e) => [e.subject, e.version]), [["a", 1], ["b", 1]]);
  assert.equal(registry.get(2)[0].schema, USER_V2);
  assert.deepEqual(registry.list(), [
    { subject: "a", version: 1, id: 1 },
    { subject: "a", version: 2, id: 2 },
    { subject: "b", version: 1, id: 1 },
  ]);
  assert.deepEqual(registry.list("b"), [{ subject: "b", version: 1, id: 1 }]);
  assert.throws(() => registry.get(9), (e) => isKaError(e, "SCHEMA_NOT_FOUND"));
  assert.throws(() => registry.list("zz"), (e) => isKaError(e, "SCHEMA_NOT_FOUND"));
});

Deno.test("SchemaRegistry persists before applying and replays its events", () => {
  const events: SchemaRegisteredEvent[] = [];
  const registry = new SchemaRegistry({ persist: (e) => events.push(structuredClone(e)) });
  registry.register("users-value", USER_V1);
  registry.register("users-value", USER_V1);
  registry.register("users-value", USER_V2);
  assert.equal(events.length, 2);
  const restarted = new SchemaRegistry({ events });
  assert.deepEqual(restarted.list(), registry.list());
  assert.equal(restarted.register("other", USER_V2).id, 2);
  assert.equal(restarted.register("other", '"string"').id, 3);

  const failing = new SchemaRegistry({
    persist: () => {
      throw new Error("disk full");
    },
  });
  assert.throws(() => failing.register("s", USER_V1), /disk full/);
  assert.equal(failing.size, 0);
});

Deno.test("SchemaRegistry rejects text that is not JSON with INVALID_SCHEMA", () => {
  const registry = new SchemaRegistry();
  assert.throws(() => registry.register("s", "{not json"), (e) => isKaError(e, "INVALID_SCHEMA"));
});

Deno.test("handleSchemaRegistryRequest() validates payloads and answers codes", () => {
  const registry = new SchemaRegistry();
  const ok = handleSchemaRegistryRequest(registry, {
    op: "register",
    subject: "users-value",
    schema: USER_V1,
  });
  assert.equal(ok.errorCode, 0);
  assert.deepEqual(readSchemaRegistryResponse(ok), ok);
  const got = handleSchemaRegistryRequest(registry, { op: "get", id: 1 });
  assert.equal(got.entries[0].schema, USER_V1);
  assert.equal(handleSchemaRegistryRequest(registry, { op: "list" }).entries.length, 1);
  const cases: [unknown, number, RegExp][] = [
    [null, ERRORS.INVALID_REQUEST.code, /'payload'/],
    [{ op: "drop" }, ERRORS.INVALID_REQUEST.code, /'op'/],
    [{ op: "get", id: 0 }, ERRORS.INVALID_REQUEST.code, /'id'/],
    [{ op: "get", id: "1" }, ERRORS.INVALID_REQUEST.code, /'id'/],
    [{ op: "register", subject: "", schema: "{}" }, ERRORS.INVALID_REQUEST.code, /'subject'/],
    [{ op: "register", subject: "a\nb", schema: "{}" }, ERRORS.INVALID_REQUEST.code, /control/],
    [{ op: "register", subject: "s", schema: 5 }, ERRORS.INVALID_REQUEST.code, /'schema'/],
    [
      { op: "register", subject: "s", schema: "x".repeat(300_000) },
      ERRORS.INVALID_REQUEST.code,
      /at most/,
    ],
    [{ op: "register", subject: "s", schema: "{" }, ERRORS.INVALID_SCHEMA.code, /JSON/],
    [{ op: "get", id: 42 }, ERRORS.SCHEMA_NOT_FOUND.code, /42/],
  ];
  for (const [payload, code, message] of cases) {
    const answer = handleSchemaRegistryRequest(registry, payload);
    assert.equal(answer.errorCode, code, JSON.stringify(payload)?.slice(0, 80));
    assert.match(answer.errorMessage ?? "", message);
    assert.deepEqual(answer.entries, []);
  }
});
