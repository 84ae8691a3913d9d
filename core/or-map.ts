import { compareTimestamps, parseTimestamp, timestampToString, type HLC, type Timestamp } from "./hlc.ts";
import { isExpired } from "./lww-map.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { orEntryHash } from "./or-entry-hash.ts";
import type { ORMapEntry, ORMapRecord } from "./or-record.ts";

/** What {@link ORMap.mergeKey} changed. */
export interface MergeKeyResult {
  added: number;
  updated: number;
}

/** Options of an {@link ORMap}. */
export interface ORMapOptions {
  /** The wall clock used for TTL expiry; `Date.now` by default. */
  clock?: () => number;
}

/**
 * An observed-remove multimap (PROTOCOL.md §6.1): a key holds a set of tagged values, a remove tombstones
 * the tags it has seen, so a concurrent add (with a tag the remover never saw) wins.
 */
export class ORMap<V = unknown> {
  readonly #hlc: HLC;
  readonly #clock: () => number;
  readonly #items = new Map<string, Map<string, ORMapRecord<V>>>();
  // Tags are unique across keys; this index lets a tombstone find its record without a scan.
  readonly #keyOfTag = new Map<string, string>();
  readonly #tombstones = new Set<string>();
  readonly #tree = new MerkleTree();
  readonly #listeners = new Set<() => void>();

  constructor(hlc: HLC, options: ORMapOptions = {}) {
    this.#hlc = hlc;
    this.#clock = options.clock ?? Date.now;
  }

  /** The map's Merkle tree, hashed like TopGun's client (`orEntryHash`); keys without records are absent. */
  get merkleTree(): MerkleTree {
    return this.#tree;
  }

  /** Adds `value` under a fresh tag. Throws when `ttlMs` is given but not a positive finite number. */
  add(key: string, value: V, ttlMs?: number): ORMapRecord<V> {
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
      throw new RangeError(`ttlMs must be a positive finite number (got ${ttlMs})`);
    }
    const timestamp = this.#hlc.now();
    const record: ORMapRecord<V> = { value, timestamp, tag: timestampToString(timestamp) };
    if (ttlMs !== undefined) record.ttlMs = ttlMs;
    this.#put(key, record);
    this.#changed([key]);
    return record;
  }

  /** Tombstones every tag of `key` whose value is `=== value` (object identity); returns those tags. */
  remove(key: string, value: V): string[] {
    const removed: string[] = [];
    for (const [tag, record] of this.#items.get(key) ?? []) {
      if (record.value === value) removed.push(tag);
    }
    for (const tag of removed) this.#tombstone(tag);
    if (removed.length > 0) this.#changed([key]);
    return removed;
  }

  /** Applies a remote add; false when its tag is already tombstoned. */
  apply(key: string, record: ORMapRecord<V>): boolean {
    if (this.#tombstones.has(record.tag)) return false;
    const touched = this.#put(key, record);
    this.#hlc.update(record.timestamp);
    this.#changed(touched);
    return true;
  }

  /** Applies a remote remove: tombstones `tag` and drops its record from whichever key holds it. */
  applyTombstone(tag: string): void {
    const key = this.#tombstone(tag);
    this.#changed(key === undefined ? [] : [key]);
  }

  /** Undoes a local add the server refused: drops the record of `tag` without tombstoning it; returns its key. */
  forgetRecord(tag: string): string | undefined {
    const key = this.#keyOfTag.get(tag);
    if (key === undefined) return undefined;
    this.#keyOfTag.delete(tag);
    this.#items.get(key)?.delete(tag);
    this.#changed([key]);
    return key;
  }

  /** Undoes a local remove the server refused: forgets the tombstone, so sync can bring the record back. */
  forgetTombstone(tag: string): boolean {
    return this.#tombstones.delete(tag);
  }

  /** Merges another replica: union of tombstones, then every record of `other` not yet known or removed. */
  merge(other: ORMap<V>): void {
    const touched = new Set<string>();
    for (const tag of other.#tombstones) {
      const key = this.#tombstone(tag);
      if (key !== undefined) touched.add(key);
    }
    for (const [key, records] of other.#items) {
      for (const [tag, record] of records) {
        if (this.#tombstones.has(tag) || this.#keyOfTag.has(tag)) continue;
        for (const changedKey of this.#put(key, record)) touched.add(changedKey);
        this.#hlc.update(record.timestamp);
      }
    }
    this.#changed(touched);
  }

  /**
   * Merges one key received through Merkle sync: adds the tombstones, then adds each remote record whose
   * tag is new and replaces a known one only when the remote timestamp is strictly greater.
   */
  mergeKey(key: string, records: readonly ORMapRecord<V>[], tombstones: readonly string[]): MergeKeyResult {
    const touched = new Set<string>();
    for (const tag of tombstones) {
      const holder = this.#tombstone(tag);
      if (holder !== undefined) touched.add(holder);
    }
    const result: MergeKeyResult = { added: 0, updated: 0 };
    for (const record of records) {
      if (this.#tombstones.has(record.tag)) continue;
      this.#hlc.update(record.timestamp);
      const local = this.#items.get(key)?.get(record.tag);
      if (local !== undefined && compareTimestamps(record.timestamp, local.timestamp) <= 0) continue;
      for (const changedKey of this.#put(key, record)) touched.add(changedKey);
      if (local === undefined) result.added++;
      else result.updated++;
    }
    this.#changed(touched);
    return result;
  }

  /** The live values of `key` (expired records hidden). */
  get(key: string): V[] {
    return this.getRecords(key).map((record) => record.value);
  }

  /** The live records of `key` (expired records hidden). */
  getRecords(key: string): ORMapRecord<V>[] {
    const now = this.#clock();
    return [...(this.#items.get(key)?.values() ?? [])].filter((record) => !isExpired(record, now));
  }

  /** The key as sync pushes it: every stored record (expired ones too) and every tombstone of the map. */
  getEntry(key: string): ORMapEntry<V> {
    return { key, records: [...(this.#items.get(key)?.values() ?? [])], tombstones: this.getTombstones() };
  }

  getTombstones(): string[] {
    return [...this.#tombstones];
  }

  isTombstoned(tag: string): boolean {
    return this.#tombstones.has(tag);
  }

  /** Keys that hold at least one stored record. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Drops tombstones whose tag parses as a timestamp older than `olderThan`; returns them. Unparsable tags stay. */
  prune(olderThan: Timestamp): string[] {
    const pruned: string[] = [];
    for (const tag of this.#tombstones) {
      const timestamp = parseTimestamp(tag);
      if (timestamp !== undefined && compareTimestamps(timestamp, olderThan) < 0) pruned.push(tag);
    }
    for (const tag of pruned) this.#tombstones.delete(tag);
    return pruned;
  }

  /** Forgets every record and tombstone. */
  clear(): void {
    this.#items.clear();
    this.#keyOfTag.clear();
    this.#tombstones.clear();
    this.#tree.clear();
    this.#notify();
  }

  /** Calls `listener` after every change; returns a function that unsubscribes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores `record` under `key`; returns the keys whose records changed (two if the tag moved keys). */
  #put(key: string, record: ORMapRecord<V>): string[] {
    const previousKey = this.#keyOfTag.get(record.tag);
    if (previousKey !== undefined && previousKey !== key) this.#items.get(previousKey)?.delete(record.tag);
    let records = this.#items.get(key);
    if (records === undefined) {
      records = new Map();
      this.#items.set(key, records);
    }
    records.set(record.tag, record);
    this.#keyOfTag.set(record.tag, key);
    return previousKey !== undefined && previousKey !== key ? [key, previousKey] : [key];
  }

  /** Tombstones `tag`; returns the key whose record it removed, if any. */
  #tombstone(tag: string): string | undefined {
    this.#tombstones.add(tag);
    const key = this.#keyOfTag.get(tag);
    if (key === undefined) return undefined;
    this.#keyOfTag.delete(tag);
    this.#items.get(key)?.delete(tag);
    return key;
  }

  /** Brings the tree in line with the touched keys, drops keys left without records, and notifies. */
  #changed(keys: Iterable<string>): void {
    let any = false;
    for (const key of keys) {
      any = true;
      const records = this.#items.get(key);
      if (records === undefined || records.size === 0) {
        this.#items.delete(key);
        this.#tree.remove(key);
      } else {
        this.#tree.update(key, orEntryHash(key, [...records.values()]));
      }
    }
    if (any) this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
