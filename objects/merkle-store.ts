import { LeafSums } from "../core/merkle-tree.ts";
import { bulkInsert, type SqlPort, type SqlValue } from "./sql-port.ts";

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
 * Per-map Merkle leaf sums (4096 leaves of depth 3), persisted in SQLite and cached in memory.
 * Apply changes inside the same transaction as the records they describe; if that transaction throws,
 * call `forget` so the cache is rebuilt from what SQLite kept.
 */
export class MerkleStore {
  readonly #sql: SqlPort;
  readonly #cache = new Map<string, LeafSums>();

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  sums(kind: TreeKind, map: string): LeafSums {
    const cacheKey = `${kind}\u0000${map}`;
    let sums = this.#cache.get(cacheKey);
    if (!sums) {
      sums = new LeafSums();
      for (const row of this.#sql.exec(
        "SELECT leaf, hash, count FROM merkle_leaf WHERE kind = ? AND map = ?",
        KIND_CODE[kind],
        map,
      )) {
        sums.load(Number(row.leaf), Number(row.hash), Number(row.count));
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
    const rows: SqlValue[][] = [];
    for (const leaf of touched) rows.push([KIND_CODE[kind], map, leaf, sums.sums[leaf] ?? 0, sums.counts[leaf] ?? 0]);
    bulkInsert(
      this.#sql,
      "merkle_leaf (kind, map, leaf, hash, count)",
      rows,
      "ON CONFLICT (kind, map, leaf) DO UPDATE SET hash = excluded.hash, count = excluded.count",
    );
  }

  forget(): void {
    this.#cache.clear();
  }
}
