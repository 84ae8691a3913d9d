import { compareTimestamps, parseTimestamp, timestampToString, type HLC, type Timestamp } from "./hlc.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { orEntryHash } from "./or-entry-hash.ts";

/** One value of an OR-Map key; `tag` is unique (the HLC string of its add). */
export interface ORMapRecord<V = unknown> {
  value: V;
  timestamp: Timestamp;
  tag: string;
  ttlMs?: number;
}

/** A key's records and tombstoned tags, as Merkle sync exchanges them. */
export interface ORMapEntry<V = unknown> {
  key: string;
  records: ORMapRecord<V>[];
  tombstones: string[];
}

/** An observed-remove multimap: concurrent add and remove means add wins (PROTOCOL.md §6.1). */
export class ORMap<V = unknown> {
  readonly #hlc: HLC;
  readonly #clock: () => number;
  readonly #items = new Map<string, Map<string, ORMapRecord<V>>>();
  readonly #tombstones = new Set<string>();
  readonly #tree = new MerkleTree();

  constructor(hlc: HLC, clock: () => number = Date.now) {
    this.#hlc = hlc;
    this.#clock = clock;
  }

  get merkleTree(): MerkleTree {
    return this.#tree;
  }

  add(key: string, value: V, ttlMs?: number): ORMapRecord<V> {
    const timestamp = this.#hlc.now();
    const record: ORMapRecord<V> = { value, timestamp, tag: timestampToString(timestamp), ...(ttlMs !== undefined ? { ttlMs } : {}) };
    this.#tagsOf(key).set(record.tag, record);
    this.#rehash(key);
    return record;
  }

  /** Removes every record of `key` whose value is `value` (===); returns the removed tags. */
  remove(key: string, value: V): string[] {
    const tags = this.#items.get(key);
    if (!tags) return [];
    const removed: string[] = [];
    for (const [tag, record] of tags) {
      if (record.value === value) {
        tags.delete(tag);
        this.#tombstones.add(tag);
        removed.push(tag);
      }
    }
    this.#rehash(key);
    return removed;
  }

  /** A remote add; false when its tag is tombstoned. */
  apply(key: string, record: ORMapRecord<V>): boolean {
    if (this.#tombstones.has(record.tag)) return false;
    this.#tagsOf(key).set(record.tag, record);
    this.#hlc.update(record.timestamp);
    this.#rehash(key);
    return true;
  }

  applyTombstone(tag: string): void {
    this.#tombstones.add(tag);
    for (const [key, tags] of this.#items) {
      if (tags.delete(tag)) this.#rehash(key);
    }
  }

  merge(other: ORMap<V>): void {
    for (const tag of other.getTombstones()) this.applyTombstone(tag);
    for (const key of other.keys()) {
      for (const record of other.getRecords(key)) {
        if (!this.#tombstones.has(record.tag) && !this.#items.get(key)?.has(record.tag)) this.apply(key, record);
      }
    }
  }

  /** Merges one key from Merkle sync: tombstones first, then records (a known tag is replaced only by a newer one). */
  mergeKey(key: string, records: readonly ORMapRecord<V>[], tombstones: readonly string[]): { added: number; updated: number } {
    for (const tag of tombstones) this.#tombstones.add(tag);
    const tags = this.#tagsOf(key);
    for (const tag of [...tags.keys()]) if (this.#tombstones.has(tag)) tags.delete(tag);
    let added = 0;
    let updated = 0;
    for (const record of records) {
      if (this.#tombstones.has(record.tag)) continue;
      const local = tags.get(record.tag);
      if (!local) {
        tags.set(record.tag, record);
        added++;
      } else if (compareTimestamps(record.timestamp, local.timestamp) > 0) {
        tags.set(record.tag, record);
        updated++;
      }
      this.#hlc.update(record.timestamp);
    }
    this.#rehash(key);
    return { added, updated };
  }

  /** Live values of `key` (not expired). */
  get(key: string): V[] {
    return this.getRecords(key).map((record) => record.value);
  }

  getRecords(key: string): ORMapRecord<V>[] {
    const now = this.#clock();
    return [...(this.#items.get(key)?.values() ?? [])].filter(
      (record) => !(record.ttlMs && record.timestamp.millis + record.ttlMs < now),
    );
  }

  getTombstones(): string[] {
    return [...this.#tombstones];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Drops tombstones older than `olderThan` (unparsable tags are kept). */
  prune(olderThan: Timestamp): string[] {
    const pruned: string[] = [];
    for (const tag of this.#tombstones) {
      const ts = parseTimestamp(tag);
      if (ts && compareTimestamps(ts, olderThan) < 0) {
        this.#tombstones.delete(tag);
        pruned.push(tag);
      }
    }
    return pruned;
  }

  clear(): void {
    for (const key of this.keys()) {
      this.#items.delete(key);
      this.#tree.remove(key);
    }
    this.#tombstones.clear();
  }

  #tagsOf(key: string): Map<string, ORMapRecord<V>> {
    let tags = this.#items.get(key);
    if (!tags) this.#items.set(key, (tags = new Map()));
    return tags;
  }

  #rehash(key: string): void {
    const records = [...(this.#items.get(key)?.values() ?? [])];
    if (records.length === 0) {
      this.#items.delete(key);
      this.#tree.remove(key);
    } else {
      this.#tree.update(key, orEntryHash(key, records));
    }
  }
}
