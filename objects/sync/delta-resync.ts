import type { Timestamp } from "../../core/hlc.ts";
import type { LWWRecord } from "../../core/lww-map.ts";
import type { ORMapEntry } from "../../core/or-record.ts";
import type { ChangesSince } from "./sync-owner.ts";

/**
 * Records a returning client is sent at most per SYNC_INIT, over all of the map's owners (more changes than this are
 * left to the Merkle walk, which finds every leaf still differing).
 */
export const DELTA_MAX_RECORDS = 5000;
/** Records per SYNC_RESP_LEAF, or keys per ORMAP_DIFF_RESPONSE, of a delta (the fresh pull's frames hold up to 1,000). */
export const DELTA_FRAME_RECORDS = 500;

/**
 * Delta re-sync (issue #16): a client that sends `lastSyncTimestamp` (the clock this server handed it in its last
 * SYNC_RESP_ROOT) is first sent, as SYNC_RESP_LEAF frames, the current records of the keys the owners' journals
 * changed since then; the SYNC_RESP_ROOT that follows then usually equals the client's root, so the Merkle walk only
 * verifies. The walk still runs whenever the roots differ, so a change the journal no longer holds (its ring was
 * trimmed, a record came in by another path) is found as before: the delta only saves bytes, it is never trusted.
 *
 * OR-Maps (ORMAP_SYNC_INIT) are answered the same way, with each changed key's entry (its records and the tombstones
 * of its removed tags) in ORMAP_DIFF_RESPONSE frames, which every client merges with mergeKey whether or not it asked:
 * TopGun's v0.12 client and ours merge them as they come; TopGun's newer client also takes the entry's tombstones as
 * the key's own (it only pushes back a key whose record it holds removed). An unasked ORMAP_SYNC_RESP_LEAF would not
 * do: that client then resets the tombstones of every local key the leaf leaves out and pushes every key it lists.
 *
 * What each owner asks for: `DELTA_MAX_RECORDS` shared by the map's owners; nothing for a client without a last sync.
 */
export function changesSinceFor(lastSync: number | undefined, owners: number): ChangesSince | undefined {
  if (lastSync === undefined || lastSync <= 0 || owners <= 0) return undefined;
  return { millis: lastSync, limit: Math.max(1, Math.floor(DELTA_MAX_RECORDS / owners)) };
}

/**
 * The clock SYNC_RESP_ROOT hands out: the earliest clock of the owners when they read their sums (never later than
 * the home's own), so that each owner's journal holds, at or after it, every change the answered root left out.
 */
export function rootTimestamp(now: Timestamp, ownerClocks: readonly number[]): Timestamp {
  const earliest = Math.min(now.millis, ...ownerClocks);
  return earliest < now.millis ? { millis: earliest, counter: 0, nodeId: now.nodeId } : now;
}

/** The delta as SYNC_RESP_LEAF frames (path "": the TopGun client merges a leaf reply's records whatever its path). */
export function deltaFrames(map: string, changes: readonly { key: string; record: LWWRecord }[]): unknown[] {
  const frames: unknown[] = [];
  for (let start = 0; start < changes.length; start += DELTA_FRAME_RECORDS) {
    frames.push({ type: "SYNC_RESP_LEAF", payload: { mapName: map, path: "", records: changes.slice(start, start + DELTA_FRAME_RECORDS) } });
  }
  return frames;
}

/** The delta as ORMAP_DIFF_RESPONSE frames of at most DELTA_FRAME_RECORDS keys each. */
export function orDeltaFrames(map: string, entries: readonly ORMapEntry[]): unknown[] {
  const frames: unknown[] = [];
  for (let start = 0; start < entries.length; start += DELTA_FRAME_RECORDS) {
    frames.push({ type: "ORMAP_DIFF_RESPONSE", payload: { mapName: map, entries: entries.slice(start, start + DELTA_FRAME_RECORDS) } });
  }
  return frames;
}

/**
 * An owner's OR-Map delta from the entries of the keys its journal names: a key with neither records nor tombstones
 * is left out (the journal names the keys of an LWW map of the same name too; such a key has nothing of this map).
 */
export function orChangesOf(entries: readonly ORMapEntry[]): ORMapEntry[] {
  return entries.filter((entry) => entry.records.length > 0 || entry.tombstones.length > 0);
}
