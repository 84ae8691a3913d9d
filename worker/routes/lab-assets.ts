import { error, type IRequest } from "itty-router";
import type { Env } from "../../objects/env.ts";
import type { RouteGroup } from "./route-group.ts";
import { isWebSocketUpgrade, upgradeToHome } from "./websocket.ts";

/** `/` is both the WebSocket endpoint and the Sync Lab page; every other GET may be one of its files. */
export const labAssetRoutes: RouteGroup = (router) => {
  router
    .get("/", (request, env) => (isWebSocketUpgrade(request) ? upgradeToHome(request, env) : serveAsset(request, env)))
    .get("*", serveAsset);
};

/**
 * A static file of the Sync Lab, or a JSON 404. The Worker runs before assets (`run_worker_first`) so that a
 * WebSocket upgrade to `/` never gets index.html and unknown API routes keep their JSON 404.
 */
async function serveAsset(request: IRequest, env: Env): Promise<Response> {
  if (env.ASSETS === undefined) return error(404, "not found");
  const response = await env.ASSETS.fetch(request as Request);
  return response.status === 404 ? error(404, "not found") : response;
}
