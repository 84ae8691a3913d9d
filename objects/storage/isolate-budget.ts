import { ISOLATE_CACHE_BYTES, ISOLATE_LOG_MAX_BYTES } from "../../core/limits.ts";

/** What a budget asks of one object's in-memory structure when the isolate holds too much. */
export interface BudgetHolder {
  /** Evicts its least recently used evictable entries until at least `bytes` are freed or none is left; the bytes freed. */
  evict(bytes: number): number;
}

/** One object's share of a budget: its estimated bytes, when it last used them, and the structure, held weakly. */
export interface BudgetAccount {
  /** Bytes the holder can evict (a cache: it reads them back from SQLite when needed). */
  evictable: number;
  /** Bytes it cannot (an LWW write log's heads until they are compacted). */
  pinned: number;
  /** `Date.now()` of the object's last use of the structure. */
  lastUse: number;
  readonly holder: WeakRef<BudgetHolder>;
}

/** An object unused this long gives up its evictable bytes before any object in use gives up one. */
const IDLE_MS = 10_000;

/**
 * A memory budget of one isolate for in-memory caches (the LWW head indexes and the search indexes share
 * ISOLATE_CACHE_BUDGET), shared by every partition object the isolate runs: they share its 128 MB, however many there
 * are. A structure reports each change of its estimated bytes to its account here; past `maxBytes` (evictable and
 * pinned, over all objects) evictable bytes are evicted until the total is 1/16 under it: first all of objects idle
 * for 10 s (least recently used first), then from each object in use in proportion to what it holds, so busy objects
 * keep equal hit rates. Pinned bytes are never evicted; `isPinnedOver` tells when they pass `maxPinnedBytes`, so the holder can
 * release some its own way.
 *
 * Structures are held weakly: an object the runtime dropped stops counting once it is collected, and nothing here
 * keeps it alive.
 */
export class IsolateBudget {
  readonly maxBytes: number;
  readonly maxPinnedBytes: number;
  readonly #accounts = new Set<BudgetAccount>();
  #evictable = 0;
  #pinned = 0;

  constructor(maxBytes: number, maxPinnedBytes = maxBytes) {
    this.maxBytes = maxBytes;
    this.maxPinnedBytes = maxPinnedBytes;
  }

  open(holder: BudgetHolder): BudgetAccount {
    const account: BudgetAccount = { evictable: 0, pinned: 0, lastUse: Date.now(), holder: new WeakRef(holder) };
    this.#accounts.add(account);
    return account;
  }

  /** Records a change of an account's bytes; the caller then calls `enforce` if it added any. */
  change(account: BudgetAccount, evictable: number, pinned: number): void {
    account.evictable += evictable;
    account.pinned += pinned;
    this.#evictable += evictable;
    this.#pinned += pinned;
  }

  isOver(): boolean {
    return this.#evictable + this.#pinned > this.maxBytes;
  }

  /** Whether the pinned bytes passed their bound (objects dropped by the runtime no longer count). */
  isPinnedOver(): boolean {
    if (this.#pinned <= this.maxPinnedBytes) return false;
    this.#dropCollected();
    return this.#pinned > this.maxPinnedBytes;
  }

  /** Estimated bytes over every live account. */
  bytes(): { evictable: number; pinned: number; accounts: number } {
    this.#dropCollected();
    return { evictable: this.#evictable, pinned: this.#pinned, accounts: this.#accounts.size };
  }

  /** Evicts while the isolate holds more than the budget (see the class). */
  enforce(now = Date.now()): void {
    if (!this.isOver()) return;
    this.#dropCollected();
    const target = this.maxBytes - Math.floor(this.maxBytes / 16);
    const live: { account: BudgetAccount; holder: BudgetHolder }[] = [];
    for (const account of this.#accounts) {
      const holder = account.holder.deref();
      if (holder && account.evictable > 0) live.push({ account, holder });
    }
    live.sort((a, b) => a.account.lastUse - b.account.lastUse);
    const inUse: typeof live = [];
    for (const entry of live) {
      const excess = this.#evictable + this.#pinned - target;
      if (excess <= 0) return;
      if (now - entry.account.lastUse < IDLE_MS) inUse.push(entry);
      else entry.holder.evict(excess);
    }
    const excess = this.#evictable + this.#pinned - target;
    const held = inUse.reduce((sum, { account }) => sum + account.evictable, 0);
    if (excess <= 0 || held === 0) return;
    for (const { account, holder } of inUse) holder.evict(Math.ceil((excess * account.evictable) / held));
  }

  #dropCollected(): void {
    for (const account of this.#accounts) {
      if (account.holder.deref()) continue;
      this.#accounts.delete(account);
      this.#evictable -= account.evictable;
      this.#pinned -= account.pinned;
    }
  }
}

/**
 * The caches' budget of this isolate: module state, so every object the isolate runs shares it. Its pinned bytes are
 * the LWW write logs' heads (lww-heads.ts).
 */
export const ISOLATE_CACHE_BUDGET = new IsolateBudget(ISOLATE_CACHE_BYTES, ISOLATE_LOG_MAX_BYTES);
