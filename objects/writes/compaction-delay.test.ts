import { describe, expect, it } from "vitest";
import { compactionDelayMs } from "./compaction-delay.ts";

describe("compactionDelayMs", () => {
  it("compacts a round that is due soon 2–4 s after the write", () => {
    expect(compactionDelayMs("soon", () => 0)).toBe(2_000);
    expect(compactionDelayMs("soon", () => 0.999)).toBe(3_998);
  });

  it("lets a small round of plain values wait 15–25 s", () => {
    expect(compactionDelayMs("later", () => 0)).toBe(15_000);
    expect(compactionDelayMs("later", () => 0.999)).toBe(24_990);
  });
});
