import { LeafSums } from "../../core/merkle-tree.ts";
import { bulkInsert, type SqlPort, type SqlValue } from "../storage/sql-port.ts";
import { decodeLeafSums, encodeLeafSums } from "./leaf-sums-snapshot.ts";

/** Which tree: the LWW map or the OR map of a name (they are separate maps with separate trees). */
export type TreeKind = "lww" | "or";
const KIND_CODE: Record<TreeKind, number> = { lww: 0, or: 1 };

/** One entry's change in a tree: the hash it had (absent when new) and the hash it has now (absent when gone). */
export interface LeafChange {
  leaf: number;
  oldHash?: number;
  newHash?: number;
}

/**
 * Per-map Merkle leaf sums (4096 leaves of depth 3), cached in memory and kept in SQLite.
 *
 * OR trees: every change is written to merkle_leaf in the transaction of the records it describes.
 * LWW trees: a leaf's sum is a function of the lww_record rows of that leaf (the sum mod 2^32 of their `hash`
 * column, and their count), so writing 100 random leaves per batch (measured: ~13% of a batch's cost) is
 * deferred: `checkpoint()` (the alarm, soon after a write) stores the whole tree as one snapshot in its
 * merkle_current row (leaf-sums-snapshot.ts). The first write after a checkpoint deletes that row in its
 * transaction; a map without it has its sums derived from lww_record by one GROUP BY when loaded. So the sums
 * are right after any crash or rollback.
 *
 * Apply changes inside the same transaction as the records they describe; if that transaction throws, call
 * `forget` so the cache is rebuilt from what SQLite kept.
 */
export class MerkleStore {
  readonly #sql: SqlPort;
  readonly #cache = new Map<string, LeafSums>();
  /**
   * LWW trees whose merkle_current row is gone, by cache key, and whether `onBehind` was called for it (a tree
   * derived when loaded is announced by its first write).
   */
  readonly #behind = new Map<string, boolean>();
  readonly #onBehind: () => void;
  #beforeDerive: () => void = () => {};

  /** `onBehind` is called when an LWW tree falls behind, so a `checkpoint()` can be scheduled. */
  constructor(sql: SqlPort, onBehind: () => void = () => {}) {
    this.#sql = sql;
    this.#onBehind = onBehind;
  }

  /**
   * `fn` runs before sums are derived from lww_record, so the records are complete then (the LWW store compacts its
   * write log there).
   */
  beforeDerive(fn: () => void): void {
    this.#beforeDerive = fn;
  }

  sums(kind: TreeKind, map: string): LeafSums {
    const cacheKey = `${kind}\u0000${map}`;
    let sums = this.#cache.get(cacheKey);
    if (!sums) {
      sums = kind === "or" ? this.#loadRows(map) : this.#loadSnapshot(map);
      if (!sums) {
        this.#beforeDerive();
        sums = new LeafSums();
        const rows = this.#sql.exec(
          "SELECT leaf, SUM(hash) & 4294967295 AS hash, COUNT(*) AS count FROM lww_record WHERE map = ? GROUP BY leaf",
          map,
        );
        for (const row of rows) sums.load(Number(row.leaf), Number(row.hash), Number(row.count));
        this.#behind.set(cacheKey, false);
      }
      this.#cache.set(cacheKey, sums);
    }
    return sums;
  }

  apply(kind: TreeKind, map: string, changes: readonly LeafChange[]): void {
    if (changes.length === 0) return;
    const sums = this.sums(kind, map);
    const touched = new Set<number>();
    for (const change of changes) {
      if (change.oldHash !== undefined && change.newHash !== undefined) {
        sums.replace(change.leaf, change.oldHash, change.newHash);
      } else if (change.newHash !== undefined) {
        sums.add(change.leaf, change.newHash);
      } else if (change.oldHash !== undefined) {
        sums.remove(change.leaf, change.oldHash);
      }
      touched.add(change.leaf);
    }
    if (kind === "or") {
      this.#writeRows(map, touched);
      return;
    }
    const cacheKey = `${kind}\u0000${map}`;
    const announced = this.#behind.get(cacheKey);
    if (announced) return;
    if (announced === undefined) this.#sql.exec("DELETE FROM merkle_current WHERE kind = ? AND map = ?", KIND_CODE[kind], map);
    this.#behind.set(cacheKey, true);
    this.#onBehind();
  }

  /** Stores every LWW tree that is behind as its snapshot (the alarm calls it; each tree in its own transaction). */
  checkpoint(): void {
    for (const cacheKey of [...this.#behind.keys()]) {
      const [kind, map] = cacheKey.split("\u0000") as [TreeKind, string];
      try {
        this.#sql.transaction(() => this.#catchUp(kind, map));
      } catch (err) {
        this.forget();
        throw err;
      }
    }
  }

  /** True when some LWW tree's stored sums are behind its records. */
  isBehind(): boolean {
    return this.#behind.size > 0;
  }

  forget(): void {
    this.#cache.clear();
    this.#behind.clear();
  }

  #catchUp(kind: TreeKind, map: string): void {
    const cacheKey = `${kind}\u0000${map}`;
    if (!this.#behind.has(cacheKey)) return;
    this.#sql.exec(
      "INSERT INTO merkle_current (kind, map, sums) VALUES (?, ?, ?) ON CONFLICT (kind, map) DO UPDATE SET sums = excluded.sums",
      KIND_CODE[kind], map, encodeLeafSums(this.sums(kind, map)),
    );
    this.#behind.delete(cacheKey);
  }

  /** An LWW tree's stored snapshot; undefined when it is behind its records (no row) or the row holds none. */
  #loadSnapshot(map: string): LeafSums | undefined {
    const row = this.#sql.exec("SELECT sums FROM merkle_current WHERE kind = ? AND map = ?", KIND_CODE.lww, map)[0];
    return row ? decodeLeafSums(row.sums) : undefined;
  }

  /** An OR tree's merkle_leaf rows (always current). */
  #loadRows(map: string): LeafSums {
    const sums = new LeafSums();
    for (const row of this.#sql.exec("SELECT leaf, hash, count FROM merkle_leaf WHERE kind = ? AND map = ?", KIND_CODE.or, map)) {
      sums.load(Number(row.leaf), Number(row.hash), Number(row.count));
    }
    return sums;
  }

  /** Writes the sums of an OR tree's `leaves`. */
  #writeRows(map: string, leaves: Iterable<number>): void {
    const sums = this.sums("or", map);
    const code = KIND_CODE.or;
    const rows: SqlValue[][] = [];
    for (const leaf of leaves) rows.push([code, map, leaf, sums.sums[leaf] ?? 0, sums.counts[leaf] ?? 0]);
    bulkInsert(
      this.#sql,
      "merkle_leaf (kind, map, leaf, hash, count)",
      rows,
      "ON CONFLICT (kind, map, leaf) DO UPDATE SET hash = excluded.hash, count = excluded.count",
    );
  }
}
