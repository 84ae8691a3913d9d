import { compareTimestamps, type HLC } from "../core/hlc.ts";
import { LWWMap, type LWWRecord } from "../core/lww-map.ts";
import { coalesced, type MapContext } from "./map-context.ts";
import type { StoredEntry } from "./storage/storage-adapter.ts";

/**
 * A last-writer-wins map as the app sees it. Reads and writes are local and synchronous; each write is
 * stored with its op, and the op goes to the server when a connection is up.
 */
export class LWWMapHandle<V = unknown> {
  readonly name: string;
  readonly mapId: string;
  readonly #map: LWWMap<V>;
  readonly #context: MapContext;
  readonly #localWriteListeners = new Set<(key: string) => void>();
  /** Resolves when the records stored by earlier sessions are loaded. */
  readonly ready: Promise<void>;

  constructor(name: string, hlc: HLC, context: MapContext, load: (handle: LWWMapHandle<V>) => Promise<void>) {
    this.name = name;
    this.mapId = `lww:${name}`;
    this.#map = new LWWMap<V>(hlc);
    this.#context = context;
    this.ready = load(this);
  }

  /** The CRDT underneath, for the sync engine. */
  get crdt(): LWWMap<V> {
    return this.#map;
  }

  /**
   * Writes `value` now; `ttlMs` hides it after that many milliseconds. Throws SchemaViolationError, and changes
   * nothing, when the value breaks the map's JSON Schema (known once `ready` resolves, or after `client.getSchema`).
   */
  set(key: string, value: V, ttlMs?: number): LWWRecord<V> {
    this.#context.conform(this.name, value);
    const record = this.#map.set(key, value, ttlMs);
    this.#context.write(this.#entry(key, record), { mapName: this.name, key, opType: "PUT", record }, record.timestamp);
    this.#emitLocalWrite(key);
    return record;
  }

  /** Deletes `key` (a tombstone that syncs like a write). */
  remove(key: string): LWWRecord<V> {
    const record = this.#map.remove(key);
    this.#context.write(this.#entry(key, record), { mapName: this.name, key, opType: "REMOVE", record }, record.timestamp);
    this.#emitLocalWrite(key);
    return record;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  /** Live entries (no tombstones, nothing expired). */
  entries(): [string, V][] {
    return this.#map.entries();
  }

  /**
   * Calls `listener` after every change, local or remote, with the changed key (undefined when many keys may
   * have changed). Returns the unsubscribe function.
   */
  onChange(listener: (key: string | undefined) => void): () => void {
    return this.#map.onChange(listener);
  }

  /** Calls `listener` after each local `set`/`remove`, once its op is in the op log. Returns the unsubscribe function. */
  onLocalWrite(listener: (key: string) => void): () => void {
    this.#localWriteListeners.add(listener);
    return () => this.#localWriteListeners.delete(listener);
  }

  /** Calls `callback` with the live entries now and once per burst of changes after. Returns the unsubscribe function. */
  subscribe(callback: (entries: [string, V][]) => void): () => void {
    callback(this.entries());
    return this.#map.onChange(coalesced(() => callback(this.entries())));
  }

  /** Merges a record from the server and stores it when it wins; true when it did. */
  mergeRemote(key: string, record: LWWRecord): boolean {
    const typed = asTyped<V>(record);
    if (!this.#map.merge(key, typed)) return false;
    this.#context.store(this.#entry(key, typed));
    return true;
  }

  /** Merges a record from local storage (nothing to store again). */
  mergeStored(key: string, record: LWWRecord): void {
    this.#map.merge(key, asTyped<V>(record));
  }

  /**
   * The server refused the local write stamped `timestamp`: drops it here and in storage if it is still the
   * key's record (true then), so the next sync brings back the server's record.
   */
  forgetRejected(key: string, timestamp: LWWRecord["timestamp"]): boolean {
    const record = this.#map.getRecord(key);
    if (record === undefined || compareTimestamps(record.timestamp, timestamp) !== 0) return false;
    this.#map.forget(key);
    this.#context.unstore(this.mapId, key);
    return true;
  }

  /** Drops tombstones older than `olderThan`, here and in storage. */
  prune(olderThan: LWWRecord["timestamp"]): void {
    for (const key of this.#map.prune(olderThan)) this.#context.unstore(this.mapId, key);
  }

  #emitLocalWrite(key: string): void {
    for (const listener of this.#localWriteListeners) listener(key);
  }

  #entry(key: string, record: LWWRecord<V>): StoredEntry {
    return { mapId: this.mapId, key, value: { kind: "lww", record } };
  }
}

/**
 * `V` is the app's declaration of what it stores in this map; records from the server and from storage
 * were written by clients holding the same declaration, so they are taken at its word, as TopGun does.
 */
function asTyped<V>(record: LWWRecord): LWWRecord<V> {
  // A missing value (an absent msgpack key) is a tombstone like null.
  const value = record.value === undefined ? null : record.value;
  const typed: LWWRecord = { value, timestamp: record.timestamp };
  if (record.ttlMs !== undefined && record.ttlMs !== null) typed.ttlMs = record.ttlMs;
  return typed as LWWRecord<V>;
}
