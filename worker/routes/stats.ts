import { PARTITION_COUNT } from "../core/placement.ts";
import type { Env } from "../objects/env.ts";
import { partitionStub } from "../objects/partition-directory.ts";

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
