import { decodeValue, encodeMessage, encodeValue } from "../../core/codec.ts";
import { searchOptionsSchema, type SearchOptions } from "../../core/protocol/shared.ts";
import type { LwwChange } from "../writes/crdt-writer.ts";
import type { LwwStore } from "../writes/lww-store.ts";
import { readOrValues } from "../writes/or-store.ts";
import { isExpired } from "../../core/lww-map.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { HomeDeliveries, type DeliverEachToHome } from "../delivery/home-deliveries.ts";
import type { SearchHit, SearchIndexes } from "./search-index.ts";
import { documentText, termsOf } from "./search-terms.ts";
import { termStatsSchema, type TermStats } from "./term-stats.ts";
import { bulkInsert, JSON_LIST, type SqlPort } from "../storage/sql-port.ts";

/** SEARCH's default `limit` (PROTOCOL.md §11.4). */
export const SEARCH_DEFAULT_LIMIT = 10;
/** With `boost`, this many best hits are re-scored (their values are read to see which fields matched). */
const MAX_BOOST_CANDIDATES = 1000;
/** Maps whose subscriptions are cached; the cache is only a shortcut for the write path. */
const MAX_CACHED_MAPS = 1024;

/** One search result as SEARCH_RESP carries it. */
export interface SearchResult {
  key: string;
  value: unknown;
  score: number;
  matchedTerms: string[];
}

interface Subscription {
  home: number;
  conn: string;
  subscriptionId: string;
  query: string;
  options: SearchOptions;
  /** A sharded map's whole term statistics when it subscribed: live updates are scored with them. */
  stats: TermStats | undefined;
}

/**
 * Owner role, full-text search (PROTOCOL.md §11.4, Part A 8). Searches run on the map's minisearch index
 * (search-index.ts), which holds LWW records and OR-Map keys (a key's values, oldest first, are one document whose
 * result `value` is that array). `boost` maps top-level field names to factors: a hit's score is multiplied by the largest factor
 * of the fields whose strings hold a matched term (among the 1000 best hits). Subscriptions and the keys each
 * currently holds live in SQLite (search_sub, search_match), so they survive eviction; after each applied LWW write
 * the changed documents are scored per subscription and ENTER/UPDATE/LEAVE goes to the subscriber's home.
 */
export class SearchService {
  readonly #sql: SqlPort;
  readonly #indexes: SearchIndexes;
  readonly #lww: Pick<LwwStore, "readKeys">;
  readonly #deliver: DeliverEachToHome;
  readonly #cache = new Map<string, Subscription[]>();
  readonly #clock: () => number;

  /** `clock`: wall-clock millis; a record whose TTL ran out is left out of results (as readers hide it). */
  constructor(deps: { sql: SqlPort; indexes: SearchIndexes; lww: Pick<LwwStore, "readKeys">; deliver: DeliverEachToHome; clock?: () => number }) {
    this.#clock = deps.clock ?? Date.now;
    this.#sql = deps.sql;
    this.#lww = deps.lww;
    this.#indexes = deps.indexes;
    this.#deliver = deps.deliver;
  }

  /** This index's statistics of the terms of `query`, for a sharded map's whole-map scoring (term-stats.ts). */
  termStats(request: { map: string; query: string }): TermStats {
    return this.#indexes.termStats(request.map, request.query);
  }

  /**
   * This owner's best results for `query`: score descending, `minScore` and `limit` applied; scored with `stats`
   * (a sharded map's whole statistics) when given.
   */
  search(request: { map: string; query: string; options?: SearchOptions | undefined; stats?: TermStats | undefined }): SearchResult[] {
    const { map, query } = request;
    const options = request.options ?? {};
    const hits = this.#indexes.search(map, query, undefined, request.stats);
    const boosted = hasBoost(options) ? hits.slice(0, MAX_BOOST_CANDIDATES) : hits;
    const values = hasBoost(options) ? this.#values(map, boosted.map((h) => h.key)) : undefined;
    if (values) for (const hit of boosted) hit.score *= boostOf(options, values.get(hit.key), hit.matchedTerms);
    const kept = boosted.filter((h) => h.score >= (options.minScore ?? 0) && h.score > 0).sort(byScore);
    const top = kept.slice(0, options.limit ?? SEARCH_DEFAULT_LIMIT);
    const read = values ?? this.#values(map, top.map((h) => h.key));
    return top.flatMap((h) => {
      const value = read.get(h.key);
      return value === undefined ? [] : [{ key: h.key, value, score: h.score, matchedTerms: h.matchedTerms }];
    });
  }

  /** SEARCH_SUB: registers (or replaces) a subscription; its results become its current set. */
  subscribe(request: {
    map: string;
    subscriptionId: string;
    query: string;
    options?: SearchOptions | undefined;
    stats?: TermStats | undefined;
    subscriber: ConnectionRef;
  }): SearchResult[] {
    const { map, subscriptionId, query, stats } = request;
    const { home, conn } = request.subscriber;
    const options = request.options ?? {};
    const results = this.search({ map, query, options, stats });
    this.#sql.transaction(() => {
      this.#remove(home, conn, subscriptionId);
      this.#sql.exec(
        "INSERT INTO search_sub (home, conn, sub_id, map, query, options) VALUES (?, ?, ?, ?, ?, ?)",
        home,
        conn,
        subscriptionId,
        map,
        query,
        encodeValue(stats ? { ...options, termStats: stats } : options),
      );
      bulkInsert(this.#sql, "search_match (home, conn, sub_id, key)", results.map((r) => [home, conn, subscriptionId, r.key]));
    });
    this.#cache.clear();
    return results;
  }

  unsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): void {
    const { home, conn } = request.subscriber;
    this.#sql.transaction(() => this.#remove(home, conn, request.subscriptionId));
    this.#cache.clear();
  }

  dropConnection(home: number, conn: string): void {
    this.#sql.transaction(() => {
      this.#sql.exec("DELETE FROM search_sub WHERE home = ? AND conn = ?", home, conn);
      this.#sql.exec("DELETE FROM search_match WHERE home = ? AND conn = ?", home, conn);
    });
    this.#cache.clear();
  }

  /**
   * Keeps the indexes up to date with applied LWW changes and changed OR-Map keys (`orKeys`: a key's document is its
   * values), and sends SEARCH_UPDATEs to the subscriptions of their maps; with `into`, adds them to it instead (the
   * caller sends it with other frames of the same write).
   */
  async publish(changes: readonly LwwChange[], orKeys: readonly { map: string; key: string }[] = [], into?: HomeDeliveries): Promise<void> {
    if (changes.length === 0 && orKeys.length === 0) return;
    // Most writes reach a map with no subscription and no index in memory: then there is nothing to do (and no
    // transaction to open).
    const byMap = latestByMap(changes);
    for (const { map, key } of orKeys) {
      const keys = byMap.get(map) ?? new Map<string, { value: unknown; previous: unknown; or?: boolean }>();
      keys.set(key, { value: null, previous: null, or: true });
      byMap.set(map, keys);
    }
    const touched = [...byMap].filter(([map]) => this.#subscriptionsOf(map).length > 0 || this.#indexes.has(map));
    if (touched.length === 0) return;
    const outbox = into ?? new HomeDeliveries();
    this.#sql.transaction(() => {
      for (const [map, written] of touched) {
        const subs = this.#subscriptionsOf(map);
        // SQLite's values, not the written ones: a later write to these keys may have committed while this one
        // waited (for Postgres), and the index and the subscriptions' sets must end at the stored state.
        // A record whose TTL ran out counts as deleted (it leaves the index and the subscriptions at once).
        const now = this.#clock();
        const lwwKeys = [...written].filter(([, w]) => !w.or).map(([key]) => key);
        const orValues = readOrValues(this.#sql, map, [...written].filter(([, w]) => w.or).map(([key]) => key), now);
        const stored = this.#lww.readKeys(map, lwwKeys);
        const liveOf = (key: string) => {
          const record = stored.get(key);
          return record && !isExpired(record, now) ? record.value : null;
        };
        const latest = new Map([...written].map(([key, w]): [string, unknown] => [key, w.or ? (orValues.get(key) ?? null) : liveOf(key)]));
        this.#indexes.update([...latest].map(([key, value]) => ({ map, key, value })));
        // A key that a delete removed leaves with the value it had (PROTOCOL.md §10.3, as QUERY_UPDATE does).
        const removed = new Map([...written].map(([key, change]) => [key, change.previous ?? null]));
        for (const sub of subs) {
          outbox.add(sub.home, sub.conn, this.#evaluate(map, sub, latest, removed));
        }
      }
    });
    if (!into) await outbox.send(this.#deliver, (home, conn) => this.dropConnection(home, conn), "search");
  }

  /** The SEARCH_UPDATE frames of one subscription for the latest change of each key, keeping its stored set in step. */
  #evaluate(map: string, sub: Subscription, latest: Map<string, unknown>, removed: Map<string, unknown>): Uint8Array[] {
    const keys = [...latest.keys()];
    const before = new Set(
      this.#sql
        .exec(
          `SELECT key FROM search_match WHERE home = ? AND conn = ? AND sub_id = ? AND key IN ${JSON_LIST}`,
          sub.home,
          sub.conn,
          sub.subscriptionId,
          JSON.stringify(keys),
        )
        .map((row) => String(row.key)),
    );
    const live = new Set(keys.filter((key) => latest.get(key) !== null));
    const scored = new Map<string, SearchHit>();
    if (live.size > 0) {
      for (const hit of this.#indexes.search(map, sub.query, live, sub.stats)) {
        hit.score *= boostOf(sub.options, latest.get(hit.key), hit.matchedTerms);
        if (hit.score > 0 && hit.score >= (sub.options.minScore ?? 0)) scored.set(hit.key, hit);
      }
    }
    const frames: Uint8Array[] = [];
    const entered: string[] = [];
    const left: string[] = [];
    for (const [key, value] of latest) {
      const hit = scored.get(key);
      const was = before.has(key);
      if (!hit && !was) continue;
      const changeType = hit ? (was ? "UPDATE" : "ENTER") : "LEAVE";
      if (changeType === "ENTER") entered.push(key);
      if (changeType === "LEAVE") left.push(key);
      const sent = value === null ? (removed.get(key) ?? null) : value;
      const payload = { subscriptionId: sub.subscriptionId, key, value: sent, score: hit?.score ?? 0, matchedTerms: hit?.matchedTerms ?? [], changeType };
      frames.push(encodeMessage({ type: "SEARCH_UPDATE", payload }));
    }
    bulkInsert(this.#sql, "search_match (home, conn, sub_id, key)", entered.map((key) => [sub.home, sub.conn, sub.subscriptionId, key]));
    if (left.length > 0) {
      this.#sql.exec(
        `DELETE FROM search_match WHERE home = ? AND conn = ? AND sub_id = ? AND key IN ${JSON_LIST}`,
        sub.home,
        sub.conn,
        sub.subscriptionId,
        JSON.stringify(left),
      );
    }
    return frames;
  }

  #remove(home: number, conn: string, subscriptionId: string): void {
    this.#sql.exec("DELETE FROM search_sub WHERE home = ? AND conn = ? AND sub_id = ?", home, conn, subscriptionId);
    this.#sql.exec("DELETE FROM search_match WHERE home = ? AND conn = ? AND sub_id = ?", home, conn, subscriptionId);
  }

  /**
   * The live values of `keys` in `map`: an LWW record's value, or an OR-Map key's values; records whose TTL ran out
   * are left out at once (the alarm deletes them soon after, which sends their LEAVE).
   */
  #values(map: string, keys: readonly string[]): Map<string, unknown> {
    const values = new Map<string, unknown>();
    if (keys.length === 0) return values;
    const now = this.#clock();
    const lww = this.#lww.readKeys(map, keys);
    for (const [key, record] of lww) if (record.value !== null && !isExpired(record, now)) values.set(key, record.value);
    const rest = keys.filter((key) => !values.has(key));
    for (const [key, list] of readOrValues(this.#sql, map, rest, now)) values.set(key, list);
    return values;
  }

  /** The subscriptions on `map`, as `subscribe` takes them (a reshard registers them at the map's new owners). */
  subscriptionsOn(map: string): { subscriptionId: string; query: string; options: SearchOptions; stats?: TermStats; subscriber: ConnectionRef }[] {
    return this.#subscriptionsOf(map).map(({ home, conn, subscriptionId, query, options, stats }) => ({
      subscriptionId, query, options, ...(stats ? { stats } : {}), subscriber: { home, conn },
    }));
  }

  /** Drops the indexes in memory (a reshard changed the records under them; they are rebuilt on demand). */
  forgetIndexes(): void {
    this.#indexes.clear();
  }

  #subscriptionsOf(map: string): Subscription[] {
    let subs = this.#cache.get(map);
    if (!subs) {
      subs = [];
      for (const row of this.#sql.exec("SELECT home, conn, sub_id, query, options FROM search_sub WHERE map = ?", map)) {
        if (!(row.options instanceof Uint8Array)) continue;
        const stored = decodeValue(row.options);
        const parsed = searchOptionsSchema.safeParse(stored);
        if (!parsed.success) continue;
        const stats = isMap(stored) ? termStatsSchema.safeParse(stored.termStats) : undefined;
        subs.push({
          home: Number(row.home),
          conn: String(row.conn),
          subscriptionId: String(row.sub_id),
          query: String(row.query),
          options: parsed.data,
          stats: stats?.success ? stats.data : undefined,
        });
      }
      if (this.#cache.size >= MAX_CACHED_MAPS) this.#cache.clear();
      this.#cache.set(map, subs);
    }
    return subs;
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Score descending, then key, so equal scores come in a stable order. */
export function byScore(a: { key: string; score: number }, b: { key: string; score: number }): number {
  return b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function hasBoost(options: SearchOptions): boolean {
  return options.boost !== undefined && Object.keys(options.boost).length > 0;
}

/** The largest boost of the top-level fields of `value` whose strings hold one of `terms`; 1 when none does. */
function boostOf(options: SearchOptions, value: unknown, terms: readonly string[]): number {
  const boost = options.boost;
  if (!boost || value === null || typeof value !== "object" || Array.isArray(value)) return 1;
  const wanted = new Set(terms);
  let factor: number | undefined;
  for (const [field, weight] of Object.entries(boost)) {
    if (!Object.hasOwn(value, field)) continue;
    const tokens = termsOf(documentText((value as Record<string, unknown>)[field]));
    if (tokens.some((t) => wanted.has(t))) factor = Math.max(factor ?? weight, weight);
  }
  return factor === undefined || !(factor > 0) ? 1 : factor;
}

/** The last change of each key, per map, in first-write order of the keys. */
/** Per map, each changed key's last change: the value written and, for a delete, the value it removed. */
function latestByMap(changes: readonly LwwChange[]): Map<string, Map<string, { value: unknown; previous: unknown; or?: boolean }>> {
  const byMap = new Map<string, Map<string, { value: unknown; previous: unknown; or?: boolean }>>();
  for (const { map, key, value, previous } of changes) {
    const keys = byMap.get(map) ?? new Map<string, { value: unknown; previous: unknown; or?: boolean }>();
    keys.set(key, { value, previous });
    byMap.set(map, keys);
  }
  return byMap;
}
