import { ISOLATE_CACHE_BYTES } from "../core/limits.ts";
import { PARTITION_COUNT } from "../core/placement.ts";
import type { Env } from "../objects/env.ts";
import { partitionStub } from "../objects/partition-directory.ts";

/** A namespace's state summed over its partitions (`/api/admin/status`, `/metrics`). */
export interface NamespaceStatus {
  namespace: string;
  connections: number;
  opsApplied: number;
  opsRejected: number;
  httpSyncRequests: number;
  httpApiRequests: number;
  writeThrough: boolean;
  /**
   * Estimated bytes of the in-memory caches (LWW head indexes, search indexes) of the fullest isolate running the
   * namespace's partitions, and the budget each isolate keeps them under (objects/storage/isolate-budget.ts).
   */
  isolateCacheBytes: number;
  isolateCacheBudgetBytes: number;
  /** Write-through only: changes waiting for Postgres, and the age of the oldest (ms). */
  outboxDepth?: number;
  lagMs?: number;
}

/** Asks each of the namespace's 271 partitions for its status and sums them (the oldest outbox change wins lag). */
export async function namespaceStatus(env: Env, namespace: string): Promise<NamespaceStatus> {
  const parts = await Promise.all(Array.from({ length: PARTITION_COUNT }, (_, id) => partitionStub(env.PARTITION, namespace, id).partitionStatus()));
  const status: NamespaceStatus = { namespace, connections: 0, opsApplied: 0, opsRejected: 0, httpSyncRequests: 0, httpApiRequests: 0, writeThrough: Boolean(env.HYPERDRIVE), isolateCacheBytes: 0, isolateCacheBudgetBytes: ISOLATE_CACHE_BYTES };
  let outboxDepth = 0;
  let lagMs = 0;
  for (const part of parts) {
    status.connections += part.connections;
    status.opsApplied += part.opsApplied;
    status.opsRejected += part.opsRejected;
    status.httpSyncRequests += part.httpSyncRequests;
    status.httpApiRequests += part.httpApiRequests;
    status.isolateCacheBytes = Math.max(status.isolateCacheBytes, part.isolateCacheBytes);
    outboxDepth += part.outboxDepth ?? 0;
    lagMs = Math.max(lagMs, part.outboxLagMs ?? 0);
  }
  return status.writeThrough ? { ...status, outboxDepth, lagMs } : status;
}
