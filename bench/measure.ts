/** Rounds to two decimals for the recorded results. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** p50 / p99 / max of latency samples in ms. */
export function percentiles(samples: readonly number[]): { count: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}
