import { OP_BURST, OP_RATE_PER_SECOND } from "../../core/limits.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import { TokenBucket } from "../../core/token-bucket.ts";

/**
 * What a frame costs from its connection's op budget (PROTOCOL-NEXT.md §2): an OP_BATCH its ops, a BATCH its
 * inner items (counted by the caller from the bytes, never from a client's count), anything else 1; at least 1
 * and at most the burst, so one legal frame can always be paid once the bucket is full.
 */
export function frameCost(message: ClientMessage, batchItems: number): number {
  const cost = message.type === "OP_BATCH" ? message.payload.ops.length : message.type === "BATCH" ? batchItems : 1;
  return Math.min(OP_BURST, Math.max(1, cost));
}

/**
 * The op budgets of a home's connections: one token bucket each (20,000 ops/s, burst 40,000, starting full).
 * Kept in memory only, unlike the session facts in the socket attachment: a home hibernates only after its sockets
 * have been quiet for several seconds, and two quiet seconds refill any bucket to full, so the fresh full bucket a
 * woken home starts with is what the connection would have had anyway.
 */
export class OpBudgets {
  readonly #clock: () => number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Takes `cost` from the connection's bucket when it can pay it all; false (and nothing taken) otherwise. */
  trySpend(conn: string, cost: number): boolean {
    let bucket = this.#buckets.get(conn);
    if (!bucket) {
      bucket = new TokenBucket({ ratePerSecond: OP_RATE_PER_SECOND, burst: OP_BURST, clock: this.#clock });
      this.#buckets.set(conn, bucket);
    }
    return bucket.trySpend(cost);
  }

  forget(conn: string): void {
    this.#buckets.delete(conn);
  }
}
