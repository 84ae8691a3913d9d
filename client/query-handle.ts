import type { ClientMessage } from "../core/protocol/message.ts";
import type { QueryRespMessage, QueryUpdateMessage } from "../core/protocol/query.ts";
import type { Query } from "../core/protocol/shared.ts";

/**
 * A live query answered by the server (PROTOCOL.md §10): a snapshot (QUERY_RESP), then ENTER/UPDATE/LEAVE
 * changes. Results come from the server only; offline the last known results stay readable.
 */
export class QueryHandle<V = unknown> {
  readonly id: string;
  readonly mapName: string;
  readonly query: Query;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #onClose: () => void;
  readonly #listeners = new Set<(results: [string, V][]) => void>();
  readonly #results = new Map<string, V>();

  constructor(options: { id: string; mapName: string; query: Query; send: (message: ClientMessage) => boolean; onClose: () => void }) {
    this.id = options.id;
    this.mapName = options.mapName;
    this.query = options.query;
    this.#send = options.send;
    this.#onClose = options.onClose;
    this.resume();
  }

  /** The current results, in the server's order for the snapshot and arrival order for later entries. */
  results(): [string, V][] {
    return [...this.#results];
  }

  /** Calls `listener` with the results now and after every change; returns the unsubscribe function. */
  subscribe(listener: (results: [string, V][]) => void): () => void {
    this.#listeners.add(listener);
    listener(this.results());
    return () => this.#listeners.delete(listener);
  }

  /** Stops the live query on the server and here. */
  close(): void {
    this.#send({ type: "QUERY_UNSUB", payload: { queryId: this.id } });
    this.#listeners.clear();
    this.#onClose();
  }

  /** On open and after AUTH_ACK: (re)subscribes, and the server answers with a fresh snapshot. */
  resume(): void {
    this.#send({ type: "QUERY_SUB", payload: { queryId: this.id, mapName: this.mapName, query: this.query } });
  }

  applySnapshot(message: QueryRespMessage): void {
    this.#results.clear();
    // The app declared V for this map; the server sends values written by clients sharing that declaration.
    for (const { key, value } of message.payload.results) this.#results.set(key, value as V);
    this.#notify();
  }

  applyUpdate(message: QueryUpdateMessage): void {
    const { key, value, changeType } = message.payload;
    if (changeType === "LEAVE") this.#results.delete(key);
    else this.#results.set(key, value as V);
    this.#notify();
  }

  #notify(): void {
    const results = this.results();
    for (const listener of this.#listeners) listener(results);
  }
}
