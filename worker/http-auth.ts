import type { Principal } from "../core/principal.ts";
import type { Env } from "../objects/env.ts";
import { authenticatorFromSettings } from "../objects/session/authenticator.ts";
import { namespaceFor } from "../objects/session/tenancy.ts";
import { isNoAuth } from "./admin-auth.ts";
import { bearerTokenOf } from "./bearer-token.ts";
import { readNamespace } from "./home-partition.ts";

/** A data-plane HTTP caller that passed: who, in which namespace. */
export interface HttpCaller {
  principal: Principal;
  namespace: string;
}

/** Why a caller was turned away: the status and the message its route puts in its own error shape. */
export interface HttpRefusal {
  status: 400 | 401 | 403;
  message: string;
}

/** The principal of a `/sync` request without a token under TOPGUN_HTTP_SYNC_ANONYMOUS=1: no id, no roles. */
export const HTTP_ANONYMOUS_PRINCIPAL: Principal = { id: null, roles: [], claims: {} };

/** True when `/sync` accepts requests without a token (PROTOCOL-NEXT.md §6.1, Edge rule). */
export function allowsAnonymousSync(env: Env): boolean {
  return env.TOPGUN_HTTP_SYNC_ANONYMOUS === "1" || env.TOPGUN_HTTP_SYNC_ANONYMOUS === "true";
}

/**
 * Authenticates a `/sync` or `/v1` request as the WebSocket's AUTH does: a bearer JWT verified by the same
 * authenticator; nothing in no-auth mode; without a header, the anonymous principal only when `anonymous` allows it.
 * A token that does not verify is always refused. With TOPGUN_NAMESPACE_CLAIM set, the token's claim must name the
 * request's namespace; an anonymous `/sync` caller (the deployment's opt-in) may use any namespace, under its policies.
 */
export async function authenticateCaller(request: Request, env: Env, options: { anonymous: boolean }): Promise<HttpCaller | HttpRefusal> {
  const url = new URL(request.url);
  const namespace = readNamespace(url);
  if (namespace === undefined) return { status: 400, message: "invalid namespace" };
  const token = bearerTokenOf(request);
  if (token === null) return { status: 401, message: "Authentication failed" };
  const noAuth = isNoAuth(env);
  if (token === undefined && !noAuth) {
    return options.anonymous ? { principal: HTTP_ANONYMOUS_PRINCIPAL, namespace } : { status: 401, message: "authentication required" };
  }
  const result = await authenticatorFromSettings(env).verify(token);
  if (!result.ok) return { status: 401, message: "Authentication failed" };
  if (noAuth) return { principal: result.principal, namespace };
  // Tenancy (TOPGUN_NAMESPACE_CLAIM): the token must name the request's namespace, as on the WebSocket.
  const answer = namespaceFor(result.principal, url.searchParams.get("namespace") ?? undefined, env.TOPGUN_NAMESPACE_CLAIM);
  return answer.ok ? { principal: result.principal, namespace: answer.namespace } : { status: 403, message: answer.error };
}

export function isRefusal(value: HttpCaller | HttpRefusal): value is HttpRefusal {
  return "status" in value;
}
