/** How long to wait before each reconnect attempt. */
export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  /** Growth per failed attempt (2 doubles the delay). */
  multiplier: number;
  /** Spread as a fraction of the delay: 0.2 picks uniformly within ±20 %. 0 gives the exact schedule. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a drop): `initialMs × multiplier^attempt`
 * capped at `maxMs`, then spread by `jitter` so many clients dropped together do not return together.
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, config: BackoffConfig, random: () => number = Math.random): number {
  const base = Math.min(config.maxMs, config.initialMs * config.multiplier ** attempt);
  const spread = base * config.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
