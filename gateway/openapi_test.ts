/**
 * `docs/openapi.yaml` against the apps: every route the writer and reader
 * serve is documented under the right tag, and nothing documented is
 * missing from the apps. Also checks the document's internal references and
 * that every documented operation lists its success and auth answers.
 * @module
 */
import assert from "node:assert/strict";
import { load } from "js-yaml";
import { FakeCluster } from "./shared/_fake_cluster.ts";
import { createReaderApp } from "./reader/app.ts";
import { createWriterApp } from "./writer/app.ts";
import { createLogger } from "@kafka-analog/lib/log";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

interface Operation {
  tags?: string[];
  responses?: Record<string, unknown>;
  security?: unknown[];
}

async function loadSpec(): Promise<Record<string, unknown>> {
  const text = await Deno.readTextFile(new URL("../docs/openapi.yaml", import.meta.url));
  return load(text) as Record<string, unknown>;
}

/** "METHOD /path/{param}" of every route an app serves (middleware excluded). */
function appRoutes(routes: { method: string; path: string }[]): Set<string> {
  return new Set(
    routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`),
  );
}

/** "METHOD /path" of every operation the spec tags `tag`. */
function specRoutes(spec: Record<string, unknown>, tag: string): Set<string> {
  const out = new Set<string>();
  for (
    const [path, item] of Object.entries(spec.paths as Record<string, Record<string, Operation>>)
  ) {
    for (const method of METHODS) {
      const op = item[method];
      if (op?.tags?.includes(tag)) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}

function sorted(set: Set<string>): string[] {
  return [...set].sort();
}

Deno.test("docs/openapi.yaml lists exactly the writer's and the reader's routes", async () => {
  const spec = await loadSpec();
  const logger = createLogger("test", { sink: () => {} });
  const writer = createWriterApp(new FakeCluster(), { logger });
  const reader = createReaderApp(new FakeCluster(), { logger });
  assert.deepEqual(sorted(specRoutes(spec, "writer")), sorted(appRoutes(writer.routes)));
  assert.deepEqual(sorted(specRoutes(spec, "reader")), sorted(appRoutes(reader.app.routes)));
});

Deno.test("every operation in docs/openapi.yaml is tagged, answers a 2xx/101, and lists 401/403 under /api", async () => {
  const spec = await loadSpec();
  for (
    const [path, item] of Object.entries(spec.paths as Record<string, Record<string, Operation>>)
  ) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.tags?.length, `${where} has no gateway tag`);
      const statuses = Object.keys(op.responses ?? {});
      assert.ok(statuses.some((s) => /^(2..|101)$/.test(s)), `${where} has no success answer`);
      if (path.startsWith("/api/")) {
        assert.ok(statuses.includes("401") && statuses.includes("403"), `${where} lacks 401/403`);
      } else {
        assert.deepEqual(op.security, [], `${where} should be open`);
      }
    }
  }
});

Deno.test("every $ref in docs/openapi.yaml resolves", async () => {
  const spec = await loadSpec();
  const refs: string[] = [];
  (function walk(node: unknown): void {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string") refs.push(v);
        else walk(v);
      }
    }
  })(spec);
  assert.ok(refs.length > 20);
  for (const ref of refs) {
    assert.ok(ref.startsWith("#/"), ref);
    let node: unknown = spec;
    for (const part of ref.slice(2).split("/")) {
      node = (node as Record<string, unknown> | undefined)?.[part];
    }
    assert.ok(node !== undefined, `unresolved ${ref}`);
  }
});
