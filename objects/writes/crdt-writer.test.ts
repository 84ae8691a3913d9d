import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { MerkleTree, lwwEntryHash } from "../../core/merkle-tree.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "./crdt-writer.ts";
import { LwwStore } from "./lww-store.ts";
import { MerkleStore } from "./merkle-store.ts";
import type { OwnerOp } from "./owner-op.ts";
import { OrStore } from "./or-store.ts";
import { applySchema } from "../storage/schema.ts";

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  return { sql, merkle, lww, or, writer };
}

const ts = (millis: number, nodeId = "a", counter = 0) => ({ millis, counter, nodeId });
const put = (index: number, key: string, value: unknown, millis: number, nodeId = "a"): OwnerOp => ({
  index,
  type: "PUT",
  map: "m",
  key,
  record: { value, timestamp: ts(millis, nodeId) },
});

describe("CrdtWriter", () => {
  it("keeps the write with the higher HLC whatever the arrival order", () => {
    const { writer, lww } = setup();
    writer.apply([put(0, "k", "new", 200)]);
    writer.apply([put(1, "k", "old", 100)]);
    expect(lww.readKeys("m", ["k"]).get("k")?.value).toBe("new");
  });

  it("breaks equal millis and counter by node id", () => {
    const { writer, lww } = setup();
    writer.apply([put(0, "k", "from-b", 100, "b"), put(1, "k", "from-a", 100, "a")]);
    expect(lww.readKeys("m", ["k"]).get("k")?.value).toBe("from-b");
  });

  it("emits a SERVER_EVENT only for writes that won", () => {
    const { writer } = setup();
    writer.apply([put(0, "k", "new", 200)]);
    const { outcomes, events } = writer.apply([put(1, "k", "old", 100)]);
    expect(outcomes).toEqual([{ index: 1, ok: true }]);
    expect(events).toEqual([]);
  });

  it("stores falsy values as real values and null as a tombstone", () => {
    const { writer, lww } = setup();
    writer.apply([put(0, "f", false, 1), put(1, "z", 0, 1), put(2, "e", "", 1)]);
    writer.apply([{ index: 3, type: "REMOVE", map: "m", key: "e", record: { value: null, timestamp: ts(2) } }]);
    const stored = lww.readKeys("m", ["f", "z", "e"]);
    expect(stored.get("f")?.value).toBe(false);
    expect(stored.get("z")?.value).toBe(0);
    expect(stored.get("e")?.value).toBeNull();
  });

  it("keeps leaf sums equal to a Merkle tree of the stored records, tombstones included", () => {
    const { writer, merkle } = setup();
    const tree = new MerkleTree();
    const ops: OwnerOp[] = [];
    for (let i = 0; i < 300; i++) ops.push(put(i, `key-${i}`, i, 1_000 + i));
    writer.apply(ops);
    writer.apply([{ index: 0, type: "REMOVE", map: "m", key: "key-7", record: { value: null, timestamp: ts(5_000) } }]);
    for (let i = 0; i < 300; i++) tree.update(`key-${i}`, lwwEntryHash(`key-${i}`, ts(i === 7 ? 5_000 : 1_000 + i)));
    expect(merkle.sums("lww", "m").root()).toBe(tree.getRootHash());
    merkle.forget();
    expect(merkle.sums("lww", "m").root()).toBe(tree.getRootHash());
  });

  it("rejects an oversized value and applies the rest of the batch", () => {
    const { writer, lww } = setup();
    const huge = "x".repeat(2 * 1024 * 1024);
    const { outcomes } = writer.apply([put(0, "big", huge, 1), put(1, "small", "ok", 1)]);
    expect(outcomes.find((o) => o.index === 0)).toMatchObject({ ok: false, kind: "TOO_LARGE" });
    expect(lww.readKeys("m", ["big", "small"]).has("big")).toBe(false);
    expect(lww.readKeys("m", ["small"]).get("small")?.value).toBe("ok");
  });

  it("does not re-add an OR tag that was removed (observed remove)", () => {
    const { writer, or } = setup();
    const record = { value: "v", timestamp: ts(1), tag: "1:0:a" };
    writer.apply([{ index: 0, type: "OR_ADD", map: "m", key: "k", record }]);
    writer.apply([{ index: 1, type: "OR_REMOVE", map: "m", key: "k", tag: "1:0:a" }]);
    writer.apply([{ index: 2, type: "OR_ADD", map: "m", key: "k", record }]);
    expect(or.readKeys("m", ["k"])[0]).toEqual({ key: "k", records: [], tombstones: ["1:0:a"] });
  });

  it("keeps both values of concurrent OR adds", () => {
    const { writer, or } = setup();
    writer.apply([
      { index: 0, type: "OR_ADD", map: "m", key: "k", record: { value: "x", timestamp: ts(1), tag: "1:0:a" } },
      { index: 1, type: "OR_ADD", map: "m", key: "k", record: { value: "y", timestamp: ts(1, "b"), tag: "1:0:b" } },
    ]);
    expect(or.readKeys("m", ["k"])[0]?.records.map((r) => r.value).sort()).toEqual(["x", "y"]);
  });
});
