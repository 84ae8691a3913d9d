/**
 * A token bucket: holds up to `burst` tokens, starts full, and gains `ratePerSecond` tokens per second of the
 * injected clock. A spend either takes all of its tokens or none.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: { ratePerSecond: number; burst: number; clock: () => number }) {
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#clock = options.clock;
    this.#tokens = options.burst;
    this.#updatedAt = options.clock();
  }

  /** Takes `cost` tokens when the bucket holds them and answers true; otherwise takes nothing and answers false. */
  trySpend(cost: number): boolean {
    this.#refill();
    if (cost > this.#tokens) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Tokens available now. */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#clock();
    // A clock that steps back (a wall clock adjusted) adds nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsedMs * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
