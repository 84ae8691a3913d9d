import { decodeValue } from "../../core/codec.ts";
import type { Timestamp } from "../../core/hlc.ts";
import { isNewerTimestamp, type LWWRecord } from "../../core/lww-map.ts";
import { leafIndexOf, lwwEntryHash } from "../../core/merkle-tree.ts";
import type { LeafChange, MerkleStore } from "./merkle-store.ts";
import { bulkInsert, type SqlPort, type SqlRow, type SqlValue } from "../storage/sql-port.ts";
import { type DirtyHead, type HeadStamp, LwwHeads, type LwwHead } from "./lww-heads.ts";
import { LwwLog } from "./lww-log.ts";

/** One LWW write: a value, or a tombstone when `record.value` is null. */
export interface LwwWrite {
  map: string;
  key: string;
  record: LWWRecord;
  /** The record value, msgpack-encoded (null for a tombstone): encoded once by the caller, which checked its size. */
  encoded: Uint8Array | null;
}

/** What `apply` answers: per write, whether it won; with `withPrevious`, the encoded live value each key held before. */
export interface LwwApplied {
  won: boolean[];
  /** By map, then key: the encoded value of each key that held a live (non-tombstone) value before the batch. */
  previous: Map<string, Map<string, Uint8Array>>;
}

/** A tombstone `pruneTombstones` deleted: its key and the timestamp it had. */
export interface PrunedTombstone {
  map: string;
  key: string;
  timestamp: Timestamp;
}

/** Heads one alarm step of a compaction moves into lww_record (~10 µs each: a step stays in the tens of ms). */
const COMPACTION_STEP_ROWS = 500;
/**
 * Dirty heads (or their estimated bytes) from which a round's compaction is due soon rather than later (see
 * `onDirty`): an alarm costs the local runtime ~3–4 ms whatever it does, about as much as upserting a few hundred rows,
 * so a round this big pays for its alarm; a smaller one may wait, and more writes join it.
 */
const EAGER_COMPACTION_ENTRIES = 1_000;
const EAGER_COMPACTION_BYTES = 1024 * 1024;
/** Rows read per statement by scans and key lists, so a large map is never held in memory whole. */
const SCAN_PAGE_ROWS = 500;

/**
 * LWW records of the maps this partition owns: merge by HLC (strictly newer wins), tombstones, Merkle sums.
 *
 * A batch's winners go to the write log (lww-log.ts: one row per map per batch) in the write's transaction, and
 * into the in-memory head index (lww-heads.ts) as dirty heads; `compact()` (the alarm, or the write that passes
 * the log's bound) moves them into lww_record in key order and empties the log in one transaction. Every read
 * here merges the dirty heads over lww_record, so it sees each acknowledged write at once. After a wake or a
 * rolled-back transaction, `recover()` compacts what the log holds before anything reads lww_record (the Merkle
 * sums derived from it included).
 */
export class LwwStore {
  readonly #sql: SqlPort;
  readonly #merkle: MerkleStore;
  readonly #log: LwwLog;
  readonly #heads: LwwHeads;
  /** Maps whose emptiness was checked since the head index was last cleared (see #stampsOf). */
  readonly #seen = new Set<string>();
  readonly #onDirty: (due: CompactionDue) => void;
  #timeWork = 0;
  #recovered = false;
  /** What `onDirty` was last told for the dirty heads waiting now (undefined: nothing since the last round). */
  #announced: CompactionDue | undefined;
  /** Whether a tombstone or a record with a TTL was written since the current round began (the sweep waits for it). */
  #dirtyTimeWork = false;
  /** The incremental compaction under way: the log rows it covers, its heads in key order, how far it got. */
  #round: { upToSeq: number; pending: DirtyHead[]; next: number } | undefined;

  /**
   * `onDirty` is called when the log gets its first records after a compaction, so one can be scheduled, and again
   * when a round that could wait becomes due soon: "soon" once it holds a tombstone or a record with a TTL (the expiry
   * sweep reads them from lww_record) or passes EAGER_COMPACTION_ENTRIES / _BYTES, else "later".
   */
  constructor(sql: SqlPort, merkle: MerkleStore, options: { onDirty?: (due: CompactionDue) => void; heads?: LwwHeads } = {}) {
    this.#sql = sql;
    this.#merkle = merkle;
    this.#log = new LwwLog(sql);
    this.#heads = options.heads ?? new LwwHeads();
    this.#onDirty = options.onDirty ?? (() => {});
    merkle.beforeDerive(() => this.compact());
  }

  /**
   * Merges `writes` (call inside a transaction); answers, per write, whether it won, and with `withPrevious` the
   * values the keys held before.
   */
  apply(writes: readonly LwwWrite[], withPrevious = false): LwwApplied {
    this.recover();
    const previous = new Map<string, Map<string, Uint8Array>>();
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
      // Heads as the index holds them: a merge compares timestamps and reads hashes, so nothing is built per key.
      const heads = this.#stampsOf(map, indexes.map((i) => writes[i]!.key));
      if (withPrevious) {
        const values = new Map<string, Uint8Array>();
        for (const [key, head] of heads) {
          const value = head.valueBytes();
          if (value) values.set(key, value);
        }
        previous.set(map, values);
      }
      const winners = new Map<string, LwwHead>();
      for (const index of indexes) {
        const write = writes[index]!;
        // Against the batch's winner so far, else the key's head.
        if (!isNewerTimestamp(winners.get(write.key)?.timestamp ?? heads.get(write.key), write.record.timestamp)) continue;
        won[index] = true;
        const { timestamp, ttlMs } = write.record;
        winners.set(write.key, {
          timestamp,
          hash: lwwEntryHash(write.key, timestamp),
          leaf: leafIndexOf(write.key),
          value: write.encoded,
          ttlMs: ttlMs ?? null,
        });
      }
      this.#store(map, winners, heads);
    }
    // Past the log's bound, steps of the compaction run here until it is back under it (a step, not the whole log:
    // a write waits ~5 ms for it, not ~200 ms).
    while (this.#heads.isOverBound() && (this.compactStep() || this.#heads.isOverBound()));
    // Past the bound of the isolate's logs together, each write moves one step of its own log: the objects writing
    // drain the isolate's logs in step with their writes, and none stalls a write for a whole compaction.
    if (this.#heads.isIsolateOverBound()) this.compactStep();
    return { won, previous };
  }

  /**
   * Counts the compaction steps that moved a tombstone or a record with a TTL into lww_record (the expiry sweep's
   * work): the sweep looks again when it changed.
   */
  timeWorkVersion(): number {
    return this.#timeWork;
  }

  /** Keys whose newest record is in the write log (not yet compacted). */
  dirtyEntries(): number {
    return this.#heads.bytes().dirtyEntries;
  }

  /**
   * Moves the whole write log into lww_record (sorted by its primary key, one statement per ~512 KB) and empties the
   * log, in one transaction: the write that passes the log's bound, and reads that need lww_record complete.
   */
  compact(): void {
    this.recover();
    this.#round = undefined;
    this.compactStep(Number.POSITIVE_INFINITY);
  }

  /**
   * One step of an incremental compaction (the alarm's): a round takes the dirty heads and the log's last row as
   * they are when it starts and moves up to `maxRows` of them into lww_record per step, in key order, each step its
   * own transaction, so writes run between steps instead of waiting for one long compaction. The round's last step
   * deletes the log rows it covered. Answers whether the round has steps left (the caller runs the next one soon).
   */
  compactStep(maxRows = COMPACTION_STEP_ROWS): boolean {
    this.recover();
    if (!this.#round) {
      if (!this.#heads.hasDirty()) return false;
      this.#round = { upToSeq: this.#log.lastSeq(), pending: this.#heads.sortedDirty(), next: 0 };
      this.#dirtyTimeWork = false;
    }
    const round = this.#round;
    const chunk = round.pending.slice(round.next, round.next + maxRows);
    const heads = chunk.map((entry) => entry.head);
    const last = round.next + chunk.length >= round.pending.length;
    try {
      this.#sql.transaction(() => {
        bulkInsert(
          this.#sql,
          "lww_record (map, key, value, millis, counter, node, ttl_ms, leaf, hash)",
          chunk.map(({ map, key }, i): SqlValue[] => {
            const head = heads[i]!;
            return [map, key, head.value, head.timestamp.millis, head.timestamp.counter, head.timestamp.nodeId, head.ttlMs, head.leaf, head.hash];
          }),
          `ON CONFLICT (map, leaf, key) DO UPDATE SET value = excluded.value, millis = excluded.millis,
           counter = excluded.counter, node = excluded.node, ttl_ms = excluded.ttl_ms, hash = excluded.hash`,
        );
        if (last) this.#log.deleteUpTo(round.upToSeq);
      });
    } catch (err) {
      this.forget();
      throw err;
    }
    // A head written again since the round began stays dirty: its newer record is in a later log row.
    let timeWork = false;
    chunk.forEach((entry, i) => {
      this.#heads.markClean(entry);
      const head = heads[i]!;
      if (head.value === null || (head.ttlMs ?? 0) > 0) timeWork = true;
    });
    if (timeWork) this.#timeWork++;
    round.next += chunk.length;
    if (!last) return true;
    this.#round = undefined;
    this.#heads.enforceBudget();
    this.#announced = undefined;
    // Heads written during the round wait for the next one, after the usual delay (more of them then coincide).
    if (this.#heads.hasDirty()) this.#announce();
    return false;
  }

  /**
   * Replays the write log left by an earlier run of this object (or by a rolled-back transaction) and compacts it,
   * once; every other method calls it first, and the owner calls it on wake before any Merkle sums are derived.
   */
  recover(): void {
    if (this.#recovered) return;
    this.#recovered = true;
    try {
      this.#log.replay((map, key, head) => this.#heads.write(map, key, head));
    } catch (err) {
      this.forget();
      throw err;
    }
    this.compact();
  }

  /**
   * A transaction that wrote here rolled back: the head index may hold records SQLite did not keep. Forgets it;
   * the next call replays what the log kept.
   */
  forget(): void {
    this.#heads.clear();
    this.#seen.clear();
    this.#round = undefined;
    this.#recovered = false;
    this.#announced = undefined;
  }

  /**
   * Deletes up to `limit` tombstones written before `cutoffMillis` (oldest first) from lww_record and their entries
   * from the Merkle sums, in one transaction, in which `inTransaction` also runs with them (the outbox's rows). A key
   * written again since (its head in the write log) keeps its row: the compaction replaces it. Nothing is pruned
   * while a compaction round is under way: the log rows it has not deleted yet may hold those tombstones, and a
   * restart would replay them.
   */
  pruneTombstones(cutoffMillis: number, limit: number, inTransaction: (pruned: PrunedTombstone[]) => void = () => {}): PrunedTombstone[] {
    this.recover();
    if (this.#round) return [];
    const candidates = this.#sql
      .exec("SELECT map, key, leaf FROM lww_record WHERE value IS NULL AND millis < ? ORDER BY millis LIMIT ?", cutoffMillis, limit)
      .map((row) => ({ map: String(row.map), key: String(row.key), leaf: Number(row.leaf) }));
    if (candidates.length === 0) return [];
    // The sums are loaded before the rows go (a tree that is behind derives its sums from lww_record, compacting first).
    const byMap = new Map<string, LeafChange[]>();
    for (const { map } of candidates) {
      if (byMap.has(map)) continue;
      this.#merkle.sums("lww", map);
      byMap.set(map, []);
    }
    const pruned: PrunedTombstone[] = [];
    try {
      this.#sql.transaction(() => {
        // One statement for the chunk; the conditions are checked again (the sums' load may have compacted).
        const list = candidates.filter(({ map, key }) => !this.#heads.isDirty(map, key)).map(({ map, leaf, key }) => [map, leaf, key]);
        const rows = this.#sql.exec(
          `DELETE FROM lww_record WHERE (map, leaf, key) IN (SELECT j.value->>0, j.value->>1, j.value->>2 FROM json_each(?) AS j)
           AND value IS NULL AND millis < ? RETURNING map, key, leaf, hash, millis, counter, node`,
          JSON.stringify(list),
          cutoffMillis,
        );
        for (const row of rows) {
          const map = String(row.map);
          byMap.get(map)?.push({ leaf: Number(row.leaf), oldHash: Number(row.hash) });
          pruned.push({ map, key: String(row.key), timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) } });
        }
        for (const [map, changes] of byMap) this.#merkle.apply("lww", map, changes);
        inTransaction(pruned);
      });
    } catch (err) {
      this.#merkle.forget();
      this.forget();
      throw err;
    }
    for (const { map, key } of pruned) this.#heads.dropClean(map, key);
    return pruned;
  }

  /**
   * Live records whose TTL ran out before `nowMs` (core/lww-map.ts `isExpired`), as lww_record holds them, the
   * soonest expired first, at most `limit`. A key written again since (in the write log) is left out: its newer
   * record is looked at once compacted.
   */
  expiredRecords(nowMs: number, limit: number): { map: string; key: string; record: LWWRecord }[] {
    this.recover();
    return this.#sql
      .exec(
        `SELECT map, key, value, millis, counter, node, ttl_ms FROM lww_record
         WHERE value IS NOT NULL AND ttl_ms > 0 AND millis + ttl_ms < ? ORDER BY millis + ttl_ms LIMIT ?`,
        nowMs,
        limit,
      )
      .filter((row) => !this.#heads.isDirty(String(row.map), String(row.key)))
      .map((row) => ({ map: String(row.map), key: String(row.key), record: toRecord(row) }));
  }

  /**
   * When the alarm next has work here: the millis of the oldest tombstone in lww_record and the soonest expiry of
   * a live record with a TTL (each undefined when there is none). Records still in the write log are not counted:
   * the compaction's alarm comes first.
   */
  nextDue(): { oldestTombstone?: number; nextExpiry?: number } {
    const tombstone = this.#sql.exec("SELECT MIN(millis) AS t FROM lww_record WHERE value IS NULL")[0]?.t;
    const expiry = this.#sql.exec("SELECT MIN(millis + ttl_ms) AS t FROM lww_record WHERE value IS NOT NULL AND ttl_ms > 0")[0]?.t;
    return {
      ...(typeof tombstone === "number" ? { oldestTombstone: tombstone } : {}),
      ...(typeof expiry === "number" ? { nextExpiry: expiry } : {}),
    };
  }

  /** Records of the leaves first..last (tombstones included), by leaf, for SYNC_RESP_LEAF replies. */
  readLeaves(map: string, first: number, last: number): Map<number, { key: string; record: LWWRecord }[]> {
    this.recover();
    const byLeaf = new Map<number, { key: string; record: LWWRecord }[]>();
    const dirty = this.#heads.dirtyOf(map);
    const add = (leaf: number, key: string, record: LWWRecord) => {
      const list = byLeaf.get(leaf);
      if (list) list.push({ key, record });
      else byLeaf.set(leaf, [{ key, record }]);
    };
    for (const row of this.#sql.exec(
      "SELECT leaf, key, value, millis, counter, node, ttl_ms FROM lww_record WHERE map = ? AND leaf BETWEEN ? AND ?",
      map,
      first,
      last,
    )) {
      const key = String(row.key);
      if (!dirty.has(key)) add(Number(row.leaf), key, toRecord(row));
    }
    for (const [key, { head }] of dirty) if (head.leaf >= first && head.leaf <= last) add(head.leaf, key, recordOf(head));
    return byLeaf;
  }

  /** The stored record of each key that has one. */
  readKeys(map: string, keys: readonly string[]): Map<string, LWWRecord> {
    const out = new Map<string, LWWRecord>();
    for (const [key, stamp] of this.#stampsOf(map, keys)) out.set(key, recordOf(stamp.head));
    return out;
  }

  /** Visits the live values of `keys` in `map` (tombstoned and missing keys skipped), a page of keys at a time. */
  readLiveValues(map: string, keys: readonly string[], visit: (key: string, value: unknown) => void): void {
    for (let i = 0; i < keys.length; i += SCAN_PAGE_ROWS) {
      for (const [key, stamp] of this.#stampsOf(map, keys.slice(i, i + SCAN_PAGE_ROWS))) {
        const value = stamp.valueBytes();
        if (value) visit(key, decodeValue(value));
      }
    }
  }

  /**
   * The map's records (tombstones included) written after `since` in HLC order (millis, counter, node id), oldest
   * first, at most `limit`: the changes a `/sync` caller has not seen. Scans the map's rows (no timestamp index); a
   * map with records in the write log is compacted first.
   */
  readSince(map: string, since: Timestamp, limit: number): { key: string; record: LWWRecord }[] {
    this.recover();
    if (this.#heads.dirtyOf(map).size > 0) this.compact();
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

  /** Live (non-tombstoned) records of `map` (an admin read: it counts the rows, after compacting the map's log). */
  liveCount(map: string): number {
    this.recover();
    if (this.#heads.dirtyOf(map).size > 0) this.compact();
    return Number(this.#sql.exec("SELECT COUNT(*) AS n FROM lww_record WHERE map = ? AND value IS NOT NULL", map)[0]?.n ?? 0);
  }

  /**
   * Visits every live (non-tombstoned) value of `map` in (leaf, key) order, a page of rows per statement, so a large
   * map is never held in memory whole. A map with records in the write log is compacted first (scans are rare: a
   * query subscription or read, a search index build). With `nowMs`, records whose TTL ran out before it are left
   * out too, as readers hide them (core/lww-map.ts `isExpired`).
   */
  scanLiveValues(map: string, visit: (key: string, value: unknown) => void, options: { nowMs?: number } = {}): void {
    this.recover();
    if (this.#heads.dirtyOf(map).size > 0) this.compact();
    const unexpired = options.nowMs === undefined ? "" : " AND (ttl_ms IS NULL OR ttl_ms = 0 OR millis + ttl_ms >= ?)";
    const ttlBinding = options.nowMs === undefined ? [] : [options.nowMs];
    let leaf = -1;
    let key = "";
    for (;;) {
      // The row-value comparison lets SQLite seek to the page's start in the primary key; the equivalent
      // `leaf > ? OR (leaf = ? AND key > ?)` made every page scan from the map's first row (quadratic in its size).
      const rows = this.#sql.exec(
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

  /** The newest record of each of `keys` that has one: from the head index, else lww_record (then remembered). */
  #stampsOf(map: string, keys: readonly string[]): Map<string, HeadStamp> {
    this.recover();
    this.#heads.touch();
    const heads = new Map<string, HeadStamp>();
    const missing = new Set<string>();
    // A key whose Merkle leaf holds no entry has no record: no lookup (most keys of a sparse or sharded map). A map
    // first seen empty is held whole by the head index, so a key it does not know needs no lookup either.
    const counts = this.#merkle.sums("lww", map).counts;
    if (!this.#heads.isComplete(map) && !this.#seen.has(map)) {
      this.#seen.add(map);
      if (counts.every((count) => count === 0) && this.#heads.dirtyOf(map).size === 0) this.#heads.markComplete(map);
    }
    const complete = this.#heads.isComplete(map);
    for (const key of keys) {
      const head = this.#heads.stampOf(map, key);
      if (head) heads.set(key, head);
      else if (!complete && counts[leafIndexOf(key)] !== 0) missing.add(key);
    }
    if (missing.size === 0) return heads;
    const unique = [...missing];
    for (let i = 0; i < unique.length; i += SCAN_PAGE_ROWS) {
      const rows = this.#sql.exec(
        `SELECT r.key, r.millis, r.counter, r.node, r.hash, r.leaf, r.value, r.ttl_ms FROM ${LEAF_KEY_LIST} CROSS JOIN lww_record AS r
         ON r.map = ? AND r.leaf = j.value->>0 AND r.key = j.value->>1`,
        leafKeyList(unique.slice(i, i + SCAN_PAGE_ROWS)),
        map,
      );
      for (const row of rows) {
        const key = String(row.key);
        const head: LwwHead = {
          timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
          hash: Number(row.hash),
          leaf: Number(row.leaf),
          value: row.value instanceof Uint8Array ? row.value : null,
          ttlMs: typeof row.ttl_ms === "number" ? row.ttl_ms : null,
        };
        heads.set(key, this.#heads.remember(map, key, head));
      }
    }
    return heads;
  }

  /** Logs the batch's winners in one row and makes them the keys' heads; the Merkle sums follow in memory. */
  #store(map: string, winners: Map<string, LwwHead>, before: Map<string, HeadStamp>): void {
    if (winners.size === 0) return;
    const records: { key: string; head: LwwHead }[] = [];
    const changes: LeafChange[] = [];
    for (const [key, head] of winners) {
      records.push({ key, head });
      changes.push({ leaf: head.leaf, oldHash: before.get(key)?.hash, newHash: head.hash });
      if (head.value === null || (head.ttlMs ?? 0) > 0) this.#dirtyTimeWork = true;
    }
    this.#log.append(map, records);
    for (const { key, head } of records) this.#heads.write(map, key, head);
    this.#merkle.apply("lww", map, changes);
    this.#announce();
  }

  /** Tells `onDirty` when the waiting heads' compaction is due, once per round and again if it became due soon. */
  #announce(): void {
    if (this.#announced === "soon") return;
    const { dirty, dirtyEntries } = this.#heads.bytes();
    const due = this.#dirtyTimeWork || dirtyEntries >= EAGER_COMPACTION_ENTRIES || dirty >= EAGER_COMPACTION_BYTES ? "soon" : "later";
    if (due === this.#announced) return;
    this.#announced = due;
    this.#onDirty(due);
  }
}

/** When a write log round's compaction is due: "soon" (seconds), or "later" (it may wait for more writes). */
export type CompactionDue = "soon" | "later";

/** The rows of a (leaf, key) list bound as one JSON parameter; CROSS JOIN keeps it the outer loop (a PK probe per key). */
const LEAF_KEY_LIST = "json_each(?) AS j";

function leafKeyList(keys: readonly string[]): string {
  return JSON.stringify(keys.map((key) => [leafIndexOf(key), key]));
}

function recordOf(head: LwwHead): LWWRecord {
  const record: LWWRecord = { value: head.value ? decodeValue(head.value) : null, timestamp: head.timestamp };
  if (head.ttlMs !== null) record.ttlMs = head.ttlMs;
  return record;
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
