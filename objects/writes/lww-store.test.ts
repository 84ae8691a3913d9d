import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { MerkleTree, lwwEntryHash } from "../../core/merkle-tree.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "./crdt-writer.ts";
import { LWW_LOG_MAX_ENTRIES } from "../../core/limits.ts";
import { IsolateBudget } from "../storage/isolate-budget.ts";
import { LwwHeads } from "./lww-heads.ts";
import { LwwStore } from "./lww-store.ts";
import { MerkleStore } from "./merkle-store.ts";
import type { OwnerOp } from "./owner-op.ts";
import { OrStore } from "./or-store.ts";
import { applySchema } from "../storage/schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** One object's write path over `sql`; a second call over the same `sql` is the object after a restart. */
function objectOver(sql: SqlPort, heads?: LwwHeads) {
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle, heads ? { heads } : {});
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  return { merkle, lww, writer };
}

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, ...objectOver(sql) };
}

const ts = (millis: number) => ({ millis, counter: 0, nodeId: "a" });
const put = (index: number, key: string, value: unknown, millis: number): OwnerOp => ({ index, type: "PUT", map: "m", key, record: { value, timestamp: ts(millis) } });
const count = (sql: SqlPort, table: string) => Number(sql.exec(`SELECT COUNT(*) AS n FROM ${table}`)[0]?.n);

describe("LwwStore write log", () => {
  it("appends one log row per batch and leaves lww_record to the compaction", () => {
    const { sql, writer } = setup();
    writer.apply(Array.from({ length: 100 }, (_, i) => put(i, `k${i}`, i, 10)));
    expect(count(sql, "lww_log")).toBe(1);
    expect(count(sql, "lww_record")).toBe(0);
  });

  it("reads every logged write at once: keys, leaves and scans", () => {
    const { lww, writer } = setup();
    writer.apply([put(0, "a", "one", 10), put(1, "b", "two", 10)]);
    writer.apply([put(0, "a", "newer", 20), { index: 1, type: "REMOVE", map: "m", key: "b", record: { value: null, timestamp: ts(20) } }]);
    expect(lww.readKeys("m", ["a", "b"])).toEqual(new Map([
      ["a", { value: "newer", timestamp: ts(20) }],
      ["b", { value: null, timestamp: ts(20) }],
    ]));
    const leaves = [...lww.readLeaves("m", 0, 4095).values()].flat();
    expect(leaves.map((l) => [l.key, l.record.value]).sort()).toEqual([["a", "newer"], ["b", null]]);
    const live: [string, unknown][] = [];
    lww.scanLiveValues("m", (key, value) => live.push([key, value]));
    expect(live).toEqual([["a", "newer"]]);
  });

  it("compacts the log into lww_record and empties it, with the same records", () => {
    const { sql, lww, writer } = setup();
    writer.apply([put(0, "a", 1, 10), put(1, "b", 2, 10)]);
    writer.apply([put(0, "a", 3, 20)]);
    lww.compact();
    expect(count(sql, "lww_log")).toBe(0);
    expect(sql.exec("SELECT key, millis FROM lww_record ORDER BY key")).toEqual([{ key: "a", millis: 20 }, { key: "b", millis: 10 }]);
    expect(lww.readKeys("m", ["a"]).get("a")?.value).toBe(3);
  });

  it("keeps every logged write across a restart, with Merkle sums equal to a fresh rebuild", () => {
    const { sql, writer, merkle } = setup();
    const tree = new MerkleTree();
    for (let batch = 0; batch < 5; batch++) {
      writer.apply(Array.from({ length: 50 }, (_, i) => put(i, `k${(batch * 37 + i) % 120}`, batch, 100 + batch)));
    }
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 50; i++) tree.update(`k${(batch * 37 + i) % 120}`, lwwEntryHash(`k${(batch * 37 + i) % 120}`, ts(100 + batch)));
    }
    expect(merkle.sums("lww", "m").root()).toBe(tree.getRootHash());
    // The process dies with the log uncompacted; the object wakes over the same SQLite.
    const woken = objectOver(sql);
    woken.lww.recover();
    expect(count(sql, "lww_log")).toBe(0);
    expect(woken.merkle.sums("lww", "m").root()).toBe(tree.getRootHash());
    expect(woken.lww.readKeys("m", ["k0", "k119"]).get("k0")?.timestamp.millis).toBeGreaterThanOrEqual(100);
  });

  it("replays each logged record with its own writer's node id after a restart", () => {
    const { sql, writer } = setup();
    const by = (index: number, key: string, nodeId: string): OwnerOp => ({ index, type: "PUT", map: "m", key, record: { value: key, timestamp: { millis: 10, counter: index, nodeId } } });
    writer.apply([by(0, "a", "n1"), by(1, "b", "n1"), by(2, "c", "n2"), by(3, "d", "n1")]);
    const woken = objectOver(sql);
    woken.lww.recover();
    const read = woken.lww.readKeys("m", ["a", "b", "c", "d"]);
    expect(["a", "b", "c", "d"].map((key) => read.get(key)?.timestamp.nodeId)).toEqual(["n1", "n1", "n2", "n1"]);
  });

  it("derives Merkle sums from the records and the log after a rollback", () => {
    const { sql, writer, merkle, lww } = setup();
    writer.apply([put(0, "a", 1, 10), put(1, "b", 2, 10)]);
    const root = merkle.sums("lww", "m").root();
    expect(() => sql.transaction(() => {
      writer.apply([put(0, "c", 3, 10)]);
      throw new Error("rolled back");
    })).toThrow("rolled back");
    lww.forget();
    merkle.forget();
    expect(merkle.sums("lww", "m").root()).toBe(root);
  });

  it("compacts inside the write that takes the log past its bound, until it is back under it", () => {
    const { sql, lww, writer } = setup();
    const per = 2_000;
    for (let batch = 0; batch * per <= 2 * LWW_LOG_MAX_ENTRIES; batch++) {
      writer.apply(Array.from({ length: per }, (_, i) => put(i, `k${batch * per + i}`, 1, 10)));
      expect(lww.dirtyEntries()).toBeLessThanOrEqual(LWW_LOG_MAX_ENTRIES);
    }
    expect(count(sql, "lww_record")).toBeGreaterThan(LWW_LOG_MAX_ENTRIES);
    expect(count(sql, "lww_record") + lww.dirtyEntries()).toBe(2 * LWW_LOG_MAX_ENTRIES + per);
  });

  it("moves one compaction step of its own log per write while the isolate's logs together are past their bound", () => {
    const sql = nodeSqlPort();
    applySchema(sql);
    const budget = new IsolateBudget(Infinity, 1);
    const other = new LwwHeads(budget);
    other.write("elsewhere", "k", { timestamp: ts(1), hash: 1, leaf: 0, value: null, ttlMs: null });
    const { lww, writer } = objectOver(sql, new LwwHeads(budget));
    writer.apply(Array.from({ length: 1_200 }, (_, i) => put(i, `k${i}`, 1, 10)));
    expect(count(sql, "lww_record")).toBe(500);
    writer.apply([put(0, "k0", 2, 20)]);
    expect(count(sql, "lww_record")).toBe(1_000);
    expect(lww.dirtyEntries()).toBe(201);
  });

  it("compacts in steps of bounded size, keeping a key written during the round newer everywhere", () => {
    const { sql, lww, writer } = setup();
    writer.apply(Array.from({ length: 5_000 }, (_, i) => put(i, `k${i}`, "old", 10)));
    expect(lww.compactStep(2_000)).toBe(true);
    expect(count(sql, "lww_record")).toBe(2_000);
    writer.apply([put(0, "k4999", "new", 20)]);
    expect(lww.compactStep(2_000)).toBe(true);
    expect(lww.compactStep(2_000)).toBe(false);
    expect(count(sql, "lww_record")).toBe(5_000);
    expect(count(sql, "lww_log")).toBe(1);
    expect(lww.readKeys("m", ["k4999"]).get("k4999")?.value).toBe("new");
    const woken = objectOver(sql);
    expect(woken.lww.readKeys("m", ["k4999", "k0"])).toEqual(new Map([
      ["k4999", { value: "new", timestamp: ts(20) }],
      ["k0", { value: "old", timestamp: ts(10) }],
    ]));
  });

  it("looks up no lww_record row for a new key of a map it first saw empty, and does after a restart", () => {
    const sql = nodeSqlPort();
    applySchema(sql);
    const lookups = { n: 0 };
    const counted: SqlPort = { ...sql, exec: (query, ...args) => (query.includes("CROSS JOIN lww_record") && lookups.n++, sql.exec(query, ...args)) };
    const first = objectOver(counted);
    first.writer.apply(Array.from({ length: 5_000 }, (_, i) => put(i, `k${i}`, i, 10)));
    first.lww.compact();
    first.writer.apply(Array.from({ length: 200 }, (_, i) => put(i, `n${i}`, i, 10)));
    expect(lookups.n).toBe(0);

    const restarted = objectOver(counted);
    restarted.writer.apply([put(0, "k1", "older", 5), put(1, "fresh", 1, 20)]);
    expect(lookups.n).toBeGreaterThan(0);
    expect(restarted.lww.readKeys("m", ["k1"]).get("k1")?.value).toBe(1);
  });

  it("keeps merging by HLC against heads it evicted from memory", () => {
    const sql = nodeSqlPort();
    applySchema(sql);
    const { lww, writer } = objectOver(sql, new LwwHeads(new IsolateBudget(1, Infinity)));
    writer.apply([put(0, "a", "new", 20)]);
    lww.compact();
    writer.apply([put(0, "a", "old", 10)]);
    expect(lww.readKeys("m", ["a"]).get("a")?.value).toBe("new");
  });
});

describe("LwwHeads", () => {
  const head = (millis: number) => ({ timestamp: ts(millis), hash: 1, leaf: 0, value: new Uint8Array(100), ttlMs: null });

  it("evicts the least recently stored clean heads beyond its budget, never a dirty one", () => {
    const heads = new LwwHeads(new IsolateBudget(3_000, Infinity));
    heads.write("m", "dirty", head(1));
    for (let i = 0; i < 20; i++) heads.remember("m", `clean${i}`, head(1));
    expect(heads.bytes().clean).toBeLessThanOrEqual(3_000);
    expect(heads.stampOf("m", "clean0")).toBeUndefined();
    expect(heads.stampOf("m", "clean19")).toBeDefined();
    expect(heads.stampOf("m", "dirty")).toBeDefined();
  });

  it("never replaces a dirty head with a read of lww_record", () => {
    const heads = new LwwHeads(new IsolateBudget(Infinity, Infinity));
    heads.write("m", "k", head(20));
    // The read's answer is the head the key has: the dirty one.
    expect(heads.remember("m", "k", head(10)).millis).toBe(20);
    expect(heads.stampOf("m", "k")?.millis).toBe(20);
  });
});

describe("LwwStore compaction requests", () => {
  /** An object whose `onDirty` calls are recorded. */
  function announcing() {
    const sql = nodeSqlPort();
    applySchema(sql);
    const asked: string[] = [];
    const merkle = new MerkleStore(sql);
    const lww = new LwwStore(sql, merkle, { onDirty: (due) => asked.push(due) });
    const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
    return { lww, writer, asked };
  }
  const puts = (from: number, n: number, millis = 10) => Array.from({ length: n }, (_, i) => put(i, `k${from + i}`, i, millis));

  it("asks for a later compaction when a round holds a few plain values, once however many batches join it", () => {
    const { writer, asked } = announcing();
    writer.apply(puts(0, 100));
    writer.apply(puts(100, 100));
    expect(asked).toEqual(["later"]);
  });

  it("asks for a compaction soon once the round holds a tombstone", () => {
    const { writer, asked } = announcing();
    writer.apply(puts(0, 10));
    writer.apply([{ index: 0, type: "REMOVE", map: "m", key: "k1", record: { value: null, timestamp: ts(20) } }]);
    expect(asked).toEqual(["later", "soon"]);
  });

  it("asks for a compaction soon for a record with a TTL", () => {
    const { writer, asked } = announcing();
    writer.apply([{ index: 0, type: "PUT", map: "m", key: "k", record: { value: 1, timestamp: ts(10), ttlMs: 60_000 } }]);
    expect(asked).toEqual(["soon"]);
  });

  it("asks for a compaction soon once 1,000 heads wait, and not again within the round", () => {
    const { writer, asked } = announcing();
    writer.apply(puts(0, 999));
    writer.apply(puts(999, 1));
    writer.apply(puts(1_000, 500));
    expect(asked).toEqual(["later", "soon"]);
  });

  it("asks again after a compaction for the heads written during its round", () => {
    const { lww, writer, asked } = announcing();
    writer.apply(puts(0, 600));
    expect(lww.compactStep()).toBe(true);
    writer.apply(puts(600, 5, 20));
    expect(lww.compactStep()).toBe(false);
    expect(asked).toEqual(["later", "later"]);
  });

  it("asks nothing after a compaction that left no heads waiting", () => {
    const { lww, writer, asked } = announcing();
    writer.apply(puts(0, 10));
    lww.compact();
    expect(asked).toEqual(["later"]);
  });
});
