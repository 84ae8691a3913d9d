import { matchesQuery, TopEntries, type SortPosition } from "../core/predicate.ts";
import type { ChangeType, Query } from "../core/protocol/shared.ts";
import { decodeCursor } from "../core/query-cursor.ts";
import { isGroupedQuery } from "../core/query-groups.ts";
import { projectValue } from "../core/query-projection.ts";

/** The local records a query reads (an LWW map handle). */
export interface LocalRecords<V> {
  /** The live value of `key`: undefined when missing, deleted or expired. */
  get(key: string): V | undefined;
  /** Live entries. */
  entries(): [string, V][];
}

export interface QueryViewOptions<V> {
  query: Query;
  /** Projection: each result value keeps only these top-level fields. */
  fields?: readonly string[] | undefined;
  local: LocalRecords<V>;
  /** True while a local write to `key` waits for its OP_ACK. */
  isPending(key: string): boolean;
}

/**
 * The results of one live query, merged from the server's answers and local writes. Until the first server
 * snapshot every key is evaluated locally. After it the server decides, except for keys written here: those stay
 * decided locally while their write is pending, and after its OP_ACK until the server next speaks about them, so
 * an older server answer never hides a newer local write. Sort, cursor and limit apply to the merged view, with
 * the server's semantics (core/predicate.ts). A grouped query's rows exist only on the server: its view is the
 * server's answers alone.
 */
export class QueryView<V> {
  readonly #query: Query;
  readonly #fields: readonly string[] | undefined;
  readonly #serverOnly: boolean;
  readonly #local: LocalRecords<V>;
  readonly #isPending: (key: string) => boolean;
  readonly #after: SortPosition | undefined;
  /** The server's results (uncut by the local limit), or undefined before its first snapshot. */
  #server: Map<string, V> | undefined;
  /** Keys written here that the local records decide. */
  readonly #localKeys = new Set<string>();
  /** Every matching entry of the merged view, before sort, cursor and limit. */
  readonly #candidates = new Map<string, V>();

  constructor(options: QueryViewOptions<V>) {
    this.#query = options.query;
    this.#fields = options.fields;
    this.#serverOnly = isGroupedQuery(options.query);
    this.#local = options.local;
    this.#isPending = options.isPending;
    this.#after = options.query.cursor === undefined ? undefined : decodeCursor(options.query.sort, options.query.cursor);
    this.#rebuild();
  }

  /** True once a server snapshot arrived. */
  get hasServerResults(): boolean {
    return this.#server !== undefined;
  }

  /** The merged results in query order, cut by cursor and limit. */
  results(): Map<string, V> {
    const top = new TopEntries({ sort: this.#query.sort, limit: this.#query.limit, after: this.#after });
    for (const [key, value] of this.#candidates) top.offer({ key, value });
    const results = new Map<string, V>();
    for (const { key } of top.entries()) {
      const value = this.#candidates.get(key);
      // The app declared V; a projection keeps a subset of its fields, as the server's values do.
      if (value !== undefined) results.set(key, (this.#fields === undefined ? value : projectValue(value, this.#fields)) as V);
    }
    return results;
  }

  /** A local record changed (a local write or a merge from the server); undefined: possibly every record. */
  localChanged(key: string | undefined): void {
    if (this.#serverOnly) return;
    if (key === undefined) this.#rebuild();
    else if (this.#server === undefined || this.#localKeys.has(key)) this.#refresh(key);
  }

  /** This client wrote `key`: the local record decides it from now on. */
  localWrite(key: string): void {
    if (this.#serverOnly) return;
    this.#localKeys.add(key);
    this.#refresh(key);
  }

  /** QUERY_RESP: the server's full answer. */
  applySnapshot(results: readonly { key: string; value: V }[]): void {
    this.#server = new Map(results.map(({ key, value }) => [key, value]));
    for (const key of this.#localKeys) if (!this.#isPending(key)) this.#localKeys.delete(key);
    this.#rebuild();
  }

  /** QUERY_UPDATE: one change of the server's answer (ignored before its snapshot, which includes it). */
  applyUpdate(key: string, value: V, changeType: ChangeType): void {
    if (this.#server === undefined) return;
    if (changeType === "LEAVE") this.#server.delete(key);
    else this.#server.set(key, value);
    if (this.#localKeys.has(key) && !this.#isPending(key)) this.#localKeys.delete(key);
    this.#refresh(key);
  }

  #refresh(key: string): void {
    const value = this.#decide(key);
    if (value === undefined) this.#candidates.delete(key);
    else this.#candidates.set(key, value);
  }

  #decide(key: string): V | undefined {
    if (this.#server !== undefined && !this.#localKeys.has(key)) return this.#server.get(key);
    const value = this.#local.get(key);
    return value !== undefined && matchesQuery(this.#query, value, key) ? value : undefined;
  }

  #rebuild(): void {
    this.#candidates.clear();
    if (this.#server === undefined) {
      if (this.#serverOnly) return;
      for (const [key, value] of this.#local.entries()) if (matchesQuery(this.#query, value, key)) this.#candidates.set(key, value);
      return;
    }
    for (const [key, value] of this.#server) if (!this.#localKeys.has(key)) this.#candidates.set(key, value);
    for (const key of this.#localKeys) this.#refresh(key);
  }
}
