import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { MAX_NESTING_DEPTH } from "../../core/limits.ts";
import { scanMsgpackDepth } from "../../core/msgpack-depth.ts";
import { partitionOfName, partitionOfShard } from "../../core/placement.ts";
import { httpSyncRequestSchema, type HttpSyncRequest } from "../../core/protocol/http-sync.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { allowsAnonymousSync, authenticateCaller, isRefusal } from "../http-auth.ts";
import { readBody } from "../http-body.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `POST /sync` (PROTOCOL-NEXT.md §6.1): a msgpack HttpSyncRequest, authenticated like the WebSocket, run at a home
 * partition through the same dispatch; the answer is a msgpack HttpSyncResponse. Errors are JSON `{code, message}`.
 */
export const syncRoutes: RouteGroup = (router) => {
  router.post("/sync", async (request, env) => {
    const caller = await authenticateCaller(request as Request, env, { anonymous: allowsAnonymousSync(env) });
    if (isRefusal(caller)) return syncError(caller.status, caller.message);
    const bytes = await readBody(request as Request);
    if (bytes === undefined) return syncError(413, "request body exceeds 2 MiB");
    const body = parseSyncBody(bytes);
    if (typeof body === "string") return syncError(400, `invalid MsgPack body: ${body}`);
    const response: unknown = await partitionStub(env.PARTITION, caller.namespace, homeOf(body)).httpSync({ principal: caller.principal, body });
    if (isRefusal429(response)) return syncError(429, response.refused.message);
    return new Response(encodeMessage(response), { status: 200, headers: { "content-type": "application/msgpack" } });
  });
};

/** The request, or what is wrong with it. An empty body is an empty request, which still needs its required fields. */
function parseSyncBody(bytes: Uint8Array): HttpSyncRequest | string {
  // The same non-recursive depth pre-scan as a WebSocket frame (PROTOCOL-NEXT.md §2), before any decoding.
  if (bytes.byteLength > MAX_NESTING_DEPTH) {
    const scan = scanMsgpackDepth(bytes, MAX_NESTING_DEPTH);
    if (!scan.ok && scan.problem === "too-deep") return `nested deeper than ${MAX_NESTING_DEPTH} levels`;
  }
  let raw: unknown;
  try {
    raw = bytes.byteLength === 0 ? {} : decodeMessage(bytes);
  } catch {
    return "the body does not decode";
  }
  try {
    const parsed = httpSyncRequestSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "not an HttpSyncRequest";
  } catch (err) {
    if (err instanceof RangeError) return "nested too deeply";
    throw err;
  }
}

/** The home of a sync: the partition of the first map it names (no hop for a one-map app), else of its client id. */
function homeOf(body: HttpSyncRequest): number {
  const map = body.operations?.[0]?.mapName ?? body.queries?.[0]?.mapName ?? body.searches?.[0]?.mapName;
  return map === undefined ? partitionOfName(body.clientId) : partitionOfShard(map, 0);
}

/** The home's refusal of the whole request (the caller's op budget is spent). */
function isRefusal429(value: unknown): value is { refused: { message: string } } {
  if (typeof value !== "object" || value === null || !("refused" in value)) return false;
  const refused: unknown = value.refused;
  return typeof refused === "object" && refused !== null && "message" in refused && typeof refused.message === "string";
}

function syncError(code: number, message: string): Response {
  return Response.json({ code, message }, { status: code });
}
