import { describe, expect, it } from "vitest";
import { fnv1a } from "../../core/hash.ts";
import { HLC } from "../../core/hlc.ts";
import { MerkleTree } from "../../core/merkle-tree.ts";
import { orEntryHash } from "../../core/or-entry-hash.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import { partitionOfShard } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { MapMoves } from "../placement/map-move.ts";
import { applySchema } from "../storage/schema.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore, type StoredOrEntry } from "../writes/or-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { MapMover } from "./map-mover.ts";
import { OrMover } from "./or-mover.ts";
import { OrStagingStore } from "./or-staging-store.ts";
import { StagingStore } from "./staging-store.ts";

const MAP = "carts";
const ownerOf = (key: string, shards: number) => partitionOfShard(MAP, fnv1a(key) % shards);
const record = (tag: string, value: unknown, millis = 10): ORMapRecord => ({ value, tag, timestamp: { millis, counter: 0, nodeId: "w" } });

/** One partition's owner stores over its own SQLite, with OR-Map writes as a client's ops make them. */
function partitionAt(id: number) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle, { clock: () => 5_000 });
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc: new HLC(`p${id}`, { clock: () => 1_000 }) });
  const moves = new MapMoves(sql);
  const orMover = new OrMover({ sql, or, staging: new OrStagingStore(sql), partition: id });
  const mover = new MapMover({ sql, lww, merkle, staging: new StagingStore(sql), partition: id, or: orMover });
  const apply = (ops: OwnerOp[]) => {
    moves.noteWrites(ops);
    writer.apply(ops);
  };
  const add = (key: string, rec: ORMapRecord) => apply([{ index: 0, type: "OR_ADD", map: MAP, key, record: rec }]);
  const remove = (key: string, tag: string) => apply([{ index: 0, type: "OR_REMOVE", map: MAP, key, tag }]);
  const put = (key: string, value: unknown) => apply([{ index: 0, type: "PUT", map: MAP, key, record: { value, timestamp: { millis: 10, counter: 0, nodeId: "w" } } }]);
  /** Every key's records and tombstones here, by key. */
  const contents = () => {
    const entries: StoredOrEntry[] = [];
    for (let page = orMover.exportPage(MAP, null, 1_000); ; page = orMover.exportPage(MAP, page.after, 1_000)) {
      entries.push(...page.entries);
      if (page.done) break;
    }
    return new Map(entries.map((e) => [e.key, { records: [...e.records].sort(byTag), tombstones: e.tombstones.map((t) => t.tag).sort() }]));
  };
  return { id, sql, merkle, or, moves, orMover, mover, add, remove, put, contents };
}

type Partition = ReturnType<typeof partitionAt>;

const byTag = (a: ORMapRecord, b: ORMapRecord) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

/** Sends entries of `from` to their new owners' staging copies (what the control object does). */
function route(entries: readonly StoredOrEntry[], from: Partition, cluster: Map<number, Partition>, shards: number): void {
  for (const entry of entries) {
    const owners = entry.key === null ? [...cluster.keys()] : [ownerOf(entry.key, shards)];
    for (const owner of owners) if (owner !== from.id) cluster.get(owner)?.orMover.stage(MAP, [entry]);
  }
}

/** The OR-Map root a client holding these keys' records computes. */
function rootOf(entries: Map<string | null, { records: ORMapRecord[] }>): number {
  const tree = new MerkleTree();
  for (const [key, { records }] of entries) if (key !== null && records.length > 0) tree.update(key, orEntryHash(key, records));
  return tree.getRootHash();
}

describe("OrStagingStore", () => {
  it("keeps a tombstoned tag out of the staging copy whichever of the record and its tombstone arrives first", () => {
    const p = partitionAt(1);
    p.orMover.stage(MAP, [{ key: "a", records: [record("t1", 1)], tombstones: [] }]);
    p.orMover.stage(MAP, [{ key: "a", records: [], tombstones: [{ tag: "t1", millis: 7 }] }]);
    p.orMover.stage(MAP, [{ key: "b", records: [], tombstones: [{ tag: "t2", millis: 7 }] }]);
    p.orMover.stage(MAP, [{ key: "b", records: [record("t2", 2)], tombstones: [] }]);
    p.mover.cutOver(MAP, 271);
    expect(p.or.readKeys(MAP, ["a", "b"])).toEqual([
      { key: "a", records: [], tombstones: ["t1"] },
      { key: "b", records: [], tombstones: ["t2"] },
    ]);
  });

  it("keeps the newer copy of a record (key, tag) whatever order copies arrive in", () => {
    const p = partitionAt(1);
    p.orMover.stage(MAP, [{ key: "a", records: [record("t1", "new", 20)], tombstones: [] }]);
    p.orMover.stage(MAP, [{ key: "a", records: [record("t1", "old", 10)], tombstones: [] }]);
    p.mover.cutOver(MAP, 271);
    expect(p.or.readKeys(MAP, ["a"])[0]?.records.map((r) => r.value)).toEqual(["new"]);
  });
});

describe("OrMover", () => {
  it("exports every key's records and tombstones once, a page of keys at a time, with the tombstones no key held", () => {
    const p = partitionAt(ownerOf("x", 1));
    for (let i = 0; i < 30; i++) p.add(`k${i}`, record(`t${i}`, i));
    p.remove("k3", "t3");
    p.sql.exec("INSERT INTO or_tombstone (map, tag, key, millis) VALUES (?, 'lost', NULL, 1)", MAP);
    const seen: (string | null)[] = [];
    let pages = 0;
    for (let page = p.orMover.exportPage(MAP, null, 7); ; page = p.orMover.exportPage(MAP, page.after, 7), pages++) {
      seen.push(...page.entries.map((e) => e.key));
      if (page.done) break;
    }
    expect(seen[0]).toBeNull();
    expect(seen.slice(1).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `k${i}`).sort());
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(p.orMover.exportKeys(MAP, ["k3"])).toEqual([{ key: "k3", records: [], tombstones: [{ tag: "t3", millis: 5_000 }] }]);
  });

  it("moves every entry to its owner under the new count, with each partition's OR-Map root equal to its entries", () => {
    const cluster = new Map<number, Partition>();
    const old = partitionAt(ownerOf("any", 1));
    cluster.set(old.id, old);
    for (let s = 0; s < 4; s++) if (!cluster.has(partitionOfShard(MAP, s))) cluster.set(partitionOfShard(MAP, s), partitionAt(partitionOfShard(MAP, s)));
    const keys = Array.from({ length: 120 }, (_, i) => `k${i}`);
    keys.forEach((key, i) => {
      old.add(key, record(`${key}-a`, i));
      if (i % 3 === 0) old.add(key, record(`${key}-b`, i * 10));
    });
    old.remove("k9", "k9-a");
    old.remove("k9", "k9-b");
    old.moves.track(MAP);
    for (let page = old.orMover.exportPage(MAP, null, 25), n = 0; ; page = old.orMover.exportPage(MAP, page.after, 25), n++) {
      route(page.entries, old, cluster, 4);
      // Clients keep writing while the copy runs: an add and a remove of keys already copied, and a new key.
      if (n === 1) {
        old.add("k0", record("k0-late", "late", 30));
        old.remove("k3", "k3-b");
        old.add("new", record("new-a", "n", 30));
      }
      if (page.done) break;
    }
    const dirty = old.moves.dirtyPage(MAP, 100);
    route(old.orMover.exportKeys(MAP, dirty.keys), old, cluster, 4);
    const before = old.contents();
    for (const p of cluster.values()) p.mover.cutOver(MAP, 4);
    const after = new Map<string | null, { records: ORMapRecord[]; tombstones: string[] }>();
    for (const p of cluster.values()) {
      const entries = p.contents();
      for (const [key, entry] of entries) {
        if (key !== null) expect(ownerOf(key, 4)).toBe(p.id);
        after.set(key, entry);
      }
      expect(p.merkle.sums("or", MAP).root()).toBe(rootOf(entries));
      expect(p.sql.exec("SELECT COUNT(*) AS n FROM map_stage_or").at(0)?.n).toBe(0);
    }
    expect(after).toEqual(before);
    expect(after.get("k0")?.records.map((r) => r.value)).toEqual([0, 0, "late"]);
    expect(after.get("k3")?.tombstones).toEqual(["k3-b"]);
    expect(after.get("k9")).toEqual({ records: [], tombstones: ["k9-a", "k9-b"] });
    expect(after.get("new")?.records).toHaveLength(1);
  });

  it("moves a map used both ways whole: its LWW records and its OR-Map entries", () => {
    const old = partitionAt(ownerOf("any", 1));
    // A key whose owner under 2 shards is not its old one.
    const shared = Array.from({ length: 20 }, (_, i) => `shared-${i}`).find((key) => ownerOf(key, 2) !== old.id) ?? "";
    const target = partitionAt(ownerOf(shared, 2));
    old.add(shared, record("t1", "or"));
    old.put(shared, "lww");
    target.mover.stage(MAP, old.mover.exportKeys(MAP, [shared]));
    target.orMover.stage(MAP, old.orMover.exportKeys(MAP, [shared]));
    old.mover.cutOver(MAP, 2);
    target.mover.cutOver(MAP, 2);
    expect(old.contents().size).toBe(0);
    expect(old.mover.exportKeys(MAP, [shared])).toEqual([]);
    expect(target.contents().get(shared)?.records.map((r) => r.value)).toEqual(["or"]);
    expect(target.mover.exportKeys(MAP, [shared]).map((r) => r.record.value)).toEqual(["lww"]);
  });

  it("keeps a moved tombstone's age, so it is pruned when it would have been at its old owner", () => {
    const p = partitionAt(1);
    p.orMover.stage(MAP, [{ key: "a", records: [], tombstones: [{ tag: "t1", millis: 42 }] }]);
    p.mover.cutOver(MAP, 271);
    expect(p.sql.exec("SELECT key, millis FROM or_tombstone WHERE tag = 't1'")).toEqual([{ key: "a", millis: 42 }]);
  });

  it("changes nothing when a cut-over runs again", () => {
    const p = partitionAt(ownerOf("any", 1));
    for (const key of ["a", "b", "c", "d"]) p.add(key, record(`${key}1`, key));
    p.remove("b", "b1");
    p.mover.cutOver(MAP, 2);
    const once = p.contents();
    expect(p.mover.cutOver(MAP, 2)).toEqual({ merged: 0, deleted: 0 });
    expect(p.contents()).toEqual(once);
    expect(p.merkle.sums("or", MAP).root()).toBe(rootOf(once));
  });
});
