import { parseDuration } from "../../core/duration.ts";

/** How long tombstones are kept, and how old a client's last sync may be, unless TOPGUN_TOMBSTONE_TTL says. */
export const DEFAULT_TOMBSTONE_TTL_MS = 30 * 86_400_000;

/**
 * The tombstone horizon from `TOPGUN_TOMBSTONE_TTL` (milliseconds, or a duration such as "30d", "12h", "10s"):
 * tombstones older than it are pruned, and a client whose last sync is older gets SYNC_RESET_REQUIRED. Throws a
 * clear error for a value that is not a positive duration (the deployment's configuration is wrong).
 */
export function tombstoneHorizonMs(setting: string | undefined): number {
  if (setting === undefined || setting.trim() === "") return DEFAULT_TOMBSTONE_TTL_MS;
  const ms = parseDuration(setting);
  if (ms === undefined || ms <= 0) {
    throw new Error(`TOPGUN_TOMBSTONE_TTL must be a positive duration in milliseconds or with a unit (ms, s, m, h, d), got "${setting}"`);
  }
  return ms;
}
