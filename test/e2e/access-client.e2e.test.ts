// The client SDK under access policies: denied writes are rolled back and reported, queries show what the user may read.
import { describe, expect, it, vi } from "vitest";
import { putPolicies } from "../support/admin-api.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { CLIENT_WAIT as WAIT, clientPool } from "../support/e2e-clients.ts";

const clients = clientPool();
const clientOf = (namespace: string, user: string) => clients.connected({ namespace, user });

interface Todo {
  ownerId: string;
  title: string;
}

describe("the client SDK under access policies", () => {
  it("rolls back a denied write and reports it through onOpRejected, keeping the allowed ones", async () => {
    const namespace = uniqueName("todo");
    await putPolicies(serverUrl(), namespace, [{ mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" }]);
    const alice = await clientOf(namespace, "alice");
    const rejected: { reason: string; code: number | undefined }[] = [];
    alice.onOpRejected((r) => rejected.push({ reason: r.reason, code: r.code }));
    const todos = alice.getMap<Todo>("todos");

    todos.set("mine", { ownerId: "alice", title: "allowed" });
    todos.set("planted", { ownerId: "bob", title: "denied" });
    expect(todos.get("planted")).toEqual({ ownerId: "bob", title: "denied" });

    await vi.waitFor(() => expect(rejected).toEqual([{ reason: "forbidden: write access denied for map: todos", code: 403 }]), WAIT);
    await vi.waitFor(() => expect(alice.getPendingOpCount()).toBe(0), WAIT);
    expect(todos.get("planted")).toBeUndefined();
    expect(todos.get("mine")).toEqual({ ownerId: "alice", title: "allowed" });
  });

  it("shows each user only their own todos in a live query", async () => {
    const namespace = uniqueName("todo");
    await putPolicies(serverUrl(), namespace, [{ mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" }]);
    const alice = await clientOf(namespace, "alice");
    const bob = await clientOf(namespace, "bob");
    alice.getMap<Todo>("todos").set("a1", { ownerId: "alice", title: "alice's" });
    await vi.waitFor(() => expect(alice.getPendingOpCount()).toBe(0), WAIT);

    const query = bob.query<Todo>("todos", {});
    await vi.waitFor(() => expect(query.settled).toBe(true), WAIT);
    bob.getMap<Todo>("todos").set("b1", { ownerId: "bob", title: "bob's" });
    await vi.waitFor(() => expect(bob.getPendingOpCount()).toBe(0), WAIT);
    await vi.waitFor(() => expect(query.results().map(([key]) => key)).toEqual(["b1"]), WAIT);
  });
});
