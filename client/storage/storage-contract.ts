// The one contract every StorageAdapter passes (STYLE.md §1); each adapter's test file runs it.
import { describe, expect, it } from "vitest";
import type { LWWRecord } from "../../core/lww-map.ts";
import type { PendingOp, StorageAdapter, StoredEntry } from "./storage-adapter.ts";

/** Creates an adapter; a second call with the same `name` opens the same stored data (a "reload"). */
export type AdapterFactory = (name: string) => StorageAdapter;

let nameCounter = 0;

function lwwEntry(mapId: string, key: string, value: unknown, millis = 1): StoredEntry {
  const record: LWWRecord = { value, timestamp: { millis, counter: 0, nodeId: "n1" } };
  return { mapId, key, value: { kind: "lww", record } };
}

function putOp(seq: number): PendingOp {
  const record: LWWRecord = { value: seq, timestamp: { millis: seq, counter: 0, nodeId: "n1" } };
  return { seq, op: { id: String(seq), mapName: "m", key: `k${seq}`, opType: "PUT", record } };
}

export function runStorageContract(label: string, create: AdapterFactory): void {
  describe(`${label} storage contract`, () => {
    const fresh = () => {
      const name = `contract-${label}-${++nameCounter}`;
      return { name, adapter: create(name) };
    };

    it("returns the entries committed for a map and none of another map's", async () => {
      const { adapter } = fresh();
      await adapter.commit({ entries: [lwwEntry("lww:a", "k1", "v1"), lwwEntry("lww:b", "k2", "v2")] });

      expect(await adapter.loadMap("lww:a")).toEqual([lwwEntry("lww:a", "k1", "v1")]);
    });

    it("replaces an entry written again under the same key", async () => {
      const { adapter } = fresh();
      await adapter.commit({ entries: [lwwEntry("lww:a", "k", "old", 1)] });
      await adapter.commit({ entries: [lwwEntry("lww:a", "k", "new", 2)] });

      expect(await adapter.loadMap("lww:a")).toEqual([lwwEntry("lww:a", "k", "new", 2)]);
    });

    it("keeps binary, falsy and nested values unchanged", async () => {
      const { adapter } = fresh();
      const values = [new Uint8Array([1, 2, 3]), 0, false, "", { a: [1, { b: null }] }];
      await adapter.commit({ entries: values.map((value, i) => lwwEntry("lww:v", `k${i}`, value)) });

      const loaded = new Map((await adapter.loadMap("lww:v")).map((e) => [e.key, e]));
      values.forEach((value, i) => expect(loaded.get(`k${i}`)).toEqual(lwwEntry("lww:v", `k${i}`, value)));
    });

    it("deletes the named entries of a commit", async () => {
      const { adapter } = fresh();
      await adapter.commit({ entries: [lwwEntry("lww:a", "k1", 1), lwwEntry("lww:a", "k2", 2)] });
      await adapter.commit({ deletes: [{ mapId: "lww:a", key: "k1" }] });

      expect((await adapter.loadMap("lww:a")).map((e) => e.key)).toEqual(["k2"]);
    });

    it("clears one map and leaves the others", async () => {
      const { adapter } = fresh();
      await adapter.commit({ entries: [lwwEntry("lww:a", "k", 1), lwwEntry("lww:b", "k", 2)] });
      await adapter.clearMap("lww:a");

      expect(await adapter.loadMap("lww:a")).toEqual([]);
      expect(await adapter.loadMap("lww:b")).toHaveLength(1);
    });

    it("returns pending ops in seq order and deletes them through a seq", async () => {
      const { adapter } = fresh();
      await adapter.commit({ ops: [putOp(3), putOp(1), putOp(12), putOp(2)] });
      await adapter.deleteOpsThrough(2);

      expect((await adapter.loadOps()).map((p) => p.seq)).toEqual([3, 12]);
    });

    it("returns metadata by key and undefined for an unknown key", async () => {
      const { adapter } = fresh();
      await adapter.commit({ meta: { nodeId: "abc", hlc: { millis: 5, counter: 1, nodeId: "abc" } } });

      expect(await adapter.getMeta("nodeId")).toBe("abc");
      expect(await adapter.getMeta("hlc")).toEqual({ millis: 5, counter: 1, nodeId: "abc" });
      expect(await adapter.getMeta("missing")).toBeUndefined();
    });

    it("keeps entries, ops and metadata for the next adapter opened on the same storage", async () => {
      const { name, adapter } = fresh();
      await adapter.commit({ entries: [lwwEntry("lww:a", "k", "v")], ops: [putOp(1)], meta: { nodeId: "n1" } });
      await adapter.close();

      const reopened = create(name);
      expect(await reopened.loadMap("lww:a")).toEqual([lwwEntry("lww:a", "k", "v")]);
      expect(await reopened.loadOps()).toEqual([putOp(1)]);
      expect(await reopened.getMeta("nodeId")).toBe("n1");
    });
  });
}
