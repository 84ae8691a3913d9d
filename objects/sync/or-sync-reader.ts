import { leafIndexOf, LeafSums } from "../../core/merkle-tree.ts";
import type { ORMapEntry } from "../../core/or-record.ts";
import type { OrStore } from "../writes/or-store.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** Maps whose tombstone-only keys are kept at once (oldest forgotten first; they are read again when asked). */
const MAX_MAPS = 8;
/**
 * TopGun's v0.12 client answers a leaf reply by pushing every key it lists, each with all the map's tombstones it
 * holds (PROTOCOL.md §8.2 step 6). A subtree goes whole only while its keys × the map's tombstones stay under this
 * (~1.2 MB of tags), so that push stays below the 2 MiB frame limit; a larger one is walked as before.
 */
const PUSH_BACK_TAGS = 40_000;

/**
 * Whether a client's push-back of `keys` keys, each with the map's `tombstones` tombstones, fits PUSH_BACK_TAGS.
 * A sharded map's home asks it with the tombstones summed over the shards: the client holds them all.
 */
export function fitsPushBack(keys: number, tombstones: number): boolean {
  return keys * tombstones <= PUSH_BACK_TAGS;
}

/** Whether OR entries, records plus tombstones, number at most `upTo` (a subtree sent whole). */
export function fitsWhole(entries: readonly ORMapEntry[], upTo: number): boolean {
  return entries.reduce((n, entry) => n + entry.records.length + entry.tombstones.length, 0) <= upTo;
}

interface TombstoneIndex {
  /** leaf → keys that hold tombstones and no record. */
  byLeaf: Map<number, string[]>;
  /** Every tombstone of the map. */
  total: number;
}

/**
 * Owner role: what an OR-Map Merkle walk reads here: leaves, and a fresh pull's subtrees sent whole (`readSubtree`,
 * one ORMAP_SYNC_RESP_LEAF for all their leaves). A key whose last value was removed holds only tombstones: its
 * entry hash left the sums (entry hashes cover records), but a client that missed the remove still holds the value,
 * so the walk must reach that key. Such keys are counted in their leaf (the sums stay the same, so a zero-hash child
 * shows up in bucket replies, as TopGun's unpruned trees list them) and their leaf answers carry them with their
 * tombstones. Which keys hold only tombstones is read once per map and kept until `forget` (any change to the map).
 */
export class OrSyncReader {
  readonly #sql: SqlPort;
  readonly #or: OrStore;
  readonly #tombstones = new Map<string, TombstoneIndex>();

  constructor(sql: SqlPort, or: OrStore) {
    this.#sql = sql;
    this.#or = or;
  }

  /** A copy of the map's sums in which each tombstone-only key counts as an entry of its leaf (hashes unchanged). */
  sums(map: string, stored: LeafSums): LeafSums {
    const sums = new LeafSums();
    sums.sums.set(stored.sums);
    sums.counts.set(stored.counts);
    for (const [leaf, keys] of this.#index(map).byLeaf) sums.counts[leaf] = (sums.counts[leaf] ?? 0) + keys.length;
    return sums;
  }

  /** Entries (records and tombstones) of every key of leaves `first`..`last`, tombstone-only keys included. */
  readLeaves(map: string, first: number, last: number): ORMapEntry[] {
    const keys = this.#sql
      .exec("SELECT key FROM or_key WHERE map = ? AND leaf BETWEEN ? AND ?", map, first, last)
      .map((row) => String(row.key));
    for (const [leaf, tombstoned] of this.#index(map).byLeaf) if (leaf >= first && leaf <= last) keys.push(...tombstoned);
    return keys.length === 0 ? [] : this.#or.readKeys(map, keys);
  }

  /**
   * Every entry of leaves `first`..`last` (`keys` of them, tombstone-only keys counted) for one answer, or undefined
   * when the subtree is empty or too large to send whole: more than `upTo` keys or records plus tombstones, or more
   * keys than a client's push-back of them with the map's tombstones fits (PUSH_BACK_TAGS).
   */
  readSubtree(map: string, range: { first: number; last: number; keys: number }, upTo: number): ORMapEntry[] | undefined {
    const { first, last, keys } = range;
    if (keys === 0 || keys > upTo || !fitsPushBack(keys, this.#index(map).total)) return undefined;
    const entries = this.readLeaves(map, first, last);
    return fitsWhole(entries, upTo) ? entries : undefined;
  }

  /** Every tombstone of the map here. */
  tombstoneCount(map: string): number {
    return this.#index(map).total;
  }

  forget(map: string): void {
    this.#tombstones.delete(map);
  }

  #index(map: string): TombstoneIndex {
    const cached = this.#tombstones.get(map);
    if (cached) {
      this.#tombstones.delete(map); // re-insert: Map order is the LRU order
      this.#tombstones.set(map, cached);
      return cached;
    }
    const byLeaf = new Map<number, string[]>();
    const rows = this.#sql.exec(
      `SELECT DISTINCT t.key AS key FROM or_tombstone t WHERE t.map = ? AND t.key IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM or_key k WHERE k.map = t.map AND k.key = t.key)`,
      map,
    );
    for (const row of rows) {
      const key = String(row.key);
      const leaf = leafIndexOf(key);
      const list = byLeaf.get(leaf);
      if (list) list.push(key);
      else byLeaf.set(leaf, [key]);
    }
    const total = Number(this.#sql.exec("SELECT COUNT(*) AS n FROM or_tombstone WHERE map = ?", map)[0]?.n ?? 0);
    if (this.#tombstones.size >= MAX_MAPS) this.#tombstones.delete(this.#tombstones.keys().next().value ?? "");
    const index = { byLeaf, total };
    this.#tombstones.set(map, index);
    return index;
  }
}
