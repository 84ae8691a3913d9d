import { describe, expect, it } from "vitest";
import { combineHashes } from "./hash.ts";
import { HLC, type Timestamp } from "./hlc.ts";
import { LWWMap, isExpired, isNewerRecord, type LWWRecord } from "./lww-map.ts";
import { lwwEntryHash } from "./merkle-tree.ts";

const ts = (millis: number, counter = 0, nodeId = "a"): Timestamp => ({ millis, counter, nodeId });

function setup(start = 1_000): { map: LWWMap<unknown>; hlc: HLC; setTime: (ms: number) => void } {
  let now = start;
  const clock = () => now;
  const hlc = new HLC("local", { clock });
  return { map: new LWWMap(hlc, { clock }), hlc, setTime: (ms) => (now = ms) };
}

describe("isNewerRecord", () => {
  it("accepts any record when there is none locally", () => {
    expect(isNewerRecord(undefined, { value: 1, timestamp: ts(1) })).toBe(true);
  });

  it("keeps the write with the higher HLC", () => {
    const local = { value: 1, timestamp: ts(10, 0) };
    expect(isNewerRecord(local, { value: 2, timestamp: ts(10, 1) })).toBe(true);
    expect(isNewerRecord(local, { value: 2, timestamp: ts(9, 5) })).toBe(false);
  });

  it("keeps the local record when timestamps are equal", () => {
    expect(isNewerRecord({ value: 1, timestamp: ts(10) }, { value: 2, timestamp: ts(10) })).toBe(false);
  });

  it("breaks ties on the node id", () => {
    expect(isNewerRecord({ value: 1, timestamp: ts(10, 0, "a") }, { value: 2, timestamp: ts(10, 0, "b") })).toBe(true);
  });
});

describe("isExpired", () => {
  it("expires a record once millis + ttlMs is in the past", () => {
    const record = { value: 1, timestamp: ts(1_000), ttlMs: 100 };
    expect(isExpired(record, 1_100)).toBe(false);
    expect(isExpired(record, 1_101)).toBe(true);
  });

  it("never expires a record without a TTL", () => {
    expect(isExpired({ value: 1, timestamp: ts(0) }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("LWWMap", () => {
  it("returns what was set", () => {
    const { map } = setup();
    map.set("k", { name: "x" });
    expect(map.get("k")).toEqual({ name: "x" });
  });

  it("keeps falsy values as real values", () => {
    const { map } = setup();
    map.set("f", false);
    map.set("z", 0);
    map.set("e", "");
    expect([map.get("f"), map.get("z"), map.get("e")]).toEqual([false, 0, ""]);
    expect(map.entries()).toHaveLength(3);
  });

  it("rejects a TTL that is not a positive finite number", () => {
    const { map } = setup();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => map.set("k", 1, ttl)).toThrow(RangeError);
    }
    expect(map.getRecord("k")).toBeUndefined();
  });

  it("hides an expired record but keeps it stored and hashed", () => {
    const { map, setTime } = setup(1_000);
    const record = map.set("k", "v", 50);
    setTime(1_051);
    expect(map.get("k")).toBeUndefined();
    expect(map.entries()).toEqual([]);
    expect(map.getRecord("k")).toBe(record);
    expect(map.merkleTree.getRootHash()).toBe(lwwEntryHash("k", record.timestamp));
  });

  it("turns remove into a tombstone that hides the key", () => {
    const { map } = setup();
    map.set("k", "v");
    const tombstone = map.remove("k");
    expect(tombstone.value).toBeNull();
    expect(map.get("k")).toBeUndefined();
    expect(map.getRecord("k")).toBe(tombstone);
    expect(map.allKeys()).toEqual(["k"]);
    expect(map.entries()).toEqual([]);
  });

  it("hashes a tombstone like a record with the same key and timestamp", () => {
    const { map } = setup();
    const tombstone = map.remove("k");
    expect(map.merkleTree.getRootHash()).toBe(lwwEntryHash("k", tombstone.timestamp));
  });

  it("merges a remote record with a higher timestamp and updates the tree", () => {
    const { map } = setup();
    map.set("k", "local");
    const remote: LWWRecord = { value: "remote", timestamp: ts(5_000, 0, "remote") };
    expect(map.merge("k", remote)).toBe(true);
    expect(map.get("k")).toBe("remote");
    expect(map.merkleTree.getRootHash()).toBe(lwwEntryHash("k", remote.timestamp));
  });

  it("ignores a remote record with a lower or equal timestamp", () => {
    const { map } = setup();
    const local = map.set("k", "local");
    expect(map.merge("k", { value: "old", timestamp: ts(1, 0, "remote") })).toBe(false);
    expect(map.merge("k", { value: "same", timestamp: { ...local.timestamp } })).toBe(false);
    expect(map.get("k")).toBe("local");
  });

  it("advances its clock past a merged timestamp, even a losing one", () => {
    const { map, hlc } = setup(1_000);
    map.merge("k", { value: 1, timestamp: ts(9_000, 3, "remote") });
    map.merge("k", { value: 2, timestamp: ts(1, 0, "remote") });
    expect(hlc.now().millis).toBe(9_000);
  });

  it("lets a newer tombstone win a merge", () => {
    const { map } = setup();
    map.set("k", "v");
    expect(map.merge("k", { value: null, timestamp: ts(9_000) })).toBe(true);
    expect(map.get("k")).toBeUndefined();
  });

  it("converges two replicas that exchange their records", () => {
    const left = setup(1_000).map;
    const right = setup(2_000).map;
    left.set("a", 1);
    left.set("shared", "left");
    right.set("b", 2);
    right.set("shared", "right");
    right.remove("b");
    for (const [key, record] of [...left.records()]) right.merge(key, record);
    for (const [key, record] of [...right.records()]) left.merge(key, record);
    expect(left.merkleTree.getRootHash()).toBe(right.merkleTree.getRootHash());
    expect(left.get("shared")).toBe("right");
  });

  it("prunes only tombstones older than the given timestamp", () => {
    const { map, setTime } = setup(1_000);
    map.remove("old");
    map.set("live", 1);
    setTime(5_000);
    map.remove("recent");
    expect(map.prune(ts(2_000))).toEqual(["old"]);
    expect(map.allKeys().sort()).toEqual(["live", "recent"]);
    expect(map.merkleTree.getEntryHash("old")).toBeUndefined();
    const hashes = [...map.records()].map(([key, record]) => lwwEntryHash(key, record.timestamp));
    expect(map.merkleTree.getRootHash()).toBe(combineHashes(hashes));
  });

  it("empties map and tree on clear", () => {
    const { map } = setup();
    map.set("k", 1);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.merkleTree.getRootHash()).toBe(0);
  });

  it("notifies listeners of changes until they unsubscribe", () => {
    const { map } = setup();
    let calls = 0;
    const stop = map.onChange(() => calls++);
    map.set("k", 1);
    map.merge("k", { value: 2, timestamp: ts(1) });
    stop();
    map.set("k", 3);
    expect(calls).toBe(1);
  });
});
