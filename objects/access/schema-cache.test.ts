import { describe, expect, it } from "vitest";
import type { MapSchema, SchemaChanges } from "../../core/map-schema.ts";
import { POLICY_REFRESH_MS } from "./policy-cache.ts";
import { SchemaCache } from "./schema-cache.ts";

function setup() {
  let now = 1_000;
  let version = 1;
  let schemas: MapSchema[] = [{ map: "todos", version: 1, schema: { type: "object" } }];
  let failing = false;
  const asked: (number | undefined)[] = [];
  const cache = new SchemaCache({
    clock: () => now,
    fetch: async (known): Promise<SchemaChanges> => {
      asked.push(known);
      if (failing) throw new Error("control object away");
      return known === version ? { version } : { version, schemas };
    },
  });
  return {
    cache,
    asked,
    advance: (ms: number) => (now += ms),
    publish: (v: number, s: MapSchema[]) => {
      version = v;
      schemas = s;
    },
    fail: (on: boolean) => (failing = on),
  };
}

describe("SchemaCache", () => {
  it("serves its copy for a second, then asks with the version it holds and keeps its compiled schemas when nothing moved", async () => {
    const t = setup();
    const first = await t.cache.current();
    const compiled = first.compiledOf("todos");
    t.advance(POLICY_REFRESH_MS);
    await t.cache.current();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const second = await t.cache.current();
    expect(t.asked).toEqual([undefined, 1]);
    expect(second).toBe(first);
    expect(second.compiledOf("todos")).toBe(compiled);
  });

  it("sees a new schema within a second and one round trip, never making a write wait once it holds a copy", async () => {
    const t = setup();
    expect((await t.cache.current()).violation("todos", 1)).toBeDefined();
    t.publish(2, []);
    t.advance(POLICY_REFRESH_MS - 1);
    expect((await t.cache.current()).violation("todos", 1)).toBeDefined();
    t.advance(1);
    const stale = t.cache.current();
    expect(stale).not.toBeInstanceOf(Promise);
    expect((await stale).violation("todos", 1)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await t.cache.current()).violation("todos", 1)).toBeUndefined();
  });

  it("keeps enforcing its copy while the control object is away", async () => {
    const t = setup();
    await t.cache.current();
    t.fail(true);
    t.advance(POLICY_REFRESH_MS);
    await t.cache.current();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const set = await t.cache.current();
    expect(set.violation("todos", 1)).toContain("schema of map todos");
    expect(set.violation("todos", {})).toBeUndefined();
  });

  it("fails when it has no copy and the control object is away (so the write is not applied)", async () => {
    const t = setup();
    t.fail(true);
    await expect(Promise.resolve(t.cache.current())).rejects.toThrow("control object away");
  });
});
