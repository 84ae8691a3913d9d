import { describe, expect, it } from "vitest";
import { accessFor, isInternalName, matchesPattern, permits, type AccessPolicy, type PolicySnapshot } from "./access-policy.ts";
import { parseCondition } from "./condition-expr.ts";
import type { Principal } from "./principal.ts";

const alice: Principal = { id: "alice", roles: ["member"], claims: { sub: "alice", team: "red" } };
const bob: Principal = { id: "bob", roles: [], claims: { sub: "bob" } };
const none = new Set<string>();

function snapshot(...policies: Omit<AccessPolicy, "id">[]): PolicySnapshot {
  return { version: 1, configured: true, policies: policies.map((p, i) => ({ id: `p${i}`, ...p })) };
}

describe("matchesPattern", () => {
  it("matches a lone * to every name and a * segment to exactly one segment", () => {
    expect(matchesPattern("*", "a.b.c")).toBe(true);
    expect(matchesPattern("users.*", "users.a")).toBe(true);
    expect(matchesPattern("users.*", "users")).toBe(false);
    expect(matchesPattern("users.*", "users.a.b")).toBe(false);
  });

  it("matches ** to zero or more segments and other segments literally", () => {
    expect(matchesPattern("users.**", "users")).toBe(true);
    expect(matchesPattern("users.**", "users.a.b")).toBe(true);
    expect(matchesPattern("a.**.z", "a.z")).toBe(true);
    expect(matchesPattern("a.**.z", "a.b.c.z")).toBe(true);
    expect(matchesPattern("todos", "todos")).toBe(true);
    expect(matchesPattern("todos", "todos2")).toBe(false);
    expect(matchesPattern("topic:chat.*", "topic:chat.room1")).toBe(true);
  });
});

describe("accessFor", () => {
  it("allows everything while no policy was ever configured", () => {
    expect(accessFor({ version: 0, configured: false, policies: [] }, bob, { action: "write", resource: "todos" }, none)).toEqual({ kind: "all" });
  });

  it("denies what no policy allows once policies are configured, even after the last one is deleted", () => {
    expect(accessFor({ version: 2, configured: true, policies: [] }, bob, { action: "read", resource: "todos" }, none)).toEqual({ kind: "none" });
    const set = snapshot({ mapPattern: "todos", action: "read", effect: "allow" });
    expect(accessFor(set, bob, { action: "read", resource: "todos" }, none)).toEqual({ kind: "all" });
    expect(accessFor(set, bob, { action: "write", resource: "todos" }, none)).toEqual({ kind: "none" });
    expect(accessFor(set, bob, { action: "read", resource: "notes" }, none)).toEqual({ kind: "none" });
  });

  it("lets deny win over allow", () => {
    const set = snapshot({ mapPattern: "*", action: "all", effect: "allow" }, { mapPattern: "secrets", action: "read", effect: "deny" });
    expect(accessFor(set, alice, { action: "read", resource: "secrets" }, none)).toEqual({ kind: "none" });
    expect(accessFor(set, alice, { action: "write", resource: "secrets" }, none)).toEqual({ kind: "all" });
  });

  it("lets admin subjects bypass policies, and not a role named admin", () => {
    const set = snapshot({ mapPattern: "x", action: "read", effect: "deny" });
    expect(accessFor(set, bob, { action: "read", resource: "x" }, new Set(["bob"]))).toEqual({ kind: "all" });
    const roleAdmin: Principal = { id: "carol", roles: ["admin"], claims: {} };
    expect(accessFor(set, roleAdmin, { action: "read", resource: "x" }, new Set(["bob"]))).toEqual({ kind: "none" });
  });

  it("denies internal maps to everyone, whatever the policies say", () => {
    expect(isInternalName("__TopGun_meta")).toBe(true);
    expect(accessFor({ version: 0, configured: false, policies: [] }, bob, { action: "read", resource: "_topgun_x" }, new Set(["bob"]))).toEqual({
      kind: "none",
    });
  });

  it("binds the principal into a record condition: own records pass, others' do not", () => {
    const set = snapshot({ mapPattern: "todos", action: "all", effect: "allow", condition: parseCondition("auth.id == data.ownerId") });
    const access = accessFor(set, alice, { action: "read", resource: "todos" }, none);
    expect(access).toEqual({ kind: "filter", filter: { op: "eq", attribute: "ownerId", value: "alice" } });
    expect(permits(access, { ownerId: "alice" })).toBe(true);
    expect(permits(access, { ownerId: "bob" })).toBe(false);
  });

  it("never lets an anonymous caller (id null) through a condition on auth.id, not even for a record owned by null", () => {
    const set = snapshot({ mapPattern: "todos", action: "all", effect: "allow", condition: parseCondition("auth.id == data.ownerId") });
    const anonymous: Principal = { id: null, roles: [], claims: { id: null } };
    const access = accessFor(set, anonymous, { action: "write", resource: "todos" }, none);
    expect(permits(access, { ownerId: null })).toBe(false);
    expect(permits(access, {})).toBe(false);
  });

  it("turns a condition on the principal alone into a constant", () => {
    const set = snapshot({ mapPattern: "board", action: "write", effect: "allow", condition: parseCondition("'member' in auth.roles") });
    expect(accessFor(set, alice, { action: "write", resource: "board" }, none)).toEqual({ kind: "all" });
    expect(accessFor(set, bob, { action: "write", resource: "board" }, none)).toEqual({ kind: "none" });
  });

  it("reads any claim of the token, and a claim the principal lacks makes the condition false", () => {
    const set = snapshot({ mapPattern: "teams", action: "read", effect: "allow", condition: parseCondition("data.team == auth.team") });
    expect(permits(accessFor(set, alice, { action: "read", resource: "teams" }, none), { team: "red" })).toBe(true);
    expect(accessFor(set, bob, { action: "read", resource: "teams" }, none)).toEqual({ kind: "none" });
  });

  it("combines a conditional allow with a conditional deny per record", () => {
    const set = snapshot(
      { mapPattern: "docs", action: "read", effect: "allow" },
      { mapPattern: "docs", action: "read", effect: "deny", condition: parseCondition("data.secret == true") },
    );
    const access = accessFor(set, bob, { action: "read", resource: "docs" }, none);
    expect(permits(access, { secret: true })).toBe(false);
    expect(permits(access, { secret: false })).toBe(true);
  });

  it("applies remove policies to removals only", () => {
    const set = snapshot({ mapPattern: "todos", action: "write", effect: "allow" }, { mapPattern: "todos", action: "remove", effect: "deny" });
    expect(accessFor(set, bob, { action: "write", resource: "todos" }, none)).toEqual({ kind: "all" });
    expect(accessFor(set, bob, { action: "write", resource: "todos", removal: true }, none)).toEqual({ kind: "none" });
  });
});
