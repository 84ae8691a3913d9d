import { decodeValue, encodeMessage, encodeValue } from "../../core/codec.ts";
import { matchesQuery, TopEntries, type QueryEntry } from "../../core/predicate.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { querySchema } from "../../core/protocol/shared.ts";
import { decodeCursor } from "../../core/query-cursor.ts";
import type { LwwChange } from "../writes/crdt-writer.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { HomeDeliveries, type DeliverEachToHome } from "../delivery/home-deliveries.ts";
import type { InterestRegistry } from "../delivery/interest-registry.ts";
import { scanLiveValues } from "../writes/lww-store.ts";
import { bulkInsert, JSON_LIST, type SqlPort } from "../storage/sql-port.ts";

/** Maps whose subscriptions are cached; the cache is only a shortcut for the write path. */
const MAX_CACHED_MAPS = 1024;

interface Subscription {
  home: number;
  conn: string;
  queryId: string;
  filter: Pick<Query, "where" | "predicate">;
}

/**
 * Owner role, live queries (PROTOCOL.md §10, Part A 6-7): subscriptions and the keys each one currently holds live in
 * SQLite (query_sub, query_match), so they survive eviction. A subscription answers with its matching records (after
 * the cursor, the best `limit`+1 when limited); after each applied LWW write it sends ENTER/UPDATE/LEAVE to the
 * subscribing connection, the writer's included. OR-Map writes do not reach queries (QUERY_RESP holds LWW records
 * only, and the TS client's live queries read LWW maps).
 */
export class QueryService {
  readonly #sql: SqlPort;
  readonly #interest: InterestRegistry;
  readonly #deliver: DeliverEachToHome;
  readonly #cache = new Map<string, Subscription[]>();

  constructor(deps: { sql: SqlPort; interest: InterestRegistry; deliver: DeliverEachToHome }) {
    this.#sql = deps.sql;
    this.#interest = deps.interest;
    this.#deliver = deps.deliver;
  }

  /** Registers (or replaces) a subscription and answers this owner's matching live records, in query order. */
  subscribe(request: { map: string; queryId: string; query: Query; subscriber: ConnectionRef }): QueryEntry[] {
    const { map, queryId, query } = request;
    const { home, conn } = request.subscriber;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.sort, query.cursor);
    const top = new TopEntries({ sort: query.sort, limit: query.limit === undefined ? undefined : query.limit + 1, after });
    const results = this.#sql.transaction(() => {
      this.#remove(home, conn, queryId);
      const filter = { where: query.where, predicate: query.predicate };
      this.#sql.exec(
        "INSERT INTO query_sub (home, conn, query_id, map, filter) VALUES (?, ?, ?, ?, ?)",
        home,
        conn,
        queryId,
        map,
        encodeValue(filter),
      );
      scanLiveValues(this.#sql, map, (key, value) => {
        if (matchesQuery(filter, value)) top.offer({ key, value });
      });
      const entries = top.entries();
      bulkInsert(this.#sql, "query_match (home, conn, query_id, key)", entries.map((e) => [home, conn, queryId, e.key]));
      return entries;
    });
    this.#interest.register(map, "query", home, conn);
    this.#cache.clear();
    return results;
  }

  /** QUERY_UNSUB: forgets the subscription, and the connection's query interest in a map it no longer queries. */
  unsubscribe(request: { queryId: string; subscriber: ConnectionRef }): void {
    const { home, conn } = request.subscriber;
    this.#sql.transaction(() => this.#remove(home, conn, request.queryId));
    this.#cache.clear();
  }

  dropConnection(home: number, conn: string): void {
    this.#sql.transaction(() => {
      this.#sql.exec("DELETE FROM query_sub WHERE home = ? AND conn = ?", home, conn);
      this.#sql.exec("DELETE FROM query_match WHERE home = ? AND conn = ?", home, conn);
    });
    this.#cache.clear();
  }

  /** Evaluates applied LWW changes (in write order) against the subscriptions of their maps and delivers the updates. */
  async publish(changes: readonly LwwChange[]): Promise<void> {
    if (changes.length === 0) return;
    // Most writes reach maps nobody queries: then no transaction is opened.
    const queried = [...groupByMap(changes)].filter(([map]) => this.#subscriptionsOf(map).length > 0);
    if (queried.length === 0) return;
    const outbox = new HomeDeliveries();
    this.#sql.transaction(() => {
      for (const [map, list] of queried) {
        for (const sub of this.#subscriptionsOf(map)) {
          outbox.add(sub.home, sub.conn, this.#evaluate(sub, list));
        }
      }
    });
    await outbox.send(this.#deliver, (home, conn) => {
      this.dropConnection(home, conn);
      this.#interest.dropConnection(home, conn);
    }, "query");
  }

  /** The QUERY_UPDATE frames of one subscription for `changes`, keeping its stored matching keys in step. */
  #evaluate(sub: Subscription, changes: readonly LwwChange[]): Uint8Array[] {
    const keys = [...new Set(changes.map((c) => c.key))];
    const before = new Set(
      this.#sql
        .exec(
          `SELECT key FROM query_match WHERE home = ? AND conn = ? AND query_id = ? AND key IN ${JSON_LIST}`,
          sub.home,
          sub.conn,
          sub.queryId,
          JSON.stringify(keys),
        )
        .map((row) => String(row.key)),
    );
    const matching = new Set(before);
    const frames: Uint8Array[] = [];
    for (const { key, value, previous } of changes) {
      const isMatch = value !== null && matchesQuery(sub.filter, value);
      const wasMatch = matching.has(key);
      if (!isMatch && !wasMatch) continue;
      const changeType = isMatch ? (wasMatch ? "UPDATE" : "ENTER") : "LEAVE";
      if (isMatch) matching.add(key);
      else matching.delete(key);
      // A delete's LEAVE carries the value the key held (PROTOCOL.md §10.3); a LEAVE by update, the new value.
      const sent = value === null ? (previous ?? null) : value;
      frames.push(encodeMessage({ type: "QUERY_UPDATE", payload: { queryId: sub.queryId, key, value: sent, changeType } }));
    }
    const entered = [...matching].filter((key) => !before.has(key));
    const left = [...before].filter((key) => !matching.has(key));
    bulkInsert(this.#sql, "query_match (home, conn, query_id, key)", entered.map((key) => [sub.home, sub.conn, sub.queryId, key]));
    if (left.length > 0) {
      this.#sql.exec(
        `DELETE FROM query_match WHERE home = ? AND conn = ? AND query_id = ? AND key IN ${JSON_LIST}`,
        sub.home,
        sub.conn,
        sub.queryId,
        JSON.stringify(left),
      );
    }
    return frames;
  }

  #remove(home: number, conn: string, queryId: string): void {
    const maps = this.#sql.exec("SELECT map FROM query_sub WHERE home = ? AND conn = ? AND query_id = ?", home, conn, queryId);
    this.#sql.exec("DELETE FROM query_sub WHERE home = ? AND conn = ? AND query_id = ?", home, conn, queryId);
    this.#sql.exec("DELETE FROM query_match WHERE home = ? AND conn = ? AND query_id = ?", home, conn, queryId);
    for (const row of maps) {
      const map = String(row.map);
      const others = this.#sql.exec("SELECT 1 AS one FROM query_sub WHERE map = ? AND home = ? AND conn = ? LIMIT 1", map, home, conn);
      if (others.length === 0) this.#interest.unregister(map, "query", home, conn);
    }
  }

  #subscriptionsOf(map: string): Subscription[] {
    let subs = this.#cache.get(map);
    if (!subs) {
      subs = [];
      for (const row of this.#sql.exec("SELECT home, conn, query_id, filter FROM query_sub WHERE map = ?", map)) {
        if (!(row.filter instanceof Uint8Array)) continue;
        const parsed = querySchema.safeParse(decodeValue(row.filter));
        // Stored by subscribe() from a validated query; a row that no longer parses cannot match anything.
        if (!parsed.success) continue;
        subs.push({ home: Number(row.home), conn: String(row.conn), queryId: String(row.query_id), filter: parsed.data });
      }
      if (this.#cache.size >= MAX_CACHED_MAPS) this.#cache.clear();
      this.#cache.set(map, subs);
    }
    return subs;
  }
}

function groupByMap(changes: readonly LwwChange[]): Map<string, LwwChange[]> {
  const byMap = new Map<string, LwwChange[]>();
  for (const change of changes) {
    const list = byMap.get(change.map);
    if (list) list.push(change);
    else byMap.set(change.map, [change]);
  }
  return byMap;
}
