// Calls to the admin plane (/api/admin/*) of a running server, as an operator would make them with curl.
import { apiCall } from "./http-api.ts";
import { signToken } from "./tokens.ts";

export interface AdminRequest {
  method?: string;
  body?: unknown;
  /** The bearer token; an admin's (role `admin`) when absent, none when null. */
  token?: string | null;
  namespace?: string;
}

/** An HTTP call to `path` of the server; answers the status and the parsed JSON body (undefined when empty). */
export async function adminCall(baseUrl: string, path: string, request: AdminRequest = {}): Promise<{ status: number; body: unknown }> {
  const token = request.token === undefined ? await signToken({ sub: "ops", roles: ["admin"] }) : request.token;
  return apiCall(baseUrl, path, { ...request, token });
}

/** Stores policies in a namespace (each POST must answer 201). */
export async function putPolicies(baseUrl: string, namespace: string, policies: readonly Record<string, unknown>[]): Promise<void> {
  for (const policy of policies) {
    const answer = await adminCall(baseUrl, "/api/admin/policies", { method: "POST", body: policy, namespace });
    if (answer.status !== 201) throw new Error(`POST policy answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}

/** A map's state as `GET /api/admin/maps/{map}` shows it (the fields resharding tests read). */
export interface MapState {
  shards: number;
  entryCount: number;
  reshard?: { phase: string; fromShards: number; toShards: number; copy?: { copiedRecords: number; ownersCopied: number; owners: number } };
  lastReshard?: { result: string; fromShards: number; toShards: number; startedAt: number; finishedAt: number; reason?: string };
}

/** `GET /api/admin/maps/{map}` of `namespace`, which must answer 200. */
export async function mapState(baseUrl: string, namespace: string, map: string): Promise<MapState> {
  const answer = await adminCall(baseUrl, `/api/admin/maps/${encodeURIComponent(map)}`, { namespace });
  if (answer.status !== 200) throw new Error(`GET map ${map} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as MapState;
}

/**
 * Asks `GET /api/admin/maps/{map}` until no reshard of the map runs (a move answers 202 and goes on in the background,
 * docs/resharding.md); answers the map's state then.
 */
export async function untilReshardEnds(baseUrl: string, namespace: string, map: string, timeoutMs = 120_000): Promise<MapState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await mapState(baseUrl, namespace, map);
    if (!state.reshard) return state;
    if (Date.now() > deadline) throw new Error(`the reshard of ${map} still runs after ${timeoutMs} ms: ${JSON.stringify(state.reshard)}`);
  }
}
