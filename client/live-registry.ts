import type { ClientMessage, ServerMessage } from "../core/protocol/message.ts";
import type { Query, SearchOptions } from "../core/protocol/shared.ts";
import { EventJournalHandle } from "./event-journal-handle.ts";
import { LockHandle } from "./lock-handle.ts";
import { PNCounterHandle, type CounterStore } from "./pn-counter-handle.ts";
import { ProcessorRequests } from "./processor-requests.ts";
import { QueryHandle, type QueryLocalMap } from "./query-handle.ts";
import { SearchHandle, type SearchHit } from "./search-handle.ts";
import { SqlRequests } from "./sql-requests.ts";
import { TopicHandle } from "./topic-handle.ts";

/** The answer to a one-shot search. */
export interface SearchResult {
  hits: SearchHit[];
  totalCount: number;
}

interface PendingSearch {
  message: ClientMessage;
  resolve(result: SearchResult): void;
  reject(error: Error): void;
}

export interface LiveRegistryOptions {
  nodeId: string;
  send(message: ClientMessage): boolean;
  /** The local LWW map a live query reads (opened, loaded and synced on first use). */
  openLocalMap(mapName: string): QueryLocalMap<unknown>;
  /** True while a local write to `key` of `mapName` waits for its OP_ACK. */
  isPending(mapName: string, key: string): boolean;
  /** Where counters keep their state between reloads (none: in memory only). */
  counterStore?: CounterStore;
}

/** Topics, counters, live queries, searches, locks, entry processors and the journal: the features that live on the server and are re-requested after AUTH_ACK. */
export class LiveRegistry {
  readonly #options: LiveRegistryOptions;
  readonly #nodeId: string;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #topics = new Map<string, TopicHandle>();
  readonly #counters = new Map<string, PNCounterHandle>();
  readonly #queries = new Map<string, QueryHandle>();
  readonly #searches = new Map<string, SearchHandle>();
  readonly #pendingSearches = new Map<string, PendingSearch>();
  readonly #locks = new Map<string, LockHandle>();
  readonly processors: ProcessorRequests;
  readonly journal: EventJournalHandle;
  readonly sql: SqlRequests;
  #nextId = 1;

  constructor(options: LiveRegistryOptions) {
    this.#options = options;
    this.#nodeId = options.nodeId;
    this.#send = options.send;
    this.processors = new ProcessorRequests(this.#send, () => this.#newId());
    this.journal = new EventJournalHandle(this.#send, () => this.#newId());
    this.sql = new SqlRequests(this.#send, () => this.#newId());
  }

  topic(name: string): TopicHandle {
    let handle = this.#topics.get(name);
    if (handle === undefined) {
      handle = new TopicHandle(name, this.#send);
      this.#topics.set(name, handle);
    }
    return handle;
  }

  counter(name: string): PNCounterHandle {
    let handle = this.#counters.get(name);
    if (handle === undefined) {
      handle = new PNCounterHandle(name, this.#nodeId, this.#send, this.#options.counterStore);
      this.#counters.set(name, handle);
    }
    return handle;
  }

  query(mapName: string, query: Query, fields?: string[]): QueryHandle {
    const id = this.#newId();
    const handle = new QueryHandle({
      id,
      mapName,
      query,
      fields,
      send: this.#send,
      onClose: () => this.#queries.delete(id),
      local: this.#options.openLocalMap(mapName),
      isPending: (key) => this.#options.isPending(mapName, key),
    });
    this.#queries.set(id, handle);
    return handle;
  }

  lock(name: string): LockHandle {
    let handle = this.#locks.get(name);
    if (handle === undefined) {
      handle = new LockHandle(name, this.#send, () => this.#newId());
      this.#locks.set(name, handle);
    }
    return handle;
  }

  /** A one-shot search; sent after the next handshake when offline. */
  search(mapName: string, query: string, options?: SearchOptions): Promise<SearchResult> {
    const requestId = this.#newId();
    const payload = options ? { requestId, mapName, query, options } : { requestId, mapName, query };
    const message: ClientMessage = { type: "SEARCH", payload };
    return new Promise((resolve, reject) => {
      this.#pendingSearches.set(requestId, { message, resolve, reject });
      this.#send(message);
    });
  }

  /** A live search. */
  searchSubscribe(mapName: string, query: string, options?: SearchOptions): SearchHandle {
    const id = this.#newId();
    const handle = new SearchHandle({
      id,
      mapName,
      query,
      ...(options ? { searchOptions: options } : {}),
      send: this.#send,
      onClose: () => this.#searches.delete(id),
    });
    this.#searches.set(id, handle);
    return handle;
  }

  /** After AUTH_ACK (PROTOCOL.md §2.3): queued publishes, then every subscription again. */
  resume(): void {
    for (const handle of this.#topics.values()) handle.resume();
    for (const handle of this.#counters.values()) handle.resume();
    for (const handle of this.#queries.values()) handle.resume();
    for (const handle of this.#searches.values()) handle.resume();
    for (const handle of this.#locks.values()) handle.resume();
    for (const pending of this.#pendingSearches.values()) this.#send(pending.message);
    this.processors.resume();
    this.journal.resume();
    this.sql.resume();
  }

  /** Handles the message if it belongs to a live feature; false otherwise. */
  dispatch(message: ServerMessage): boolean {
    switch (message.type) {
      case "TOPIC_MESSAGE": {
        const { topic, data, publisherId, timestamp } = message.payload;
        this.#topics.get(topic)?.deliver(publisherId === undefined ? { data, timestamp } : { data, publisherId, timestamp });
        return true;
      }
      case "COUNTER_RESPONSE":
      case "COUNTER_UPDATE":
        this.#counters.get(message.payload.name)?.merge(message.payload.state);
        return true;
      case "QUERY_RESP":
        this.#queries.get(message.payload.queryId)?.applySnapshot(message);
        return true;
      case "QUERY_UPDATE":
        this.#queries.get(message.payload.queryId)?.applyUpdate(message);
        return true;
      case "SEARCH_RESP":
        this.#answerSearch(message);
        return true;
      case "SEARCH_UPDATE":
        this.#searches.get(message.payload.subscriptionId)?.applyUpdate(message);
        return true;
      case "LOCK_GRANTED":
        this.#locks.get(message.payload.name)?.granted(message.payload.requestId, message.payload.fencingToken);
        return true;
      case "LOCK_RELEASED":
        this.#locks.get(message.payload.name)?.released(message.payload.requestId, message.payload.success);
        return true;
      case "ENTRY_PROCESS_RESPONSE":
      case "ENTRY_PROCESS_BATCH_RESPONSE":
        this.processors.answer(message);
        return true;
      case "JOURNAL_READ_RESPONSE":
        this.journal.answerRead(message);
        return true;
      case "JOURNAL_EVENT":
        this.journal.deliver(message);
        return true;
      case "SQL_QUERY_RESP":
        this.sql.answer(message);
        return true;
      default:
        return false;
    }
  }

  /** SEARCH_RESP answers a one-shot SEARCH or opens a SEARCH_SUB (its requestId is the subscription id). */
  #answerSearch(message: Extract<ServerMessage, { type: "SEARCH_RESP" }>): void {
    const { requestId, results, totalCount, error } = message.payload;
    const live = this.#searches.get(requestId);
    if (live !== undefined) {
      live.applySnapshot(message);
      return;
    }
    const pending = this.#pendingSearches.get(requestId);
    if (pending === undefined) return;
    this.#pendingSearches.delete(requestId);
    if (error !== undefined) pending.reject(new Error(error));
    else pending.resolve({ hits: results, totalCount });
  }

  #newId(): string {
    return `${this.#nodeId}-${this.#nextId++}`;
  }
}
