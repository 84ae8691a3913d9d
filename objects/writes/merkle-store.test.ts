import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "./crdt-writer.ts";
import { decodeLeafSums } from "./leaf-sums-snapshot.ts";
import { LwwStore } from "./lww-store.ts";
import { MerkleStore } from "./merkle-store.ts";
import type { OwnerOp } from "./owner-op.ts";
import { OrStore } from "./or-store.ts";
import { applySchema } from "../storage/schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";

function setup(sql: SqlPort = nodeSqlPort()) {
  applySchema(sql);
  let behind = 0;
  const merkle = new MerkleStore(sql, () => behind++);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  return { sql, merkle, writer, behindCalls: () => behind };
}

const batch = (n: number, millis: number): OwnerOp[] =>
  Array.from({ length: 20 }, (_, i) => ({
    index: i, type: "PUT", map: "m", key: `k${(n * 7 + i * 13) % 200}`, record: { value: i, timestamp: { millis, counter: i, nodeId: "a" } },
  }));

/** The sums a fresh store (a woken object, which replays the LWW write log first) loads from SQLite. */
const reloaded = (sql: SqlPort) => {
  const merkle = new MerkleStore(sql);
  new LwwStore(sql, merkle).recover();
  const sums = merkle.sums("lww", "m");
  return { sums: [...sums.sums], counts: [...sums.counts] };
};
const current = (merkle: MerkleStore) => {
  const sums = merkle.sums("lww", "m");
  return { sums: [...sums.sums], counts: [...sums.counts] };
};
const rows = (sql: SqlPort) => Number(sql.exec("SELECT COUNT(*) AS n FROM merkle_current")[0]?.n);

describe("MerkleStore (LWW trees written behind)", () => {
  it("reloads the same sums whether the stored snapshot is behind or caught up by checkpoint()", () => {
    const { sql, merkle, writer, behindCalls } = setup();
    writer.apply(batch(0, 100));
    expect(rows(sql)).toBe(0);
    expect(behindCalls()).toBe(1);
    expect(reloaded(sql)).toEqual(current(merkle));
    for (let n = 1; n < 32; n++) writer.apply(batch(n, 100 + n));
    expect(behindCalls()).toBe(1);
    expect(reloaded(sql)).toEqual(current(merkle));
    merkle.checkpoint();
    expect(rows(sql)).toBe(1);
    expect(reloaded(sql)).toEqual(current(merkle));
    writer.apply(batch(40, 500));
    expect(rows(sql)).toBe(0);
    expect(behindCalls()).toBe(2);
    expect(reloaded(sql)).toEqual(current(merkle));
    merkle.checkpoint();
    expect(rows(sql)).toBe(1);
    expect(merkle.isBehind()).toBe(false);
    const snapshot = decodeLeafSums(sql.exec("SELECT sums FROM merkle_current WHERE kind = 0 AND map = 'm'")[0]?.sums);
    expect({ sums: [...snapshot!.sums], counts: [...snapshot!.counts] }).toEqual(current(merkle));
    expect(reloaded(sql)).toEqual(current(merkle));
  });

  it("checkpoints an LWW tree as one row, whatever the number of leaves it changed", () => {
    const { sql, merkle, writer } = setup();
    for (let n = 0; n < 32; n++) writer.apply(batch(n, 100 + n));
    merkle.checkpoint();
    expect(Number(sql.exec("SELECT COUNT(*) AS n FROM merkle_leaf WHERE kind = 0")[0]?.n)).toBe(0);
    expect(rows(sql)).toBe(1);
  });

  it("derives the sums of a tree checkpointed as leaf rows before schema step 14", () => {
    const sql = nodeSqlPort();
    applySchema(sql, 13);
    // What step 13's checkpoint left: records, their leaf rows and a merkle_current row without a snapshot.
    const records = [["a", 7, 0x8000_0001], ["b", 7, 0x8000_0002], ["c", 900, 5]] as const;
    for (const [key, leaf, hash] of records) {
      sql.exec("INSERT INTO lww_record (map, key, value, millis, counter, node, leaf, hash) VALUES ('m', ?, NULL, 1, 0, 'n', ?, ?)", key, leaf, hash);
    }
    sql.exec("INSERT INTO merkle_leaf (kind, map, leaf, hash, count) VALUES (0, 'm', 7, 3, 2), (0, 'm', 900, 5, 1)");
    sql.exec("INSERT INTO merkle_current (kind, map) VALUES (0, 'm')");
    applySchema(sql);
    expect(rows(sql)).toBe(0);
    expect(Number(sql.exec("SELECT COUNT(*) AS n FROM merkle_leaf")[0]?.n)).toBe(0);
    const sums = new MerkleStore(sql).sums("lww", "m");
    expect([sums.sums[7], sums.counts[7], sums.sums[900], sums.counts[900]]).toEqual([3, 2, 5, 1]);
  });

  it("derives the sums after a rollback and after forget", () => {
    const { sql, merkle, writer } = setup();
    writer.apply(batch(0, 100));
    merkle.checkpoint();
    const before = current(merkle);
    expect(() =>
      sql.transaction(() => {
        writer.apply(batch(1, 200));
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    merkle.forget();
    expect(current(merkle)).toEqual(before);
    expect(reloaded(sql)).toEqual(before);
  });
});
