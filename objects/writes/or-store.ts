import { decodeValue, encodeValue } from "../../core/codec.ts";
import { compareTimestamps } from "../../core/hlc.ts";
import { isExpired } from "../../core/lww-map.ts";
import { leafIndexOf } from "../../core/merkle-tree.ts";
import { orEntryHash } from "../../core/or-entry-hash.ts";
import type { ORMapEntry, ORMapRecord } from "../../core/or-record.ts";
import type { MerkleStore } from "./merkle-store.ts";
import { JSON_LIST, type SqlPort, type SqlRow } from "../storage/sql-port.ts";

/** What an OR-Map change did, for events: records now present and tags now removed. */
export interface OrChange {
  key: string;
  added: ORMapRecord[];
  removedTags: string[];
  /** Every key whose records changed (the entry's key, and keys that held a tombstoned tag). */
  touched: string[];
}

/** A tombstoned tag and when it was recorded (its age decides when it is pruned). */
export interface OrTombstone {
  tag: string;
  millis: number;
}

/**
 * What this store keeps of one OR-Map key, as a reshard moves it between owners: its records and its tombstones with
 * their ages. `key` is null only for tombstones of tags no key held when they were recorded.
 */
export interface StoredOrEntry {
  key: string | null;
  records: ORMapRecord[];
  tombstones: OrTombstone[];
}

/**
 * OR-Map state of the maps this partition owns: records per (key, tag), tombstoned tags, and per-key entry
 * hashes (the TS client's hashORMapEntry) in the map's Merkle sums. Call the mutators inside a transaction.
 */
export class OrStore {
  readonly #sql: SqlPort;
  readonly #merkle: MerkleStore;
  readonly #clock: () => number;

  /** `clock`: wall-clock millis, when a tombstone is recorded (its age decides when it is pruned). */
  constructor(sql: SqlPort, merkle: MerkleStore, options: { clock?: () => number } = {}) {
    this.#sql = sql;
    this.#merkle = merkle;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Deletes up to `limit` tombstones recorded before `cutoffMillis`, oldest first (call inside a transaction). A
   * tombstone is not part of the Merkle sums (entry hashes cover records only), so the sums do not change.
   */
  pruneTombstones(cutoffMillis: number, limit: number): { map: string; key: string | null; tag: string }[] {
    return this.#sql
      .exec(
        `DELETE FROM or_tombstone WHERE (map, tag) IN (SELECT map, tag FROM or_tombstone WHERE millis < ? ORDER BY millis LIMIT ?)
         RETURNING map, key, tag`,
        cutoffMillis,
        limit,
      )
      .map((row) => ({ map: String(row.map), key: typeof row.key === "string" ? row.key : null, tag: String(row.tag) }));
  }

  /** Records whose TTL ran out before `nowMs`, the soonest expired first, at most `limit`. */
  expiredRecords(nowMs: number, limit: number): { map: string; key: string; tag: string }[] {
    return this.#sql
      .exec(
        "SELECT map, key, tag FROM or_record WHERE ttl_ms > 0 AND millis + ttl_ms < ? ORDER BY millis + ttl_ms LIMIT ?",
        nowMs,
        limit,
      )
      .map((row) => ({ map: String(row.map), key: String(row.key), tag: String(row.tag) }));
  }

  /** The millis of the oldest tombstone and the soonest expiry of a record with a TTL (undefined when none). */
  nextDue(): { oldestTombstone?: number; nextExpiry?: number } {
    const tombstone = this.#sql.exec("SELECT MIN(millis) AS t FROM or_tombstone")[0]?.t;
    const expiry = this.#sql.exec("SELECT MIN(millis + ttl_ms) AS t FROM or_record WHERE ttl_ms > 0")[0]?.t;
    return {
      ...(typeof tombstone === "number" ? { oldestTombstone: tombstone } : {}),
      ...(typeof expiry === "number" ? { nextExpiry: expiry } : {}),
    };
  }

  /** Adds a record unless its tag is tombstoned or a record with that tag is as new; true when stored. */
  add(map: string, key: string, record: ORMapRecord): boolean {
    if (!this.#storeRecord(map, key, record)) return false;
    this.#rehash(map, [key]);
    return true;
  }

  /** Tombstones `tag` (whichever key holds it); true when it removed a record or the tombstone is new. */
  removeTag(map: string, key: string, tag: string): boolean {
    const holders = this.#tombstone(map, tag, key);
    if (holders === undefined) return false;
    this.#rehash(map, [...new Set([key, ...holders])]);
    return true;
  }

  /** The keys that hold a record with one of `tags` (a tombstone of such a tag changes them). */
  keysHoldingTags(map: string, tags: readonly string[]): string[] {
    if (tags.length === 0) return [];
    return this.#sql
      .exec(`SELECT DISTINCT key FROM or_record WHERE map = ? AND tag IN ${JSON_LIST}`, map, JSON.stringify(tags))
      .map((row) => String(row.key));
  }

  /** mergeKey for one pushed entry: remote tombstones first, then every record whose tag survives. */
  mergeEntry(map: string, entry: ORMapEntry): OrChange {
    const change: OrChange = { key: entry.key, added: [], removedTags: [], touched: [] };
    const touched = new Set<string>([entry.key]);
    for (const tag of entry.tombstones) {
      const holders = this.#tombstone(map, tag, undefined);
      if (holders === undefined) continue;
      if (holders.length > 0) change.removedTags.push(tag);
      for (const holder of holders) touched.add(holder);
    }
    for (const record of entry.records) {
      if (this.#storeRecord(map, entry.key, record)) change.added.push(record);
    }
    change.touched = [...touched];
    this.#rehash(map, change.touched);
    return change;
  }

  /** Entries (records and the key's tombstones) of one leaf, for an ORMAP_SYNC_RESP_LEAF. */
  readLeaf(map: string, leaf: number): ORMapEntry[] {
    const keys = this.#sql
      .exec("SELECT key FROM or_key WHERE map = ? AND leaf = ?", map, leaf)
      .map((row) => String(row.key));
    return this.readKeys(map, keys);
  }

  /** One entry per key, in order; an unknown key gives empty records and tombstones. */
  readKeys(map: string, keys: readonly string[]): ORMapEntry[] {
    const records = new Map<string, ORMapRecord[]>();
    const tombstones = new Map<string, string[]>();
    const list = JSON.stringify(keys);
    for (const row of this.#sql.exec(
      `SELECT key, tag, value, millis, counter, node, ttl_ms FROM or_record WHERE map = ? AND key IN ${JSON_LIST}`,
      map,
      list,
    )) {
      push(records, String(row.key), toRecord(row));
    }
    for (const row of this.#sql.exec(`SELECT key, tag FROM or_tombstone WHERE map = ? AND key IN ${JSON_LIST}`, map, list)) {
      push(tombstones, String(row.key), String(row.tag));
    }
    return keys.map((key) => ({ key, records: records.get(key) ?? [], tombstones: tombstones.get(key) ?? [] }));
  }

  /** What this store keeps of `keys` (records and aged tombstones); keys it keeps nothing of are left out. */
  readStored(map: string, keys: readonly string[]): StoredOrEntry[] {
    const entries = new Map<string, StoredOrEntry>();
    const entryOf = (key: string) => {
      let entry = entries.get(key);
      if (!entry) entries.set(key, (entry = { key, records: [], tombstones: [] }));
      return entry;
    };
    if (keys.length === 0) return [];
    const list = JSON.stringify(keys);
    for (const row of this.#sql.exec(
      `SELECT key, tag, value, millis, counter, node, ttl_ms FROM or_record WHERE map = ? AND key IN ${JSON_LIST}`,
      map,
      list,
    )) {
      entryOf(String(row.key)).records.push(toRecord(row));
    }
    for (const row of this.#sql.exec(`SELECT key, tag, millis FROM or_tombstone WHERE map = ? AND key IN ${JSON_LIST}`, map, list)) {
      entryOf(String(row.key)).tombstones.push({ tag: String(row.tag), millis: Number(row.millis ?? 0) });
    }
    return [...entries.values()];
  }

  /**
   * Merges entries another owner kept (a reshard's cut-over; call inside a transaction): tombstones first, keeping
   * their key and age, then every record whose tag survives and is newer than the one stored; the keys' hashes and
   * the map's Merkle sums follow. Answers how many records it stored. Merging the same entries twice changes nothing.
   */
  mergeStored(map: string, entries: readonly StoredOrEntry[]): number {
    const touched = new Set<string>();
    let stored = 0;
    for (const { key, tombstones } of entries) {
      for (const { tag, millis } of tombstones) for (const holder of this.#tombstone(map, tag, key ?? undefined, millis) ?? []) touched.add(holder);
    }
    for (const { key, records } of entries) {
      if (key === null) continue;
      for (const record of records) {
        if (!this.#storeRecord(map, key, record)) continue;
        stored++;
        touched.add(key);
      }
    }
    this.#rehash(map, [...touched]);
    return stored;
  }

  #storeRecord(map: string, key: string, record: ORMapRecord): boolean {
    if (this.#sql.exec("SELECT 1 FROM or_tombstone WHERE map = ? AND tag = ?", map, record.tag).length > 0) return false;
    const existing = this.#sql.exec(
      "SELECT millis, counter, node FROM or_record WHERE map = ? AND key = ? AND tag = ?",
      map,
      key,
      record.tag,
    )[0];
    if (existing) {
      const stored = { millis: Number(existing.millis), counter: Number(existing.counter), nodeId: String(existing.node) };
      if (compareTimestamps(record.timestamp, stored) <= 0) return false;
    }
    const { timestamp, ttlMs } = record;
    this.#sql.exec(
      `INSERT INTO or_record (map, key, tag, value, millis, counter, node, ttl_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (map, key, tag) DO UPDATE SET value = excluded.value, millis = excluded.millis,
       counter = excluded.counter, node = excluded.node, ttl_ms = excluded.ttl_ms`,
      map, key, record.tag, encodeValue(record.value), timestamp.millis, timestamp.counter, timestamp.nodeId, ttlMs ?? null,
    );
    return true;
  }

  /** Records the tombstone; returns the keys whose record it removed, or undefined when it was already known. */
  #tombstone(map: string, tag: string, key: string | undefined, millis = this.#clock()): string[] | undefined {
    if (this.#sql.exec("SELECT 1 FROM or_tombstone WHERE map = ? AND tag = ?", map, tag).length > 0) return undefined;
    const holders = this.#sql
      .exec("SELECT key FROM or_record WHERE map = ? AND tag = ?", map, tag)
      .map((row) => String(row.key));
    this.#sql.exec("DELETE FROM or_record WHERE map = ? AND tag = ?", map, tag);
    this.#sql.exec(
      "INSERT INTO or_tombstone (map, tag, key, millis) VALUES (?, ?, ?, ?)", map, tag, holders[0] ?? key ?? null, millis,
    );
    return holders;
  }

  #rehash(map: string, keys: readonly string[]): void {
    const entries = this.readKeys(map, keys);
    const old = new Map(
      this.#sql.exec(`SELECT key, hash FROM or_key WHERE map = ? AND key IN ${JSON_LIST}`, map, JSON.stringify(keys)).map(
        (row) => [String(row.key), Number(row.hash)],
      ),
    );
    const changes = [];
    for (const entry of entries) {
      const leaf = leafIndexOf(entry.key);
      const oldHash = old.get(entry.key);
      if (entry.records.length === 0) {
        if (oldHash === undefined) continue;
        this.#sql.exec("DELETE FROM or_key WHERE map = ? AND key = ?", map, entry.key);
        changes.push({ leaf, oldHash });
        continue;
      }
      const newHash = orEntryHash(entry.key, entry.records);
      if (newHash === oldHash) continue;
      this.#sql.exec(
        "INSERT INTO or_key (map, key, leaf, hash) VALUES (?, ?, ?, ?) ON CONFLICT (map, key) DO UPDATE SET hash = excluded.hash",
        map, entry.key, leaf, newHash,
      );
      changes.push({ leaf, oldHash, newHash });
    }
    this.#merkle.apply("or", map, changes);
  }
}

/** Rows read per statement by scanOrValues. */
const SCAN_PAGE_ROWS = 500;

/**
 * Visits every OR-Map key of `map` that holds records, with its values oldest first (by timestamp, then tag), a page
 * of rows per statement; a key whose rows span two pages is visited once, whole.
 */
export function scanOrValues(sql: SqlPort, map: string, visit: (key: string, values: unknown[]) => void): void {
  let key = "";
  let tag = "";
  let current: { key: string; records: ORMapRecord[] } | undefined;
  const flush = () => {
    if (current && current.records.length > 0) visit(current.key, valuesOf(current.records));
  };
  for (;;) {
    const rows = sql.exec(
      `SELECT key, tag, value, millis, counter, node, ttl_ms FROM or_record WHERE map = ? AND (key, tag) > (?, ?)
       ORDER BY key, tag LIMIT ?`,
      map,
      key,
      tag,
      SCAN_PAGE_ROWS,
    );
    for (const row of rows) {
      const rowKey = String(row.key);
      if (current?.key !== rowKey) {
        flush();
        current = { key: rowKey, records: [] };
      }
      current.records.push(toRecord(row));
    }
    const last = rows.at(-1);
    if (!last || rows.length < SCAN_PAGE_ROWS) break;
    key = String(last.key);
    tag = String(last.tag);
  }
  flush();
}

/**
 * The values of `keys` that hold OR-Map records, oldest first; keys without records are left out. With `nowMs`,
 * records whose TTL ran out before it are left out too (core/lww-map.ts `isExpired`).
 */
export function readOrValues(sql: SqlPort, map: string, keys: readonly string[], nowMs?: number): Map<string, unknown[]> {
  const records = new Map<string, ORMapRecord[]>();
  if (keys.length === 0) return new Map();
  for (const row of sql.exec(
    `SELECT key, tag, value, millis, counter, node, ttl_ms FROM or_record WHERE map = ? AND key IN ${JSON_LIST}`,
    map,
    JSON.stringify(keys),
  )) {
    const record = toRecord(row);
    if (nowMs === undefined || !isExpired(record, nowMs)) push(records, String(row.key), record);
  }
  return new Map([...records].map(([key, list]) => [key, valuesOf(list)]));
}

/** A key's values in the order the journal reports them: oldest add first (timestamp, then tag). */
function valuesOf(records: readonly ORMapRecord[]): unknown[] {
  return [...records]
    .sort((a, b) => compareTimestamps(a.timestamp, b.timestamp) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
    .map((r) => r.value);
}

function toRecord(row: SqlRow): ORMapRecord {
  const record: ORMapRecord = {
    value: row.value instanceof Uint8Array ? decodeValue(row.value) : null,
    timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
    tag: String(row.tag),
  };
  if (typeof row.ttl_ms === "number") record.ttlMs = row.ttl_ms;
  return record;
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}
