import { error, type IRequest } from "itty-router";
import { parseHomePartitions } from "../../core/placement.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { chooseHomePartition, readNamespace } from "../home-partition.ts";
import type { RouteGroup } from "./route-group.ts";

/** `GET /ws`: a WebSocket upgrade handed to the connection's home partition. (`/` is shared with the Sync Lab.) */
export const websocketRoutes: RouteGroup = (router) => {
  router.get("/ws", upgradeToHome);
};

export function isWebSocketUpgrade(request: IRequest): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/** Forwards the original Request (the upgrade must reach the object unchanged) to the home partition. */
export function upgradeToHome(request: IRequest, env: Env): Response | Promise<Response> {
  if (!isWebSocketUpgrade(request)) return error(426, "expected a WebSocket upgrade");
  const url = new URL(request.url);
  const namespace = readNamespace(url);
  if (namespace === undefined) return error(400, "invalid namespace");
  let homes: number;
  try {
    homes = parseHomePartitions(env.TOPGUN_HOME_PARTITIONS);
  } catch (err) {
    return error(500, (err as Error).message); // a deployment's mistake, named to whoever connects
  }
  return partitionStub(env.PARTITION, namespace, chooseHomePartition(url, homes)).fetch(request as Request);
}
