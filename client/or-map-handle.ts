import type { HLC, Timestamp } from "../core/hlc.ts";
import { ORMap } from "../core/or-map.ts";
import type { ORMapEntry, ORMapRecord } from "../core/or-record.ts";
import { coalesced, type MapContext } from "./map-context.ts";
import type { StoredEntry } from "./storage/storage-adapter.ts";

/**
 * An observed-remove multimap as the app sees it: each key holds a set of values. Reads and writes are
 * local and synchronous; each change is stored with its ops and sent when a connection is up.
 */
export class ORMapHandle<V = unknown> {
  readonly name: string;
  readonly mapId: string;
  readonly #map: ORMap<V>;
  readonly #context: MapContext;
  /** Resolves when the records stored by earlier sessions are loaded. */
  readonly ready: Promise<void>;

  constructor(name: string, hlc: HLC, context: MapContext, load: (handle: ORMapHandle<V>) => Promise<void>) {
    this.name = name;
    this.mapId = `or:${name}`;
    this.#map = new ORMap<V>(hlc);
    this.#context = context;
    this.ready = load(this);
  }

  /** The metadata key of this map's tombstone list. */
  get tombstonesKey(): string {
    return `tombstones:${this.mapId}`;
  }

  /** The CRDT underneath, for the sync engine. */
  get crdt(): ORMap<V> {
    return this.#map;
  }

  /** Adds `value` to the set of `key`; throws SchemaViolationError, changing nothing, when it breaks the map's schema. */
  add(key: string, value: V, ttlMs?: number): ORMapRecord<V> {
    this.#context.conform(this.name, value);
    const record = this.#map.add(key, value, ttlMs);
    this.#context.write(this.#entry(key), { mapName: this.name, key, opType: "OR_ADD", orRecord: record }, record.timestamp);
    return record;
  }

  /** Removes every value of `key` that is `===` to `value`; returns the removed tags. */
  remove(key: string, value: V): string[] {
    const tags = this.#map.remove(key, value);
    if (tags.length === 0) return tags;
    this.#context.storeMeta(this.tombstonesKey, this.#map.getTombstones());
    for (const tag of tags) this.#context.write(this.#entry(key), { mapName: this.name, key, opType: "OR_REMOVE", orTag: tag });
    return tags;
  }

  /** The live values of `key`. */
  get(key: string): V[] {
    return this.#map.get(key);
  }

  /** Every key with at least one live value, with its values. */
  entries(): [string, V[]][] {
    const live: [string, V[]][] = [];
    for (const key of this.#map.keys()) {
      const values = this.#map.get(key);
      if (values.length > 0) live.push([key, values]);
    }
    return live;
  }

  /** Calls `listener` after every change, local or remote. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    return this.#map.onChange(listener);
  }

  /** Calls `callback` with the live entries now and once per burst of changes after. Returns the unsubscribe function. */
  subscribe(callback: (entries: [string, V[]][]) => void): () => void {
    callback(this.entries());
    return this.#map.onChange(coalesced(() => callback(this.entries())));
  }

  /** Applies a remote add (SERVER_EVENT) and stores the key. */
  applyRemoteAdd(key: string, record: ORMapRecord): void {
    if (this.#map.apply(key, asTyped<V>(record))) this.#context.store(this.#entry(key));
  }

  /** Applies a remote remove of one tag and stores the result. */
  applyRemoteRemove(key: string, tag: string): void {
    this.#map.applyTombstone(tag);
    this.#context.store(this.#entry(key));
    this.#context.storeMeta(this.tombstonesKey, this.#map.getTombstones());
  }

  /** Merges a key received through Merkle sync and stores it. */
  mergeRemoteEntry(entry: ORMapEntry): void {
    this.#map.mergeKey(entry.key, entry.records.map((r) => asTyped<V>(r)), entry.tombstones);
    this.#context.store(this.#entry(entry.key));
    if (entry.tombstones.length > 0) this.#context.storeMeta(this.tombstonesKey, this.#map.getTombstones());
  }

  /** Restores a key and the map's tombstones from storage (nothing to store again). */
  restore(entries: readonly StoredEntry[], tombstones: readonly string[]): void {
    for (const entry of entries) {
      if (entry.value.kind !== "or") continue;
      this.#map.mergeKey(entry.key, entry.value.records.map((r) => asTyped<V>(r)), []);
    }
    for (const tag of tombstones) this.#map.applyTombstone(tag);
  }

  /**
   * The server refused a local write: an add (`record` given) is dropped here and in storage; a remove of `tag`
   * loses its tombstone, so the next sync brings the record back. True when something was undone.
   */
  forgetRejected(tag: string, wasAdd: boolean): boolean {
    if (wasAdd) {
      const key = this.#map.forgetRecord(tag);
      if (key === undefined) return false;
      this.#context.store(this.#entry(key));
      return true;
    }
    if (!this.#map.forgetTombstone(tag)) return false;
    this.#context.storeMeta(this.tombstonesKey, this.#map.getTombstones());
    return true;
  }

  /** Drops tombstones older than `olderThan`. */
  prune(olderThan: Timestamp): void {
    if (this.#map.prune(olderThan).length > 0) this.#context.storeMeta(this.tombstonesKey, this.#map.getTombstones());
  }

  #entry(key: string): StoredEntry {
    return { mapId: this.mapId, key, value: { kind: "or", records: this.#map.getEntry(key).records } };
  }
}

/** See lww-map-handle.ts: `V` is the app's declaration, and stored or synced records share it. */
function asTyped<V>(record: ORMapRecord): ORMapRecord<V> {
  const typed: ORMapRecord = { value: record.value, timestamp: record.timestamp, tag: record.tag };
  if (record.ttlMs !== undefined && record.ttlMs !== null) typed.ttlMs = record.ttlMs;
  return typed as ORMapRecord<V>;
}
