import { describe, expect, it } from "vitest";
import { LeafSums } from "../../core/merkle-tree.ts";
import type { TreeKind } from "../writes/merkle-store.ts";
import { readShardedSubtree } from "./sharded-subtree.ts";
import type { MerkleAnswer, SyncOwner } from "./sync-owner.ts";

type RangeRead = { kind: TreeKind; map: string; first: number; last: number; shards?: number };

/** Sums with `count` entries in `leaf`. */
function sumsWith(entries: [leaf: number, count: number][]): LeafSums {
  const sums = new LeafSums();
  for (const [leaf, count] of entries) sums.load(leaf, 1, count);
  return sums;
}

/** Owners that answer each range read with `answer(partition)` and note what they were asked. */
function fakeOwners(answer: (partition: number) => MerkleAnswer) {
  const reads: (RangeRead & { partition: number })[] = [];
  const owners = (partition: number): Pick<SyncOwner, "readLeafRange"> => ({
    readLeafRange: async (request: RangeRead) => {
      reads.push({ ...request, partition });
      return answer(partition);
    },
  });
  return { owners, reads };
}

function gathered(shards: { partition: number; sums: LeafSums }[], tombstones = 0) {
  return { total: LeafSums.sum(shards.map((s) => s.sums)), shards, tombstones };
}

const record = (key: string) => ({ key, record: { value: key, timestamp: { millis: 1, counter: 0, nodeId: "n" } } });

describe("readShardedSubtree", () => {
  it("reads the subtree's range only from the shards that hold entries in it, with the shard count, and joins their records", async () => {
    // Path "1" is leaves 0x100..0x1ff: partitions 3 and 5 hold entries there, 7 only elsewhere.
    const shards = [
      { partition: 3, sums: sumsWith([[0x100, 2]]) },
      { partition: 5, sums: sumsWith([[0x1ff, 1]]) },
      { partition: 7, sums: sumsWith([[0x200, 4]]) },
    ];
    const { owners, reads } = fakeOwners((p) => ({ type: "lww-leaf", records: [record(`from-${p}`)] }));

    const answer = await readShardedSubtree({ owners, kind: "lww", map: "m", path: "1", gathered: gathered(shards), upTo: 1000 });

    expect(reads).toEqual([
      { partition: 3, kind: "lww", map: "m", first: 0x100, last: 0x1ff, shards: 3 },
      { partition: 5, kind: "lww", map: "m", first: 0x100, last: 0x1ff, shards: 3 },
    ]);
    expect(answer).toEqual({ type: "lww-leaf", records: [record("from-3"), record("from-5")] });
  });

  it("asks no shard when the summed counts of the subtree exceed the limit", async () => {
    const shards = [
      { partition: 1, sums: sumsWith([[0x010, 6]]) },
      { partition: 2, sums: sumsWith([[0x020, 5]]) },
    ];
    const { owners, reads } = fakeOwners(() => ({ type: "lww-leaf", records: [] }));

    const answer = await readShardedSubtree({ owners, kind: "lww", map: "m", path: "0", gathered: gathered(shards), upTo: 10 });

    expect(answer).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it("asks no shard for an OR subtree whose keys times the tombstones summed over the shards exceed the push-back limit", async () => {
    const shards = [{ partition: 1, sums: sumsWith([[0x010, 500]]) }];
    const { owners, reads } = fakeOwners(() => ({ type: "or-leaf", entries: [] }));

    const answer = await readShardedSubtree({ owners, kind: "or", map: "m", path: "0", gathered: gathered(shards, 81), upTo: 1000 });

    expect(answer).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it("answers undefined for an OR subtree whose records and tombstones together exceed the limit", async () => {
    const shards = [{ partition: 1, sums: sumsWith([[0x010, 2]]) }];
    const entry = (key: string) => ({ key, records: [], tombstones: ["a", "b", "c"] });
    const { owners } = fakeOwners(() => ({ type: "or-leaf", entries: [entry("x"), entry("y")] }));

    const answer = await readShardedSubtree({ owners, kind: "or", map: "m", path: "0", gathered: gathered(shards), upTo: 5 });

    expect(answer).toBeUndefined();
  });
});
