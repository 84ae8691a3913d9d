import { OP_BURST, OP_RATE_PER_SECOND } from "../../core/limits.ts";
import { TokenBucket } from "../../core/token-bucket.ts";

/** Most callers whose budgets a home keeps; the least recently seen is forgotten first (it starts full again). */
export const MAX_HTTP_CALLERS = 10_000;

/**
 * The op budgets of a home's HTTP callers, one token bucket per principal (the WebSocket's numbers, PROTOCOL-NEXT.md
 * §2: 20,000 ops/s, burst 40,000, starting full), so a caller cannot write faster over HTTP than over a socket. In
 * memory, bounded by MAX_HTTP_CALLERS.
 */
export class CallerBudgets {
  readonly #clock: () => number;
  readonly #limit: { ratePerSecond: number; burst: number; maxCallers: number };
  readonly #buckets = new Map<string, TokenBucket>();

  readonly #unlimited: boolean;

  /** `unlimited` (TOPGUN_OP_RATE=off) lets every request through. */
  constructor(options: { clock?: () => number; ratePerSecond?: number; burst?: number; maxCallers?: number; unlimited?: boolean } = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#unlimited = options.unlimited ?? false;
    this.#limit = { ratePerSecond: options.ratePerSecond ?? OP_RATE_PER_SECOND, burst: options.burst ?? OP_BURST, maxCallers: options.maxCallers ?? MAX_HTTP_CALLERS };
  }

  /** Takes `cost` (at least 1, at most the burst) from the caller's bucket when it can pay it all. */
  trySpend(caller: string, cost: number): boolean {
    if (this.#unlimited) return true;
    let bucket = this.#buckets.get(caller);
    if (bucket) this.#buckets.delete(caller);
    else {
      bucket = new TokenBucket({ ratePerSecond: this.#limit.ratePerSecond, burst: this.#limit.burst, clock: this.#clock });
      if (this.#buckets.size >= this.#limit.maxCallers) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
    }
    this.#buckets.set(caller, bucket); // most recently seen last
    return bucket.trySpend(Math.min(this.#limit.burst, Math.max(1, cost)));
  }
}
