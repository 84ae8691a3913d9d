import type { CompactionDue } from "./lww-store.ts";

/**
 * How soon after a write the alarm compacts the LWW write log (and, with it, writes the Merkle leaf sums that are
 * behind), drawn per round so objects written at the same moment do not compact in step (in the 60 s bench, a fixed
 * 5 s made all ten objects compact together and the throughput halved for ~3 s every ~8 s).
 *
 * - "soon", 2–4 s: a round with a tombstone or a TTL (the expiry sweep reads them from lww_record) or with enough heads
 *   to pay for its alarm (lww-store.ts).
 * - "later", 15–25 s: a small round of plain values. An alarm costs the local runtime ~3–4 ms of CPU whatever it does
 *   (bench/owner-rpc-cost.ts); an owner of a map sharded 271 ways gets a few dozen writes a second, so at 2–4 s every
 *   owner took an alarm (and two alarm requests) every few seconds for ~100 heads each: 23 alarms per 1,000 ops, ~20%
 *   of the server's samples in the sharded bench (8.5 per 1,000 ops at 15–25 s, fewer the faster it writes). Waiting
 *   costs nothing else: reads merge the log, and the log stays far below its bounds.
 */
export function compactionDelayMs(due: CompactionDue, random: () => number = Math.random): number {
  return due === "soon" ? 2_000 + Math.floor(random() * 2_000) : 15_000 + Math.floor(random() * 10_000);
}
