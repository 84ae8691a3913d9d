import { decodeValue, encodeValue } from "../../core/codec.ts";
import { compareTimestamps } from "../../core/hlc.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import type { StoredOrEntry } from "../writes/or-store.ts";
import { bulkInsert, JSON_LIST, type SqlPort, type SqlRow, type SqlValue } from "../storage/sql-port.ts";

// Created here rather than as a numbered schema step: the tables belong to this module alone.
const DDL = [
  `CREATE TABLE IF NOT EXISTS map_stage_or (
     map TEXT NOT NULL, key TEXT NOT NULL, tag TEXT NOT NULL, value BLOB NOT NULL, millis INTEGER NOT NULL,
     counter INTEGER NOT NULL, node TEXT NOT NULL, ttl_ms INTEGER, PRIMARY KEY (map, key, tag)
   ) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS map_stage_or_tag ON map_stage_or (map, tag)",
  "CREATE TABLE IF NOT EXISTS map_stage_or_tombstone (map TEXT NOT NULL, tag TEXT NOT NULL, key TEXT, millis INTEGER NOT NULL, PRIMARY KEY (map, tag)) WITHOUT ROWID",
];

/** Entries per page of forEachPage (a page holds every record and tombstone of its keys). */
const PAGE_KEYS = 200;

/**
 * A new owner's staging copy of the OR-Map entries of a map being moved onto it (docs/resharding.md), beside the LWW
 * staging copy (staging-store.ts) and for the same reason: placements overlap, so copied entries wait outside the
 * map's tables until the cut-over. Entries merge as an OR-Map does, so copies may arrive in any order and twice: a
 * tombstone removes the staged record of its tag and keeps any later copy of it out; of two copies of one record
 * (key, tag), the newer timestamp stays.
 */
export class OrStagingStore {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    for (const statement of DDL) sql.exec(statement);
  }

  /** Merges `entries` into the staging copy of `map` (call it again with the same entries: nothing changes). */
  stage(map: string, entries: readonly StoredOrEntry[]): void {
    const tombstones = entries.flatMap(({ key, tombstones: list }) => list.map(({ tag, millis }) => [map, tag, key, millis]));
    const records = entries.flatMap(({ key, records: list }) => (key === null ? [] : list.map((record) => ({ key, record }))));
    this.#sql.transaction(() => {
      if (tombstones.length > 0) {
        bulkInsert(this.#sql, "map_stage_or_tombstone (map, tag, key, millis)", tombstones, "ON CONFLICT (map, tag) DO NOTHING");
        this.#sql.exec(`DELETE FROM map_stage_or WHERE map = ? AND tag IN ${JSON_LIST}`, map, JSON.stringify(tombstones.map((t) => t[1])));
      }
      if (records.length > 0) this.#stageRecords(map, records);
    });
  }

  /** Visits the staged entries of `map` a page of keys at a time, in key order (tombstones without a key first). */
  forEachPage(map: string, visit: (entries: StoredOrEntry[]) => void): void {
    const keyless = this.#sql.exec("SELECT tag, millis FROM map_stage_or_tombstone WHERE map = ? AND key IS NULL", map);
    if (keyless.length > 0) visit([{ key: null, records: [], tombstones: keyless.map((row) => ({ tag: String(row.tag), millis: Number(row.millis) })) }]);
    let after: string | null = null;
    for (;;) {
      // `>=` on the first page, so the empty key is visited too; NULL keys pass neither.
      const from: string = after === null ? ">=" : ">";
      const keys: string[] = this.#sql
        .exec(
          `SELECT key FROM (SELECT key FROM map_stage_or WHERE map = ? AND key ${from} ?
           UNION SELECT key FROM map_stage_or_tombstone WHERE map = ? AND key ${from} ?) ORDER BY key LIMIT ?`,
          map,
          after ?? "",
          map,
          after ?? "",
          PAGE_KEYS,
        )
        .map((row) => String(row.key));
      if (keys.length === 0) return;
      visit(this.#read(map, keys));
      after = keys.at(-1) ?? "";
    }
  }

  /** How many records and tombstones of `map` are staged here. */
  count(map: string): number {
    const records = Number(this.#sql.exec("SELECT COUNT(*) AS n FROM map_stage_or WHERE map = ?", map)[0]?.n ?? 0);
    return records + Number(this.#sql.exec("SELECT COUNT(*) AS n FROM map_stage_or_tombstone WHERE map = ?", map)[0]?.n ?? 0);
  }

  clear(map: string): void {
    this.#sql.exec("DELETE FROM map_stage_or WHERE map = ?", map);
    this.#sql.exec("DELETE FROM map_stage_or_tombstone WHERE map = ?", map);
  }

  /** Stores each record unless its tag is tombstoned here or the staged record of its (key, tag) is as new. */
  #stageRecords(map: string, records: readonly { key: string; record: ORMapRecord }[]): void {
    const tags = JSON.stringify(records.map(({ record }) => record.tag));
    const tombstoned = new Set(this.#sql.exec(`SELECT tag FROM map_stage_or_tombstone WHERE map = ? AND tag IN ${JSON_LIST}`, map, tags).map((row) => String(row.tag)));
    const staged = new Map(
      this.#sql
        .exec(`SELECT key, tag, millis, counter, node FROM map_stage_or WHERE map = ? AND tag IN ${JSON_LIST}`, map, tags)
        .map((row) => [`${String(row.key)}\u0000${String(row.tag)}`, { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) }]),
    );
    const rows: SqlValue[][] = [];
    for (const { key, record } of records) {
      if (tombstoned.has(record.tag)) continue;
      const id = `${key}\u0000${record.tag}`;
      const current = staged.get(id);
      if (current && compareTimestamps(record.timestamp, current) <= 0) continue;
      staged.set(id, record.timestamp);
      const { millis, counter, nodeId } = record.timestamp;
      rows.push([map, key, record.tag, encodeValue(record.value), millis, counter, nodeId, record.ttlMs ?? null]);
    }
    bulkInsert(
      this.#sql,
      "map_stage_or (map, key, tag, value, millis, counter, node, ttl_ms)",
      rows,
      `ON CONFLICT (map, key, tag) DO UPDATE SET value = excluded.value, millis = excluded.millis, counter = excluded.counter,
       node = excluded.node, ttl_ms = excluded.ttl_ms`,
    );
  }

  #read(map: string, keys: readonly string[]): StoredOrEntry[] {
    const entries = new Map<string, StoredOrEntry>(keys.map((key) => [key, { key, records: [], tombstones: [] }]));
    const list = JSON.stringify(keys);
    for (const row of this.#sql.exec(`SELECT * FROM map_stage_or WHERE map = ? AND key IN ${JSON_LIST}`, map, list)) {
      entries.get(String(row.key))?.records.push(recordOf(row));
    }
    for (const row of this.#sql.exec(`SELECT key, tag, millis FROM map_stage_or_tombstone WHERE map = ? AND key IN ${JSON_LIST}`, map, list)) {
      entries.get(String(row.key))?.tombstones.push({ tag: String(row.tag), millis: Number(row.millis) });
    }
    return [...entries.values()];
  }
}

function recordOf(row: SqlRow): ORMapRecord {
  const record: ORMapRecord = {
    value: row.value instanceof Uint8Array ? decodeValue(row.value) : null,
    timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
    tag: String(row.tag),
  };
  if (typeof row.ttl_ms === "number") record.ttlMs = row.ttl_ms;
  return record;
}
