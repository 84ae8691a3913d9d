import { describe, expect, it } from "vitest";
import { backoffDelayMs, type BackoffConfig } from "./backoff.ts";

const exact: BackoffConfig = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 };

describe("backoffDelayMs", () => {
  it("grows the delay by the multiplier per attempt", () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, exact))).toEqual([100, 200, 400, 800]);
  });

  it("caps the delay at maxMs", () => {
    expect(backoffDelayMs(4, exact)).toBe(1_000);
    expect(backoffDelayMs(40, exact)).toBe(1_000);
  });

  it("spreads the delay within the jitter fraction on both sides", () => {
    const config = { ...exact, jitter: 0.5 };

    expect(backoffDelayMs(0, config, () => 0)).toBe(50);
    expect(backoffDelayMs(0, config, () => 0.5)).toBe(100);
    expect(backoffDelayMs(0, config, () => 0.999_999)).toBe(150);
  });
});
