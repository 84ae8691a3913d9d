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
