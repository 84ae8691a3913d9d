// Calls to the admin plane (/api/admin/*) of a running server, as an operator would make them with curl.
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
  const url = new URL(path, baseUrl);
  if (request.namespace !== undefined) url.searchParams.set("namespace", request.namespace);
  const token = request.token === undefined ? await signToken({ sub: "ops", roles: ["admin"] }) : request.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method: request.method ?? "GET",
    headers,
    ...(request.body === undefined ? {} : { body: typeof request.body === "string" ? request.body : JSON.stringify(request.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** Stores policies in a namespace (each POST must answer 201). */
export async function putPolicies(baseUrl: string, namespace: string, policies: readonly Record<string, unknown>[]): Promise<void> {
  for (const policy of policies) {
    const answer = await adminCall(baseUrl, "/api/admin/policies", { method: "POST", body: policy, namespace });
    if (answer.status !== 201) throw new Error(`POST policy answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}
