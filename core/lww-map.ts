import { compareTimestamps, type HLC, type Timestamp } from "./hlc.ts";
import { MerkleTree, lwwEntryHash } from "./merkle-tree.ts";

/** A last-writer-wins record; `value: null` marks a tombstone (a deletion). */
export interface LWWRecord<V = unknown> {
  value: V | null;
  timestamp: Timestamp;
  ttlMs?: number;
}

/** What {@link isNewerRecord} compares: a record, or anything else stamped as one (a stored head). */
type Stamped = { readonly timestamp: Timestamp; readonly value?: unknown; readonly ttlMs?: number | null };

/**
 * True when `remote` should replace `local`: there is no local record or remote's timestamp is strictly greater. Only
 * the timestamps decide, so anything that carries one compares (a stored head, without building a record).
 */
export function isNewerRecord(local: Stamped | undefined, remote: Stamped): boolean {
  return isNewerTimestamp(local?.timestamp, remote.timestamp);
}

/** The rule of {@link isNewerRecord} on the timestamps alone (a head index entry is a Timestamp, no record built). */
export function isNewerTimestamp(local: Timestamp | undefined, remote: Timestamp): boolean {
  return local === undefined || compareTimestamps(remote, local) > 0;
}

/**
 * True when the record's TTL ran out before `nowMs` (OR-Map records qualify too). Expired records stay
 * stored and hashed; readers hide them.
 */
export function isExpired(record: LWWRecord, nowMs: number): boolean {
  const { ttlMs } = record;
  // A falsy TTL (absent, 0, or null from the wire) means "never expires", as in TopGun.
  return Boolean(ttlMs) && record.timestamp.millis + (ttlMs ?? 0) < nowMs;
}

/** Options of an {@link LWWMap}. */
export interface LWWMapOptions {
  /** The wall clock used for TTL expiry; `Date.now` by default. */
  clock?: () => number;
}

/** A last-writer-wins map with its Merkle tree (PROTOCOL.md §5.1), as a client keeps it. */
export class LWWMap<V = unknown> {
  readonly #hlc: HLC;
  readonly #clock: () => number;
  readonly #records = new Map<string, LWWRecord<V>>();
  readonly #tree = new MerkleTree();
  readonly #listeners = new Set<(key: string | undefined) => void>();

  constructor(hlc: HLC, options: LWWMapOptions = {}) {
    this.#hlc = hlc;
    this.#clock = options.clock ?? Date.now;
  }

  /** The map's Merkle tree, kept in step with every change (tombstones included). */
  get merkleTree(): MerkleTree {
    return this.#tree;
  }

  /** The number of stored records, tombstones included. */
  get size(): number {
    return this.#records.size;
  }

  /** Writes `value` under a new local timestamp. Throws when `ttlMs` is given but not a positive finite number. */
  set(key: string, value: V, ttlMs?: number): LWWRecord<V> {
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
      throw new RangeError(`ttlMs must be a positive finite number (got ${ttlMs})`);
    }
    const record: LWWRecord<V> = { value, timestamp: this.#hlc.now() };
    if (ttlMs !== undefined) record.ttlMs = ttlMs;
    this.#store(key, record);
    return record;
  }

  /** Deletes `key` by writing a tombstone, which takes part in sync like any record. */
  remove(key: string): LWWRecord<V> {
    const record: LWWRecord<V> = { value: null, timestamp: this.#hlc.now() };
    this.#store(key, record);
    return record;
  }

  /** The live value of `key`: undefined when missing, deleted or expired. */
  get(key: string): V | undefined {
    const record = this.#records.get(key);
    if (record === undefined || record.value === null || isExpired(record, this.#clock())) return undefined;
    return record.value;
  }

  /** The stored record of `key`, tombstone or expired record included. */
  getRecord(key: string): LWWRecord<V> | undefined {
    return this.#records.get(key);
  }

  /** Merges a remote record after advancing the clock; true when it replaced the local one. */
  merge(key: string, record: LWWRecord<V>): boolean {
    this.#hlc.update(record.timestamp);
    if (!isNewerRecord(this.#records.get(key), record)) return false;
    this.#store(key, record);
    return true;
  }

  /** Live entries: no tombstones, nothing expired. */
  entries(): [string, V][] {
    const now = this.#clock();
    const live: [string, V][] = [];
    for (const [key, record] of this.#records) {
      if (record.value !== null && !isExpired(record, now)) live.push([key, record.value]);
    }
    return live;
  }

  /** Every stored key, tombstoned ones included. */
  allKeys(): string[] {
    return [...this.#records.keys()];
  }

  /** Every stored record, tombstones included. */
  records(): IterableIterator<[string, LWWRecord<V>]> {
    return this.#records.entries();
  }

  /** Drops tombstones older than `olderThan` from the map and its tree; returns their keys. */
  prune(olderThan: Timestamp): string[] {
    const pruned: string[] = [];
    for (const [key, record] of this.#records) {
      if (record.value !== null || compareTimestamps(record.timestamp, olderThan) >= 0) continue;
      this.#records.delete(key);
      this.#tree.remove(key);
      pruned.push(key);
    }
    if (pruned.length > 0) this.#notify();
    return pruned;
  }

  /** Drops the record of `key` without a tombstone (a local write the server refused); a later merge can bring the server's back. */
  forget(key: string): void {
    if (!this.#records.delete(key)) return;
    this.#tree.remove(key);
    this.#notify(key);
  }

  /** Forgets every record. */
  clear(): void {
    this.#records.clear();
    this.#tree.clear();
    this.#notify();
  }

  /**
   * Calls `listener` after every change with the changed key, or undefined when many keys may have changed
   * (clear, prune); returns a function that unsubscribes it.
   */
  onChange(listener: (key: string | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #store(key: string, record: LWWRecord<V>): void {
    this.#records.set(key, record);
    this.#tree.update(key, lwwEntryHash(key, record.timestamp));
    this.#notify(key);
  }

  #notify(key?: string): void {
    for (const listener of this.#listeners) listener(key);
  }
}
