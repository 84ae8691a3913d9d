import { leafIndexOf, LeafSums } from "../../core/merkle-tree.ts";
import type { ORMapEntry } from "../../core/or-record.ts";
import type { OrStore } from "../writes/or-store.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** Maps whose tombstone-only keys are kept at once (oldest forgotten first; they are read again when asked). */
const MAX_MAPS = 8;

/**
 * Owner role: what an OR-Map Merkle walk reads here. A key whose last value was removed holds only tombstones: its
 * entry hash left the sums (entry hashes cover records), but a client that missed the remove still holds the value,
 * so the walk must reach that key. Such keys are counted in their leaf (the sums stay the same, so a zero-hash child
 * shows up in bucket replies, as TopGun's unpruned trees list them) and their leaf answers carry them with their
 * tombstones. Which keys hold only tombstones is read once per map and kept until `forget` (any change to the map).
 */
export class OrSyncReader {
  readonly #sql: SqlPort;
  readonly #or: OrStore;
  /** map → leaf → keys that hold tombstones and no record. */
  readonly #tombstoneOnly = new Map<string, Map<number, string[]>>();

  constructor(sql: SqlPort, or: OrStore) {
    this.#sql = sql;
    this.#or = or;
  }

  /** A copy of the map's sums in which each tombstone-only key counts as an entry of its leaf (hashes unchanged). */
  sums(map: string, stored: LeafSums): LeafSums {
    const sums = new LeafSums();
    sums.sums.set(stored.sums);
    sums.counts.set(stored.counts);
    for (const [leaf, keys] of this.#keysByLeaf(map)) sums.counts[leaf] = (sums.counts[leaf] ?? 0) + keys.length;
    return sums;
  }

  /** Entries (records and tombstones) of every key of leaves `first`..`last`, tombstone-only keys included. */
  readLeaves(map: string, first: number, last: number): ORMapEntry[] {
    const keys = this.#sql
      .exec("SELECT key FROM or_key WHERE map = ? AND leaf BETWEEN ? AND ?", map, first, last)
      .map((row) => String(row.key));
    for (const [leaf, tombstoned] of this.#keysByLeaf(map)) if (leaf >= first && leaf <= last) keys.push(...tombstoned);
    return keys.length === 0 ? [] : this.#or.readKeys(map, keys);
  }

  forget(map: string): void {
    this.#tombstoneOnly.delete(map);
  }

  #keysByLeaf(map: string): Map<number, string[]> {
    const cached = this.#tombstoneOnly.get(map);
    if (cached) {
      this.#tombstoneOnly.delete(map); // re-insert: Map order is the LRU order
      this.#tombstoneOnly.set(map, cached);
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
    if (this.#tombstoneOnly.size >= MAX_MAPS) this.#tombstoneOnly.delete(this.#tombstoneOnly.keys().next().value ?? "");
    this.#tombstoneOnly.set(map, byLeaf);
    return byLeaf;
  }
}
