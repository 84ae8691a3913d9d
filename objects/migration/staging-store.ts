import { decodeValue, encodeValue } from "../../core/codec.ts";
import { isNewerRecord, type LWWRecord } from "../../core/lww-map.ts";
import { bulkInsert, type SqlPort, type SqlRow, type SqlValue } from "../storage/sql-port.ts";

// Created here rather than as a numbered schema step: the table belongs to this module alone.
const DDL = `CREATE TABLE IF NOT EXISTS map_stage (
  map TEXT NOT NULL, key TEXT NOT NULL, value BLOB, millis INTEGER NOT NULL, counter INTEGER NOT NULL, node TEXT NOT NULL,
  ttl_ms INTEGER, PRIMARY KEY (map, key)
) WITHOUT ROWID`;

/** Rows read per statement. */
const PAGE_ROWS = 500;

/** One LWW record of a map, as it travels between owners during a reshard. */
export interface MovedRecord {
  key: string;
  record: LWWRecord;
}

/**
 * A new owner's staging copy of a map being moved onto it (docs/resharding.md). Placements overlap (a partition may
 * own shards of the map under the old and the new count), so copied records cannot enter the map's own tables before
 * the cut-over: the old placement's Merkle sums would count them twice. They wait here, merged by HLC (a newer record
 * of a key is never replaced by an older one, so a copy and the copy of a later write may arrive in any order), with
 * no journal, outbox, events or Merkle sums, until the cut-over moves them into the map.
 */
export class StagingStore {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    sql.exec(DDL);
  }

  /** Merges `records` into the staging copy of `map` (call it again with the same records: nothing changes). */
  stage(map: string, records: readonly MovedRecord[]): void {
    this.#sql.transaction(() => {
      for (let i = 0; i < records.length; i += PAGE_ROWS) {
        const page = records.slice(i, i + PAGE_ROWS);
        const staged = this.#read(map, page.map((r) => r.key));
        const rows: SqlValue[][] = [];
        for (const { key, record } of page) {
          if (!isNewerRecord(staged.get(key), record)) continue;
          staged.set(key, record);
          const { millis, counter, nodeId } = record.timestamp;
          rows.push([map, key, record.value === null ? null : encodeValue(record.value), millis, counter, nodeId, record.ttlMs ?? null]);
        }
        bulkInsert(
          this.#sql,
          "map_stage (map, key, value, millis, counter, node, ttl_ms)",
          rows,
          `ON CONFLICT (map, key) DO UPDATE SET value = excluded.value, millis = excluded.millis, counter = excluded.counter,
           node = excluded.node, ttl_ms = excluded.ttl_ms`,
        );
      }
    });
  }

  /** Visits the staged records of `map` a page at a time, in key order. */
  forEachPage(map: string, visit: (records: MovedRecord[]) => void): void {
    let after = "";
    for (;;) {
      const rows = this.#sql.exec("SELECT * FROM map_stage WHERE map = ? AND key > ? ORDER BY key LIMIT ?", map, after, PAGE_ROWS);
      if (rows.length === 0) return;
      visit(rows.map((row) => ({ key: String(row.key), record: recordOf(row) })));
      after = String(rows[rows.length - 1]?.key);
    }
  }

  /** How many records of `map` are staged here. */
  count(map: string): number {
    return Number(this.#sql.exec("SELECT COUNT(*) AS n FROM map_stage WHERE map = ?", map)[0]?.n ?? 0);
  }

  clear(map: string): void {
    this.#sql.exec("DELETE FROM map_stage WHERE map = ?", map);
  }

  #read(map: string, keys: readonly string[]): Map<string, LWWRecord> {
    const out = new Map<string, LWWRecord>();
    if (keys.length === 0) return out;
    const rows = this.#sql.exec("SELECT * FROM map_stage WHERE map = ? AND key IN (SELECT value FROM json_each(?))", map, JSON.stringify(keys));
    for (const row of rows) out.set(String(row.key), recordOf(row));
    return out;
  }
}

function recordOf(row: SqlRow): LWWRecord {
  const record: LWWRecord = {
    value: row.value instanceof Uint8Array ? decodeValue(row.value) : null,
    timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
  };
  if (typeof row.ttl_ms === "number") record.ttlMs = row.ttl_ms;
  return record;
}
