import { encodeValue } from "../../core/codec.ts";
import { fnv1a } from "../../core/hash.ts";
import { LEAF_COUNT } from "../../core/merkle-tree.ts";
import { partitionOfShard } from "../../core/placement.ts";
import type { LwwStore, LwwWrite } from "../writes/lww-store.ts";
import type { MerkleStore } from "../writes/merkle-store.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import type { MovedRecord, StagingStore } from "./staging-store.ts";
import type { OrMover } from "./or-mover.ts";

/** Rows per statement of the cut-over's scans and deletes. */
const PAGE_ROWS = 500;

/** A page of a map's records in leaf order, and the leaf the next page starts at (LEAF_COUNT: none left). */
export interface LeafPage {
  records: MovedRecord[];
  nextLeaf: number;
}

/** What a cut-over changed here. */
export interface CutOverResult {
  /** Records of the staging copy merged into the map. */
  merged: number;
  /** Records of keys this partition no longer owns, deleted. */
  deleted: number;
}

/**
 * Owner role, the records of a map being resharded (docs/resharding.md): the old owner's side of the copy (its LWW
 * records and tombstones, a range of Merkle leaves at a time, sized by the leaves' counts) and every partition's
 * cut-over. The cut-over is one transaction: the records of keys this partition does not own under the new count are
 * deleted (after the write log is compacted into lww_record), the staging copy is merged into the map through the
 * LWW store (HLC-ordered, so a record the partition already holds newer stays), and the staging copy is emptied. The
 * map's Merkle sums are derived again from its records. The map's OR-Map entries take the same steps in the same
 * transaction (or-mover.ts). No journal, outbox or events: the records were published when they were written.
 */
export class MapMover {
  readonly #sql: SqlPort;
  readonly #lww: LwwStore;
  readonly #merkle: MerkleStore;
  readonly #staging: StagingStore;
  readonly #partition: number;
  readonly #or: OrMover | undefined;

  /** `or`: the map's OR-Map entries, moved in the same cut-over (absent: LWW records only). */
  constructor(deps: { sql: SqlPort; lww: LwwStore; merkle: MerkleStore; staging: StagingStore; partition: number; or?: OrMover }) {
    this.#sql = deps.sql;
    this.#or = deps.or;
    this.#lww = deps.lww;
    this.#merkle = deps.merkle;
    this.#staging = deps.staging;
    this.#partition = deps.partition;
  }

  /** The records of leaves `fromLeaf`.. up to about `limit` of them (at least one leaf's), tombstones included. */
  exportLeaves(map: string, fromLeaf: number, limit: number): LeafPage {
    if (fromLeaf >= LEAF_COUNT) return { records: [], nextLeaf: LEAF_COUNT };
    const counts = this.#merkle.sums("lww", map).counts;
    let last = fromLeaf;
    let total = counts[fromLeaf] ?? 0;
    while (last + 1 < LEAF_COUNT && total + (counts[last + 1] ?? 0) <= limit) total += counts[++last] ?? 0;
    const records = [...this.#lww.readLeaves(map, fromLeaf, last).values()].flat();
    return { records, nextLeaf: last + 1 };
  }

  /** The stored records of `keys` (a key with none is left out). */
  exportKeys(map: string, keys: readonly string[]): MovedRecord[] {
    return [...this.#lww.readKeys(map, keys)].map(([key, record]) => ({ key, record }));
  }

  stage(map: string, records: readonly MovedRecord[]): void {
    this.#staging.stage(map, records);
  }

  /** Makes this partition hold exactly its keys of `map` under `toShards` (idempotent: a second run changes nothing). */
  cutOver(map: string, toShards: number): CutOverResult {
    this.#lww.compact();
    const result = { merged: 0, deleted: 0 };
    try {
      this.#sql.transaction(() => {
        result.deleted = this.#deleteForeign(map, toShards) + (this.#or?.keepOwn(map, toShards) ?? 0);
        // The sums are derived again from lww_record: no merkle_current row means "behind, derive on load".
        this.#sql.exec("DELETE FROM merkle_current WHERE kind = 0 AND map = ?", map);
        this.#merkle.forget();
        this.#lww.forget();
        this.#staging.forEachPage(map, (records) => {
          const writes: LwwWrite[] = records.map(({ key, record }) => ({ map, key, record, encoded: record.value === null ? null : encodeValue(record.value) }));
          result.merged += this.#lww.apply(writes).won.filter(Boolean).length;
        });
        this.#staging.clear(map);
        result.merged += this.#or?.mergeStaged(map) ?? 0;
      });
    } catch (err) {
      this.#merkle.forget();
      this.#lww.forget();
      throw err;
    }
    return result;
  }

  /** Deletes the records (and tombstones) of `map` whose keys another partition owns under `toShards`. */
  #deleteForeign(map: string, toShards: number): number {
    const foreign: [number, string][] = [];
    let after = { leaf: -1, key: "" };
    for (;;) {
      const rows = this.#sql.exec(
        "SELECT leaf, key FROM lww_record WHERE map = ? AND (leaf > ? OR (leaf = ? AND key > ?)) ORDER BY leaf, key LIMIT ?",
        map, after.leaf, after.leaf, after.key, PAGE_ROWS,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const key = String(row.key);
        if (partitionOfShard(map, fnv1a(key) % toShards) !== this.#partition) foreign.push([Number(row.leaf), key]);
      }
      const lastRow = rows[rows.length - 1];
      after = { leaf: Number(lastRow?.leaf), key: String(lastRow?.key) };
    }
    for (let i = 0; i < foreign.length; i += PAGE_ROWS) {
      this.#sql.exec(
        "DELETE FROM lww_record WHERE map = ? AND (leaf, key) IN (SELECT j.value->>0, j.value->>1 FROM json_each(?) AS j)",
        map,
        JSON.stringify(foreign.slice(i, i + PAGE_ROWS)),
      );
    }
    return foreign.length;
  }
}
