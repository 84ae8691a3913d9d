import { OP_BURST, OP_RATE_PER_SECOND } from "../../core/limits.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import { TokenBucket } from "../../core/token-bucket.ts";

/** A connection's op budget: its sustained rate and burst; `unlimited` when the deployment turned it off. */
export type OpRate = { ratePerSecond: number; burst: number } | "unlimited";

/** PROTOCOL-NEXT.md §2: 20,000 ops/s, burst 40,000. */
export const DEFAULT_OP_RATE: OpRate = { ratePerSecond: OP_RATE_PER_SECOND, burst: OP_BURST };

/**
 * The op rate of `TOPGUN_OP_RATE`: unset, the protocol's default; "off" (or "0", "false", "no"), no limit; a
 * positive whole number, that many ops per second with a burst of twice as many. Anything else is refused.
 */
export function opRateOf(setting: string | undefined): OpRate {
  if (setting === undefined || setting.trim() === "") return DEFAULT_OP_RATE;
  const text = setting.trim().toLowerCase();
  if (["off", "0", "false", "no"].includes(text)) return "unlimited";
  const rate = Number(text);
  if (!Number.isSafeInteger(rate) || rate < 1) throw new Error(`TOPGUN_OP_RATE must be a positive whole number of ops per second or "off", not "${setting}"`);
  return { ratePerSecond: rate, burst: 2 * rate };
}

/**
 * What a frame costs from its connection's op budget (PROTOCOL-NEXT.md §2): an OP_BATCH its ops, a BATCH its
 * inner items (counted by the caller from the bytes, never from a client's count), anything else 1; at least 1
 * and at most the burst, so one legal frame can always be paid once the bucket is full.
 */
export function frameCost(message: ClientMessage, batchItems: number, burst = OP_BURST): number {
  const cost = message.type === "OP_BATCH" ? message.payload.ops.length : message.type === "BATCH" ? batchItems : 1;
  return Math.min(burst, Math.max(1, cost));
}

/**
 * The op budgets of a home's connections: one token bucket each (by default 20,000 ops/s, burst 40,000, starting full).
 * Kept in memory only, unlike the session facts in the socket attachment: a home hibernates only after its sockets
 * have been quiet for several seconds, and two quiet seconds refill any bucket to full, so the fresh full bucket a
 * woken home starts with is what the connection would have had anyway.
 */
export class OpBudgets {
  readonly #clock: () => number;
  readonly #rate: OpRate;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(clock: () => number, rate: OpRate = DEFAULT_OP_RATE) {
    this.#clock = clock;
    this.#rate = rate;
  }

  /** The most one frame can cost (see frameCost). */
  get burst(): number {
    return this.#rate === "unlimited" ? Number.MAX_SAFE_INTEGER : this.#rate.burst;
  }

  /** Takes `cost` from the connection's bucket when it can pay it all; false (and nothing taken) otherwise. */
  trySpend(conn: string, cost: number): boolean {
    const rate = this.#rate;
    if (rate === "unlimited") return true;
    let bucket = this.#buckets.get(conn);
    if (!bucket) {
      bucket = new TokenBucket({ ratePerSecond: rate.ratePerSecond, burst: rate.burst, clock: this.#clock });
      this.#buckets.set(conn, bucket);
    }
    return bucket.trySpend(cost);
  }

  forget(conn: string): void {
    this.#buckets.delete(conn);
  }
}
