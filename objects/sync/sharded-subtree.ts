import { subtreeLeaves, type LeafSums } from "../../core/merkle-tree.ts";
import type { TreeKind } from "../writes/merkle-store.ts";
import { fitsPushBack, fitsWhole } from "./or-sync-reader.ts";
import type { MerkleAnswer, SyncOwner } from "./sync-owner.ts";

/** A sharded map's leaf sums as its home gathered them: the summed tree, each shard's, and the OR tombstones. */
export interface GatheredShards {
  total: LeafSums;
  shards: { partition: number; sums: LeafSums }[];
  /** Tombstones of an OR map summed over its shards (0 for an LWW map). */
  tombstones: number;
}

/**
 * A sharded map's fresh pull: the node at `path` (above the leaves) answered with every entry below it, read from the
 * shards that hold entries there, or undefined when the subtree is empty or too large to send whole: more than
 * `upTo` entries by the summed counts; for an OR map also more records plus tombstones than `upTo`, or more keys than
 * a client's push-back of them with all the map's tombstones fits (or-sync-reader.ts, the unsharded path's limits).
 * Each shard's read carries the shard count the home placed the map by, so a stale placement is refused.
 */
export async function readShardedSubtree(request: {
  owners: (partition: number) => Pick<SyncOwner, "readLeafRange">;
  kind: TreeKind;
  map: string;
  path: string;
  gathered: GatheredShards;
  upTo: number;
}): Promise<MerkleAnswer | undefined> {
  const { owners, kind, map, gathered, upTo } = request;
  const { first, last } = subtreeLeaves(request.path);
  const entries = gathered.total.countIn(first, last);
  if (entries === 0 || entries > upTo) return undefined;
  if (kind === "or" && !fitsPushBack(entries, gathered.tombstones)) return undefined;
  const shards = gathered.shards.length;
  const holders = gathered.shards.filter((shard) => shard.sums.countIn(first, last) > 0);
  const answers = await Promise.all(holders.map((s) => owners(s.partition).readLeafRange({ kind, map, first, last, shards })));
  if (kind === "lww") return { type: "lww-leaf", records: answers.flatMap((a) => (a.type === "lww-leaf" ? a.records : [])) };
  const orEntries = answers.flatMap((a) => (a.type === "or-leaf" ? a.entries : []));
  return fitsWhole(orEntries, upTo) ? { type: "or-leaf", entries: orEntries } : undefined;
}
