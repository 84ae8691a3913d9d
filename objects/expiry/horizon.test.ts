import { describe, expect, it } from "vitest";
import { DEFAULT_TOMBSTONE_TTL_MS, tombstoneHorizonMs } from "./horizon.ts";

describe("tombstoneHorizonMs", () => {
  it("is 30 days unless TOPGUN_TOMBSTONE_TTL says otherwise, in milliseconds or with a unit", () => {
    expect(tombstoneHorizonMs(undefined)).toBe(DEFAULT_TOMBSTONE_TTL_MS);
    expect(tombstoneHorizonMs("")).toBe(30 * 86_400_000);
    expect(tombstoneHorizonMs("7d")).toBe(7 * 86_400_000);
    expect(tombstoneHorizonMs("5000")).toBe(5_000);
  });

  it("refuses a value that is not a positive duration, naming the setting", () => {
    for (const bad of ["0", "-1d", "soon", "30 days"]) expect(() => tombstoneHorizonMs(bad), bad).toThrow(/TOPGUN_TOMBSTONE_TTL/);
  });
});
