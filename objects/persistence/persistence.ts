import type { Outbox } from "./outbox.ts";
import type { WriteThrough } from "./write-through.ts";

/** A flush is also scheduled on the alarm this long after changes are queued, in case the object is evicted first. */
const SAFETY_FLUSH_DELAY_MS = 2_000;

/**
 * Owner role, write-through to Postgres: flushes the outbox soon after each write, retries on the alarm with
 * backoff while Postgres is down, and answers whether a write is persisted (PERSISTED write concern).
 */
export class Persistence {
  readonly #outbox: Outbox;
  readonly #writeThrough: WriteThrough;
  readonly #wakeAt: (atMs: number) => Promise<void>;
  readonly #clock: () => number;
  #armed = false;

  constructor(deps: { outbox: Outbox; writeThrough: WriteThrough; wakeAt: (atMs: number) => Promise<void>; clock?: () => number }) {
    this.#outbox = deps.outbox;
    this.#writeThrough = deps.writeThrough;
    this.#wakeAt = deps.wakeAt;
    this.#clock = deps.clock ?? Date.now;
  }

  get outbox(): Outbox {
    return this.#outbox;
  }

  /** Changes were queued: flush now, with the alarm as the safety net. */
  async changed(): Promise<void> {
    if (!this.#armed) {
      this.#armed = true;
      await this.#wakeAt(this.#clock() + SAFETY_FLUSH_DELAY_MS);
    }
    this.#flush().catch((err: unknown) => console.error("[owner] flush failed", err));
  }

  /** True once every change queued so far is in Postgres; false when Postgres did not take it in this attempt. */
  async persisted(): Promise<boolean> {
    const seq = this.#outbox.lastSeq();
    while (!this.#outbox.isAcknowledged(seq)) {
      // Each flush is bounded by pg's connection and statement timeouts (no timers of our own in the object).
      const result = await this.#flush();
      if (!result) return false;
    }
    return true;
  }

  /** The alarm fired: flush what is left. */
  async alarm(): Promise<void> {
    await this.#flush();
  }

  stats(): { depth: number; lagMs: number } {
    return this.#outbox.stats();
  }

  async #flush(): Promise<boolean> {
    const result = await this.#writeThrough.flush();
    if (!result.ok) {
      console.error(`[owner] Postgres flush failed, retrying in ${result.retryInMs} ms: ${result.error}`);
      await this.#wakeAt(this.#clock() + result.retryInMs);
      return false;
    }
    if (result.remaining > 0) await this.#wakeAt(this.#clock());
    else this.#armed = false;
    return true;
  }
}
