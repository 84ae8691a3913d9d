import { errorCodeOf } from "../core/errors.ts";
import { HLC, type Timestamp } from "../core/hlc.ts";
import { randomHex } from "../core/random-hex.ts";
import type { ClientOp, EntryProcessor, Query, SearchOptions } from "../core/protocol/shared.ts";
import type { ClientMessage, ServerMessage } from "../core/protocol/message.ts";
import { DEFAULT_BACKOFF, type BackoffConfig } from "./backoff.ts";
import type { ClientError } from "./client-error.ts";
import { Connection, DEFAULT_HEARTBEAT, type ConnectionState, type HeartbeatConfig } from "./connection.ts";
import type { LWWMapHandle } from "./lww-map-handle.ts";
import { LiveRegistry, type SearchResult } from "./live-registry.ts";
import type { EventJournalHandle } from "./event-journal-handle.ts";
import type { LockHandle } from "./lock-handle.ts";
import type { EntryProcessorResult } from "./processor-requests.ts";
import type { SearchHandle } from "./search-handle.ts";
import type { MapContext } from "./map-context.ts";
import { MapRegistry } from "./map-registry.ts";
import { MapSchemas, type MapSchemaInfo } from "./map-schemas.ts";
import { OpLog } from "./op-log.ts";
import { PendingKeys } from "./pending-keys.ts";
import type { ORMapHandle } from "./or-map-handle.ts";
import type { PNCounterHandle } from "./pn-counter-handle.ts";
import type { QueryHandle } from "./query-handle.ts";
import type { SqlResult } from "./sql-requests.ts";
import type { TopicHandle } from "./topic-handle.ts";
import type { PendingOp, StorageAdapter, StoredEntry } from "./storage/storage-adapter.ts";
import { connectionUrl, openGlobalWebSocket, type WebSocketFactory } from "./web-socket.ts";
import { WriteBuffer } from "./write-buffer.ts";

/** Ops per OP_BATCH frame: well under the server's MAX_BATCH_OPS and its frame size limit for small values. */
export const OPS_PER_BATCH = 500;

/** Returns the JWT for the next handshake; called on every connect. */
export type TokenProvider = () => Promise<string | undefined> | string | undefined;

export interface TopGunClientOptions {
  /** `ws(s)://host[/ws]` or `http(s)://host`; the client adds `clientId=<nodeId>`. */
  serverUrl: string;
  /** Where records, the op log and client metadata live between reloads. The app owns it (close it yourself). */
  storage: StorageAdapter;
  /** Lowercase ASCII without ':'; by default the one stored from an earlier session, or a new random one. */
  nodeId?: string;
  backoff?: Partial<BackoffConfig>;
  heartbeat?: Partial<HeartbeatConfig>;
  token?: string;
  tokenProvider?: TokenProvider;
  /** How to open a socket; the runtime's global WebSocket by default. */
  webSocketFactory?: WebSocketFactory;
}

/**
 * The TopGun client: local-first maps that persist to `storage` and sync with a TopGun server.
 * `await start()` before opening maps.
 */
export class TopGunClient {
  readonly #options: TopGunClientOptions;
  readonly #storage: StorageAdapter;
  readonly #opLog = new OpLog();
  readonly #pendingKeys = new PendingKeys();
  readonly #writes: WriteBuffer;
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  readonly #errorListeners = new Set<(error: ClientError) => void>();
  readonly #ackListeners = new Set<(ops: readonly ClientOp[]) => void>();
  #token: string | undefined;
  #tokenProvider: TokenProvider | undefined;
  #started: Promise<void> | undefined;
  #hlc: HLC | undefined;
  #maps: MapRegistry | undefined;
  #live: LiveRegistry | undefined;
  #schemas: MapSchemas | undefined;
  #connection: Connection | undefined;
  #lastTimestamp: Timestamp | undefined;
  #resendTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: TopGunClientOptions) {
    this.#options = options;
    this.#storage = options.storage;
    this.#token = options.token;
    this.#tokenProvider = options.tokenProvider;
    this.#writes = new WriteBuffer(options.storage, {
      onStored: (ops) => this.#onOpsStored(ops),
      onError: (err) => this.#storageError(err),
    });
  }

  /** Restores the node id, clock and op log from storage, then connects. Safe to call more than once. */
  start(): Promise<void> {
    this.#started ??= this.#boot();
    return this.#started;
  }

  /** Disconnects for good and waits until every local write is stored. The storage stays open. */
  async close(): Promise<void> {
    clearTimeout(this.#resendTimer);
    this.#connection?.close();
    await this.#writes.flush();
  }

  /** The node id of this client (after `start()`). */
  get nodeId(): string {
    return this.#requireHlc().nodeId;
  }

  /** The LWW map `name`. Its stored records load in the background; `handle.ready` says when. */
  getMap<V = unknown>(name: string): LWWMapHandle<V> {
    // The value type is the app's declaration for this name; every handle of a name shares one instance.
    return this.#requireMaps().openLww(name) as LWWMapHandle<V>;
  }

  /** The OR map `name`. Its stored records load in the background; `handle.ready` says when. */
  getORMap<V = unknown>(name: string): ORMapHandle<V> {
    return this.#requireMaps().openOr(name) as ORMapHandle<V>;
  }

  /**
   * The JSON Schema of map `mapName` as the server holds it (undefined when it has none), asked now or on the next
   * connection. Once it resolves, `set()` / `add()` on the map refuse a non-conforming value with
   * SchemaViolationError before applying it, offline too (the schema is stored). Opened maps follow their schema
   * on their own: their `ready` waits for the stored copy, and each connection asks for the current one.
   */
  getSchema(mapName: string): Promise<MapSchemaInfo | undefined> {
    return this.#requireSchemas().fetch(mapName);
  }

  /** The pub/sub topic `name`. */
  getTopic(name: string): TopicHandle {
    return this.#requireLive().topic(name);
  }

  /** The PN counter `name` (in memory; the server merges every client's counts). */
  getPNCounter(name: string): PNCounterHandle {
    return this.#requireLive().counter(name);
  }

  /**
   * A live query on the LWW map `mapName`; `{}` matches everything. It shows the local map's matching records at
   * once (offline too) and local writes as they happen, and settles to the server's answers; it opens the map.
   */
  query<V = unknown>(mapName: string, query: Query = {}, options: { fields?: string[] } = {}): QueryHandle<V> {
    // As with getMap, V is the app's declaration of what the map holds.
    return this.#requireLive().query(mapName, query, options.fields) as QueryHandle<V>;
  }

  /**
   * Runs a SQL `SELECT` over one map on the server (the map is the table; its fields and `_key` are the columns).
   * Resolves with `{ columns, rows }`; rejects with a {@link SqlError} naming what the server refused.
   */
  sql(text: string): Promise<SqlResult> {
    return this.#requireLive().sql.query(text);
  }

  /**
   * Runs the server's built-in entry processor `processor.name` (`increment`, `append`, `merge`, `setIfAbsent`,
   * `compareAndSet`, `delete`) on `key` atomically at its owner; the new value reaches open maps like any write.
   */
  executeOnKey(mapName: string, key: string, processor: EntryProcessor): Promise<EntryProcessorResult> {
    return this.#requireLive().processors.executeOnKey(mapName, key, processor);
  }

  /** {@link executeOnKey} on several keys; resolves with each key's result. */
  executeOnKeys(mapName: string, keys: string[], processor: EntryProcessor): Promise<Map<string, EntryProcessorResult>> {
    return this.#requireLive().processors.executeOnKeys(mapName, keys, processor);
  }

  /** The server's event journal: reads and live subscriptions of applied changes. */
  getEventJournal(): EventJournalHandle {
    return this.#requireLive().journal;
  }

  /** The distributed lock `name`. */
  getLock(name: string): LockHandle {
    return this.#requireLive().lock(name);
  }

  /** A one-shot full-text search of `mapName` on the server. */
  search(mapName: string, query: string, options?: SearchOptions): Promise<SearchResult> {
    return this.#requireLive().search(mapName, query, options);
  }

  /** A live full-text search of `mapName`; `close()` it when done. */
  searchSubscribe(mapName: string, query: string, options?: SearchOptions): SearchHandle {
    return this.#requireLive().searchSubscribe(mapName, query, options);
  }

  /** Uses `token` from the next handshake on; reconnects at once if the last one failed. */
  setAuthToken(token: string): void {
    this.#token = token;
    this.#tokenProvider = undefined;
    this.#retryAuth();
  }

  setAuthTokenProvider(provider: TokenProvider): void {
    this.#tokenProvider = provider;
    this.#retryAuth();
  }

  /**
   * Connects now instead of waiting out the backoff, for an app that knows the network is back (the browser's
   * `online` event does the same on its own). A live or opening connection is left alone.
   */
  reconnect(): void {
    this.#connection?.reconnectNow();
  }

  getConnectionState(): ConnectionState {
    return this.#connection?.state ?? "INITIAL";
  }

  /** Calls `listener` on every connection state change; returns the unsubscribe function. */
  onConnectionStateChange(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Calls `listener` with rejected ops, auth failures, server errors and storage failures. */
  onError(listener: (error: ClientError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** Calls `listener` for each op the server rejected (OP_REJECTED). */
  onOpRejected(listener: (rejection: Extract<ClientError, { kind: "OP_REJECTED" }>) => void): () => void {
    return this.onError((error) => {
      if (error.kind === "OP_REJECTED") listener(error);
    });
  }

  /**
   * Calls `listener` with the ops each OP_ACK covers, oldest first, once they have left the pending log.
   * An op's `mapName`, `key` and record timestamp tell which write it was. Returns the unsubscribe function.
   */
  onOpsAcknowledged(listener: (ops: readonly ClientOp[]) => void): () => void {
    this.#ackListeners.add(listener);
    return () => this.#ackListeners.delete(listener);
  }

  /** Resolves when every write made so far is in storage (and so in the op log). */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  /** Ops written locally and not yet acknowledged by the server. */
  getPendingOpCount(): number {
    return this.#opLog.size;
  }

  async #boot(): Promise<void> {
    const storage = this.#storage;
    const [storedNodeId, storedHlc, storedSeq, ops] = await Promise.all([
      storage.getMeta("nodeId"),
      storage.getMeta("hlc"),
      storage.getMeta("opSeq"),
      storage.loadOps(),
    ]);
    const nodeId = this.#options.nodeId ?? (typeof storedNodeId === "string" ? storedNodeId : newNodeId());
    const hlc = new HLC(nodeId);
    // Later local timestamps must order after everything this node wrote before the reload.
    if (isTimestamp(storedHlc)) hlc.update(storedHlc);
    this.#hlc = hlc;
    this.#opLog.restore(ops, typeof storedSeq === "number" ? storedSeq : 0);
    for (const { seq, op } of ops) this.#pendingKeys.note(op.mapName, op.key, seq);
    this.#writes.setMeta("nodeId", nodeId);
    const schemas = new MapSchemas({
      send: (message) => this.#send(message),
      newId: () => `schema-${randomHex(16)}`,
      load: (key) => storage.getMeta(key),
      save: (key, value) => this.#writes.setMeta(key, value),
    });
    this.#schemas = schemas;
    this.#maps = new MapRegistry({
      hlc,
      storage,
      writes: this.#writes,
      context: this.#mapContext(),
      send: (message) => this.#send(message),
      isAuthenticated: () => this.#connection?.isAuthenticated ?? false,
      onStorageError: (err) => this.#storageError(err),
      watchSchema: (mapName) => schemas.watch(mapName),
    });
    this.#live = new LiveRegistry({
      nodeId,
      send: (message) => this.#send(message),
      openLocalMap: (mapName) => this.#requireMaps().openLww(mapName),
      isPending: (mapName, key) => this.#pendingKeys.has(mapName, key),
      counterStore: {
        load: (name) =>
          storage.getMeta(`counter:${name}`).catch((err: unknown) => {
            this.#storageError(err);
            return undefined;
          }),
        save: (name, state) => this.#writes.setMeta(`counter:${name}`, state),
      },
    });
    this.#connection = new Connection({
      url: connectionUrl(this.#options.serverUrl, nodeId),
      backoff: { ...DEFAULT_BACKOFF, ...this.#options.backoff },
      heartbeat: { ...DEFAULT_HEARTBEAT, ...this.#options.heartbeat },
      openSocket: this.#options.webSocketFactory ?? openGlobalWebSocket,
      getToken: async () => (this.#tokenProvider ? await this.#tokenProvider() : this.#token),
      handlers: {
        onAuthenticated: () => this.#onAuthenticated(),
        onMessage: (message) => this.#dispatch(message),
        onStateChange: (state) => this.#stateListeners.forEach((listener) => listener(state)),
        onError: (error) => this.#emitError(error),
      },
    });
    this.#connection.start();
  }

  #mapContext(): MapContext {
    return {
      write: (entry: StoredEntry, op: Omit<ClientOp, "id">, timestamp?: Timestamp) => {
        const pending = this.#opLog.create(op);
        this.#pendingKeys.note(op.mapName, op.key, pending.seq);
        this.#writes.put(entry);
        this.#writes.addOp(pending);
        this.#writes.setMeta("opSeq", this.#opLog.lastSeq);
        if (timestamp !== undefined && timestamp !== this.#lastTimestamp) {
          this.#lastTimestamp = timestamp;
          this.#writes.setMeta("hlc", timestamp);
        }
      },
      store: (entry) => this.#writes.put(entry),
      unstore: (mapId, key) => this.#writes.delete(mapId, key),
      storeMeta: (key, value) => this.#writes.setMeta(key, value),
      conform: (mapName, value) => this.#schemas?.check(mapName, value),
    };
  }

  /** After AUTH_ACK (PROTOCOL.md §2.3): pending ops first, then a Merkle sync of every open map. */
  #onAuthenticated(): void {
    this.#opLog.resetConnection();
    this.#sendPendingOps();
    this.#maps?.startConnection();
    this.#schemas?.resume();
    this.#live?.resume();
    this.#connection?.markSynced();
  }

  #onOpsStored(ops: PendingOp[]): void {
    this.#opLog.add(ops);
    if (this.#connection?.isAuthenticated) this.#sendPendingOps();
  }

  #sendPendingOps(): void {
    const unsent = this.#opLog.takeUnsent();
    for (let start = 0; start < unsent.length; start += OPS_PER_BATCH) {
      const ops = unsent.slice(start, start + OPS_PER_BATCH).map((pending) => pending.op);
      // A failed send means the socket is gone; the next connection re-sends from the oldest pending op.
      if (!this.#send({ type: "OP_BATCH", payload: { ops } })) return;
    }
  }

  /** Sends every pending op again soon (merges are idempotent, so ops already applied do no harm). */
  #scheduleResend(): void {
    if (this.#resendTimer !== undefined) return;
    const delayMs = this.#options.backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.#resendTimer = setTimeout(() => {
      this.#resendTimer = undefined;
      if (!this.#connection?.isAuthenticated) return;
      this.#opLog.resetConnection();
      this.#sendPendingOps();
    }, delayMs);
  }

  #dispatch(message: ServerMessage): void {
    const maps = this.#requireMaps();
    switch (message.type) {
      case "OP_ACK": {
        const acknowledged = this.#opLog.acknowledge(message.payload.lastId);
        const last = acknowledged.at(-1);
        if (last === undefined) return;
        this.#pendingKeys.acknowledgeThrough(last.seq);
        this.#storage.deleteOpsThrough(last.seq).catch((err) => this.#storageError(err));
        const ops = acknowledged.map((pending) => pending.op);
        for (const listener of this.#ackListeners) listener(ops);
        return;
      }
      case "OP_REJECTED": {
        const { opId, reason, code } = message.payload;
        const rejected = this.#opLog.pending().find((pending) => pending.op.id === opId);
        if (rejected !== undefined) {
          this.#pendingKeys.drop(rejected.op.mapName, rejected.op.key, rejected.seq);
          maps.rollBack(rejected.op);
        }
        this.#emitError(code === undefined ? { kind: "OP_REJECTED", opId, reason } : { kind: "OP_REJECTED", opId, reason, code });
        return;
      }
      case "SCHEMA_RESP":
        this.#requireSchemas()
          .receive(message.payload)
          .catch((err: unknown) => this.#emitError({ kind: "SERVER_ERROR", code: 500, message: err instanceof Error ? err.message : String(err) }));
        return;
      case "ERROR":
        this.#emitError({ kind: "SERVER_ERROR", code: message.payload.code, message: message.payload.message });
        // A write the server could not finish gets this instead of an OP_ACK; which ops is not said.
        if (message.payload.code === errorCodeOf("UNAVAILABLE")) this.#scheduleResend();
        return;
      default:
        // Conflict resolvers have no client handle; their replies are dropped.
        if (!maps.dispatch(message, this.#opLog.pending())) this.#live?.dispatch(message);
        return;
    }
  }

  #send(message: ClientMessage): boolean {
    return this.#connection?.isAuthenticated === true && this.#connection.send(message);
  }

  #retryAuth(): void {
    if (this.#connection?.state === "AUTH_FAILED") this.#connection.reconnectNow();
  }

  #emitError(error: ClientError): void {
    for (const listener of this.#errorListeners) listener(error);
  }

  #storageError(err: unknown): void {
    this.#emitError({ kind: "STORAGE", message: err instanceof Error ? err.message : String(err) });
  }

  #requireHlc(): HLC {
    if (this.#hlc === undefined) throw new Error("TopGunClient: await start() first");
    return this.#hlc;
  }

  #requireLive(): LiveRegistry {
    if (this.#live === undefined) throw new Error("TopGunClient: await start() first");
    return this.#live;
  }

  #requireSchemas(): MapSchemas {
    if (this.#schemas === undefined) throw new Error("TopGunClient: await start() first");
    return this.#schemas;
  }

  #requireMaps(): MapRegistry {
    if (this.#maps === undefined) throw new Error("TopGunClient: await start() before opening maps");
    return this.#maps;
  }
}

/** A random node id: lowercase hex, no ':' (HLC node ids sort the same in every runtime then). */
function newNodeId(): string {
  return `c${randomHex(32)}`;
}

function isTimestamp(value: unknown): value is Timestamp {
  if (typeof value !== "object" || value === null) return false;
  if (!("millis" in value && "counter" in value && "nodeId" in value)) return false;
  return typeof value.millis === "number" && typeof value.counter === "number" && typeof value.nodeId === "string";
}
