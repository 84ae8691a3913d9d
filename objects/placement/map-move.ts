import type { SqlPort } from "../storage/sql-port.ts";

// Created here rather than as a numbered schema step: the tables belong to this module alone.
const DDL = [
  "CREATE TABLE IF NOT EXISTS map_move (map TEXT PRIMARY KEY, holding INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS map_move_dirty (map TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (map, key)) WITHOUT ROWID",
];

/** A page of keys written since the copy passed them, and the last sequence it covers (for `clearDirty`). */
export interface DirtyPage {
  keys: string[];
  upToSeq: number;
}

/**
 * Owner role during an online reshard (docs/resharding.md): the maps being moved off or onto this partition, in
 * SQLite so an evicted partition keeps them. While a map is *tracking*, every key a write names is noted (before the
 * write, so a crash between the two only notes a key too many): the control object copies those keys again, since the
 * leaf-order copy may have passed them. While a map is *holding* (its short cut-over), writes, subscriptions and reads
 * of it wait here until the control object releases it; they then meet the new fence and, placed by the old count,
 * are refused as stale so their home places them again. Maps not being moved cost one size check.
 */
export class MapMoves {
  readonly #sql: SqlPort;
  /** Map → holding. */
  readonly #moves = new Map<string, boolean>();
  readonly #waiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  #seq = 0;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    for (const statement of DDL) sql.exec(statement);
    for (const row of sql.exec("SELECT map, holding FROM map_move")) this.#moves.set(String(row.map), Number(row.holding) === 1);
    this.#seq = Number(sql.exec("SELECT MAX(seq) AS seq FROM map_move_dirty")[0]?.seq ?? 0);
  }

  /** True while `map` is being moved here (tracking or holding). */
  isMoving(map: string): boolean {
    return this.#moves.has(map);
  }

  /** Settles when none of `maps` is held; undefined at once when none is (the hot path awaits nothing). */
  whenOpen(items: readonly { map: string }[]): Promise<void> | undefined {
    if (this.#moves.size === 0) return undefined;
    const held = new Set<Promise<void>>();
    for (const { map } of items) if (this.#moves.get(map) === true) held.add(this.#waiterOf(map).promise);
    if (held.size === 0) return undefined;
    return Promise.all(held).then(() => undefined);
  }

  /** Notes the keys of tracked maps that `ops` write (the copy sends them again). */
  noteWrites(ops: readonly { map: string; key: string }[]): void {
    if (this.#moves.size === 0) return;
    const rows = ops.filter((op) => this.#moves.has(op.map)).map((op) => [op.map, op.key]);
    if (rows.length === 0) return;
    const first = this.#seq + 1;
    this.#seq += rows.length;
    this.#sql.exec(
      `INSERT INTO map_move_dirty (map, key, seq) SELECT j.value->>0, j.value->>1, ? + j.key FROM json_each(?) AS j
       WHERE true ON CONFLICT (map, key) DO UPDATE SET seq = excluded.seq`,
      first,
      JSON.stringify(rows),
    );
  }

  /** Starts tracking `map`'s writes (idempotent; a map already holding stays held). */
  track(map: string): void {
    if (this.#moves.has(map)) return;
    this.#sql.exec("INSERT OR IGNORE INTO map_move (map, holding) VALUES (?, 0)", map);
    this.#moves.set(map, false);
  }

  /** Holds `map`'s writes, subscriptions and reads (idempotent). */
  hold(map: string): void {
    this.#sql.exec("INSERT OR REPLACE INTO map_move (map, holding) VALUES (?, 1)", map);
    this.#moves.set(map, true);
  }

  /** Ends the move of `map` here: forgets its noted keys and lets everything it held go on. */
  release(map: string): void {
    this.#sql.transaction(() => {
      this.#sql.exec("DELETE FROM map_move WHERE map = ?", map);
      this.#sql.exec("DELETE FROM map_move_dirty WHERE map = ?", map);
    });
    this.#moves.delete(map);
    const waiter = this.#waiters.get(map);
    this.#waiters.delete(map);
    waiter?.resolve();
  }

  /** The oldest `limit` keys noted for `map`. */
  dirtyPage(map: string, limit: number): DirtyPage {
    const rows = this.#sql.exec("SELECT key, seq FROM map_move_dirty WHERE map = ? ORDER BY seq LIMIT ?", map, limit);
    return { keys: rows.map((row) => String(row.key)), upToSeq: rows.reduce((max, row) => Math.max(max, Number(row.seq)), 0) };
  }

  /** Forgets the keys noted up to `upToSeq` (a key written again since has a later sequence and stays). */
  clearDirty(map: string, upToSeq: number): void {
    this.#sql.exec("DELETE FROM map_move_dirty WHERE map = ? AND seq <= ?", map, upToSeq);
  }

  #waiterOf(map: string): { promise: Promise<void>; resolve: () => void } {
    let waiter = this.#waiters.get(map);
    if (!waiter) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => (resolve = r));
      this.#waiters.set(map, (waiter = { promise, resolve }));
    }
    return waiter;
  }
}
