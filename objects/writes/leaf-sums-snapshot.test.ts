import { describe, expect, it } from "vitest";
import { LEAF_COUNT, LeafSums } from "../../core/merkle-tree.ts";
import { decodeLeafSums, encodeLeafSums } from "./leaf-sums-snapshot.ts";

const tree = (entries: [leaf: number, hash: number][]) => {
  const sums = new LeafSums();
  for (const [leaf, hash] of entries) sums.add(leaf, hash);
  return sums;
};

describe("leaf sums snapshot", () => {
  it("round-trips sums and counts, 32-bit sums included", () => {
    const sums = tree([[0, 1], [0, 0xffff_ffff], [7, 0x8000_0000], [LEAF_COUNT - 1, 42]]);
    const back = decodeLeafSums(encodeLeafSums(sums));
    expect([...back!.sums]).toEqual([...sums.sums]);
    expect([...back!.counts]).toEqual([...sums.counts]);
  });

  it("stores only the leaves with entries, 12 bytes each", () => {
    expect(encodeLeafSums(tree([[3, 9], [3, 10], [900, 1]]))).toHaveLength(24);
    expect(encodeLeafSums(new LeafSums())).toHaveLength(0);
    expect(decodeLeafSums(new Uint8Array(0))?.root()).toBe(0);
  });

  it("has a known layout: leaf, sum, count as little-endian words", () => {
    expect([...encodeLeafSums(tree([[0x102, 0x0a0b0c0d]]))]).toEqual([2, 1, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 1, 0, 0, 0]);
  });

  it("refuses what is not a snapshot, so the caller derives the sums instead", () => {
    expect(decodeLeafSums(null)).toBeUndefined();
    expect(decodeLeafSums(new Uint8Array(13))).toBeUndefined();
    const outOfRange = new Uint8Array(12);
    new DataView(outOfRange.buffer).setUint32(0, LEAF_COUNT, true);
    expect(decodeLeafSums(outOfRange)).toBeUndefined();
  });
});
