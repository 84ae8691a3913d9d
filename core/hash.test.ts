import { describe, expect, it } from "vitest";
import { addHash, combineHashes, fnv1a, subtractHash } from "./hash.ts";

describe("fnv1a", () => {
  const vectors: [string, number, string][] = [
    ["", 2166136261, "811c9dc5"],
    ["hello", 1335831723, "4f9f2cab"],
    ["key1", 927623783, "374a6a67"],
    ["key1:100:0:test", 3988528110, "edbc1bee"],
    ["user:alice", 927278352, "37452510"],
    ["alice", 2267157479, "872213e7"],
    ["a", 3826002220, "e40c292c"],
    ["b", 3876335077, "e70c2de5"],
  ];

  it.each(vectors)("hashes %j to the vector of PROTOCOL.md §7.1", (input, decimal, hex) => {
    expect(fnv1a(input)).toBe(decimal);
    expect(fnv1a(input).toString(16).padStart(8, "0")).toBe(hex);
  });

  it("hashes UTF-16 code units, not UTF-8 bytes, for a BMP character", () => {
    expect(fnv1a("\u00e9")).toBe(1812687940);
  });

  it("hashes a character outside the BMP as its two surrogates", () => {
    expect(fnv1a("\u{1f600}")).toBe(3409036472);
    expect(fnv1a("\ud83d\ude00")).toBe(3409036472);
  });

  it("returns an unsigned 32-bit integer", () => {
    for (const input of ["", "a", "zzzzzz", "\u{1f600}"]) {
      const hash = fnv1a(input);
      expect(Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff).toBe(true);
    }
  });
});

describe("combineHashes", () => {
  it("sums modulo 2^32", () => {
    expect(combineHashes([0xffffffff, 0xffffffff, 0xffffffff])).toBe(0xfffffffd);
  });

  it("gives 0 for no hashes", () => {
    expect(combineHashes([])).toBe(0);
  });

  it("does not depend on order", () => {
    expect(combineHashes([1, 0xfffffff0, 77])).toBe(combineHashes([77, 1, 0xfffffff0]));
  });
});

describe("addHash and subtractHash", () => {
  it("wrap around 2^32 and stay unsigned", () => {
    expect(addHash(0xffffffff, 2)).toBe(1);
    expect(subtractHash(1, 2)).toBe(0xffffffff);
  });

  it("undo each other", () => {
    const sum = addHash(2415063551, 210344547);
    expect(sum).toBe(2625408098);
    expect(subtractHash(sum, 210344547)).toBe(2415063551);
  });
});
