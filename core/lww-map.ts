import { compareTimestamps, type HLC, type Timestamp } from "./hlc.ts";
import { MerkleTree, lwwEntryHash } from "./merkle-tree.ts";

/** An LWW record; `value: null` is a tombstone. */
export interface LWWRecord<V = unknown> {
  value: V | null;
  timestamp: Timestamp;
  ttlMs?: number;
}

/** True when `remote` wins over `local`: there is no local record, or remote's HLC is strictly greater. */
export function isNewerRecord(local: LWWRecord | undefined, remote: LWWRecord): boolean {
  return local === undefined || compareTimestamps(remote.timestamp, local.timestamp) > 0;
}

/** True when the record has a TTL that ran out before `nowMs` (it stays stored, only hidden). */
export function isExpired(record: LWWRecord, nowMs: number): boolean {
  return Boolean(record.ttlMs) && record.timestamp.millis + (record.ttlMs ?? 0) < nowMs;
}

/** A last-writer-wins map with its Merkle tree (PROTOCOL.md §5.1). */
export class LWWMap<V = unknown> {
  readonly #hlc: HLC;
  readonly #records = new Map<string, LWWRecord<V>>();
  readonly #tree = new MerkleTree();
  readonly #clock: () => number;

  constructor(hlc: HLC, clock: () => number = Date.now) {
    this.#hlc = hlc;
    this.#clock = clock;
  }

  get merkleTree(): MerkleTree {
    return this.#tree;
  }

  set(key: string, value: V, ttlMs?: number): LWWRecord<V> {
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) throw new Error("ttlMs must be a positive number");
    const record: LWWRecord<V> = { value, timestamp: this.#hlc.now(), ...(ttlMs !== undefined ? { ttlMs } : {}) };
    this.#store(key, record);
    return record;
  }

  remove(key: string): LWWRecord<V> {
    const record: LWWRecord<V> = { value: null, timestamp: this.#hlc.now() };
    this.#store(key, record);
    return record;
  }

  get(key: string): V | undefined {
    const record = this.#records.get(key);
    if (!record || record.value === null || isExpired(record, this.#clock())) return undefined;
    return record.value;
  }

  getRecord(key: string): LWWRecord<V> | undefined {
    return this.#records.get(key);
  }

  /** Merges a remote record; true when it won. */
  merge(key: string, record: LWWRecord<V>): boolean {
    this.#hlc.update(record.timestamp);
    if (!isNewerRecord(this.#records.get(key), record)) return false;
    this.#store(key, record);
    return true;
  }

  /** Live entries (no tombstones, nothing expired). */
  entries(): [string, V][] {
    const now = this.#clock();
    const out: [string, V][] = [];
    for (const [key, record] of this.#records) {
      if (record.value !== null && !isExpired(record, now)) out.push([key, record.value]);
    }
    return out;
  }

  /** Every record, tombstones included. */
  records(): IterableIterator<[string, LWWRecord<V>]> {
    return this.#records.entries();
  }

  /** Drops tombstones older than `olderThan`; returns their keys. */
  prune(olderThan: Timestamp): string[] {
    const pruned: string[] = [];
    for (const [key, record] of this.#records) {
      if (record.value === null && compareTimestamps(record.timestamp, olderThan) < 0) {
        this.#records.delete(key);
        this.#tree.remove(key);
        pruned.push(key);
      }
    }
    return pruned;
  }

  #store(key: string, record: LWWRecord<V>): void {
    this.#records.set(key, record);
    this.#tree.update(key, lwwEntryHash(key, record.timestamp));
  }
}
