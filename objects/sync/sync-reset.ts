import type { SyncResetRequiredMessage } from "../../core/protocol/sync.ts";

/**
 * The SYNC_RESET_REQUIRED decision for a SYNC_INIT / ORMAP_SYNC_INIT (PROTOCOL.md row 16 and §8.1, as the v0.11 TS
 * server decided it): a client that synced the map before (`lastSyncTimestamp > 0`) longer ago than the tombstone
 * horizon may hold records whose deletes were pruned since, which a Merkle sync cannot tell it: it must forget the
 * map and sync it from scratch (the client keeps its unacknowledged writes). Answers the message to send instead of
 * the root, or undefined when the sync goes on.
 */
export function syncResetOf(
  map: string,
  lastSyncTimestamp: number | undefined,
  nowMs: number,
  horizonMs: number,
): SyncResetRequiredMessage | undefined {
  if (!lastSyncTimestamp || lastSyncTimestamp <= 0) return undefined;
  if (nowMs - lastSyncTimestamp <= horizonMs) return undefined;
  return {
    type: "SYNC_RESET_REQUIRED",
    payload: { mapName: map, reason: `last sync is older than the tombstone horizon (${horizonMs} ms)` },
  };
}

/** The home's check, bound to the deployment's horizon and the wall clock. */
export type SyncReset = (map: string, lastSyncTimestamp: number | undefined) => SyncResetRequiredMessage | undefined;

export function syncReset(horizonMs: number, clock: () => number = Date.now): SyncReset {
  return (map, lastSyncTimestamp) => syncResetOf(map, lastSyncTimestamp, clock(), horizonMs);
}
