import type { Principal } from "../../core/principal.ts";

/**
 * What a home keeps about a connection in its socket attachment (survives hibernation; far below 2 KB). A state is
 * replaced as a whole (Connection.update), never changed in place.
 */
export interface ConnectionState {
  /** Connection id, unique per home; also the socket's tag. */
  id: string;
  authenticated: boolean;
  /** AUTH_ACK was sent (it is sent once). */
  acked: boolean;
  userId?: string;
  /** Roles and claims of the verified token (policies read them); trimmed to fit the attachment (see claimsToKeep). */
  roles?: string[];
  claims?: Record<string, unknown>;
}

/** The home's view of one client socket. */
export interface Connection {
  readonly state: ConnectionState;
  update(state: ConnectionState): void;
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Parses a socket attachment written by this version (anything else is treated as a fresh, unauthenticated socket). */
export function readConnectionState(attachment: unknown, fallbackId: string): ConnectionState {
  if (typeof attachment === "object" && attachment !== null) {
    const { id, authenticated, acked, userId, roles, claims } = attachment as Record<string, unknown>;
    if (typeof id === "string") {
      return {
        id,
        authenticated: authenticated === true,
        acked: acked === true,
        ...(typeof userId === "string" ? { userId } : {}),
        ...(Array.isArray(roles) && roles.every((r) => typeof r === "string") ? { roles } : {}),
        ...(typeof claims === "object" && claims !== null && !Array.isArray(claims) ? { claims: claims as Record<string, unknown> } : {}),
      };
    }
  }
  return { id: fallbackId, authenticated: false, acked: false };
}

/** The socket attachment holds at most 2,048 bytes; claims beyond this budget are dropped, largest first. */
const CLAIMS_BUDGET_BYTES = 1_200;

/**
 * The claims a connection keeps: all of them when they fit the budget, else the smallest ones that do (a policy
 * that reads a dropped claim sees it missing, so its condition is false: it can only deny, never widen access).
 */
export function claimsToKeep(claims: Record<string, unknown>): Record<string, unknown> {
  const sizes = Object.entries(claims).map(([name, value]) => ({ name, value, size: name.length + JSON.stringify(value ?? null).length + 4 }));
  let total = sizes.reduce((sum, c) => sum + c.size, 0);
  if (total <= CLAIMS_BUDGET_BYTES) return claims;
  sizes.sort((a, b) => a.size - b.size);
  const kept: Record<string, unknown> = {};
  total = 0;
  for (const claim of sizes) {
    if (total + claim.size > CLAIMS_BUDGET_BYTES) break;
    kept[claim.name] = claim.value;
    total += claim.size;
  }
  return kept;
}

/** Principals by the state they were read from: a state is replaced, never changed, so one principal serves it. */
const principals = new WeakMap<ConnectionState, Principal>();

/** The principal of an authenticated connection (the same object for the same state). */
export function principalOf(state: ConnectionState): Principal {
  let principal = principals.get(state);
  if (principal === undefined) {
    principal = { id: state.userId ?? null, roles: state.roles ?? [], claims: state.claims ?? {} };
    principals.set(state, principal);
  }
  return principal;
}
