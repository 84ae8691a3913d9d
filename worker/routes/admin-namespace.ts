import { json } from "itty-router";
import { controlApi } from "../../objects/control/control.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { authenticateAdmin } from "../admin-auth.ts";
import { adminError } from "../admin-error.ts";
import { namespaceStatus } from "../namespace-status.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `GET /api/admin/maps`: the namespace's maps with their live entry counts, from the directory in its control object
 * (one call to each partition that holds maps, never to all 271). `GET /api/admin/status`: connections, ops applied
 * and rejected, HTTP requests, and the write-through outbox's depth and lag (what `/stats` reported, and more).
 */
export const adminNamespaceRoutes: RouteGroup = (router) => {
  router
    .get("/api/admin/maps", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      if (!env.CONTROL) return adminError(503, "map directory not configured");
      return json({ maps: await mapsWithCounts(env, call.namespace) });
    })
    .get("/api/admin/status", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      return call instanceof Response ? call : json(await namespaceStatus(env, call.namespace));
    });
};

async function mapsWithCounts(env: Env, namespace: string): Promise<{ name: string; entryCount: number }[]> {
  if (!env.CONTROL) return [];
  const directory = await controlApi(env.CONTROL, namespace).listMaps();
  const byPartition = new Map<number, string[]>();
  for (const { name, partitions } of directory) {
    for (const partition of partitions) byPartition.set(partition, [...(byPartition.get(partition) ?? []), name]);
  }
  const counts = new Map<string, number>(directory.map((entry) => [entry.name, 0]));
  const answers = await Promise.all([...byPartition].map(([partition, maps]) => partitionStub(env.PARTITION, namespace, partition).ownerMapCounts({ maps })));
  for (const { name, entryCount } of answers.flat()) counts.set(name, (counts.get(name) ?? 0) + entryCount);
  return [...counts].map(([name, entryCount]) => ({ name, entryCount }));
}
