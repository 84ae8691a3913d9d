import { DEFAULT_NAMESPACE } from "../../core/object-name.ts";
import type { Principal } from "../../core/principal.ts";

export type NamespaceAnswer = { ok: true; namespace: string } | { ok: false; error: string };

/**
 * The namespace a verified caller may use (`TOPGUN_NAMESPACE_CLAIM`). Without a claim name every caller may use
 * the namespace it asks for. With one, the token must carry that claim as a string, and the requested namespace
 * (the default one when the request names none) must equal it. The WebSocket home checks this at AUTH; HTTP
 * routes call it with the bearer token's principal and the request's `?namespace=`.
 */
export function namespaceFor(principal: Principal, requested: string | undefined, claim: string | undefined): NamespaceAnswer {
  const namespace = requested ?? DEFAULT_NAMESPACE;
  if (!claim) return { ok: true, namespace };
  const value = principal.claims[claim];
  if (typeof value !== "string" || value === "") return { ok: false, error: `NamespaceMissing: the token has no ${claim} claim` };
  if (value !== namespace) return { ok: false, error: `NamespaceMismatch: the token is not valid for namespace ${namespace}` };
  return { ok: true, namespace };
}
