import { ISOLATE_HEAD_BYTES, ISOLATE_LOG_MAX_BYTES } from "../../core/limits.ts";

/** What the budget asks of one object's head index when the isolate holds too much. */
export interface HeadHolder {
  /** Evicts its least recently stored clean heads until at least `bytes` are freed or none is left; the bytes freed. */
  evictClean(bytes: number): number;
}

/** One object's share of a budget: its estimated bytes, when it last used its index, and the index, held weakly. */
export interface HeadAccount {
  clean: number;
  dirty: number;
  /** `Date.now()` of the object's last read or write through its index. */
  lastUse: number;
  readonly holder: WeakRef<HeadHolder>;
}

/** An object unused this long gives up its clean heads before any object in use gives up one. */
const IDLE_MS = 10_000;

/**
 * The LWW head indexes' memory budget of one isolate, shared by every partition object the isolate runs (they share
 * its 128 MB). An object's index reports each change of its estimated bytes to its account here; past `maxBytes`
 * (clean and dirty heads of all objects) clean heads are evicted until the total is 1/16 under it: first every clean
 * head of objects idle for 10 s (least recently used first), then from each object in use in proportion to its clean
 * bytes, so busy objects keep equal hit rates. Dirty heads (the write logs' content) are never evicted; past
 * `maxDirtyBytes` of them, the object writing compacts its own log (lww-store.ts).
 *
 * Indexes are held weakly: an object the runtime dropped stops counting once it is collected, and nothing here keeps
 * it alive.
 */
export class HeadBudget {
  readonly maxBytes: number;
  readonly maxDirtyBytes: number;
  readonly #accounts = new Set<HeadAccount>();
  #clean = 0;
  #dirty = 0;

  constructor(maxBytes: number, maxDirtyBytes: number) {
    this.maxBytes = maxBytes;
    this.maxDirtyBytes = maxDirtyBytes;
  }

  open(holder: HeadHolder): HeadAccount {
    const account: HeadAccount = { clean: 0, dirty: 0, lastUse: Date.now(), holder: new WeakRef(holder) };
    this.#accounts.add(account);
    return account;
  }

  /** Records a change of an account's bytes; the caller then calls `enforce` if it added any. */
  change(account: HeadAccount, clean: number, dirty: number): void {
    account.clean += clean;
    account.dirty += dirty;
    this.#clean += clean;
    this.#dirty += dirty;
  }

  isOver(): boolean {
    return this.#clean + this.#dirty > this.maxBytes;
  }

  /** Whether the isolate's dirty heads passed their bound (objects dropped by the runtime no longer count). */
  isDirtyOver(): boolean {
    if (this.#dirty <= this.maxDirtyBytes) return false;
    this.#dropCollected();
    return this.#dirty > this.maxDirtyBytes;
  }

  /** Estimated bytes over every live account. */
  bytes(): { clean: number; dirty: number; accounts: number } {
    this.#dropCollected();
    return { clean: this.#clean, dirty: this.#dirty, accounts: this.#accounts.size };
  }

  /** Evicts clean heads while the isolate holds more than its budget (see the class). */
  enforce(now = Date.now()): void {
    if (!this.isOver()) return;
    this.#dropCollected();
    const target = this.maxBytes - Math.floor(this.maxBytes / 16);
    const live: { account: HeadAccount; holder: HeadHolder }[] = [];
    for (const account of this.#accounts) {
      const holder = account.holder.deref();
      if (holder && account.clean > 0) live.push({ account, holder });
    }
    live.sort((a, b) => a.account.lastUse - b.account.lastUse);
    const inUse: typeof live = [];
    for (const entry of live) {
      const excess = this.#clean + this.#dirty - target;
      if (excess <= 0) return;
      if (now - entry.account.lastUse < IDLE_MS) inUse.push(entry);
      else entry.holder.evictClean(excess);
    }
    const excess = this.#clean + this.#dirty - target;
    const clean = inUse.reduce((sum, { account }) => sum + account.clean, 0);
    if (excess <= 0 || clean === 0) return;
    for (const { account, holder } of inUse) holder.evictClean(Math.ceil((excess * account.clean) / clean));
  }

  #dropCollected(): void {
    for (const account of this.#accounts) {
      if (account.holder.deref()) continue;
      this.#accounts.delete(account);
      this.#clean -= account.clean;
      this.#dirty -= account.dirty;
    }
  }
}

/** The budget of this isolate: module state, so every object the isolate runs shares it. */
export const ISOLATE_HEAD_BUDGET = new HeadBudget(ISOLATE_HEAD_BYTES, ISOLATE_LOG_MAX_BYTES);
