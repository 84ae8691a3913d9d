import { describe, expect, it } from "vitest";
import { syncResetOf } from "./sync-reset.ts";

const DAY = 86_400_000;

describe("syncResetOf", () => {
  it("asks a client whose last sync is older than the horizon to reset the map", () => {
    expect(syncResetOf("m", 1_000, 1_000 + 30 * DAY + 1, 30 * DAY)).toEqual({
      type: "SYNC_RESET_REQUIRED",
      payload: { mapName: "m", reason: expect.stringContaining("tombstone horizon") },
    });
  });

  it("lets a client that synced within the horizon, or never, sync as usual", () => {
    expect(syncResetOf("m", 1_000, 1_000 + 30 * DAY, 30 * DAY)).toBeUndefined();
    expect(syncResetOf("m", 0, 100 * DAY, 30 * DAY)).toBeUndefined();
    expect(syncResetOf("m", undefined, 100 * DAY, 30 * DAY)).toBeUndefined();
  });

  it("lets a client whose clock is ahead of the server sync as usual", () => {
    expect(syncResetOf("m", 5 * DAY, 1 * DAY, 30 * DAY)).toBeUndefined();
  });
});
