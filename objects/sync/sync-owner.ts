import type { LWWRecord } from "../../core/lww-map.ts";
import type { LeafSumsWire } from "../../core/merkle-tree.ts";
import type { ORMapEntry } from "../../core/or-record.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { TreeKind } from "../writes/merkle-store.ts";

/** What a Merkle path of one owner's map holds. */
export type MerkleAnswer =
  | { type: "missing" }
  | { type: "buckets"; buckets: Record<string, number> }
  | { type: "lww-leaf"; records: { key: string; record: LWWRecord }[] }
  | { type: "or-leaf"; entries: ORMapEntry[] };

/** A returning client's last sync (the owner clock it was handed, ms) and how many changed records to answer. */
export interface ChangesSince {
  millis: number;
  limit: number;
}

/**
 * An owner's answer to SYNC_INIT / ORMAP_SYNC_INIT: its leaf sums, its clock when it read them (ms), and the changes
 * asked for: `changes` for an LWW map, `orChanges` (each key's records and tombstones) for an OR map.
 */
export interface SyncInitAnswer {
  sums: LeafSumsWire;
  at: number;
  /** An OR map's: how many tombstones this owner holds of the map (a fresh pull's push-back guard sums them). */
  tombstones?: number;
  changes?: { key: string; record: LWWRecord }[];
  orChanges?: ORMapEntry[];
}

/** What Merkle sync asks of the owners of a map's shards. */
export interface SyncOwner {
  /**
   * Registers the listener for the map's events and answers its leaf sums, read together with the owner's clock
   * (`at`) and, with `changesSince`, the current state of the keys changed at or after that clock (delta-resync.ts):
   * LWW records, or OR-Map entries whose tombstones carry the removes.
   * `shards`: the count the home placed the map by (an owner fenced at another count refuses: objects/placement/).
   */
  syncInit(request: { kind: TreeKind; map: string; listener: ConnectionRef; shards?: number; changesSince?: ChangesSince }): Promise<SyncInitAnswer>;
  /**
   * The node at `path`: buckets, a leaf's records, or "missing". With `recordsUpTo`, a node above the leaves whose
   * subtree holds at most that many entries is answered with all of them instead of its buckets (an OR map's: every
   * key's records and tombstones, and at most that many of those together). An OR map's tree counts keys that hold
   * only tombstones, so a walk reaches them and a leaf answer carries them (or-sync-reader.ts).
   */
  merkle(request: { kind: TreeKind; map: string; path: string; recordsUpTo?: number; shards?: number }): Promise<MerkleAnswer>;
  readLeaf(request: { kind: TreeKind; map: string; leaf: number; shards?: number }): Promise<MerkleAnswer>;
  /**
   * Every entry this owner holds in leaves `first`..`last` (an OR map's: tombstone-only keys too), unlimited: a
   * sharded map's fresh pull, whose home checks the subtree's summed counts before asking and sums what comes back.
   */
  readLeafRange(request: { kind: TreeKind; map: string; first: number; last: number; shards?: number }): Promise<MerkleAnswer>;
  orDiff(request: { map: string; keys: string[]; shards?: number }): Promise<ORMapEntry[]>;
  pushOrDiff(request: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void>;
}
