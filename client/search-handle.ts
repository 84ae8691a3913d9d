import type { ClientMessage } from "../core/protocol/message.ts";
import type { SearchRespMessage, SearchUpdateMessage } from "../core/protocol/search.ts";
import type { SearchOptions } from "../core/protocol/shared.ts";

/** One full-text search hit. */
export interface SearchHit {
  key: string;
  value: unknown;
  score: number;
  matchedTerms: string[];
}

/**
 * A live full-text search (PROTOCOL.md §11.4): the first SEARCH_RESP, then ENTER/UPDATE/LEAVE changes.
 * Hits are kept by key, best score first.
 */
export class SearchHandle {
  readonly id: string;
  readonly #subscribe: ClientMessage;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #onClose: () => void;
  readonly #hits = new Map<string, SearchHit>();
  readonly #listeners = new Set<(hits: SearchHit[]) => void>();

  constructor(options: { id: string; mapName: string; query: string; searchOptions?: SearchOptions; send: (m: ClientMessage) => boolean; onClose: () => void }) {
    this.id = options.id;
    const payload = { subscriptionId: options.id, mapName: options.mapName, query: options.query };
    this.#subscribe = { type: "SEARCH_SUB", payload: options.searchOptions ? { ...payload, options: options.searchOptions } : payload };
    this.#send = options.send;
    this.#onClose = options.onClose;
    this.resume();
  }

  hits(): SearchHit[] {
    return [...this.#hits.values()].sort((a, b) => b.score - a.score);
  }

  /** Calls `listener` with the hits now and after every change; returns the unsubscribe function. */
  subscribe(listener: (hits: SearchHit[]) => void): () => void {
    this.#listeners.add(listener);
    listener(this.hits());
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#send({ type: "SEARCH_UNSUB", payload: { subscriptionId: this.id } });
    this.#listeners.clear();
    this.#onClose();
  }

  resume(): void {
    this.#send(this.#subscribe);
  }

  applySnapshot(message: SearchRespMessage): void {
    this.#hits.clear();
    for (const hit of message.payload.results) this.#hits.set(hit.key, hit);
    this.#notify();
  }

  applyUpdate(message: SearchUpdateMessage): void {
    const { key, value, score, matchedTerms, changeType } = message.payload;
    if (changeType === "LEAVE") this.#hits.delete(key);
    else this.#hits.set(key, { key, value, score, matchedTerms });
    this.#notify();
  }

  #notify(): void {
    const hits = this.hits();
    for (const listener of this.#listeners) listener(hits);
  }
}
