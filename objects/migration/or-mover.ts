import { fnv1a } from "../../core/hash.ts";
import { PARTITION_COUNT, partitionOfShard } from "../../core/placement.ts";
import type { OrStore, StoredOrEntry } from "../writes/or-store.ts";
import { JSON_LIST, type SqlPort } from "../storage/sql-port.ts";
import type { OrStagingStore } from "./or-staging-store.ts";

/** Keys per statement of the cut-over's scans and deletes. */
const PAGE_KEYS = 500;

/** A page of a map's OR-Map entries in key order; `after` is the last key it holds, `done` when none is left. */
export interface OrPage {
  entries: StoredOrEntry[];
  after: string | null;
  done: boolean;
}

/**
 * Owner role, the OR-Map entries of a map being resharded (docs/resharding.md), beside its LWW records (map-mover.ts):
 * the old owner's side of the copy (every key's records and tombstones, in key order, and the tombstones no key held)
 * and the OR-Map half of every partition's cut-over, which runs inside the cut-over's transaction: the entries of keys
 * this partition does not own under the new count are deleted, the map's OR-Map Merkle sums are derived again from
 * the keys' hashes, and the staging copy is merged through the OR store (tombstones first, so the merge is the OR-Map
 * merge whatever order the copies arrived in).
 */
export class OrMover {
  readonly #sql: SqlPort;
  readonly #or: OrStore;
  readonly #staging: OrStagingStore;
  readonly #partition: number;

  constructor(deps: { sql: SqlPort; or: OrStore; staging: OrStagingStore; partition: number }) {
    this.#sql = deps.sql;
    this.#or = deps.or;
    this.#staging = deps.staging;
    this.#partition = deps.partition;
  }

  /**
   * The entries of up to `limit` keys after `after` (null: from the first key; the first page also carries the
   * tombstones no key held, as an entry of key null).
   */
  exportPage(map: string, after: string | null, limit: number): OrPage {
    const keys = this.#keysAfter(map, after, limit);
    const entries = this.#or.readStored(map, keys);
    if (after === null) {
      const keyless = this.#sql.exec("SELECT tag, millis FROM or_tombstone WHERE map = ? AND key IS NULL", map);
      if (keyless.length > 0) entries.unshift({ key: null, records: [], tombstones: keyless.map((row) => ({ tag: String(row.tag), millis: Number(row.millis ?? 0) })) });
    }
    return { entries, after: keys.at(-1) ?? after, done: keys.length < limit };
  }

  /** What this partition keeps of `keys` of `map` (a key it keeps nothing of is left out). */
  exportKeys(map: string, keys: readonly string[]): StoredOrEntry[] {
    return this.#or.readStored(map, keys);
  }

  stage(map: string, entries: readonly StoredOrEntry[]): void {
    this.#staging.stage(map, entries);
  }

  /**
   * The cut-over's first OR-Map step (inside its transaction; the Merkle store must forget its cache after it): keeps
   * only this partition's keys under `toShards` and derives the map's OR-Map sums again. Answers how many keys it
   * dropped.
   */
  keepOwn(map: string, toShards: number): number {
    const deleted = this.#deleteForeign(map, toShards);
    this.#sql.exec("DELETE FROM merkle_leaf WHERE kind = 1 AND map = ?", map);
    this.#sql.exec(
      `INSERT INTO merkle_leaf (kind, map, leaf, hash, count)
       SELECT 1, map, leaf, SUM(hash) & 4294967295, COUNT(*) FROM or_key WHERE map = ? GROUP BY leaf`,
      map,
    );
    return deleted;
  }

  /** Merges the staging copy into the map (after `cutOver`, once the Merkle store reads the derived sums) and empties it. */
  mergeStaged(map: string): number {
    let merged = 0;
    this.#staging.forEachPage(map, (entries) => (merged += this.#or.mergeStored(map, entries)));
    this.#staging.clear(map);
    return merged;
  }

  /** Deletes the records, tombstones and key hashes of `map` whose keys another partition owns under `toShards`. */
  #deleteForeign(map: string, toShards: number): number {
    const ownsNone = (this.#partition - partitionOfShard(map, 0) + PARTITION_COUNT) % PARTITION_COUNT >= toShards;
    // A partition that owns none of the map keeps none of it, not even the tombstones no key held.
    if (ownsNone) this.#sql.exec("DELETE FROM or_tombstone WHERE map = ? AND key IS NULL", map);
    let deleted = 0;
    let after: string | null = null;
    for (;;) {
      const keys = this.#keysAfter(map, after, PAGE_KEYS);
      const foreign = keys.filter((key) => partitionOfShard(map, fnv1a(key) % toShards) !== this.#partition);
      if (foreign.length > 0) {
        const list = JSON.stringify(foreign);
        for (const table of ["or_record", "or_tombstone", "or_key"]) this.#sql.exec(`DELETE FROM ${table} WHERE map = ? AND key IN ${JSON_LIST}`, map, list);
        deleted += foreign.length;
      }
      if (keys.length < PAGE_KEYS) return deleted;
      after = keys.at(-1) ?? null;
    }
  }

  /** Up to `limit` keys of `map` with records or tombstones, in order, after `after` (null: from the first). */
  #keysAfter(map: string, after: string | null, limit: number): string[] {
    const from = after === null ? ">=" : ">";
    return this.#sql
      .exec(
        `SELECT key FROM (SELECT key FROM or_record WHERE map = ? AND key ${from} ?
         UNION SELECT key FROM or_tombstone WHERE map = ? AND key ${from} ?) ORDER BY key LIMIT ?`,
        map,
        after ?? "",
        map,
        after ?? "",
        limit,
      )
      .map((row) => String(row.key));
  }
}
