import type { ClientMessage } from "../core/protocol/message.ts";
import type { QueryRespMessage, QueryUpdateMessage } from "../core/protocol/query.ts";
import type { Query } from "../core/protocol/shared.ts";
import { QueryView, type LocalRecords } from "./query-view.ts";
import { diffResults, type ResultChange } from "./result-diff.ts";

/** The local map a query reads and follows. */
export interface QueryLocalMap<V> extends LocalRecords<V> {
  onChange(listener: (key: string | undefined) => void): () => void;
  onLocalWrite(listener: (key: string) => void): () => void;
}

export interface QueryHandleOptions<V> {
  id: string;
  mapName: string;
  query: Query;
  /** Projection: each result value keeps only these top-level fields (QUERY_SUB `fields`). */
  fields?: string[] | undefined;
  send: (message: ClientMessage) => boolean;
  onClose: () => void;
  local: QueryLocalMap<V>;
  /** True while a local write to `key` of this map waits for its OP_ACK. */
  isPending(key: string): boolean;
}

/**
 * A live query (PROTOCOL.md §10), optimistic: it evaluates the query against the local map at once (offline
 * too) and on every local write, and settles to the server's snapshot (QUERY_RESP) and changes (QUERY_UPDATE)
 * merged with the local writes still pending (see QueryView).
 */
export class QueryHandle<V = unknown> {
  readonly id: string;
  readonly mapName: string;
  readonly query: Query;
  readonly fields: string[] | undefined;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #onClose: () => void;
  readonly #view: QueryView<V>;
  readonly #listeners = new Set<(results: [string, V][]) => void>();
  readonly #changeListeners = new Set<(changes: ResultChange<V>[]) => void>();
  readonly #stopFollowing: (() => void)[];
  #results: Map<string, V>;

  constructor(options: QueryHandleOptions<V>) {
    this.id = options.id;
    this.mapName = options.mapName;
    this.query = options.query;
    this.fields = options.fields;
    this.#send = options.send;
    this.#onClose = options.onClose;
    this.#view = new QueryView({ query: options.query, fields: options.fields, local: options.local, isPending: options.isPending });
    this.#results = this.#view.results();
    this.#stopFollowing = [
      options.local.onChange((key) => this.#update(() => this.#view.localChanged(key))),
      options.local.onLocalWrite((key) => this.#update(() => this.#view.localWrite(key))),
    ];
    this.resume();
  }

  /** The current results in query order (sort keys, then record key). */
  results(): [string, V][] {
    return [...this.#results];
  }

  /** True once the server answered; before that the results are the local evaluation only. */
  get settled(): boolean {
    return this.#view.hasServerResults;
  }

  /** Calls `listener` with the results now, after every change, and on each server snapshot; returns the unsubscribe function. */
  subscribe(listener: (results: [string, V][]) => void): () => void {
    this.#listeners.add(listener);
    listener(this.results());
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` with the ENTER/UPDATE/LEAVE changes of each update (a LEAVE carries the value it had). */
  onChanges(listener: (changes: ResultChange<V>[]) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Stops the live query on the server and here. */
  close(): void {
    this.#send({ type: "QUERY_UNSUB", payload: { queryId: this.id } });
    for (const stop of this.#stopFollowing) stop();
    this.#listeners.clear();
    this.#changeListeners.clear();
    this.#onClose();
  }

  /** On open and after AUTH_ACK: (re)subscribes, and the server answers with a fresh snapshot. */
  resume(): void {
    const payload = { queryId: this.id, mapName: this.mapName, query: this.query };
    this.#send({ type: "QUERY_SUB", payload: this.fields === undefined ? payload : { ...payload, fields: this.fields } });
  }

  applySnapshot(message: QueryRespMessage): void {
    // The app declared V for this map; the server sends values written by clients sharing that declaration.
    const results = message.payload.results.map(({ key, value }) => ({ key, value: value as V }));
    // Listeners hear every snapshot, even an unchanged one: it tells them the server has answered.
    this.#update(() => this.#view.applySnapshot(results), true);
  }

  applyUpdate(message: QueryUpdateMessage): void {
    const { key, value, changeType } = message.payload;
    this.#update(() => this.#view.applyUpdate(key, value as V, changeType));
  }

  #update(change: () => void, notifyAlways = false): void {
    change();
    const next = this.#view.results();
    const changes = diffResults(this.#results, next);
    if (changes.length === 0 && !notifyAlways) return;
    this.#results = next;
    const results = this.results();
    for (const listener of this.#listeners) listener(results);
    if (changes.length > 0) for (const listener of this.#changeListeners) listener(changes);
  }
}
