import { describe, expect, it } from "vitest";
import { leafIndexOf } from "../../core/merkle-tree.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore } from "../writes/or-store.ts";
import { OrSyncReader } from "./or-sync-reader.ts";

const MAP = "m";

function record(value: string, millis: number): ORMapRecord {
  return { value, timestamp: { millis, counter: 0, nodeId: "n" }, tag: `${millis}:0:n` };
}

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const or = new OrStore(sql, merkle);
  return { merkle, or, reader: new OrSyncReader(sql, or) };
}

/** A store where `gone` held one value that was removed and `kept` still holds one. */
function withRemovedKey() {
  const state = setup();
  state.or.add(MAP, "kept", record("k", 100));
  state.or.add(MAP, "gone", record("g", 101));
  state.or.removeTag(MAP, "gone", "101:0:n");
  return state;
}

describe("OrSyncReader", () => {
  it("counts a key that holds only tombstones as an entry of its leaf and leaves every hash as stored", () => {
    const { merkle, reader } = withRemovedKey();
    const stored = merkle.sums("or", MAP);

    const sums = reader.sums(MAP, stored);

    expect(sums.counts[leafIndexOf("gone")]).toBe((stored.counts[leafIndexOf("gone")] ?? 0) + 1);
    expect([...sums.sums]).toEqual([...stored.sums]);
    expect(sums.root()).toBe(stored.root());
  });

  it("does not change the sums the write path keeps", () => {
    const { merkle, reader } = withRemovedKey();
    const before = [...merkle.sums("or", MAP).counts];

    reader.sums(MAP, merkle.sums("or", MAP));

    expect([...merkle.sums("or", MAP).counts]).toEqual(before);
  });

  it("answers a leaf with its tombstone-only key and that key's tombstones", () => {
    const { reader } = withRemovedKey();
    const leaf = leafIndexOf("gone");

    const entries = reader.readLeaves(MAP, leaf, leaf);

    expect(entries.find((e) => e.key === "gone")).toEqual({ key: "gone", records: [], tombstones: ["101:0:n"] });
  });

  it("reads every key of a leaf range, those holding values and those holding only tombstones", () => {
    const { reader } = withRemovedKey();

    const entries = reader.readLeaves(MAP, 0, 4095);

    expect(entries.map((e) => e.key).sort()).toEqual(["gone", "kept"]);
    expect(entries.find((e) => e.key === "kept")?.records.map((r) => r.value)).toEqual(["k"]);
  });

  it("leaves out a key whose remove was followed by a new value", () => {
    const { or, reader } = withRemovedKey();
    or.add(MAP, "gone", record("g2", 102));
    reader.forget(MAP);
    const leaf = leafIndexOf("gone");

    const entries = reader.readLeaves(MAP, leaf, leaf).filter((e) => e.key === "gone");

    expect(entries).toEqual([{ key: "gone", records: [record("g2", 102)], tombstones: ["101:0:n"] }]);
  });

  it("finds a key removed after the map was read once it is told to forget the map", () => {
    const { or, reader } = setup();
    or.add(MAP, "later", record("l", 100));
    reader.readLeaves(MAP, 0, 4095);
    or.removeTag(MAP, "later", "100:0:n");

    reader.forget(MAP);

    expect(reader.readLeaves(MAP, 0, 4095)).toEqual([{ key: "later", records: [], tombstones: ["100:0:n"] }]);
  });

  it("sends a subtree whole, tombstone-only keys included, while its keys and its records plus tombstones stay within the limit", () => {
    const { reader } = withRemovedKey();

    const entries = reader.readSubtree(MAP, { first: 0, last: 4095, keys: 2 }, 2);

    expect(entries?.map((e) => e.key).sort()).toEqual(["gone", "kept"]);
  });

  it("leaves a subtree to the walk when its records and tombstones together pass the limit", () => {
    const { reader } = withRemovedKey();

    expect(reader.readSubtree(MAP, { first: 0, last: 4095, keys: 2 }, 1)).toBeUndefined();
  });

  it("leaves a subtree to the walk when a client's push-back of its keys with all the map's tombstones would pass 40,000 tags", () => {
    const { or, reader } = setup();
    for (let i = 0; i < 200; i++) or.add(MAP, `k${i}`, record(`v${i}`, 1000 + i));
    for (let i = 0; i < 201; i++) {
      or.add(MAP, "churn", record("c", 5000 + i));
      or.removeTag(MAP, "churn", `${5000 + i}:0:n`);
    }

    const entries = reader.readSubtree(MAP, { first: 0, last: 4095, keys: 201 }, 1000);

    expect(entries).toBeUndefined();
  });
});
