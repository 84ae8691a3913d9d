import { decodeValue, encodeValue } from "../../core/codec.ts";
import type { Timestamp } from "../../core/hlc.ts";
import { isNewerRecord, type LWWRecord } from "../../core/lww-map.ts";
import { leafIndexOf, lwwEntryHash } from "../../core/merkle-tree.ts";
import type { LeafChange, MerkleStore } from "./merkle-store.ts";
import { bulkInsert, type SqlPort, type SqlRow, type SqlValue } from "../storage/sql-port.ts";

/** One LWW write: a value, or a tombstone when `record.value` is null. */
export interface LwwWrite {
  map: string;
  key: string;
  record: LWWRecord;
  /** The record value, msgpack-encoded (null for a tombstone): encoded once by the caller, which checked its size. */
  encoded: Uint8Array | null;
}

interface StoredHead {
  timestamp: Timestamp;
  hash: number;
  /** The stored value, still encoded (null for a tombstone); read only when the caller asked for previous values. */
  value?: Uint8Array | null;
}

/** What `apply` answers: per write, whether it won; with `withPrevious`, the encoded live value each key held before. */
export interface LwwApplied {
  won: boolean[];
  /** By `map\u0000key`: the encoded value of each key that held a live (non-tombstone) value before the batch. */
  previous: Map<string, Uint8Array>;
}

/** Rows read per statement by scanLiveValues, so a large map is never held in memory whole. */
const SCAN_PAGE_ROWS = 500;

/**
 * Visits every live (non-tombstoned) value of `map` in (leaf, key) order, a page of rows per statement. With `nowMs`,
 * records whose TTL ran out before it are left out too, as readers hide them (core/lww-map.ts `isExpired`).
 */
export function scanLiveValues(sql: SqlPort, map: string, visit: (key: string, value: unknown) => void, options: { nowMs?: number } = {}): void {
  const unexpired = options.nowMs === undefined ? "" : " AND (ttl_ms IS NULL OR ttl_ms = 0 OR millis + ttl_ms >= ?)";
  const ttlBinding = options.nowMs === undefined ? [] : [options.nowMs];
  let leaf = -1;
  let key = "";
  for (;;) {
    // The row-value comparison lets SQLite seek to the page's start in the primary key; the equivalent
    // `leaf > ? OR (leaf = ? AND key > ?)` made every page scan from the map's first row (quadratic in its size).
    const rows = sql.exec(
      `SELECT leaf, key, value FROM lww_record WHERE map = ? AND (leaf, key) > (?, ?) AND value IS NOT NULL${unexpired}
       ORDER BY leaf, key LIMIT ?`,
      map,
      leaf,
      key,
      ...ttlBinding,
      SCAN_PAGE_ROWS,
    );
    for (const row of rows) {
      if (row.value instanceof Uint8Array) visit(String(row.key), decodeValue(row.value));
    }
    const last = rows.at(-1);
    if (!last || rows.length < SCAN_PAGE_ROWS) return;
    leaf = Number(last.leaf);
    key = String(last.key);
  }
}

/** Visits the live values of `keys` in `map` (tombstoned and missing keys skipped), found by primary key. */
export function readLiveValues(sql: SqlPort, map: string, keys: readonly string[], visit: (key: string, value: unknown) => void): void {
  for (let i = 0; i < keys.length; i += SCAN_PAGE_ROWS) {
    const rows = sql.exec(
      `SELECT r.key, r.value FROM ${LEAF_KEY_LIST} CROSS JOIN lww_record AS r
       ON r.map = ? AND r.leaf = j.value->>0 AND r.key = j.value->>1 WHERE r.value IS NOT NULL`,
      leafKeyList(keys.slice(i, i + SCAN_PAGE_ROWS)),
      map,
    );
    for (const row of rows) {
      if (row.value instanceof Uint8Array) visit(String(row.key), decodeValue(row.value));
    }
  }
}

/** LWW records of the maps this partition owns: merge by HLC (strictly newer wins), tombstones, Merkle sums. */
export class LwwStore {
  readonly #sql: SqlPort;
  readonly #merkle: MerkleStore;

  constructor(sql: SqlPort, merkle: MerkleStore) {
    this.#sql = sql;
    this.#merkle = merkle;
  }

  /**
   * Merges `writes` (call inside a transaction); answers, per write, whether it won, and with `withPrevious` the
   * values the keys held before (read by the same statement that reads the heads the merge needs).
   */
  apply(writes: readonly LwwWrite[], withPrevious = false): LwwApplied {
    const previous = new Map<string, Uint8Array>();
    const won = new Array<boolean>(writes.length).fill(false);
    const byMap = new Map<string, number[]>();
    writes.forEach((write, index) => {
      const list = byMap.get(write.map);
      if (list) list.push(index);
      else byMap.set(write.map, [index]);
    });
    for (const [map, indexes] of byMap) {
      // Load the sums before the records change: a tree that is behind derives its sums from lww_record.
      this.#merkle.sums("lww", map);
      const heads = this.#readHeads(map, [...new Set(indexes.map((i) => writes[i]!.key))], withPrevious);
      if (withPrevious) {
        for (const [key, head] of heads) if (head.value) previous.set(`${map}\u0000${key}`, head.value);
      }
      const winners = new Map<string, { write: LwwWrite; hash: number }>();
      for (const index of indexes) {
        const write = writes[index]!;
        const current = winners.get(write.key)?.write.record ?? this.#headRecord(heads.get(write.key));
        if (!isNewerRecord(current, write.record)) continue;
        won[index] = true;
        winners.set(write.key, { write, hash: lwwEntryHash(write.key, write.record.timestamp) });
      }
      this.#store(map, winners, heads);
    }
    return { won, previous };
  }

  /** Records of the leaves first..last (tombstones included), by leaf, for SYNC_RESP_LEAF replies. */
  readLeaves(map: string, first: number, last: number): Map<number, { key: string; record: LWWRecord }[]> {
    const byLeaf = new Map<number, { key: string; record: LWWRecord }[]>();
    for (const row of this.#sql.exec(
      "SELECT leaf, key, value, millis, counter, node, ttl_ms FROM lww_record WHERE map = ? AND leaf BETWEEN ? AND ?",
      map,
      first,
      last,
    )) {
      const leaf = Number(row.leaf);
      const list = byLeaf.get(leaf) ?? [];
      list.push({ key: String(row.key), record: toRecord(row) });
      byLeaf.set(leaf, list);
    }
    return byLeaf;
  }

  /** The stored record of each key that has one. */
  readKeys(map: string, keys: readonly string[]): Map<string, LWWRecord> {
    const rows = this.#sql.exec(
      `SELECT r.key, r.value, r.millis, r.counter, r.node, r.ttl_ms FROM ${LEAF_KEY_LIST} CROSS JOIN lww_record AS r
       ON r.map = ? AND r.leaf = j.value->>0 AND r.key = j.value->>1`,
      leafKeyList(keys),
      map,
    );
    return new Map(rows.map((row) => [String(row.key), toRecord(row)]));
  }

  /**
   * The map's records (tombstones included) written after `since` in HLC order (millis, counter, node id), oldest
   * first, at most `limit`: the changes a `/sync` caller has not seen. Scans the map's rows (no timestamp index).
   */
  readSince(map: string, since: Timestamp, limit: number): { key: string; record: LWWRecord }[] {
    const rows = this.#sql.exec(
      `SELECT key, value, millis, counter, node, ttl_ms FROM lww_record
       WHERE map = ? AND (millis > ? OR (millis = ? AND (counter > ? OR (counter = ? AND node > ?))))
       ORDER BY millis, counter, node LIMIT ?`,
      map,
      since.millis,
      since.millis,
      since.counter,
      since.counter,
      since.nodeId,
      limit,
    );
    return rows.map((row) => ({ key: String(row.key), record: toRecord(row) }));
  }

  #readHeads(map: string, keys: readonly string[], withValues: boolean): Map<string, StoredHead> {
    const rows = this.#sql.exec(
      `SELECT r.key, r.millis, r.counter, r.node, r.hash${withValues ? ", r.value" : ""} FROM ${LEAF_KEY_LIST} CROSS JOIN lww_record AS r
       ON r.map = ? AND r.leaf = j.value->>0 AND r.key = j.value->>1`,
      leafKeyList(keys),
      map,
    );
    return new Map(
      rows.map((row): [string, StoredHead] => [
        String(row.key),
        {
          timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
          hash: Number(row.hash),
          ...(withValues ? { value: row.value instanceof Uint8Array ? row.value : null } : {}),
        },
      ]),
    );
  }

  #headRecord(head: StoredHead | undefined): LWWRecord | undefined {
    return head ? { value: null, timestamp: head.timestamp } : undefined;
  }

  #store(map: string, winners: Map<string, { write: LwwWrite; hash: number }>, heads: Map<string, StoredHead>): void {
    if (winners.size === 0) return;
    const rows: SqlValue[][] = [];
    const changes: LeafChange[] = [];
    for (const [key, { write, hash }] of winners) {
      const { timestamp, ttlMs } = write.record;
      const leaf = leafIndexOf(key);
      rows.push([map, key, write.encoded, timestamp.millis, timestamp.counter, timestamp.nodeId, ttlMs ?? null, leaf, hash]);
      changes.push({ leaf, oldHash: heads.get(key)?.hash, newHash: hash });
    }
    bulkInsert(
      this.#sql,
      "lww_record (map, key, value, millis, counter, node, ttl_ms, leaf, hash)",
      rows,
      `ON CONFLICT (map, leaf, key) DO UPDATE SET value = excluded.value, millis = excluded.millis,
       counter = excluded.counter, node = excluded.node, ttl_ms = excluded.ttl_ms, hash = excluded.hash`,
    );
    this.#merkle.apply("lww", map, changes);
  }
}

/** The rows of a (leaf, key) list bound as one JSON parameter; CROSS JOIN keeps it the outer loop (a PK probe per key). */
const LEAF_KEY_LIST = "json_each(?) AS j";

function leafKeyList(keys: readonly string[]): string {
  return JSON.stringify(keys.map((key) => [leafIndexOf(key), key]));
}

function toRecord(row: SqlRow): LWWRecord {
  const value = row.value instanceof Uint8Array ? decodeValue(row.value) : null;
  const record: LWWRecord = {
    value,
    timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
  };
  if (typeof row.ttl_ms === "number") record.ttlMs = row.ttl_ms;
  return record;
}

