import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";
import { SchemaStore } from "./schema-store.ts";

const schema = { type: "object", properties: { title: { type: "string" } } };

describe("SchemaStore", () => {
  it("starts empty at version 0", () => {
    expect(new SchemaStore(nodeSqlPort()).changesSince()).toEqual({ version: 0, schemas: [] });
  });

  it("stores, replaces and deletes schemas, giving each change a new version", () => {
    const store = new SchemaStore(nodeSqlPort());
    expect(store.put("todos", schema)).toEqual({ map: "todos", version: 1, schema });
    expect(store.put("todos", true)).toEqual({ map: "todos", version: 2, schema: true });
    store.put("notes", schema);
    expect(store.list().map((s) => [s.map, s.version])).toEqual([["notes", 3], ["todos", 2]]);
    expect(store.delete("todos")).toBe(true);
    expect(store.delete("todos")).toBe(false);
    expect(store.get("todos")).toBeUndefined();
    expect(store.changesSince().version).toBe(4);
    expect(store.count()).toBe(1);
  });

  it("sends the set only to a caller that holds an older version", () => {
    const store = new SchemaStore(nodeSqlPort());
    store.put("todos", schema);
    expect(store.changesSince(1)).toEqual({ version: 1 });
    expect(store.changesSince(0)).toEqual({ version: 1, schemas: [{ map: "todos", version: 1, schema }] });
  });

  it("keeps its schemas when the object is built again over the same storage, beside the policies", () => {
    const sql = nodeSqlPort();
    new SchemaStore(sql).put("todos", schema);
    new PolicyStore(sql).put({ id: "a", mapPattern: "x", action: "read", effect: "deny" });
    expect(new SchemaStore(sql).get("todos")).toEqual({ map: "todos", version: 1, schema });
    expect(new PolicyStore(sql).snapshot().version).toBe(1);
  });
});
