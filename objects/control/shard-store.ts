import type { ShardSnapshot } from "../../core/placement.ts";
import type { SqlPort } from "../storage/sql-port.ts";

const DDL = [
  "CREATE TABLE IF NOT EXISTS shard_count (map TEXT PRIMARY KEY, shards INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS shard_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
  `CREATE TABLE IF NOT EXISTS reshard (
     map TEXT PRIMARY KEY, from_shards INTEGER NOT NULL, to_shards INTEGER NOT NULL, started_at INTEGER NOT NULL,
     phase TEXT NOT NULL
   ) WITHOUT ROWID`,
  "CREATE TABLE IF NOT EXISTS reshard_outcome (map TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
  `CREATE TABLE IF NOT EXISTS reshard_copy (
     map TEXT NOT NULL, partition INTEGER NOT NULL, next_leaf INTEGER NOT NULL, copied INTEGER NOT NULL, PRIMARY KEY (map, partition)
   ) WITHOUT ROWID`,
  // The copy of the OR-Map entries, per old owner: the last key copied (NULL: none yet) and whether every key was.
  `CREATE TABLE IF NOT EXISTS reshard_or_copy (
     map TEXT NOT NULL, partition INTEGER NOT NULL, after TEXT, done INTEGER NOT NULL, copied INTEGER NOT NULL,
     PRIMARY KEY (map, partition)
   ) WITHOUT ROWID`,
];

const PHASES = ["checking", "fencing", "restoring", "copying", "holding", "cutover", "releasing"] as const;

/** How far a running reshard's copy got, for `GET /api/admin/maps/{map}`. */
export interface ReshardProgress {
  /** Records sent to new owners' staging copies (a record written during the copy may be sent again). */
  copiedRecords: number;
  /** Old owners whose every leaf (and OR-Map key) was copied, of `owners`. */
  ownersCopied: number;
  owners: number;
}

/** Where the copy of one old owner's records got to. */
export interface CopyCursor {
  partition: number;
  /** The next Merkle leaf to copy (4096: every leaf copied). */
  nextLeaf: number;
  /** Records sent to new owners so far. */
  copied: number;
}

/** Where the copy of one old owner's OR-Map entries got to. */
export interface OrCopyCursor {
  partition: number;
  /** The last key copied (null: none yet). */
  after: string | null;
  done: boolean;
}

/** A reshard in progress (it survives the control object's restarts: the alarm resumes it). */
export interface RunningReshard {
  map: string;
  fromShards: number;
  toShards: number;
  startedAt: number;
  /**
   * An empty map: `checking` (asking the partitions what they hold), `fencing` (fencing them at the new count),
   * `restoring` (fencing them back). A map that holds data or subscribers (docs/resharding.md): `copying` (old owners'
   * records to the new owners' staging copies, writes noted), `holding` (the map held at every partition of both
   * placements while the last noted keys are copied), `cutover` (each partition takes its keys and subscriptions),
   * `releasing` (the new count is committed; the holds are let go).
   */
  phase: (typeof PHASES)[number];
}

/** How the last reshard of a map ended. */
export interface ReshardOutcome {
  fromShards: number;
  toShards: number;
  startedAt: number;
  finishedAt: number;
  result: "done" | "refused";
  /** Why a reshard was refused. */
  reason?: string;
}

/**
 * The shard counts a namespace's administrators set, durable in its control object's SQLite, with a version that
 * rises on every change (partitions compare it to know their copy is stale), the reshard running for each map and
 * how the last one ended.
 */
export class ShardStore {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    for (const statement of DDL) sql.exec(statement);
  }

  snapshot(): ShardSnapshot {
    const maps: Record<string, number> = {};
    for (const row of this.#sql.exec("SELECT map, shards FROM shard_count")) maps[String(row.map)] = Number(row.shards);
    return { version: this.#version(), maps };
  }

  /** The map's count set here, if any. */
  countOf(map: string): number | undefined {
    const row = this.#sql.exec("SELECT shards FROM shard_count WHERE map = ?", map)[0];
    return row === undefined ? undefined : Number(row.shards);
  }

  running(map: string): RunningReshard | undefined {
    const row = this.#sql.exec("SELECT * FROM reshard WHERE map = ?", map)[0];
    return row === undefined ? undefined : runningOf(row);
  }

  allRunning(): RunningReshard[] {
    return this.#sql.exec("SELECT * FROM reshard ORDER BY map").map(runningOf);
  }

  /** Starts a reshard; false when one of the map is already running. */
  begin(reshard: Omit<RunningReshard, "phase">): boolean {
    return this.#sql.transaction(() => {
      if (this.running(reshard.map)) return false;
      this.#sql.exec(
        "INSERT INTO reshard (map, from_shards, to_shards, started_at, phase) VALUES (?, ?, ?, ?, 'checking')",
        reshard.map, reshard.fromShards, reshard.toShards, reshard.startedAt,
      );
      return true;
    });
  }

  setPhase(map: string, phase: RunningReshard["phase"]): void {
    this.#sql.exec("UPDATE reshard SET phase = ? WHERE map = ?", phase, map);
  }

  /** The copy cursors of the map's old owners, created at leaf 0 for `partitions` that have none yet. */
  copyCursors(map: string, partitions: readonly number[]): CopyCursor[] {
    for (const p of partitions) this.#sql.exec("INSERT OR IGNORE INTO reshard_copy (map, partition, next_leaf, copied) VALUES (?, ?, 0, 0)", map, p);
    return this.#sql
      .exec("SELECT partition, next_leaf, copied FROM reshard_copy WHERE map = ? ORDER BY partition", map)
      .map((row) => ({ partition: Number(row.partition), nextLeaf: Number(row.next_leaf), copied: Number(row.copied) }));
  }

  /** True once the copy's cursors exist (the old owners were asked to note their writes before they were created). */
  copyStarted(map: string): boolean {
    return this.#sql.exec("SELECT 1 AS one FROM reshard_copy WHERE map = ? LIMIT 1", map).length > 0;
  }

  /** The OR-Map copy cursors of the map's old owners, created before the first key for `partitions` that have none. */
  orCopyCursors(map: string, partitions: readonly number[]): OrCopyCursor[] {
    for (const p of partitions) this.#sql.exec("INSERT OR IGNORE INTO reshard_or_copy (map, partition, after, done, copied) VALUES (?, ?, NULL, 0, 0)", map, p);
    return this.#sql
      .exec("SELECT partition, after, done FROM reshard_or_copy WHERE map = ? ORDER BY partition", map)
      .map((row) => ({ partition: Number(row.partition), after: typeof row.after === "string" ? row.after : null, done: Number(row.done) === 1 }));
  }

  /** Records that the old owner `partition`'s OR-Map entries were copied up to key `after` (`done`: all of them). */
  advanceOrCopy(map: string, partition: number, cursor: { after: string | null; done: boolean }, copied: number): void {
    this.#sql.exec(
      "UPDATE reshard_or_copy SET after = ?, done = ?, copied = copied + ? WHERE map = ? AND partition = ?",
      cursor.after, cursor.done ? 1 : 0, copied, map, partition,
    );
  }

  /** The copy's progress, once it started (`{}` before). */
  progress(map: string): { copy?: ReshardProgress } {
    const row = this.#sql.exec(
      `SELECT COUNT(*) AS owners, SUM(c.copied + COALESCE(o.copied, 0)) AS copied, SUM(c.next_leaf >= 4096 AND COALESCE(o.done, 0) = 1) AS done
       FROM reshard_copy AS c LEFT JOIN reshard_or_copy AS o ON o.map = c.map AND o.partition = c.partition WHERE c.map = ?`,
      map,
    )[0];
    const owners = Number(row?.owners ?? 0);
    if (owners === 0) return {};
    return { copy: { copiedRecords: Number(row?.copied ?? 0), ownersCopied: Number(row?.done ?? 0), owners } };
  }

  /** Records that the old owner `partition` was copied up to `nextLeaf`, `copied` more records sent. */
  advanceCopy(map: string, partition: number, nextLeaf: number, copied: number): void {
    this.#sql.exec("UPDATE reshard_copy SET next_leaf = ?, copied = copied + ? WHERE map = ? AND partition = ?", nextLeaf, copied, map, partition);
  }

  /** Commits the map's new count (and raises the version) while its reshard still runs, to release the holds after. */
  commit(map: string, shards: number): void {
    this.#sql.transaction(() => {
      this.#sql.exec("INSERT OR REPLACE INTO shard_count (map, shards) VALUES (?, ?)", map, shards);
      this.#sql.exec("INSERT OR REPLACE INTO shard_meta (name, value) VALUES ('version', ?)", this.#version() + 1);
      this.setPhase(map, "releasing");
    });
  }

  /** Ends the map's reshard: `done` sets its new count (and raises the version), `refused` keeps the old one. */
  finish(map: string, outcome: ReshardOutcome): void {
    this.#sql.transaction(() => {
      this.#sql.exec("DELETE FROM reshard WHERE map = ?", map);
      this.#sql.exec("DELETE FROM reshard_copy WHERE map = ?", map);
      this.#sql.exec("DELETE FROM reshard_or_copy WHERE map = ?", map);
      this.#sql.exec("INSERT OR REPLACE INTO reshard_outcome (map, body) VALUES (?, ?)", map, JSON.stringify(outcome));
      if (outcome.result !== "done") return;
      this.#sql.exec("INSERT OR REPLACE INTO shard_count (map, shards) VALUES (?, ?)", map, outcome.toShards);
      this.#sql.exec("INSERT OR REPLACE INTO shard_meta (name, value) VALUES ('version', ?)", this.#version() + 1);
    });
  }

  lastOutcome(map: string): ReshardOutcome | undefined {
    const row = this.#sql.exec("SELECT body FROM reshard_outcome WHERE map = ?", map)[0];
    return row === undefined ? undefined : (JSON.parse(String(row.body)) as ReshardOutcome);
  }

  #version(): number {
    const value = this.#sql.exec("SELECT value FROM shard_meta WHERE name = 'version'")[0]?.value;
    return typeof value === "number" ? value : 0;
  }
}

function runningOf(row: Record<string, unknown>): RunningReshard {
  const phase = String(row.phase);
  return {
    map: String(row.map),
    fromShards: Number(row.from_shards),
    toShards: Number(row.to_shards),
    startedAt: Number(row.started_at),
    phase: PHASES.find((p) => p === phase) ?? "checking",
  };
}
