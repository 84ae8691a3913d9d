import { describe, expect, it } from "vitest";
import { fnv1a } from "./hash.ts";
import type { Timestamp } from "./hlc.ts";
import { LEAF_COUNT, LeafSums, MerkleTree, bucketPath, leafIndexOf, leafPathOf, lwwEntryHash, subtreeLeaves } from "./merkle-tree.ts";

const ts = (millis: number, counter = 0, nodeId = "test"): Timestamp => ({ millis, counter, nodeId });

/** The worked example of PROTOCOL.md §7.2: keys a @ (100,0,test) and b @ (200,0,test). */
function workedExample(): MerkleTree {
  const tree = new MerkleTree();
  tree.update("a", lwwEntryHash("a", ts(100)));
  tree.update("b", lwwEntryHash("b", ts(200)));
  return tree;
}

/** Deterministic pseudo-random keys and hashes, so a failure can be replayed. */
function randomEntries(count: number, seed = 42): [string, number][] {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  const entries: [string, number][] = [];
  for (let i = 0; i < count; i++) {
    const key = `key-${next().toString(36)}-${i}`;
    entries.push([key, lwwEntryHash(key, ts(1_700_000_000_000 + (next() % 100_000), next() % 5, "n"))]);
  }
  return entries;
}

function leafSumsOf(entries: readonly [string, number][]): LeafSums {
  const sums = new LeafSums();
  for (const [key, hash] of entries) sums.add(leafIndexOf(key), hash);
  return sums;
}

function innerPaths(): string[] {
  const hex = [..."0123456789abcdef"];
  return ["", ...hex, ...hex.flatMap((a) => hex.map((b) => a + b))];
}

describe("key paths and entry hashes", () => {
  it("writes the bucket path as 8 lowercase zero-padded hex digits", () => {
    expect(bucketPath("key1")).toBe("374a6a67");
    expect(bucketPath("a")).toBe("e40c292c");
  });

  it("takes the leaf from the first three hex digits", () => {
    expect(leafIndexOf("key1")).toBe(0x374);
    expect(leafPathOf(leafIndexOf("key1"))).toBe("374");
    expect(leafPathOf(5)).toBe("005");
  });

  it("hashes key:millis:counter:nodeId and not the value", () => {
    expect(lwwEntryHash("key1", ts(100))).toBe(3988528110);
    expect(lwwEntryHash("a", ts(100))).toBe(2415063551);
    expect(lwwEntryHash("b", ts(200))).toBe(210344547);
  });
});

describe("MerkleTree", () => {
  it("has root 0 and no buckets when empty", () => {
    const tree = new MerkleTree();
    expect(tree.getRootHash()).toBe(0);
    expect(tree.getBuckets("")).toEqual({});
    expect(tree.hasPath("")).toBe(true);
  });

  it("gives the root hash of the worked example", () => {
    expect(workedExample().getRootHash()).toBe(2625408098);
  });

  it("answers the buckets of the worked example's sync exchange", () => {
    const tree = workedExample();
    expect(tree.getBuckets("")).toEqual({ e: 2625408098 });
    expect(tree.getBuckets("e")).toEqual({ "4": 2415063551, "7": 210344547 });
    expect(tree.getBuckets("e4")).toEqual({ "0": 2415063551 });
  });

  it("holds the worked example's keys in their leaves", () => {
    const tree = workedExample();
    expect(tree.isLeaf("e40")).toBe(true);
    expect(tree.getKeysInBucket("e40")).toEqual(["a"]);
    expect(tree.getKeysInBucket("e70")).toEqual(["b"]);
    expect(tree.getBuckets("e40")).toEqual({});
  });

  it("reports paths that were never created as missing", () => {
    const tree = workedExample();
    expect(tree.hasPath("e41")).toBe(false);
    expect(tree.hasPath("f")).toBe(false);
    expect(tree.hasPath("e40c")).toBe(false);
    expect(tree.isLeaf("e4")).toBe(false);
    expect(tree.getKeysInBucket("e4")).toEqual([]);
  });

  it("replaces a key's previous entry hash on update", () => {
    const tree = workedExample();
    tree.update("a", lwwEntryHash("a", ts(300)));
    expect(tree.getRootHash()).toBe((lwwEntryHash("a", ts(300)) + 210344547) >>> 0);
    expect(tree.getEntryHash("a")).toBe(lwwEntryHash("a", ts(300)));
  });

  it("keeps emptied nodes with hash 0 after a removal", () => {
    const tree = workedExample();
    tree.remove("b");
    expect(tree.getRootHash()).toBe(2415063551);
    expect(tree.getBuckets("e")).toEqual({ "4": 2415063551, "7": 0 });
    expect(tree.hasPath("e70")).toBe(true);
    expect(tree.isLeaf("e70")).toBe(false);
  });

  it("ignores the removal of an unknown key", () => {
    const tree = workedExample();
    tree.remove("zzz");
    expect(tree.getRootHash()).toBe(2625408098);
  });

  it("does not depend on insertion order", () => {
    const entries = randomEntries(200);
    const forward = new MerkleTree();
    const backward = new MerkleTree();
    for (const [key, hash] of entries) forward.update(key, hash);
    for (const [key, hash] of [...entries].reverse()) backward.update(key, hash);
    expect(forward.getRootHash()).toBe(backward.getRootHash());
  });

  it("forgets everything on clear", () => {
    const tree = workedExample();
    tree.clear();
    expect(tree.getRootHash()).toBe(0);
    expect(tree.hasPath("e")).toBe(false);
  });
});

describe("LeafSums", () => {
  it("counts the entries of a subtree's leaves", () => {
    const sums = new LeafSums();
    sums.add(0xa00, 1);
    sums.add(0xaff, 2);
    sums.add(0xaff, 3);
    sums.add(0xb00, 4);
    const { first, last } = subtreeLeaves("a");
    expect([first, last]).toEqual([0xa00, 0xaff]);
    expect(sums.countIn(first, last)).toBe(3);
    expect(sums.countIn(0, 0xfff)).toBe(4);
    expect(sums.countIn(0xa01, 0xafe)).toBe(0);
  });

  it("answers an empty map with root 0 and no buckets at the root", () => {
    const sums = new LeafSums();
    expect(sums.root()).toBe(0);
    expect(sums.buckets("")).toEqual({});
    expect(sums.buckets("e")).toBeUndefined();
    expect(sums.isLeafWithEntries("e40")).toBe(false);
  });

  it("answers the worked example like the trie", () => {
    const sums = leafSumsOf([
      ["a", lwwEntryHash("a", ts(100))],
      ["b", lwwEntryHash("b", ts(200))],
    ]);
    expect(sums.root()).toBe(2625408098);
    expect(sums.buckets("")).toEqual({ e: 2625408098 });
    expect(sums.buckets("e")).toEqual({ "4": 2415063551, "7": 210344547 });
    expect(sums.buckets("e4")).toEqual({ "0": 2415063551 });
    expect(sums.isLeafWithEntries("e40")).toBe(true);
    expect(sums.buckets("f")).toBeUndefined();
  });

  it("matches MerkleTree's root, buckets and leaves for 1,000 random keys", () => {
    const entries = randomEntries(1_000);
    const tree = new MerkleTree();
    for (const [key, hash] of entries) tree.update(key, hash);
    const sums = leafSumsOf(entries);
    expect(sums.root()).toBe(tree.getRootHash());
    for (const path of innerPaths()) {
      expect(sums.buckets(path)).toEqual(tree.hasPath(path) ? tree.getBuckets(path) : undefined);
    }
    for (let leaf = 0; leaf < LEAF_COUNT; leaf++) {
      const path = leafPathOf(leaf);
      expect(sums.isLeafWithEntries(path)).toBe(tree.isLeaf(path));
    }
  });

  it("sums shard trees into the whole map's tree", () => {
    const entries = randomEntries(1_000, 7);
    const shards = [0, 1, 2, 3].map((shard) => leafSumsOf(entries.filter(([key]) => fnv1a(key) % 4 === shard)));
    const whole = leafSumsOf(entries);
    const total = LeafSums.sum(shards);
    expect(total.root()).toBe(whole.root());
    expect(total.sums).toEqual(whole.sums);
    expect(total.counts).toEqual(whole.counts);
  });

  it("keeps the count when an entry's hash is replaced", () => {
    const sums = new LeafSums();
    sums.add(10, 5);
    sums.replace(10, 5, 9);
    expect(sums.sums[10]).toBe(9);
    expect(sums.counts[10]).toBe(1);
  });

  it("drops a child from the buckets once its last entry is removed", () => {
    const sums = new LeafSums();
    sums.add(0xe40, 2415063551);
    sums.add(0xe70, 210344547);
    sums.remove(0xe70, 210344547);
    expect(sums.buckets("e")).toEqual({ "4": 2415063551 });
    expect(sums.buckets("e7")).toBeUndefined();
  });

  it("lists a child whose entries sum to 0", () => {
    const sums = new LeafSums();
    sums.add(0x123, 0xffffffff);
    sums.add(0x123, 1);
    expect(sums.buckets("12")).toEqual({ "3": 0 });
  });

  it.each(["e400", "E40", "xyz", "e4"])("treats %j as no leaf with entries", (path) => {
    const sums = leafSumsOf([["a", 1]]);
    expect(sums.isLeafWithEntries(path)).toBe(false);
  });

  it("has no buckets at a leaf path or a malformed path", () => {
    const sums = leafSumsOf([["a", 1]]);
    expect(sums.buckets("e40")).toBeUndefined();
    expect(sums.buckets("E")).toBeUndefined();
  });

  it("round-trips through the compact transfer form", () => {
    const sums = leafSumsOf(randomEntries(50));
    const wire = sums.encode();
    expect(wire.leaves.length).toBeLessThanOrEqual(50);
    const copy = LeafSums.decode(wire);
    expect(copy.sums).toEqual(sums.sums);
    expect(copy.counts).toEqual(sums.counts);
  });

  it("rejects a transfer form whose lists do not line up", () => {
    expect(() => LeafSums.decode({ leaves: [1, 2], sums: [1], counts: [1, 1] })).toThrow(/length/);
    expect(() => LeafSums.decode({ leaves: [4096], sums: [1], counts: [1] })).toThrow(/bad leaf/);
  });
});
