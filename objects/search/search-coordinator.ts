import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { SearchOptions } from "../../core/protocol/shared.ts";
import { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { byScore, SEARCH_DEFAULT_LIMIT, type SearchResult } from "./search-service.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { mergeTermStats, type TermStats } from "./term-stats.ts";

type Reply = (message: unknown) => void;
type SearchRequest = { mapName: string; query: string; options?: SearchOptions | undefined };

/** What search asks of the owners of a map's shards. */
export interface SearchOwner {
  /** This owner's index statistics of the query's terms (a sharded map is scored with the sum of its shards'). */
  searchStats(request: { map: string; query: string; shards?: number }): Promise<TermStats>;
  /** Full-text search of this owner's part of the map: best first, `minScore` and `limit` applied, scored with `stats`. */
  search(request: { map: string; query: string; options: SearchOptions; stats?: TermStats | undefined; shards?: number }): Promise<SearchResult[]>;
  /** Registers a search subscription (its results become its current set) and answers those results. */
  searchSubscribe(request: {
    map: string;
    subscriptionId: string;
    query: string;
    options: SearchOptions;
    stats?: TermStats | undefined;
    subscriber: ConnectionRef;
    /** The shard count the home placed the map by (an owner fenced at another count refuses: objects/placement/). */
    shards?: number;
  }): Promise<SearchResult[]>;
  searchUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void>;
}

/**
 * Home role, full-text search (PROTOCOL.md §11.4, Part A 8): asks the map's owner (every shard of a sharded map, in
 * parallel), merges by descending score and applies `limit`. Each connection's subscriptions are kept in SQLite
 * (conn_search) so SEARCH_UNSUB and the connection's close reach the owners. A sharded map is scored as one index:
 * the shards' term statistics are gathered first and every shard scores with their sum (term-stats.ts); a live
 * subscription keeps the sums of when it subscribed. On a sharded map each shard keeps its own best `limit` as the
 * subscription's set, so a key cut by the merge may later get UPDATE rather than ENTER.
 */
export class SearchCoordinator {
  readonly #owners: (partition: number) => SearchOwner;
  readonly #shards: () => ShardConfig;
  readonly #subs: ConnectionSubscriptions;
  readonly #home: number;

  constructor(deps: { owners: (partition: number) => SearchOwner; shards: () => ShardConfig; sql: SqlPort; home: number }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#subs = new ConnectionSubscriptions(deps.sql, { name: "conn_search", id: "sub_id" });
    this.#home = deps.home;
  }

  /** SEARCH → SEARCH_RESP. */
  /** `visible` keeps the hits the searcher may read (a record-level read condition); it runs before the limit. */
  async search(request: SearchRequest & { requestId: string }, reply: Reply, visible?: (hit: SearchResult) => boolean): Promise<void> {
    const { requestId, mapName: map, query } = request;
    const options = request.options ?? {};
    const partitions = partitionsOfMap(this.#shards(), map);
    const stats = await this.#wholeStats(partitions, map, query);
    const answers = await Promise.all(partitions.map((p) => this.#owners(p).search({ map, query, options, stats, shards: partitions.length })));
    reply(response(requestId, visible === undefined ? answers : answers.map((hits) => hits.filter(visible)), options));
  }

  /** SEARCH_SUB → SEARCH_RESP with requestId = subscriptionId, then live SEARCH_UPDATEs. */
  async subscribe(conn: string, request: SearchRequest & { subscriptionId: string }, reply: Reply): Promise<void> {
    const { subscriptionId, mapName: map, query } = request;
    const options = request.options ?? {};
    const previous = this.#subs.mapOf(conn, subscriptionId);
    if (typeof previous === "string" && previous !== map) await this.#unsubscribeAt(previous, conn, subscriptionId);
    this.#subs.remember(conn, subscriptionId, map);
    const subscriber = { home: this.#home, conn };
    const partitions = partitionsOfMap(this.#shards(), map);
    const stats = await this.#wholeStats(partitions, map, query);
    const answers = await Promise.all(
      partitions.map((p) => this.#owners(p).searchSubscribe({ map, subscriptionId, query, options, stats, subscriber, shards: partitions.length })),
    );
    reply(response(subscriptionId, answers, options));
  }

  /** SEARCH_UNSUB: drops the subscription at its owners; no reply (an OP_ACK would confuse real clients' op log). */
  async unsubscribe(conn: string, subscriptionId: string): Promise<void> {
    const map = this.#subs.mapOf(conn, subscriptionId);
    if (typeof map === "string") await this.#unsubscribeAt(map, conn, subscriptionId);
  }

  /** The connection closed: forgets its searches here; answers the owners of the maps it searched (connection-close.ts). */
  forgetConnection(conn: string): number[] {
    return this.#subs.forgetConnection(conn).flatMap((map) => (map === null ? [] : partitionsOfMap(this.#shards(), map)));
  }

  /** A sharded map's term statistics, summed over its shards; undefined for a map in one partition (its own are whole). */
  async #wholeStats(partitions: readonly number[], map: string, query: string): Promise<TermStats | undefined> {
    if (partitions.length < 2) return undefined;
    return mergeTermStats(await Promise.all(partitions.map((p) => this.#owners(p).searchStats({ map, query, shards: partitions.length }))));
  }

  async #unsubscribeAt(map: string, conn: string, subscriptionId: string): Promise<void> {
    this.#subs.forget(conn, subscriptionId);
    const subscriber = { home: this.#home, conn };
    await Promise.all(partitionsOfMap(this.#shards(), map).map((p) => this.#owners(p).searchUnsubscribe({ subscriptionId, subscriber })));
  }
}

function response(requestId: string, answers: SearchResult[][], options: SearchOptions) {
  const merged = answers.flat();
  if (answers.length > 1) merged.sort(byScore);
  const results = merged.slice(0, options.limit ?? SEARCH_DEFAULT_LIMIT);
  return { type: "SEARCH_RESP", payload: { requestId, results, totalCount: results.length } };
}
