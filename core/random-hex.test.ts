import { describe, expect, it } from "vitest";
import { randomHex } from "./random-hex.ts";

describe("randomHex", () => {
  it("answers exactly the asked number of lowercase hex digits, odd lengths included", () => {
    for (const length of [1, 6, 7, 32]) expect(randomHex(length)).toMatch(new RegExp(`^[0-9a-f]{${length}}$`));
  });

  it("does not repeat itself", () => {
    expect(new Set(Array.from({ length: 100 }, () => randomHex(32))).size).toBe(100);
  });
});
