import { json } from "itty-router";
import { PARTITION_COUNT } from "../../core/placement.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { authenticateAdmin, isNoAuth } from "../admin-auth.ts";
import { readNamespace } from "../home-partition.ts";
import { adminError } from "../admin-error.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `GET /stats?namespace=`: the namespace's write-through state. It needs an admin token, except in no-auth mode
 * (local development), where nobody has one and every caller is anonymous anyway.
 */
export const statsRoutes: RouteGroup = (router) => {
  router.get("/stats", async (request, env) => {
    if (isNoAuth(env)) {
      const namespace = readNamespace(new URL(request.url));
      return namespace === undefined ? adminError(400, "invalid namespace", "namespace") : json(await namespaceStats(env, namespace));
    }
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
