import type { Principal } from "../core/principal.ts";
import type { Env } from "../objects/env.ts";
import { parseAdminSubjects } from "../objects/access/access-guard.ts";
import { createAuthenticator } from "../objects/session/authenticator.ts";
import { readNamespace } from "./home-partition.ts";
import { adminError } from "./admin-error.ts";

/** An admin call that passed: who called, for which namespace. */
export interface AdminCall {
  principal: Principal;
  namespace: string;
}

/** The role that opens the admin plane (PROTOCOL-NEXT.md §6.2: exactly this, lowercase). */
const ADMIN_ROLE = "admin";

/** True when the deployment verifies tokens; the admin plane exists only then (Edge rule, §6.2). */
export function hasAdminPlane(env: Env): boolean {
  return !isNoAuth(env) && Boolean(env.JWT_SECRET);
}

/** True when the deployment accepts every connection without a token (local development). */
export function isNoAuth(env: Env): boolean {
  return env.TOPGUN_NO_AUTH === "1" || env.TOPGUN_NO_AUTH === "true";
}

/**
 * Authenticates an admin call: a bearer JWT verified like a WebSocket's AUTH, with the `admin` role or a `sub` in
 * TOPGUN_ADMIN_SUBJECTS. The namespace is `?namespace=`; with TOPGUN_NAMESPACE_CLAIM set, a tenant's admin reaches
 * only the namespace its token names, and only the deployment's admin subjects (global admins) reach any.
 */
export async function authenticateAdmin(request: Request, env: Env): Promise<AdminCall | Response> {
  if (!hasAdminPlane(env)) return adminError(404, "not found");
  const header = request.headers.get("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return adminError(401, "authentication required");
  const result = await createAuthenticator({ secret: env.JWT_SECRET, noAuth: false }).verify(match[1]);
  if (!result.ok) return adminError(401, "Authentication failed");
  const { principal } = result;
  const globalAdmin = principal.id !== null && parseAdminSubjects(env.TOPGUN_ADMIN_SUBJECTS).has(principal.id);
  if (!globalAdmin && !principal.roles.includes(ADMIN_ROLE)) return adminError(403, "admin role required");
  const namespace = readNamespace(new URL(request.url));
  if (namespace === undefined) return adminError(400, "invalid namespace", "namespace");
  const claim = env.TOPGUN_NAMESPACE_CLAIM;
  if (claim && !globalAdmin && principal.claims[claim] !== namespace) return adminError(403, "admin of another namespace");
  return { principal, namespace };
}
