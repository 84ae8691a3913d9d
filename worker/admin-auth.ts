import type { Principal } from "../core/principal.ts";
import type { Env } from "../objects/env.ts";
import { parseAdminSubjects } from "../objects/access/access-guard.ts";
import { authenticatorFromSettings, authOptionsOf } from "../objects/session/authenticator.ts";
import { namespaceFor } from "../objects/session/tenancy.ts";
import { readNamespace } from "./home-partition.ts";
import { adminError } from "./admin-error.ts";
import { bearerTokenOf } from "./bearer-token.ts";

/** An admin call that passed: who called, for which namespace. */
export interface AdminCall {
  principal: Principal;
  namespace: string;
}

/** The role that opens the admin plane (PROTOCOL-NEXT.md §6.2: exactly this, lowercase). */
const ADMIN_ROLE = "admin";

/** True when the deployment verifies tokens (JWT_SECRET or TOPGUN_JWKS_URL); the admin plane exists only then (§6.2). */
export function hasAdminPlane(env: Env): boolean {
  return !isNoAuth(env) && Boolean(env.JWT_SECRET || env.TOPGUN_JWKS_URL);
}

/** True when the deployment accepts every connection without a token (local development). */
export function isNoAuth(env: Env): boolean {
  return authOptionsOf(env).noAuth;
}

/**
 * Authenticates an admin call: a bearer JWT verified like a WebSocket's AUTH, with the `admin` role or a `sub` in
 * TOPGUN_ADMIN_SUBJECTS. The namespace is `?namespace=`; with TOPGUN_NAMESPACE_CLAIM set, a tenant's admin reaches
 * only the namespace its token names, and only the deployment's admin subjects (global admins) reach any.
 */
export async function authenticateAdmin(request: Request, env: Env): Promise<AdminCall | Response> {
  if (!hasAdminPlane(env)) return adminError(404, "not found");
  const token = bearerTokenOf(request);
  if (token === undefined || token === null) return adminError(401, "authentication required");
  const result = await authenticatorFromSettings(env).verify(token);
  if (!result.ok) return adminError(401, "Authentication failed");
  const { principal } = result;
  const globalAdmin = principal.id !== null && parseAdminSubjects(env.TOPGUN_ADMIN_SUBJECTS).has(principal.id);
  if (!globalAdmin && !principal.roles.includes(ADMIN_ROLE)) return adminError(403, "admin role required");
  const url = new URL(request.url);
  if (readNamespace(url) === undefined) return adminError(400, "invalid namespace", "namespace");
  const requested = url.searchParams.get("namespace") ?? undefined;
  // A global admin reaches every namespace; a tenant's admin only the one its token names.
  const answer = namespaceFor(principal, requested, globalAdmin ? undefined : env.TOPGUN_NAMESPACE_CLAIM);
  if (!answer.ok) return adminError(403, `admin of another namespace: ${answer.error}`);
  return { principal, namespace: answer.namespace };
}
