import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.ts";

function bucketAt(startMs: number) {
  const clock = { now: startMs };
  const bucket = new TokenBucket({ ratePerSecond: 20_000, burst: 40_000, clock: () => clock.now });
  return { bucket, clock };
}

describe("TokenBucket", () => {
  it("starts full", () => {
    expect(bucketAt(1_000).bucket.tokens).toBe(40_000);
  });

  it("pays for the whole burst at once and then refuses the next token", () => {
    const { bucket } = bucketAt(0);
    expect(bucket.trySpend(40_000)).toBe(true);
    expect(bucket.trySpend(1)).toBe(false);
  });

  it("takes nothing when it cannot pay the whole cost", () => {
    const { bucket } = bucketAt(0);
    expect(bucket.trySpend(39_950)).toBe(true);
    expect(bucket.trySpend(100)).toBe(false);
    expect(bucket.tokens).toBe(50);
  });

  it("refills at 20 tokens per millisecond", () => {
    const { bucket, clock } = bucketAt(0);
    bucket.trySpend(40_000);
    clock.now = 5;
    expect(bucket.tokens).toBe(100);
    expect(bucket.trySpend(100)).toBe(true);
    clock.now = 505;
    expect(bucket.tokens).toBe(10_000);
  });

  it("never holds more than the burst", () => {
    const { bucket, clock } = bucketAt(0);
    bucket.trySpend(1_000);
    clock.now = 60_000;
    expect(bucket.tokens).toBe(40_000);
  });

  it("sustains 20,000 a second forever after the burst is spent", () => {
    const { bucket, clock } = bucketAt(0);
    bucket.trySpend(40_000);
    for (let second = 1; second <= 10; second++) {
      clock.now = second * 1_000;
      expect(bucket.trySpend(20_000)).toBe(true);
      expect(bucket.trySpend(1)).toBe(false);
    }
  });

  it("adds nothing when the clock steps back", () => {
    const { bucket, clock } = bucketAt(10_000);
    bucket.trySpend(40_000);
    clock.now = 9_000;
    expect(bucket.tokens).toBe(0);
    clock.now = 9_001;
    expect(bucket.tokens).toBe(20);
  });
});
