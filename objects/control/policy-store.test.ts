import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";

describe("PolicyStore", () => {
  it("starts unconfigured at version 0 with no policies", () => {
    expect(new PolicyStore(nodeSqlPort()).snapshot()).toEqual({ version: 0, configured: false, policies: [] });
  });

  it("stores, replaces and deletes policies, raising the version on every change", () => {
    const store = new PolicyStore(nodeSqlPort());
    store.put({ id: "a", mapPattern: "todos", action: "read", effect: "allow" });
    store.put({ id: "a", mapPattern: "todos", action: "write", effect: "allow" });
    expect(store.snapshot()).toEqual({ version: 2, configured: true, policies: [{ id: "a", mapPattern: "todos", action: "write", effect: "allow" }] });
    expect(store.delete("a")).toBe(true);
    expect(store.delete("a")).toBe(false);
    expect(store.snapshot().version).toBe(3);
  });

  it("stays configured after the last policy is deleted (default-deny is sticky)", () => {
    const store = new PolicyStore(nodeSqlPort());
    store.put({ id: "a", mapPattern: "*", action: "all", effect: "allow" });
    store.delete("a");
    expect(store.snapshot()).toEqual({ version: 2, configured: true, policies: [] });
  });

  it("keeps its policies when the object is built again over the same storage", () => {
    const sql = nodeSqlPort();
    new PolicyStore(sql).put({ id: "a", mapPattern: "x", action: "read", effect: "deny" });
    expect(new PolicyStore(sql).list()).toEqual([{ id: "a", mapPattern: "x", action: "read", effect: "deny" }]);
  });
});
