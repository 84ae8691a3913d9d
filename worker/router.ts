import { Router, error, json, type IRequest } from "itty-router";
import type { Env } from "../objects/env.ts";
import { partitionStub } from "../objects/partition-directory.ts";
import { chooseHomePartition, readNamespace } from "./home-partition.ts";
import { namespaceStats } from "./stats.ts";

/** The router Worker: maps requests to Partition objects and holds no state. */
export function createRouter() {
  // Plain Router (no withParams proxy): the WebSocket upgrade forwards the original Request object to the object.
  const router = Router<IRequest, [Env, ExecutionContext]>({
    catch: (err: unknown) => {
      console.error("[worker] unhandled error", err);
      return error(500, "internal error");
    },
  });
  const upgrade = (request: IRequest, env: Env) => {
    if (!isWebSocketUpgrade(request)) return error(426, "expected a WebSocket upgrade");
    const url = new URL(request.url);
    const namespace = readNamespace(url);
    if (namespace === undefined) return error(400, "invalid namespace");
    return partitionStub(env.PARTITION, namespace, chooseHomePartition(url)).fetch(request as Request);
  };
  router
    .get("/health", () => json({ ok: true, service: "topgun-edge", time: Date.now() }))
    .get("/stats", async (request: IRequest, env: Env) => {
      const namespace = readNamespace(new URL(request.url));
      return namespace === undefined ? error(400, "invalid namespace") : json(await namespaceStats(env, namespace));
    })
    .get("/ws", upgrade)
    // `/` is both the WebSocket endpoint and the Sync Lab page.
    .get("/", (request: IRequest, env: Env) => (isWebSocketUpgrade(request) ? upgrade(request, env) : serveAsset(request, env)))
    .get("*", serveAsset)
    .all("*", () => error(404, "not found"));
  return router;
}

function isWebSocketUpgrade(request: IRequest): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/**
 * A static file of the Sync Lab, or a JSON 404. The Worker runs before assets (`run_worker_first`) so that a
 * WebSocket upgrade to `/` never gets index.html and unknown API routes keep their JSON 404.
 */
async function serveAsset(request: IRequest, env: Env): Promise<Response> {
  if (env.ASSETS === undefined) return error(404, "not found");
  const response = await env.ASSETS.fetch(request as Request);
  return response.status === 404 ? error(404, "not found") : response;
}
