import { LeafSums } from "../../core/merkle-tree.ts";
import { bulkInsert, type SqlPort, type SqlValue } from "../storage/sql-port.ts";

/** Which tree: the LWW map or the OR map of a name (they are separate maps with separate trees). */
export type TreeKind = "lww" | "or";
const KIND_CODE: Record<TreeKind, number> = { lww: 0, or: 1 };

/** One entry's change in a tree: the hash it had (absent when new) and the hash it has now (absent when gone). */
export interface LeafChange {
  leaf: number;
  oldHash?: number;
  newHash?: number;
}

/** An LWW tree whose merkle_leaf rows are behind its records (its merkle_current row is gone). */
interface Behind {
  /** Leaves changed since the rows were last written; `all` when the sums were derived from the records. */
  leaves: Set<number>;
  all: boolean;
  /** Whether `onBehind` was called since the last catch-up. */
  announced: boolean;
}

/**
 * Per-map Merkle leaf sums (4096 leaves of depth 3), cached in memory and kept in SQLite.
 *
 * OR trees: every change is written to merkle_leaf in the transaction of the records it describes.
 * LWW trees: a leaf's sum is a function of the lww_record rows of that leaf (the sum mod 2^32 of their `hash`
 * column, and their count), so writing 100 random leaves per batch (measured: ~13% of a batch's cost) is
 * deferred: `checkpoint()` (the alarm, soon after a write) writes the changed leaves, and a merkle_current row
 * says the rows are up to date. The first write after a checkpoint deletes that row in its
 * transaction; a map without it has its sums derived from lww_record by one GROUP BY when loaded. So the sums
 * are right after any crash or rollback.
 *
 * Apply changes inside the same transaction as the records they describe; if that transaction throws, call
 * `forget` so the cache is rebuilt from what SQLite kept.
 */
export class MerkleStore {
  readonly #sql: SqlPort;
  readonly #cache = new Map<string, LeafSums>();
  readonly #behind = new Map<string, Behind>();
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
      sums = new LeafSums();
      const code = KIND_CODE[kind];
      const current = kind === "or" || this.#sql.exec("SELECT 1 FROM merkle_current WHERE kind = ? AND map = ?", code, map).length > 0;
      if (!current) this.#beforeDerive();
      const rows = current
        ? this.#sql.exec("SELECT leaf, hash, count FROM merkle_leaf WHERE kind = ? AND map = ?", code, map)
        : this.#sql.exec(
            "SELECT leaf, SUM(hash) & 4294967295 AS hash, COUNT(*) AS count FROM lww_record WHERE map = ? GROUP BY leaf",
            map,
          );
      for (const row of rows) sums.load(Number(row.leaf), Number(row.hash), Number(row.count));
      this.#cache.set(cacheKey, sums);
      if (!current) this.#behind.set(cacheKey, { leaves: new Set(), all: true, announced: false });
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
      this.#write(kind, map, touched, false);
      return;
    }
    const cacheKey = `${kind}\u0000${map}`;
    let behind = this.#behind.get(cacheKey);
    if (!behind) {
      this.#sql.exec("DELETE FROM merkle_current WHERE kind = ? AND map = ?", KIND_CODE[kind], map);
      this.#behind.set(cacheKey, (behind = { leaves: new Set(), all: false, announced: false }));
    }
    if (!behind.announced) {
      behind.announced = true;
      this.#onBehind();
    }
    for (const leaf of touched) behind.leaves.add(leaf);
  }

  /** Brings every LWW tree's merkle_leaf rows up to date (the alarm calls it; each tree in its own transaction). */
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

  /** True when some LWW tree's merkle_leaf rows are behind its records. */
  isBehind(): boolean {
    return this.#behind.size > 0;
  }

  forget(): void {
    this.#cache.clear();
    this.#behind.clear();
  }

  #catchUp(kind: TreeKind, map: string): void {
    const cacheKey = `${kind}\u0000${map}`;
    const behind = this.#behind.get(cacheKey);
    if (!behind) return;
    this.#write(kind, map, behind.leaves, behind.all);
    this.#sql.exec("INSERT OR IGNORE INTO merkle_current (kind, map) VALUES (?, ?)", KIND_CODE[kind], map);
    this.#behind.delete(cacheKey);
  }

  /** Writes the sums of `leaves` (of every leaf with entries, after deleting the tree's rows, when `all`). */
  #write(kind: TreeKind, map: string, leaves: Iterable<number>, all: boolean): void {
    const sums = this.sums(kind, map);
    const code = KIND_CODE[kind];
    const rows: SqlValue[][] = [];
    if (all) {
      this.#sql.exec("DELETE FROM merkle_leaf WHERE kind = ? AND map = ?", code, map);
      sums.counts.forEach((count, leaf) => {
        if (count > 0) rows.push([code, map, leaf, sums.sums[leaf] ?? 0, count]);
      });
    } else {
      for (const leaf of leaves) rows.push([code, map, leaf, sums.sums[leaf] ?? 0, sums.counts[leaf] ?? 0]);
    }
    bulkInsert(
      this.#sql,
      "merkle_leaf (kind, map, leaf, hash, count)",
      rows,
      "ON CONFLICT (kind, map, leaf) DO UPDATE SET hash = excluded.hash, count = excluded.count",
    );
  }
}
