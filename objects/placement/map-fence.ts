import { fnv1a } from "../../core/hash.ts";
import { PARTITION_COUNT, partitionOfShard } from "../../core/placement.ts";
import type { SqlPort } from "../storage/sql-port.ts";

// Created here rather than as a numbered schema step: the table belongs to this module alone and is tiny.
const DDL = "CREATE TABLE IF NOT EXISTS map_fence (map TEXT PRIMARY KEY, shards INTEGER NOT NULL) WITHOUT ROWID";

/** What a partition holds of a map when it is fenced: data, and subscribers that expect its events. */
export interface MapOccupancy {
  /** Records, tombstones, write-log entries or OR-Map entries of the map. */
  holdsData: boolean;
  /** OR-Map entries or tombstones of the map (an online reshard moves them with its LWW records). */
  holdsOrData: boolean;
  /** Sync listeners, live queries, search subscriptions and journal subscriptions naming the map. */
  subscribers: number;
}

/**
 * Owner role: the shard count of each map the namespace's control object told this partition about (a reshard), in
 * SQLite. An op for a key this partition does not own under that count comes from a home whose copy of the shard
 * counts is stale; the owner refuses the whole request so the home refreshes its copy and sends the ops again.
 * Maps never resharded have no fence and are accepted as before.
 */
export class MapFence {
  readonly #sql: SqlPort;
  readonly #partition: number;
  readonly #fences = new Map<string, number>();

  constructor(sql: SqlPort, partition: number) {
    this.#sql = sql;
    this.#partition = partition;
    sql.exec(DDL);
    for (const row of sql.exec("SELECT map, shards FROM map_fence")) this.#fences.set(String(row.map), Number(row.shards));
  }

  /** The first map of `ops` with a key this partition does not own under its fence, if any. */
  refusedMap(ops: readonly { map: string; key: string }[]): string | undefined {
    if (this.#fences.size === 0) return undefined;
    for (const op of ops) if (!this.owns(op.map, op.key)) return op.map;
    return undefined;
  }

  /** True unless the map is fenced at another count than `shards` (the count the caller placed the map by). */
  acceptsCount(map: string, shards: number | undefined): boolean {
    const fenced = this.#fences.get(map);
    return fenced === undefined || shards === undefined || fenced === shards;
  }

  /** True unless the map is fenced at a count under which this partition owns none of its shards. */
  ownsShardOf(map: string): boolean {
    const shards = this.#fences.get(map);
    return shards === undefined || (this.#partition - partitionOfShard(map, 0) + PARTITION_COUNT) % PARTITION_COUNT < shards;
  }

  owns(map: string, key: string): boolean {
    const shards = this.#fences.get(map);
    return shards === undefined || partitionOfShard(map, fnv1a(key) % shards) === this.#partition;
  }

  /**
   * Fences `map` at `shards` and reports what this partition holds of it, in one transaction: no write can come
   * between the fence and the look, so an empty answer stays true for every write placed by the old count.
   */
  fence(map: string, shards: number): MapOccupancy {
    return this.#sql.transaction(() => {
      this.#sql.exec("INSERT OR REPLACE INTO map_fence (map, shards) VALUES (?, ?)", map, shards);
      this.#fences.set(map, shards);
      return this.#occupancy(map);
    });
  }

  /** What this partition holds of `map`, changing nothing. */
  inspect(map: string): MapOccupancy {
    return this.#occupancy(map);
  }

  #occupancy(map: string): MapOccupancy {
    const holds = (table: string) => this.#sql.exec(`SELECT 1 AS one FROM ${table} WHERE map = ? LIMIT 1`, map).length > 0;
    const count = (table: string) => Number(this.#sql.exec(`SELECT COUNT(*) AS n FROM ${table} WHERE map = ?`, map)[0]?.n ?? 0);
    return {
      holdsData: ["lww_record", "lww_log", "or_key", "or_record", "or_tombstone"].some(holds),
      holdsOrData: ["or_key", "or_record", "or_tombstone"].some(holds),
      subscribers: ["interest", "query_sub", "search_sub", "journal_sub"].reduce((sum, table) => sum + count(table), 0),
    };
  }
}
