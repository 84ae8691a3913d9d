import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { PolicyStore } from "./policy-store.ts";

/** The port with a count of the statements run through it. */
function countingSql(): { sql: SqlPort; statements: () => number } {
  const base = nodeSqlPort();
  let n = 0;
  return { sql: { ...base, exec: (query, ...bindings) => (n++, base.exec(query, ...bindings)) }, statements: () => n };
}

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

  it("answers repeated snapshots without reading SQLite again", () => {
    const { sql, statements } = countingSql();
    const store = new PolicyStore(sql);
    store.snapshot();
    const before = statements();

    store.snapshot();
    store.snapshot();

    expect(statements()).toBe(before);
  });

  it("answers a snapshot with the change right after a put and after a delete", () => {
    const store = new PolicyStore(nodeSqlPort());
    store.snapshot();

    store.put({ id: "a", mapPattern: "todos", action: "read", effect: "allow" });
    expect(store.snapshot()).toEqual({ version: 1, configured: true, policies: [{ id: "a", mapPattern: "todos", action: "read", effect: "allow" }] });
    store.delete("a");
    expect(store.snapshot()).toEqual({ version: 2, configured: true, policies: [] });
  });

  it("answers the stored policies after a put that failed", () => {
    const base = nodeSqlPort();
    const store = new PolicyStore({ ...base, exec: (query, ...bindings) => {
      if (query.startsWith("INSERT OR REPLACE INTO control_meta") && bindings[0] === "version") throw new Error("disk full");
      return base.exec(query, ...bindings);
    } });
    store.snapshot();

    expect(() => store.put({ id: "a", mapPattern: "todos", action: "read", effect: "allow" })).toThrow("disk full");

    expect(store.snapshot()).toEqual({ version: 0, configured: false, policies: [] });
  });
});
