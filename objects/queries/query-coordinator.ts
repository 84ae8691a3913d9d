import { decodeValue, encodeValue } from "../../core/codec.ts";
import { ProtocolError } from "../../core/errors.ts";
import { compareEntries, sortPositionOf, type QueryEntry } from "../../core/predicate.ts";
import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { decodeCursor, encodeCursor } from "../../core/query-cursor.ts";
import { projectValue } from "../../core/query-projection.ts";
import { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { QueryEvent } from "../delivery/query-events.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { queryModeOf, storedQuerySchema, type QueryAnswer, type StoredQuery } from "./query-answer.ts";
import { GroupView } from "./group-view.ts";
import { QueryReader, type QueryReadOwner } from "./query-reader.ts";
import { WindowView } from "./window-view.ts";

/** What live queries ask of the owners of a map's shards. */
export interface QueryOwner extends QueryReadOwner {
  /** `shards`: the count the home placed the map by (an owner fenced at another count refuses: objects/placement/). */
  querySubscribe(request: { map: string; queryId: string; query: Query; fields?: string[] | undefined; subscriber: ConnectionRef; shards?: number }): Promise<QueryAnswer>;
  queryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void>;
}

export type QueryReply = (message: unknown) => void;

/** Sends frames to a connection of this home; false when the home no longer has it. */
export type SendToConnection = (conn: string, frames: Uint8Array[]) => Promise<boolean>;

/**
 * Home role, live queries (PROTOCOL.md §10, Part A 7; PROTOCOL-NEXT.md §4): registers a QUERY_SUB at the map's owner
 * (every shard of a sharded map, in parallel), merges and sorts their answers, cuts the page at `limit`, projects
 * `fields` and answers QUERY_RESP. Each connection's queries are kept in SQLite (conn_query) so QUERY_UNSUB and the
 * connection's close reach the owners. Grouped and limited queries are also kept here (query_view with GroupView and
 * WindowView), since their results span every shard: owners send their changes (`ownerEvents`) and this home diffs.
 */
export class QueryCoordinator {
  readonly #owners: (partition: number) => QueryOwner;
  readonly #shards: () => ShardConfig;
  readonly #sql: SqlPort;
  readonly #subs: ConnectionSubscriptions;
  readonly #home: number;
  readonly #send: SendToConnection;
  readonly #reader: QueryReader;
  readonly #groups: GroupView;
  readonly #windows: WindowView;
  /** Owner events are applied one at a time: a window re-read awaits the owners. */
  #events: Promise<unknown> = Promise.resolve();

  constructor(deps: { owners: (partition: number) => QueryOwner; shards: () => ShardConfig; sql: SqlPort; home: number; send?: SendToConnection }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#sql = deps.sql;
    this.#subs = new ConnectionSubscriptions(deps.sql, { name: "conn_query", id: "query_id" });
    this.#home = deps.home;
    this.#send = deps.send ?? (async () => true);
    this.#reader = new QueryReader({ owners: deps.owners, shards: deps.shards });
    this.#groups = new GroupView(deps.sql);
    this.#windows = new WindowView(deps.sql);
  }

  /** One-shot reads of a map over every shard, as queries run them (SQL uses it). */
  get reader(): QueryReader {
    return this.#reader;
  }

  /** QUERY_SUB: a new subscription, or the replacement of the connection's subscription of the same id. */
  async subscribe(
    conn: string,
    request: { queryId: string; mapName: string; query: Query; fields?: string[] | undefined },
    reply: QueryReply,
  ): Promise<void> {
    const { queryId, mapName: map, query, fields } = request;
    if (query.cursor !== undefined && decodeCursor(query.sort, query.cursor) === undefined) {
      throw new ProtocolError("INVALID_MESSAGE", "cursor does not continue a query with this sort");
    }
    const previous = this.#subs.mapOf(conn, queryId);
    if (typeof previous === "string" && previous !== map) await this.#unsubscribeAt(previous, conn, queryId);
    this.#forgetView(conn, queryId);
    this.#subs.remember(conn, queryId, map);
    const stored: StoredQuery = { ...query, ...(fields ? { fields } : {}) };
    const mode = queryModeOf(stored);
    if (mode !== "plain" || fields !== undefined) this.#sql.exec("INSERT OR REPLACE INTO query_view (conn, query_id, map, query) VALUES (?, ?, ?, ?)", conn, queryId, map, encodeValue(stored));
    const subscriber = { home: this.#home, conn };
    const partitions = partitionsOfMap(this.#shards(), map);
    const answers = await Promise.all(partitions.map((p) => this.#owners(p).querySubscribe({ map, queryId, query, fields, subscriber, shards: partitions.length })));
    if (mode === "groups") {
      const groups = answers.map((a, i) => ({ partition: partitions[i] ?? 0, groups: a.kind === "groups" ? a.groups : [] }));
      const results = this.#groups.seed(conn, queryId, stored, groups);
      reply({ type: "QUERY_RESP", payload: { queryId, results } });
      return;
    }
    const merged = answers.flatMap((a) => (a.kind === "entries" ? a.entries : []));
    if (answers.length > 1) merged.sort(compareEntries(query.sort));
    const cut = page(merged, query);
    if (mode === "window") this.#windows.seed(conn, queryId, stored, cut.results);
    const results = cut.results.map((e) => ({ key: e.key, value: projectValue(e.value, fields) }));
    reply({ type: "QUERY_RESP", payload: { queryId, ...cut, results } });
  }

  /** True for a grouped or projected subscription: its updates carry group rows or partial values, not records. */
  isDerived(conn: string, queryId: string): boolean {
    const view = this.#viewOf(conn, queryId);
    return view !== undefined && (view.query.fields !== undefined || queryModeOf(view.query) === "groups");
  }

  /** QUERY_UNSUB: drops the subscription at its owners; no reply. */
  async unsubscribe(conn: string, queryId: string): Promise<void> {
    const map = this.#subs.mapOf(conn, queryId);
    if (typeof map === "string") await this.#unsubscribeAt(map, conn, queryId);
  }

  /** The connection closed: forgets its queries here; answers the owners of the maps it queried (connection-close.ts). */
  forgetConnection(conn: string): number[] {
    this.#sql.exec("DELETE FROM query_view WHERE conn = ?", conn);
    this.#groups.forgetConnection(conn);
    this.#windows.forgetConnection(conn);
    return this.#subs.forgetConnection(conn).flatMap((map) => (map === null ? [] : partitionsOfMap(this.#shards(), map)));
  }

  /** Owners' changes to grouped and windowed queries of this home's connections; answers the connections gone. */
  ownerEvents(events: readonly QueryEvent[]): Promise<string[]> {
    const run = this.#events.then(() => this.#applyEvents(events));
    this.#events = run.catch(() => undefined);
    return run;
  }

  async #applyEvents(events: readonly QueryEvent[]): Promise<string[]> {
    const unknown = new Set<string>();
    for (const event of events) {
      const view = this.#viewOf(event.conn, event.queryId);
      // A subscription this home no longer keeps (unsubscribed, replaced by a plain one): nothing to send.
      if (!view) {
        if (!(await this.#send(event.conn, []))) unknown.add(event.conn);
        continue;
      }
      const target = { conn: event.conn, queryId: event.queryId, query: view.query };
      let frames: Uint8Array[] = [];
      if (event.groups) frames = this.#groups.apply(event.conn, event.queryId, view.query, event.partition, event.groups);
      else if (event.changes) frames = await this.#windows.apply(target, event.changes, () => this.#reader.entries(view.map, view.query));
      if (!(await this.#send(event.conn, frames))) unknown.add(event.conn);
    }
    return [...unknown];
  }

  #viewOf(conn: string, queryId: string): { map: string; query: StoredQuery } | undefined {
    const row = this.#sql.exec("SELECT map, query FROM query_view WHERE conn = ? AND query_id = ?", conn, queryId)[0];
    if (!row || !(row.query instanceof Uint8Array)) return undefined;
    const parsed = storedQuerySchema.safeParse(decodeValue(row.query));
    return parsed.success ? { map: String(row.map), query: parsed.data } : undefined;
  }

  #forgetView(conn: string, queryId: string): void {
    this.#sql.exec("DELETE FROM query_view WHERE conn = ? AND query_id = ?", conn, queryId);
    this.#groups.forget(conn, queryId);
    this.#windows.forget(conn, queryId);
  }

  async #unsubscribeAt(map: string, conn: string, queryId: string): Promise<void> {
    this.#subs.forget(conn, queryId);
    this.#forgetView(conn, queryId);
    const subscriber = { home: this.#home, conn };
    await Promise.all(partitionsOfMap(this.#shards(), map).map((p) => this.#owners(p).queryUnsubscribe({ queryId, subscriber })));
  }
}

/** The page of sorted results that `limit` allows; `nextCursor`/`hasMore` only when the limit cut the results. */
function page(sorted: QueryEntry[], query: Query): { results: QueryEntry[]; nextCursor?: string; hasMore?: boolean } {
  if (query.limit === undefined || sorted.length <= query.limit) return { results: sorted };
  const results = sorted.slice(0, query.limit);
  const last = results.at(-1);
  if (last === undefined) return { results, hasMore: true };
  return { results, nextCursor: encodeCursor(query.sort, sortPositionOf(query.sort, last)), hasMore: true };
}
