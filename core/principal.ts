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

/**
 * The object a policy condition sees as `auth`: every claim, then `id` (= sub) and `roles` on top. An anonymous HTTP
 * caller (id null) has no `auth.id`, so a condition on it is false (PROTOCOL-NEXT.md §6.1: `auth.id == data.ownerId`
 * never lets it through, not even for a record whose ownerId is null).
 */
export function authContextOf(principal: Principal): Record<string, unknown> {
  const { id: _claimedId, ...claims } = principal.claims;
  return principal.id === null ? { ...claims, roles: principal.roles } : { ...principal.claims, id: principal.id, roles: principal.roles };
}
