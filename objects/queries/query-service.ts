import { decodeValue, encodeMessage, encodeValue } from "../../core/codec.ts";
import { matchesQuery, TopEntries, type QueryEntry } from "../../core/predicate.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { decodeCursor } from "../../core/query-cursor.ts";
import { addToGroups, groupSpecOf, type GroupPartial } from "../../core/query-groups.ts";
import { projectValue } from "../../core/query-projection.ts";
import type { LwwChange } from "../writes/crdt-writer.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { HomeDeliveries, type DeliverEachToHome } from "../delivery/home-deliveries.ts";
import type { DeliverQueryEvents, QueryEvent } from "../delivery/query-events.ts";
import type { InterestRegistry } from "../delivery/interest-registry.ts";
import type { LwwStore } from "../writes/lww-store.ts";
import { bulkInsert, type SqlPort } from "../storage/sql-port.ts";
import { matchId, QueryMatches, type QueryMatch } from "./query-matches.ts";
import { queryModeOf, storedQuerySchema, type QueryAnswer, type QueryMode, type StoredQuery } from "./query-answer.ts";

/** Maps whose subscriptions are cached; the cache is only a shortcut for the write path. */
const MAX_CACHED_MAPS = 1024;

interface Subscription {
  home: number;
  conn: string;
  queryId: string;
  query: StoredQuery;
  mode: QueryMode;
}

/**
 * Owner role, live queries (PROTOCOL.md §10, Part A 6-7; PROTOCOL-NEXT.md §4): subscriptions live in SQLite
 * (query_sub), so they survive eviction. A subscription answers with its matching records (after the cursor, the best
 * `limit`+1 when limited) or, grouped, with this owner's partial aggregates. After each applied LWW write:
 * - a plain subscription (no limit, no groups) gets ENTER/UPDATE/LEAVE from here, the keys it holds kept in
 *   query_match;
 * - a windowed (limited) one sends the written keys to its home, which keeps the top-N window over every shard;
 * - a grouped one sends this owner's partial aggregates to its home, which merges the shards' and diffs group rows.
 * OR-Map writes do not reach queries (QUERY_RESP holds LWW records only, and the TS client's queries read LWW maps).
 */
export class QueryService {
  readonly #sql: SqlPort;
  readonly #lww: Pick<LwwStore, "scanLiveValues">;
  readonly #interest: InterestRegistry;
  readonly #deliver: DeliverEachToHome;
  readonly #deliverEvents: DeliverQueryEvents;
  readonly #partition: number;
  readonly #clock: () => number;
  readonly #cache = new Map<string, Subscription[]>();
  readonly #matches: QueryMatches;

  constructor(deps: {
    sql: SqlPort;
    /** The LWW records (scans see the write log through it). */
    lww: Pick<LwwStore, "scanLiveValues">;
    interest: InterestRegistry;
    deliver: DeliverEachToHome;
    deliverEvents?: DeliverQueryEvents;
    partition?: number;
    /** Wall-clock millis: records whose TTL ran out are left out of answers, as the client hides them. */
    clock?: () => number;
  }) {
    this.#sql = deps.sql;
    this.#lww = deps.lww;
    this.#interest = deps.interest;
    this.#deliver = deps.deliver;
    this.#deliverEvents = deps.deliverEvents ?? (async () => []);
    this.#partition = deps.partition ?? 0;
    this.#clock = deps.clock ?? Date.now;
    this.#matches = new QueryMatches(deps.sql);
  }

  /** Registers (or replaces) a subscription and answers this owner's matching records, in query order, or its groups. */
  subscribe(request: { map: string; queryId: string; query: Query; fields?: string[] | undefined; subscriber: ConnectionRef }): QueryAnswer {
    const { map, queryId } = request;
    const { home, conn } = request.subscriber;
    const stored: StoredQuery = { ...request.query, ...(request.fields ? { fields: request.fields } : {}) };
    const mode = queryModeOf(stored);
    const answer = this.#sql.transaction(() => {
      this.#remove(home, conn, queryId);
      this.#sql.exec(
        "INSERT INTO query_sub (home, conn, query_id, map, filter) VALUES (?, ?, ?, ?, ?)",
        home,
        conn,
        queryId,
        map,
        encodeValue(stored),
      );
      const result = this.#read(map, request.query, mode === "window" ? 1 : 0);
      if (mode === "plain" && result.kind === "entries") {
        bulkInsert(this.#sql, "query_match (home, conn, query_id, key)", result.entries.map((e) => [home, conn, queryId, e.key]));
      }
      return result;
    });
    this.#interest.register(map, "query", home, conn);
    this.#cache.clear();
    return answer;
  }

  /** A one-shot read: the best `limit` matching records after the cursor (all without a limit), or the groups. */
  read(request: { map: string; query: Query }): QueryAnswer {
    return this.#read(request.map, request.query, 0);
  }

  #read(map: string, query: Query, extra: number): QueryAnswer {
    if (queryModeOf(query) === "groups") {
      const spec = groupSpecOf(query);
      const groups = new Map<string, GroupPartial>();
      this.#lww.scanLiveValues(map, (key, value) => {
        if (matchesQuery(query, value, key)) addToGroups(spec, groups, value);
      }, { nowMs: this.#clock() });
      return { kind: "groups", groups: [...groups.values()] };
    }
    const after = query.cursor === undefined ? undefined : decodeCursor(query.sort, query.cursor);
    const limit = query.limit === undefined ? undefined : query.limit + extra;
    const top = new TopEntries({ sort: query.sort, limit, after });
    this.#lww.scanLiveValues(map, (key, value) => {
      if (matchesQuery(query, value, key)) top.offer({ key, value });
    }, { nowMs: this.#clock() });
    return { kind: "entries", entries: top.entries() };
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

  /**
   * Evaluates applied LWW changes (in write order) against the subscriptions of their maps and delivers the updates;
   * with `into`, the QUERY_UPDATE frames are added to it instead (the caller sends them with the write's other frames).
   * Grouped and windowed changes go to the homes' coordinators in either case.
   */
  async publish(written: readonly LwwChange[], into?: HomeDeliveries): Promise<void> {
    if (written.length === 0) return;
    // A value whose TTL already ran out is hidden as a delete would be: it leaves (with its value) or never enters.
    const now = this.#clock();
    const changes = written.map((c): LwwChange =>
      c.expiresAt !== undefined && c.expiresAt < now ? { map: c.map, key: c.key, value: null, previous: c.value } : c,
    );
    // Most writes reach maps nobody queries: then no transaction is opened.
    const queried = [...groupByMap(changes)].filter(([map]) => this.#subscriptionsOf(map).length > 0);
    if (queried.length === 0) return;
    const outbox = into ?? new HomeDeliveries();
    const events = new Map<number, QueryEvent[]>();
    const addEvent = (home: number, event: QueryEvent) => {
      const list = events.get(home);
      if (list) list.push(event);
      else events.set(home, [event]);
    };
    this.#sql.transaction(() => {
      for (const [map, list] of queried) {
        const subs = this.#subscriptionsOf(map);
        const keys = [...new Set(list.map((c) => c.key))];
        const held = this.#matches.held(subs.filter((sub) => sub.mode === "plain"), keys);
        const moved: MatchMoves = { entered: [], left: [] };
        for (const sub of subs) {
          const base = { conn: sub.conn, queryId: sub.queryId, partition: this.#partition };
          if (sub.mode === "plain") outbox.add(sub.home, sub.conn, evaluatePlain(sub, list, keys, held, moved));
          else if (sub.mode === "window") addEvent(sub.home, { ...base, changes: windowChanges(sub.query, list) });
          else {
            const answer = this.#read(map, sub.query, 0);
            if (answer.kind === "groups") addEvent(sub.home, { ...base, groups: answer.groups });
          }
        }
        this.#matches.update(moved.entered, moved.left);
      }
    });
    const dropUnknown = (home: number, conn: string) => {
      this.dropConnection(home, conn);
      this.#interest.dropConnection(home, conn);
    };
    await Promise.all([
      into ? undefined : outbox.send(this.#deliver, dropUnknown, "query"),
      ...[...events].map(([home, list]) =>
        this.#deliverEvents(home, list).then(
          (unknown) => unknown.forEach((conn) => dropUnknown(home, conn)),
          (err: unknown) => console.error(`[owner] query event delivery to home p${home} failed`, err),
        ),
      ),
    ]);
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

  /**
   * A reshard's cut-over changed which records of `map` this owner holds: every grouped subscription's home gets this
   * owner's partial aggregates as they are now (`empty`: none, when the owner leaves the map's placement), since its
   * home still holds what this owner sent before the move. Read now; the answer is the delivery.
   */
  announceGroups(map: string, options: { empty?: boolean } = {}): Promise<void> {
    const events = new Map<number, QueryEvent[]>();
    for (const sub of this.#subscriptionsOf(map)) {
      if (sub.mode !== "groups") continue;
      const answer = options.empty ? undefined : this.#read(map, sub.query, 0);
      const groups = answer?.kind === "groups" ? answer.groups : [];
      const event = { conn: sub.conn, queryId: sub.queryId, partition: this.#partition, groups };
      const list = events.get(sub.home);
      if (list) list.push(event);
      else events.set(sub.home, [event]);
    }
    return Promise.all(
      [...events].map(([home, list]) =>
        this.#deliverEvents(home, list).then(
          () => undefined,
          (err: unknown) => console.error(`[owner] grouped query partials after a reshard to home p${home} failed`, err),
        ),
      ),
    ).then(() => undefined);
  }

  /** The subscriptions on `map`, as `subscribe` takes them (a reshard registers them at the map's new owners). */
  subscriptionsOn(map: string): { queryId: string; query: Query; fields?: string[]; subscriber: ConnectionRef }[] {
    return this.#subscriptionsOf(map).map(({ home, conn, queryId, query: { fields, ...query } }) => ({
      queryId, query, ...(fields ? { fields } : {}), subscriber: { home, conn },
    }));
  }

  #subscriptionsOf(map: string): Subscription[] {
    let subs = this.#cache.get(map);
    if (!subs) {
      subs = [];
      for (const row of this.#sql.exec("SELECT home, conn, query_id, filter FROM query_sub WHERE map = ?", map)) {
        if (!(row.filter instanceof Uint8Array)) continue;
        const parsed = storedQuerySchema.safeParse(decodeValue(row.filter));
        // Stored by subscribe() from a validated query; a row that no longer parses cannot match anything.
        if (!parsed.success) continue;
        const query = parsed.data;
        subs.push({ home: Number(row.home), conn: String(row.conn), queryId: String(row.query_id), query, mode: queryModeOf(query) });
      }
      if (this.#cache.size >= MAX_CACHED_MAPS) this.#cache.clear();
      this.#cache.set(map, subs);
    }
    return subs;
  }
}

/** The (subscription, key) pairs a batch adds to query_match and removes from it. */
interface MatchMoves {
  entered: QueryMatch[];
  left: QueryMatch[];
}

/**
 * The QUERY_UPDATE frames of one plain subscription for `changes` (in write order), from the written `keys` it `held`
 * before the batch; notes the keys it gains and loses in `moved`.
 */
function evaluatePlain(sub: Subscription, changes: readonly LwwChange[], keys: readonly string[], held: ReadonlySet<string>, moved: MatchMoves): Uint8Array[] {
  const { home, conn, queryId } = sub;
  const before = new Set(keys.filter((key) => held.has(matchId({ home, conn, queryId, key }))));
  const matching = new Set(before);
  const frames: Uint8Array[] = [];
  for (const { key, value, previous } of changes) {
    const isMatch = value !== null && matchesQuery(sub.query, value, key);
    const wasMatch = matching.has(key);
    if (!isMatch && !wasMatch) continue;
    const changeType = isMatch ? (wasMatch ? "UPDATE" : "ENTER") : "LEAVE";
    if (isMatch) matching.add(key);
    else matching.delete(key);
    // A delete's LEAVE carries the value the key held (PROTOCOL.md §10.3); a LEAVE by update, the new value.
    const sent = projectValue(value === null ? (previous ?? null) : value, sub.query.fields);
    frames.push(encodeMessage({ type: "QUERY_UPDATE", payload: { queryId, key, value: sent, changeType } }));
  }
  for (const key of matching) if (!before.has(key)) moved.entered.push({ home, conn, queryId, key });
  for (const key of before) if (!matching.has(key)) moved.left.push({ home, conn, queryId, key });
  return frames;
}

/** A windowed query's view of a batch: the last value of each written key, null when it does not match. */
function windowChanges(query: StoredQuery, changes: readonly LwwChange[]): { key: string; value: unknown }[] {
  const last = new Map<string, unknown>();
  for (const { key, value } of changes) last.set(key, value !== null && matchesQuery(query, value, key) ? value : null);
  return [...last].map(([key, value]) => ({ key, value }));
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
