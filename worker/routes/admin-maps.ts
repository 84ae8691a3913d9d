import type { IRequest } from "itty-router";
import { MAX_MAP_NAME_LENGTH } from "../../core/limits.ts";
import { isShardCount, partitionsOfMap, PARTITION_COUNT } from "../../core/placement.ts";
import { controlApi, type ControlApi } from "../../objects/control/control.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { authenticateAdmin } from "../admin-auth.ts";
import { adminError } from "../admin-error.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `GET /api/admin/maps/{map}`: one map's shard count (the namespace's own or the deployment's default), its
 * partitions, live entry count and reshard state. `PUT /api/admin/maps/{map}/shards` `{"shards": n}`: moves the map to
 * n shards (docs/resharding.md): 200 when done at once (an empty map), 202 while its data is moved in the background
 * (GET shows the phase), 409 while another reshard of it runs; the count is kept per namespace in its control object.
 */
export const adminMapRoutes: RouteGroup = (router) => {
  router
    .get("/api/admin/maps/:map", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const map = mapParam(request);
      if (map instanceof Response) return map;
      if (!env.CONTROL) return adminError(503, "control object not configured");
      const placement = await controlApi(env.CONTROL, call.namespace).mapPlacement(map);
      const partitions = partitionsOfMap(new Map([[map, placement.shards]]), map);
      const counts = await Promise.all(partitions.map((p) => partitionStub(env.PARTITION, call.namespace, p).ownerMapCounts({ maps: [map] })));
      const entryCount = counts.flat().reduce((sum, c) => sum + c.entryCount, 0);
      return Response.json({ name: map, ...placement, partitions, entryCount });
    })
    .put("/api/admin/maps/:map/shards", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const map = mapParam(request);
      if (map instanceof Response) return map;
      const shards = await shardsOf(request as Request);
      if (shards instanceof Response) return shards;
      if (!env.CONTROL) return adminError(503, "control object not configured");
      return reshard(controlApi(env.CONTROL, call.namespace), map, shards);
    });
};

async function reshard(control: ControlApi, map: string, shards: number): Promise<Response> {
  const answer = await control.reshard({ map, shards });
  switch (answer.status) {
    case "unchanged":
      return Response.json({ name: map, shards: answer.shards, changed: false });
    case "done":
      return Response.json({ name: map, shards: answer.toShards, previousShards: answer.fromShards, changed: true });
    case "running":
      // Accepted: the map's data is being moved (or an interrupted step waits for the alarm); GET shows its progress.
      return Response.json({ name: map, shards: answer.running.fromShards, toShards: answer.running.toShards, phase: answer.running.phase, running: true }, { status: 202 });
    case "busy":
      return adminError(409, `a reshard of map ${map} to ${answer.running.toShards} shards is running`);
    case "refused":
      return adminError(409, answer.reason);
  }
}

function mapParam(request: IRequest): string | Response {
  let map: string;
  try {
    map = decodeURIComponent(String(request.params.map ?? ""));
  } catch {
    return adminError(400, "map: not a valid URL-encoded string", "map");
  }
  if (map === "" || map.length > MAX_MAP_NAME_LENGTH) return adminError(400, `map: 1 to ${MAX_MAP_NAME_LENGTH} characters`, "map");
  return map;
}

async function shardsOf(request: Request): Promise<number | Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return adminError(400, "the body is not JSON");
  }
  const shards = typeof body === "object" && body !== null && "shards" in body ? body.shards : undefined;
  if (!isShardCount(shards)) return adminError(400, `shards: an integer from 1 to ${PARTITION_COUNT}`, "shards");
  return shards;
}
