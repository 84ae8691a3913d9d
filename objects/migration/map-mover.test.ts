import { describe, expect, it } from "vitest";
import { fnv1a } from "../../core/hash.ts";
import { HLC } from "../../core/hlc.ts";
import type { LWWRecord } from "../../core/lww-map.ts";
import { LEAF_COUNT, MerkleTree, lwwEntryHash } from "../../core/merkle-tree.ts";
import { partitionOfShard } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { MapMoves } from "../placement/map-move.ts";
import { applySchema } from "../storage/schema.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore } from "../writes/or-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { MapMover } from "./map-mover.ts";
import { StagingStore, type MovedRecord } from "./staging-store.ts";

const MAP = "orders";
const ownerOf = (key: string, shards: number) => partitionOfShard(MAP, fnv1a(key) % shards);

/** One partition's owner stores over its own SQLite. */
function partitionAt(id: number) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC(`p${id}`, { clock: () => 1_000 }) });
  const moves = new MapMoves(sql);
  const mover = new MapMover({ sql, lww, merkle, staging: new StagingStore(sql), partition: id });
  const write = (entries: [string, unknown, number][]) => {
    const ops: OwnerOp[] = entries.map(([key, value, millis], index) => ({ index, type: value === null ? "REMOVE" : "PUT", map: MAP, key, record: { value, timestamp: { millis, counter: 0, nodeId: "w" } } }));
    moves.noteWrites(ops);
    writer.apply(ops);
  };
  const contents = () => [...lww.readLeaves(MAP, 0, LEAF_COUNT - 1).values()].flat();
  return { id, sql, merkle, lww, moves, mover, write, contents };
}

type Partition = ReturnType<typeof partitionAt>;

/** Sends records of `from` to their new owners' staging copies (what the control object does). */
function route(records: readonly MovedRecord[], from: Partition, cluster: Map<number, Partition>, shards: number): void {
  const byOwner = new Map<number, MovedRecord[]>();
  for (const record of records) {
    const owner = ownerOf(record.key, shards);
    if (owner !== from.id) byOwner.set(owner, [...(byOwner.get(owner) ?? []), record]);
  }
  for (const [owner, list] of byOwner) cluster.get(owner)?.mover.stage(MAP, list);
}

function rootOf(records: readonly { key: string; record: LWWRecord }[]): number {
  const tree = new MerkleTree();
  for (const { key, record } of records) tree.update(key, lwwEntryHash(key, record.timestamp));
  return tree.getRootHash();
}

describe("MapMover", () => {
  it("exports a map's records in leaf ranges of about the page size, every record once", () => {
    const p = partitionAt(ownerOf("x", 1));
    p.write(Array.from({ length: 300 }, (_, i) => [`k${i}`, i, 10] as [string, unknown, number]));
    const seen: string[] = [];
    let pages = 0;
    for (let leaf = 0; leaf < LEAF_COUNT; pages++) {
      const page = p.mover.exportLeaves(MAP, leaf, 50);
      expect(page.records.length).toBeLessThanOrEqual(50 + 5);
      seen.push(...page.records.map((r) => r.key));
      leaf = page.nextLeaf;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `k${i}`).sort());
    expect(pages).toBeGreaterThanOrEqual(6);
  });

  it("keeps the newer record of a key in the staging copy whatever order copies arrive in", () => {
    const p = partitionAt(1);
    const newer: MovedRecord = { key: "a", record: { value: 2, timestamp: { millis: 20, counter: 0, nodeId: "w" } } };
    const older: MovedRecord = { key: "a", record: { value: 1, timestamp: { millis: 10, counter: 0, nodeId: "w" } } };
    p.mover.stage(MAP, [newer]);
    p.mover.stage(MAP, [older]);
    p.mover.cutOver(MAP, 271);
    expect(p.lww.readKeys(MAP, ["a"]).get("a")?.value).toBe(2);
  });

  it("moves every record to its owner under the new count, with each partition's Merkle root equal to its records", () => {
    const cluster = new Map<number, Partition>();
    const old = partitionAt(ownerOf("any", 1));
    cluster.set(old.id, old);
    for (let s = 0; s < 4; s++) if (!cluster.has(partitionOfShard(MAP, s))) cluster.set(partitionOfShard(MAP, s), partitionAt(partitionOfShard(MAP, s)));
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
    old.write(keys.map((key, i) => [key, i, 10]));
    old.write([["k7", null, 11]]);
    old.moves.track(MAP);
    for (let leaf = 0, page = 0; leaf < LEAF_COUNT; page++) {
      const answer = old.mover.exportLeaves(MAP, leaf, 60);
      route(answer.records, old, cluster, 4);
      leaf = answer.nextLeaf;
      // Clients keep writing while the copy runs: a key already copied, and one not copied yet.
      if (page === 2) old.write([[answer.records[0]?.key ?? "k0", "newer", 20], ["k399", "late", 20]]);
    }
    const dirty = old.moves.dirtyPage(MAP, 100);
    route(old.mover.exportKeys(MAP, dirty.keys), old, cluster, 4);
    const before = new Map(old.contents().map((r) => [r.key, r.record]));
    for (const p of cluster.values()) p.mover.cutOver(MAP, 4);
    const after = new Map<string, LWWRecord>();
    for (const p of cluster.values()) {
      const records = p.contents();
      for (const { key, record } of records) {
        expect(ownerOf(key, 4)).toBe(p.id);
        after.set(key, record);
      }
      expect(p.merkle.sums("lww", MAP).root()).toBe(rootOf(records));
    }
    expect(after).toEqual(before);
    expect(after.get("k399")?.value).toBe("late");
    expect(after.get("k7")?.value).toBeNull();
  });

  it("changes nothing when a cut-over runs again", () => {
    const p = partitionAt(ownerOf("any", 1));
    p.write([["a", 1, 10], ["b", 2, 10], ["c", 3, 10]]);
    p.mover.cutOver(MAP, 2);
    const once = p.contents();
    expect(p.mover.cutOver(MAP, 2)).toEqual({ merged: 0, deleted: 0 });
    expect(p.contents()).toEqual(once);
    expect(p.merkle.sums("lww", MAP).root()).toBe(rootOf(once));
  });
});
