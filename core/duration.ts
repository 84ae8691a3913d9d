/** Milliseconds per unit of a duration setting. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/**
 * A duration setting in milliseconds: a plain number of milliseconds ("2592000000") or a number with a unit
 * ("250ms", "10s", "5m", "12h", "30d"). Undefined for anything else (empty, negative, other units, not finite).
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1);
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}
