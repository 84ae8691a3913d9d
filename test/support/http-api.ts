// Calls to the HTTP data plane (/v1 and POST /sync) of a running server, as a backend job or curl would make them.
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { signToken } from "./tokens.ts";

export interface ApiRequest {
  method?: string;
  /** A JSON body (a string is sent as it is). */
  body?: unknown;
  /** The bearer token; none when null or absent. */
  token?: string | null;
  namespace?: string;
}

/** A bearer token of `user` with `roles`. */
export function userToken(user: string, roles: string[] = []): Promise<string> {
  return signToken({ sub: user, roles });
}

/** A `/v1` call; answers the status and the parsed JSON body (undefined when empty). */
/** The longest an API call of a test may wait for its answer (a reshard under load answers within seconds). */
const API_CALL_TIMEOUT_MS = 120_000;

export async function apiCall(baseUrl: string, path: string, request: ApiRequest = {}): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, baseUrl);
  if (request.namespace !== undefined) url.searchParams.set("namespace", request.namespace);
  const headers: Record<string, string> = {};
  if (request.token) headers.Authorization = `Bearer ${request.token}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  const method = request.method ?? "GET";
  // A server that never answers fails the call, naming it (Node's fetch alone would wait 300 s for the headers).
  const response = await fetch(url, {
    method,
    headers,
    signal: AbortSignal.timeout(API_CALL_TIMEOUT_MS),
    ...(request.body === undefined ? {} : { body: typeof request.body === "string" ? request.body : JSON.stringify(request.body) }),
  }).catch((err: unknown) => {
    throw new Error(`${method} ${url.pathname} got no answer: ${err instanceof Error ? err.message : String(err)}`);
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** A `POST /sync` with a msgpack body (raw bytes are sent as they are); a msgpack answer is decoded, a JSON one parsed. */
export async function syncCall(
  baseUrl: string,
  body: unknown,
  options: { token?: string | null; namespace?: string } = {},
): Promise<{ status: number; contentType: string | null; body: unknown }> {
  const url = new URL("/sync", baseUrl);
  if (options.namespace !== undefined) url.searchParams.set("namespace", options.namespace);
  const headers: Record<string, string> = { "Content-Type": "application/msgpack" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const bytes = body instanceof Uint8Array ? body : encodeMessage(body);
  const response = await fetch(url, { method: "POST", headers, body: bytes });
  const contentType = response.headers.get("content-type");
  const raw = new Uint8Array(await response.arrayBuffer());
  const decoded = contentType === "application/msgpack" ? decodeMessage(raw) : raw.byteLength === 0 ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as unknown);
  return { status: response.status, contentType, body: decoded };
}
