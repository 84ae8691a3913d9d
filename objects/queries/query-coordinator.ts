import { ProtocolError } from "../../core/errors.ts";
import { compareEntries, sortPositionOf, type QueryEntry } from "../../core/predicate.ts";
import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { decodeCursor, encodeCursor } from "../../core/query-cursor.ts";
import { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** What live queries ask of the owners of a map's shards. */
export interface QueryOwner {
  querySubscribe(request: { map: string; queryId: string; query: Query; subscriber: ConnectionRef }): Promise<QueryEntry[]>;
  queryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void>;
}

export type QueryReply = (message: unknown) => void;

/**
 * Home role, live queries (PROTOCOL.md §10, Part A 7): registers a QUERY_SUB at the map's owner (every shard of a
 * sharded map, in parallel), merges and sorts their answers, cuts the page at `limit` and answers QUERY_RESP. Each
 * connection's queries are kept in SQLite (conn_query) so QUERY_UNSUB and the connection's close reach the owners.
 */
export class QueryCoordinator {
  readonly #owners: (partition: number) => QueryOwner;
  readonly #shards: () => ShardConfig;
  readonly #subs: ConnectionSubscriptions;
  readonly #home: number;

  constructor(deps: { owners: (partition: number) => QueryOwner; shards: () => ShardConfig; sql: SqlPort; home: number }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#subs = new ConnectionSubscriptions(deps.sql, { name: "conn_query", id: "query_id" });
    this.#home = deps.home;
  }

  /** QUERY_SUB: a new subscription, or the replacement of the connection's subscription of the same id. */
  async subscribe(conn: string, request: { queryId: string; mapName: string; query: Query }, reply: QueryReply): Promise<void> {
    const { queryId, mapName: map, query } = request;
    if (query.cursor !== undefined && decodeCursor(query.sort, query.cursor) === undefined) {
      throw new ProtocolError("INVALID_MESSAGE", "cursor does not continue a query with this sort");
    }
    const previous = this.#subs.mapOf(conn, queryId);
    if (typeof previous === "string" && previous !== map) await this.#unsubscribeAt(previous, conn, queryId);
    this.#subs.remember(conn, queryId, map);
    const subscriber = { home: this.#home, conn };
    const partitions = partitionsOfMap(this.#shards(), map);
    const answers = await Promise.all(partitions.map((p) => this.#owners(p).querySubscribe({ map, queryId, query, subscriber })));
    const merged = answers.flat();
    if (answers.length > 1) merged.sort(compareEntries(query.sort));
    reply({ type: "QUERY_RESP", payload: { queryId, ...page(merged, query) } });
  }

  /** QUERY_UNSUB: drops the subscription at its owners; no reply. */
  async unsubscribe(conn: string, queryId: string): Promise<void> {
    const map = this.#subs.mapOf(conn, queryId);
    if (typeof map === "string") await this.#unsubscribeAt(map, conn, queryId);
  }

  /** The connection closed: forgets its queries here; answers the owners of the maps it queried (connection-close.ts). */
  forgetConnection(conn: string): number[] {
    return this.#subs.forgetConnection(conn).flatMap((map) => (map === null ? [] : partitionsOfMap(this.#shards(), map)));
  }

  async #unsubscribeAt(map: string, conn: string, queryId: string): Promise<void> {
    this.#subs.forget(conn, queryId);
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
