/**
 * Who is asking: the subject of a verified token (`sub`), its roles, and every claim of the token, so access
 * policies can read `auth.id`, `auth.roles` and `auth.<claim>`. `id` is null for an anonymous HTTP caller.
 */
export interface Principal {
  id: string | null;
  roles: string[];
  claims: Record<string, unknown>;
}

/** The principal of a connection accepted without a token (no-auth mode). */
export const ANONYMOUS_PRINCIPAL: Principal = { id: "anonymous", roles: [], claims: {} };

/** The object a policy condition sees as `auth`: every claim, then `id` (= sub) and `roles` on top. */
export function authContextOf(principal: Principal): Record<string, unknown> {
  return { ...principal.claims, id: principal.id, roles: principal.roles };
}
