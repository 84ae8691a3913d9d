import { json } from "itty-router";
import { PARTITION_COUNT } from "../../core/placement.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { authenticateAdmin } from "../admin-auth.ts";
import type { RouteGroup } from "./route-group.ts";

/** `GET /stats?namespace=` (admin token): the namespace's write-through state. */
export const statsRoutes: RouteGroup = (router) => {
  router.get("/stats", async (request, env) => {
    const call = await authenticateAdmin(request as Request, env);
    return call instanceof Response ? call : json(await namespaceStats(env, call.namespace));
  });
};

/** Write-through state of a namespace: outbox depth summed and the oldest waiting change over its partitions. */
export async function namespaceStats(env: Env, namespace: string) {
  if (!env.HYPERDRIVE) return { namespace, writeThrough: false };
  const parts = await Promise.all(
    Array.from({ length: PARTITION_COUNT }, (_, id) => partitionStub(env.PARTITION, namespace, id).ownerStats()),
  );
  let outboxDepth = 0;
  let lagMs = 0;
  for (const part of parts) {
    outboxDepth += part?.depth ?? 0;
    lagMs = Math.max(lagMs, part?.lagMs ?? 0);
  }
  return { namespace, writeThrough: true, outboxDepth, lagMs };
}
