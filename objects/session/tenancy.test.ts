import { describe, expect, it } from "vitest";
import type { Principal } from "../../core/principal.ts";
import { namespaceFor } from "./tenancy.ts";

const principal = (claims: Record<string, unknown>): Principal => ({ id: "u1", roles: [], claims: { sub: "u1", ...claims } });

describe("namespaceFor", () => {
  it("grants the requested namespace when no claim is configured", () => {
    expect(namespaceFor(principal({}), "tenant-b", undefined)).toEqual({ ok: true, namespace: "tenant-b" });
  });

  it("grants the default namespace to a request that names none when no claim is configured", () => {
    expect(namespaceFor(principal({}), undefined, "")).toEqual({ ok: true, namespace: "default" });
  });

  it("grants the namespace that equals the token's claim", () => {
    expect(namespaceFor(principal({ tenant: "tenant-a" }), "tenant-a", "tenant")).toEqual({ ok: true, namespace: "tenant-a" });
  });

  it("refuses a namespace that differs from the token's claim", () => {
    expect(namespaceFor(principal({ tenant: "tenant-a" }), "tenant-b", "tenant")).toMatchObject({ ok: false });
  });

  it("refuses a request without a namespace when the claim names another one (its home is the default namespace)", () => {
    expect(namespaceFor(principal({ tenant: "tenant-a" }), undefined, "tenant")).toMatchObject({ ok: false });
  });

  it("refuses a token without the claim, or with a claim that is not a string", () => {
    expect(namespaceFor(principal({}), "default", "tenant")).toMatchObject({ ok: false, error: expect.stringContaining("NamespaceMissing") });
    expect(namespaceFor(principal({ tenant: ["tenant-a"] }), "tenant-a", "tenant")).toMatchObject({ ok: false });
  });
});
