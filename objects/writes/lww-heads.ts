import type { Timestamp } from "../../core/hlc.ts";
import { LWW_LOG_MAX_BYTES, LWW_LOG_MAX_ENTRIES } from "../../core/limits.ts";
import { type BudgetAccount, type BudgetHolder, ISOLATE_CACHE_BUDGET, type IsolateBudget } from "../storage/isolate-budget.ts";

/** What the write path needs of a key's newest record: its timestamp, Merkle hash and leaf, value and ttl. */
export interface LwwHead {
  timestamp: Timestamp;
  hash: number;
  leaf: number;
  /** The value, msgpack-encoded; null for a tombstone. */
  value: Uint8Array | null;
  ttlMs: number | null;
}

/**
 * A head as a merge reads it, with nothing built: its timestamp's fields flat (so it is a Timestamp), its Merkle
 * hash; `valueBytes()` and `head` build the value bytes and the whole head when a caller needs them.
 */
export interface HeadStamp extends Timestamp {
  readonly hash: number;
  valueBytes(): Uint8Array | null;
  readonly head: LwwHead;
}

/**
 * What V8 holds per head beyond its key's and value's characters: the entry object and its boxed millis, the value
 * string's header, and the entry's Map and Set slots (the node id is shared). bench/head-bytes.ts measures ~270–300
 * bytes of Node's heap per head of a 31-byte value (8-byte pointers; workerd compresses them), where this gives ~300.
 */
const HEAD_OVERHEAD_BYTES = 260;

/** Values longer than this become strings in pieces (String.fromCharCode takes its arguments on the stack). */
const TEXT_CHUNK = 8_192;

/**
 * One key's head in the index, its fields flat in one object. The value is held as a one-byte string, a character
 * per byte: ~16 bytes of V8 header where a Uint8Array costs ~240 (its object, ArrayBuffer and backing store), which
 * was two fifths of a small head; `head` rebuilds the bytes and the timestamp for the caller.
 */
class Entry implements HeadStamp {
  readonly map: string;
  readonly key: string;
  readonly millis: number;
  readonly counter: number;
  /** Interned: the heads written by one client share one string. */
  readonly nodeId: string;
  readonly hash: number;
  readonly leaf: number;
  readonly text: string | null;
  readonly ttlMs: number | null;
  /** In the write log, not yet in lww_record: never evicted before a compaction. */
  dirty: boolean;
  readonly bytes: number;

  constructor(map: string, key: string, head: LwwHead, dirty: boolean) {
    this.map = map;
    this.key = key;
    this.millis = head.timestamp.millis;
    this.counter = head.timestamp.counter;
    this.nodeId = interned(head.timestamp.nodeId);
    this.hash = head.hash;
    this.leaf = head.leaf;
    this.text = head.value === null ? null : textOf(head.value);
    this.ttlMs = head.ttlMs;
    this.dirty = dirty;
    this.bytes = estimatedHeadBytes(key, head);
  }

  /** The value, msgpack-encoded (new bytes on each call); null for a tombstone. */
  valueBytes(): Uint8Array | null {
    return this.text === null ? null : bytesOf(this.text);
  }

  /** The head as reads use it (a new object and value bytes on each call). */
  get head(): LwwHead {
    return {
      timestamp: { millis: this.millis, counter: this.counter, nodeId: this.nodeId },
      hash: this.hash,
      leaf: this.leaf,
      value: this.valueBytes(),
      ttlMs: this.ttlMs,
    };
  }
}

/** A dirty head as a compaction takes it (`sortedDirty`) and hands it back (`markClean`). */
export type DirtyHead = Pick<Entry, "map" | "key" | "head" | "leaf">;

/**
 * The owner's in-memory index of LWW heads: the newest record of recently read or written keys. Dirty heads are
 * the write log's content (not yet compacted into lww_record) and stay until `markClean`; clean heads equal their
 * lww_record row and are evicted, least recently stored first, when the isolate's cache budget (ISOLATE_CACHE_BUDGET,
 * shared with the other objects of the isolate and their search indexes) asks; past its bound of dirty heads, each
 * write compacts a step of its own log (isIsolateOverBound). So merge decisions need no SQLite read for a key written
 * or read recently, and reads see the log by looking here first.
 */
export class LwwHeads implements BudgetHolder {
  /** Heads by map, then key: lookups hash the key string alone (a `map\0key` id would be built and hashed per call). */
  readonly #byMap = new Map<string, Map<string, Entry>>();
  /** Every entry, least recently stored first (a Set of the entry objects: identity hashing, no string work). */
  readonly #recency = new Set<Entry>();
  readonly #dirtyByMap = new Map<string, Map<string, Entry>>();
  readonly #budget: IsolateBudget;
  readonly #account: BudgetAccount;
  /** Maps whose every record is here (empty when first seen, nothing of them evicted since): a miss means absent. */
  readonly #complete = new Set<string>();
  #cleanBytes = 0;
  #dirtyBytes = 0;
  #dirtyCount = 0;

  constructor(budget: IsolateBudget = ISOLATE_CACHE_BUDGET) {
    this.#budget = budget;
    this.#account = budget.open(this);
  }

  /** Marks the index used now (the budget evicts idle objects' heads first); once per batch or read, not per key. */
  touch(): void {
    this.#account.lastUse = Date.now();
  }

  /**
   * Marks `map` as held whole: the caller saw it hold no record (its Merkle counts are all zero), so from now on every
   * record of it enters through `write`, and a key this index does not know is absent, until a head of it is evicted.
   */
  markComplete(map: string): void {
    this.#complete.add(map);
  }

  /** Whether every record of `map` is in this index (see markComplete). */
  isComplete(map: string): boolean {
    return this.#complete.has(map);
  }

  /** The key's head without building it (a merge compares timestamps and reads hashes; see HeadStamp). */
  stampOf(map: string, key: string): HeadStamp | undefined {
    return this.#byMap.get(map)?.get(key);
  }

  /**
   * A head read from lww_record (clean); answers the key's head now. A dirty head of the same key is never replaced
   * by an older read: it is the answer.
   */
  remember(map: string, key: string, head: LwwHead): HeadStamp {
    const known = this.#byMap.get(map)?.get(key);
    if (known?.dirty) return known;
    const entry = new Entry(map, key, head, false);
    this.#put(entry);
    return entry;
  }

  /** A head just written to the write log (dirty until compacted). */
  write(map: string, key: string, head: LwwHead): void {
    const entry = new Entry(map, key, head, true);
    this.#put(entry);
    let dirty = this.#dirtyByMap.get(map);
    if (!dirty) this.#dirtyByMap.set(map, (dirty = new Map()));
    dirty.set(key, entry);
  }

  /** Whether the key's head is in the write log (not yet compacted into lww_record). */
  isDirty(map: string, key: string): boolean {
    return this.#byMap.get(map)?.get(key)?.dirty === true;
  }

  /** Forgets a clean head (its lww_record row was deleted); a dirty head stays. */
  dropClean(map: string, key: string): void {
    const entry = this.#byMap.get(map)?.get(key);
    if (!entry || entry.dirty) return;
    this.#remove(entry);
    this.#cleanBytes -= entry.bytes;
    this.#budget.change(this.#account, -entry.bytes, 0);
  }

  /** The dirty heads of `map` (the write log's content for it). */
  dirtyOf(map: string): ReadonlyMap<string, { head: LwwHead }> {
    return this.#dirtyByMap.get(map) ?? EMPTY;
  }

  hasDirty(): boolean {
    return this.#dirtyCount > 0;
  }

  /** Whether this object's write log passed its bound (the size of one compaction), so the write that passed it compacts. */
  isOverBound(): boolean {
    return this.#dirtyCount > LWW_LOG_MAX_ENTRIES || this.#dirtyBytes > LWW_LOG_MAX_BYTES;
  }

  /** Whether this object holds dirty heads while the isolate's (every object's log together) passed their bound. */
  isIsolateOverBound(): boolean {
    return this.#dirtyCount > 0 && this.#budget.isPinnedOver();
  }

  /** Every dirty head, sorted by (map, leaf, key): the order of lww_record's primary key, for a compaction. */
  sortedDirty(): DirtyHead[] {
    const out: Entry[] = [];
    for (const dirty of this.#dirtyByMap.values()) for (const entry of dirty.values()) out.push(entry);
    return out.sort((a, b) =>
      a.map < b.map ? -1 : a.map > b.map ? 1 : a.leaf - b.leaf || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }

  /** After a compaction step committed a head `sortedDirty` gave: it is clean, unless its key was written again since. */
  markClean(compacted: DirtyHead): void {
    const { map, key } = compacted;
    const entry = this.#byMap.get(map)?.get(key);
    if (!entry || !entry.dirty || entry !== compacted) return;
    entry.dirty = false;
    this.#dirtyBytes -= entry.bytes;
    this.#dirtyCount--;
    this.#cleanBytes += entry.bytes;
    this.#budget.change(this.#account, entry.bytes, -entry.bytes);
    const dirty = this.#dirtyByMap.get(map);
    dirty?.delete(key);
    if (dirty?.size === 0) this.#dirtyByMap.delete(map);
  }

  /** Evicts clean heads (this object's or others') while the isolate's budget is passed. */
  enforceBudget(): void {
    this.#budget.enforce();
  }

  /** The budget's request (see BudgetHolder): this object's least recently stored clean heads, until `bytes` are freed. */
  evict(bytes: number): number {
    let freed = 0;
    for (const entry of this.#recency) {
      if (freed >= bytes) break;
      if (entry.dirty) continue;
      this.#remove(entry);
      freed += entry.bytes;
      this.#complete.delete(entry.map);
    }
    this.#cleanBytes -= freed;
    this.#budget.change(this.#account, -freed, 0);
    return freed;
  }

  /** Forgets everything (a transaction rolled back: memory may hold what SQLite did not keep). */
  clear(): void {
    this.#complete.clear();
    this.#byMap.clear();
    this.#recency.clear();
    this.#dirtyByMap.clear();
    this.#budget.change(this.#account, -this.#cleanBytes, -this.#dirtyBytes);
    this.#cleanBytes = 0;
    this.#dirtyBytes = 0;
    this.#dirtyCount = 0;
  }

  /** Estimated bytes held: clean and dirty. */
  bytes(): { clean: number; dirty: number; dirtyEntries: number } {
    return { clean: this.#cleanBytes, dirty: this.#dirtyBytes, dirtyEntries: this.#dirtyCount };
  }

  #put(entry: Entry): void {
    let keys = this.#byMap.get(entry.map);
    if (!keys) this.#byMap.set(entry.map, (keys = new Map()));
    let clean = 0;
    let dirty = 0;
    const old = keys.get(entry.key);
    if (old) {
      this.#recency.delete(old);
      if (old.dirty) {
        dirty -= old.bytes;
        this.#dirtyCount--;
      } else {
        clean -= old.bytes;
      }
    }
    keys.set(entry.key, entry);
    // Added last: the Set's order is the eviction order (least recently stored first).
    this.#recency.add(entry);
    if (entry.dirty) {
      dirty += entry.bytes;
      this.#dirtyCount++;
    } else {
      clean += entry.bytes;
    }
    this.#cleanBytes += clean;
    this.#dirtyBytes += dirty;
    this.#budget.change(this.#account, clean, dirty);
    if (clean + dirty > 0 && this.#budget.isOver()) this.#budget.enforce();
  }

  #remove(entry: Entry): void {
    this.#recency.delete(entry);
    const keys = this.#byMap.get(entry.map);
    keys?.delete(entry.key);
    if (keys?.size === 0) this.#byMap.delete(entry.map);
  }
}

const EMPTY: ReadonlyMap<string, { head: LwwHead }> = new Map();

/** Node ids seen by the head indexes of this isolate, so heads share one string per client; emptied when full. */
const NODE_IDS = new Map<string, string>();
const MAX_NODE_IDS = 4_096;

function interned(nodeId: string): string {
  const known = NODE_IDS.get(nodeId);
  if (known !== undefined) return known;
  if (NODE_IDS.size >= MAX_NODE_IDS) NODE_IDS.clear();
  NODE_IDS.set(nodeId, nodeId);
  return nodeId;
}

/** The bytes as a one-byte string, a character per byte. */
function textOf(bytes: Uint8Array): string {
  if (bytes.length <= TEXT_CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = "";
  for (let i = 0; i < bytes.length; i += TEXT_CHUNK) text += String.fromCharCode.apply(null, bytes.subarray(i, i + TEXT_CHUNK) as unknown as number[]);
  return text;
}

/** The bytes a `textOf` string holds. */
function bytesOf(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Estimated bytes of one head in the index: its key, value and node id, and its objects and map entries. */
export function estimatedHeadBytes(key: string, head: LwwHead): number {
  return 2 * key.length + (head.value?.byteLength ?? 0) + HEAD_OVERHEAD_BYTES;
}
