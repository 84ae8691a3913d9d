import { describe, expect, it } from "vitest";
import { HLC, type Timestamp } from "./hlc.ts";
import { orEntryHash } from "./or-entry-hash.ts";
import { ORMap } from "./or-map.ts";
import type { ORMapRecord } from "./or-record.ts";

const ts = (millis: number, counter = 0, nodeId = "r"): Timestamp => ({ millis, counter, nodeId });
const remoteRecord = <V>(value: V, timestamp: Timestamp): ORMapRecord<V> => ({
  value,
  timestamp,
  tag: `${timestamp.millis}:${timestamp.counter}:${timestamp.nodeId}`,
});

function replica(nodeId: string, start = 1_000): { map: ORMap<unknown>; hlc: HLC; setTime: (ms: number) => void } {
  let now = start;
  const clock = () => now;
  const hlc = new HLC(nodeId, { clock });
  return { map: new ORMap(hlc, { clock }), hlc, setTime: (ms) => (now = ms) };
}

/** What Merkle sync does for one key: the receiver merges the sender's records and tombstones. */
function sendKey(from: ORMap<unknown>, to: ORMap<unknown>, key: string): void {
  const entry = from.getEntry(key);
  to.mergeKey(key, entry.records, entry.tombstones);
}

describe("ORMap undoing refused local writes", () => {
  it("forgets a refused add without a tombstone, and its tree entry with it", () => {
    const { map } = replica("a");
    map.add("k", "kept");
    const rootBefore = map.merkleTree.getRootHash();
    const refused = map.add("k", "refused");

    expect(map.forgetRecord(refused.tag)).toBe("k");
    expect(map.get("k")).toEqual(["kept"]);
    expect(map.isTombstoned(refused.tag)).toBe(false);
    expect(map.merkleTree.getRootHash()).toBe(rootBefore);
    expect(map.forgetRecord(refused.tag)).toBeUndefined();
  });

  it("forgets a refused remove's tombstone, so the record can come back", () => {
    const { map } = replica("a");
    const record = map.add("k", "v");
    const [tag] = map.remove("k", "v");

    expect(map.forgetTombstone(tag ?? "")).toBe(true);
    expect(map.apply("k", record)).toBe(true);
    expect(map.get("k")).toEqual(["v"]);
  });
});

describe("ORMap add and remove", () => {
  it("keeps every added value of a key", () => {
    const { map } = replica("a");
    map.add("k", "x");
    map.add("k", "y");
    expect(map.get("k")).toEqual(["x", "y"]);
  });

  it("tags a record with the HLC string of its timestamp", () => {
    const { map } = replica("a", 1_234);
    expect(map.add("k", "x").tag).toBe("1234:0:a");
  });

  it("removes only values that are strictly equal and returns their tags", () => {
    const { map } = replica("a");
    const object = { n: 1 };
    const kept = map.add("k", { n: 1 });
    const gone = map.add("k", object);
    expect(map.remove("k", object)).toEqual([gone.tag]);
    expect(map.getRecords("k")).toEqual([kept]);
    expect(map.isTombstoned(gone.tag)).toBe(true);
  });

  it("drops a key, and its tree entry, once its last record is removed", () => {
    const { map } = replica("a");
    map.add("k", "x");
    map.remove("k", "x");
    expect(map.keys()).toEqual([]);
    expect(map.merkleTree.getRootHash()).toBe(0);
  });

  it("keeps falsy values as real values", () => {
    const { map } = replica("a");
    map.add("k", false);
    map.add("k", 0);
    map.add("k", "");
    expect(map.get("k")).toEqual([false, 0, ""]);
  });

  it("hides expired records from get but keeps them hashed", () => {
    const { map, setTime } = replica("a", 1_000);
    const record = map.add("k", "x", 10);
    setTime(1_011);
    expect(map.get("k")).toEqual([]);
    expect(map.merkleTree.getRootHash()).toBe(orEntryHash("k", [record]));
  });

  it("rejects a TTL that is not a positive finite number", () => {
    const { map } = replica("a");
    expect(() => map.add("k", "x", 0)).toThrow(RangeError);
  });
});

describe("ORMap remote changes", () => {
  it("refuses to apply a record whose tag is tombstoned", () => {
    const { map } = replica("a");
    const record = remoteRecord("x", ts(500));
    map.applyTombstone(record.tag);
    expect(map.apply("k", record)).toBe(false);
    expect(map.get("k")).toEqual([]);
  });

  it("applies a remote record and advances the clock past it", () => {
    const { map, hlc } = replica("a", 1_000);
    expect(map.apply("k", remoteRecord("x", ts(7_000, 2)))).toBe(true);
    expect(map.get("k")).toEqual(["x"]);
    expect(hlc.now()).toEqual({ millis: 7_000, counter: 4, nodeId: "a" });
  });

  it("removes a tombstoned tag from whichever key holds it", () => {
    const { map } = replica("a");
    const record = map.add("k", "x");
    map.applyTombstone(record.tag);
    expect(map.get("k")).toEqual([]);
    expect(map.getTombstones()).toEqual([record.tag]);
  });

  it("lets a concurrent add win over a remove", () => {
    const left = replica("left", 1_000);
    const right = replica("right", 1_000);
    const first = left.map.add("k", "v");
    right.map.merge(left.map);
    left.map.remove("k", "v");
    const concurrent = right.map.add("k", "v");
    left.map.merge(right.map);
    right.map.merge(left.map);
    expect(left.map.getRecords("k")).toEqual([concurrent]);
    expect(right.map.getRecords("k")).toEqual([concurrent]);
    expect(right.map.isTombstoned(first.tag)).toBe(true);
  });

  it("does not re-add a tag the receiver has tombstoned", () => {
    const left = replica("left");
    const right = replica("right");
    const record = left.map.add("k", "v");
    right.map.applyTombstone(record.tag);
    right.map.merge(left.map);
    expect(right.map.get("k")).toEqual([]);
  });
});

describe("ORMap.mergeKey", () => {
  it("adds new tags and counts them", () => {
    const { map } = replica("a");
    const result = map.mergeKey("k", [remoteRecord("x", ts(1)), remoteRecord("y", ts(2))], []);
    expect(result).toEqual({ added: 2, updated: 0 });
    expect(map.get("k")).toEqual(["x", "y"]);
  });

  it("replaces a known tag only when the remote timestamp is strictly greater", () => {
    const { map } = replica("a");
    const original = remoteRecord("old", ts(10));
    map.apply("k", original);
    const same = { ...original, value: "same" };
    expect(map.mergeKey("k", [same], [])).toEqual({ added: 0, updated: 0 });
    expect(map.get("k")).toEqual(["old"]);
    const newer = { ...original, value: "new", timestamp: ts(11) };
    expect(map.mergeKey("k", [newer], [])).toEqual({ added: 0, updated: 1 });
    expect(map.get("k")).toEqual(["new"]);
  });

  it("applies remote tombstones before remote records", () => {
    const { map } = replica("a");
    const local = map.add("k", "x");
    const remote = remoteRecord("y", ts(5));
    expect(map.mergeKey("k", [remote], [local.tag, remote.tag])).toEqual({ added: 0, updated: 0 });
    expect(map.keys()).toEqual([]);
  });

  it("brings two replicas to the same root after they exchange entries", () => {
    const left = replica("left", 1_000);
    const right = replica("right", 2_000);
    left.map.add("a", { n: 1 });
    left.map.add("shared", "from-left");
    right.map.add("shared", "from-right");
    right.map.add("b", [1, 2]);
    const gone = right.map.add("c", "temp");
    right.map.applyTombstone(gone.tag);
    const keys = new Set([...left.map.keys(), ...right.map.keys()]);
    for (const key of keys) sendKey(left.map, right.map, key);
    for (const key of keys) sendKey(right.map, left.map, key);
    expect(left.map.merkleTree.getRootHash()).not.toBe(0);
    expect(left.map.merkleTree.getRootHash()).toBe(right.map.merkleTree.getRootHash());
    expect(left.map.get("shared")).toHaveLength(2);
  });
});

describe("ORMap maintenance", () => {
  it("prunes tombstones older than the given timestamp and keeps unparsable tags", () => {
    const { map } = replica("a");
    map.applyTombstone("100:0:n");
    map.applyTombstone("900:0:n");
    map.applyTombstone("client-1700-0");
    expect(map.prune(ts(500))).toEqual(["100:0:n"]);
    expect(map.getTombstones().sort()).toEqual(["900:0:n", "client-1700-0"]);
  });

  it("forgets records, tombstones and tree on clear", () => {
    const { map } = replica("a");
    map.add("k", "x");
    map.applyTombstone("1:0:n");
    map.clear();
    expect(map.keys()).toEqual([]);
    expect(map.getTombstones()).toEqual([]);
    expect(map.merkleTree.getRootHash()).toBe(0);
  });

  it("keeps the tree entry equal to the client hash of the key's records", () => {
    const { map } = replica("a");
    const x = map.add("k", "x");
    const y = map.add("k", { b: 1 }, 1_000);
    expect(map.merkleTree.getEntryHash("k")).toBe(orEntryHash("k", [y, x]));
  });

  it("notifies listeners of changes", () => {
    const { map } = replica("a");
    let calls = 0;
    map.onChange(() => calls++);
    map.add("k", "x");
    map.remove("k", "x");
    map.remove("k", "absent");
    expect(calls).toBe(2);
  });
});
