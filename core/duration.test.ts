import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it("reads plain milliseconds and numbers with a unit", () => {
    expect(parseDuration("1500")).toBe(1_500);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration(" 30d ")).toBe(2_592_000_000);
    expect(parseDuration("30 D")).toBe(2_592_000_000);
  });

  it("refuses anything that is not a non-negative duration", () => {
    for (const bad of ["", "d", "-5s", "10 weeks", "1e3", "ten", "5 s s", "9".repeat(30)]) expect(parseDuration(bad), bad).toBeUndefined();
  });
});
