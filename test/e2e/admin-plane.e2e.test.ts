import { describe, expect, it } from "vitest";
import { adminCall } from "../support/admin-api.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { signToken } from "../support/tokens.ts";

describe("admin plane: /api/admin/policies", () => {
  it("answers 401 without a token or with a bad one, and 403 to a token without the admin role", async () => {
    expect(await adminCall(serverUrl(), "/api/admin/policies", { token: null })).toEqual({ status: 401, body: { code: 401, message: "authentication required" } });
    expect((await adminCall(serverUrl(), "/api/admin/policies", { token: "not-a-jwt" })).status).toBe(401);
    const wrongKey = await signToken({ sub: "ops", roles: ["admin"], secret: "another-secret" });
    expect((await adminCall(serverUrl(), "/api/admin/policies", { token: wrongKey })).status).toBe(401);
    const user = await signToken({ sub: "u", roles: ["ADMIN", "member"] });
    expect(await adminCall(serverUrl(), "/api/admin/policies", { token: user })).toEqual({ status: 403, body: { code: 403, message: "admin role required" } });
  });

  it("stores a policy with its parsed condition, lists, reads and deletes it", async () => {
    const namespace = uniqueName("admin");
    const created = await adminCall(serverUrl(), "/api/admin/policies", {
      method: "POST",
      namespace,
      body: { id: "own", mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" },
    });
    expect(created).toEqual({
      status: 201,
      body: {
        id: "own",
        mapPattern: "todos",
        action: "all",
        effect: "allow",
        condition: { op: "eq", attribute: "ownerId", valueRef: "auth.id" },
        conditionExpr: "auth.id == data.ownerId",
      },
    });
    const generated = await adminCall(serverUrl(), "/api/admin/policies", { method: "POST", namespace, body: { mapPattern: "*", action: "read", effect: "deny" } });
    expect(generated.status).toBe(201);
    const listed = await adminCall(serverUrl(), "/api/admin/policies", { namespace });
    expect((listed.body as { policies: { id: string }[] }).policies).toHaveLength(2);
    expect((await adminCall(serverUrl(), "/api/admin/policies/own", { namespace })).status).toBe(200);
    expect(await adminCall(serverUrl(), "/api/admin/policies/own", { method: "DELETE", namespace })).toEqual({ status: 204, body: undefined });
    expect(await adminCall(serverUrl(), "/api/admin/policies/own", { method: "DELETE", namespace })).toEqual({ status: 204, body: undefined });
    expect((await adminCall(serverUrl(), "/api/admin/policies/own", { namespace })).status).toBe(404);
  });

  it("keeps each namespace's policies apart", async () => {
    const a = uniqueName("tenant-a");
    const b = uniqueName("tenant-b");
    await adminCall(serverUrl(), "/api/admin/policies", { method: "POST", namespace: a, body: { mapPattern: "x", action: "read", effect: "allow" } });
    expect(await adminCall(serverUrl(), "/api/admin/policies", { namespace: b })).toEqual({ status: 200, body: { policies: [] } });
  });

  it("answers a bad expression or body with 400 naming the field, and changes nothing", async () => {
    const namespace = uniqueName("admin");
    const bad = await adminCall(serverUrl(), "/api/admin/policies", {
      method: "POST",
      namespace,
      body: { mapPattern: "todos", action: "read", effect: "allow", conditionExpr: "auth.id == " },
    });
    expect(bad).toEqual({ status: 400, body: { code: 400, message: "conditionExpr: expected auth.<field>, data.<field> or a literal at position 11", field: "conditionExpr" } });
    const wrongAction = await adminCall(serverUrl(), "/api/admin/policies", { method: "POST", namespace, body: { mapPattern: "todos", action: "drop", effect: "allow" } });
    expect(wrongAction.status).toBe(400);
    expect((wrongAction.body as { field?: string }).field).toBe("action");
    expect((await adminCall(serverUrl(), "/api/admin/policies", { method: "POST", namespace, body: "{not json" })).status).toBe(400);
    expect(await adminCall(serverUrl(), "/api/admin/policies", { namespace })).toEqual({ status: 200, body: { policies: [] } });
  });

  it("authenticates /stats and unknown admin routes: 401 without a token, 404 for an admin", async () => {
    expect((await adminCall(serverUrl(), "/stats", { token: null })).status).toBe(401);
    expect((await adminCall(serverUrl(), "/stats")).status).toBe(200);
    expect((await adminCall(serverUrl(), "/api/admin/nothing-here", { token: null })).status).toBe(401);
    expect(await adminCall(serverUrl(), "/api/admin/nothing-here")).toEqual({ status: 404, body: { code: 404, message: "not found" } });
  });
});
