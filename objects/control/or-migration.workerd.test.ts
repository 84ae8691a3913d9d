import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { ORMap } from "../../core/or-map.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import { partitionOf, partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { controlStub, finishReshard, partition, placement, reshardToEnd } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { MoveAnswer, MoveStep } from "../migration/move-step.ts";
import type { Partition } from "../partition.ts";
import type { Control } from "./control.ts";

const MAP = "baskets";
/** A move step run inside the partition (as the control object's RPC runs it). */
const move = (ns: string, p: number, step: MoveStep): Promise<MoveAnswer> => runInDurableObject(partition(ns, p), (instance: Partition) => instance.ownerMove(step));

/** A client's view of the map: OR-Map entries and LWW records, built as the writer's ops are sent. */
function clientState() {
  return { or: new ORMap(new HLC("writer")), lww: new LWWMap(new HLC("writer")) };
}

let opId = 0;

/** Sends `ops` of MAP in batches of 100, each acknowledged before the next. */
async function sendOps(socket: WorkerdSocket, ops: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 100) await sendBatch(socket, ops.slice(i, i + 100));
}

async function sendBatch(socket: WorkerdSocket, ops: Record<string, unknown>[]): Promise<void> {
  const first = opId;
  const withIds = ops.map((op) => ({ id: `op-${opId++}`, mapName: MAP, ...op }));
  socket.send({ type: "OP_BATCH", payload: { ops: withIds } });
  await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `op-${opId - 1}`, 10_000);
  expect(JSON.stringify(socket.inbox.filter((m) => m.type === "OP_REJECTED" || m.type === "ERROR")), `ops from op-${first}`).toEqual("[]");
}

const orAdd = (key: string, record: ORMapRecord) => ({ key, opType: "OR_ADD", orRecord: record });
const orRemove = (key: string, tag: string) => ({ key, opType: "OR_REMOVE", orTag: tag });

/** Writes `count` OR-Map keys (two values each for every third key), removes some values and keys, and sets LWW keys. */
// (ORMap.remove matches values by identity: the values removed here are strings.)
async function populate(socket: WorkerdSocket, state: ReturnType<typeof clientState>, count: number): Promise<void> {
  const adds: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    adds.push(orAdd(`item-${i}`, state.or.add(`item-${i}`, `value-${i}`)));
    if (i % 3 === 0) adds.push(orAdd(`item-${i}`, state.or.add(`item-${i}`, `extra-${i}`)));
  }
  await sendOps(socket, adds);
  const removes: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i += 7) for (const tag of state.or.remove(`item-${i}`, `value-${i}`)) removes.push(orRemove(`item-${i}`, tag));
  expect(removes.length).toBeGreaterThan(0);
  await sendOps(socket, removes);
  // The same map used the LWW way too: it moves whole.
  const puts = Array.from({ length: 20 }, (_, i) => {
    const record = state.lww.set(`plain-${i}`, { plain: i });
    return { key: `plain-${i}`, opType: "PUT", record };
  });
  await sendOps(socket, puts);
}

/** Live OR-Map keys of MAP per partition (partition → count, zeros left out). */
async function orCountsOf(ns: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const p of partitions) {
    const n = await runInDurableObject(partition(ns, p), (_i: Partition, state) => Number(state.storage.sql.exec("SELECT COUNT(DISTINCT key) AS n FROM or_record WHERE map = ?", MAP).one().n));
    if (n > 0) counts.set(p, n);
  }
  return counts;
}

/** Where the keys that hold OR-Map values belong under `shards` shards (partition → count). */
function expectedOrCounts(state: ReturnType<typeof clientState>, shards: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of state.or.keys()) {
    if (state.or.getRecords(key).length === 0) continue;
    const p = partitionOf(new Map([[MAP, shards]]), MAP, key);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

/** The roots a fresh client is given for the map's OR-Map and LWW sides. */
async function serverRoots(ns: string): Promise<{ or: number; lww: number }> {
  const reader = await connectAs(`namespace=${ns}&clientId=reader-${opId++}`, "someone");
  reader.send({ type: "ORMAP_SYNC_INIT", mapName: MAP, rootHash: 0, bucketHashes: {} });
  const or = await reader.waitFor("ORMAP_SYNC_RESP_ROOT", () => true, 10_000);
  reader.send({ type: "SYNC_INIT", mapName: MAP });
  const lww = await reader.waitFor("SYNC_RESP_ROOT", () => true, 10_000);
  reader.close();
  return { or: (or.payload as { rootHash: number }).rootHash, lww: (lww.payload as { rootHash: number }).rootHash };
}

const stagedRows = (ns: string, partitions: readonly number[]) =>
  Promise.all(
    partitions.map((p) =>
      runInDurableObject(partition(ns, p), (_i: Partition, state) =>
        Number(state.storage.sql.exec("SELECT (SELECT COUNT(*) FROM map_stage_or) + (SELECT COUNT(*) FROM map_stage_or_tombstone) AS n").one().n),
      ),
    ),
  );

describe("moving a map that holds OR-Map entries to another shard count", () => {
  it("moves an OR-Map map 1 → 16 → 3: every key at its owner, and both roots equal to the map's content after each move", async () => {
    const ns = "or-mig-grow";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    const state = clientState();
    await populate(writer, state, 300);
    const roots = { or: state.or.merkleTree.getRootHash(), lww: state.lww.merkleTree.getRootHash() };
    expect(await serverRoots(ns)).toEqual(roots);

    expect(await reshardToEnd(ns, MAP, 16)).toEqual({ status: "done", fromShards: 1, toShards: 16 });
    expect(await orCountsOf(ns, [...new Set([...placement(MAP, 1), ...placement(MAP, 16)])])).toEqual(expectedOrCounts(state, 16));
    expect(await serverRoots(ns)).toEqual(roots);

    expect(await reshardToEnd(ns, MAP, 3)).toEqual({ status: "done", fromShards: 16, toShards: 3 });
    expect(await orCountsOf(ns, placement(MAP, 16))).toEqual(expectedOrCounts(state, 3));
    expect(await serverRoots(ns)).toEqual(roots);
    expect(await stagedRows(ns, placement(MAP, 16))).toEqual(placement(MAP, 16).map(() => 0));
    writer.close();
  }, 60_000);

  it("resumes the move of an OR-Map map that the eviction of the control object and of its partitions interrupted mid-copy", async () => {
    const ns = "or-mig-evict";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    const state = clientState();
    await populate(writer, state, 200);
    const old = partitionOfShard(MAP, 0);
    const ownerOf = (key: string) => partitionOf(new Map([[MAP, 4]]), MAP, key);
    // The state a control object leaves when it stops after copying the LWW records and a first page of OR-Map keys.
    await move(ns, old, { op: "track", map: MAP });
    const page = await move(ns, old, { op: "exportOr", map: MAP, after: null, limit: 60 });
    if (page.op !== "exportOr") throw new Error("expected an OR-Map export page");
    for (const target of new Set(page.entries.flatMap((e) => (e.key === null ? [] : [ownerOf(e.key)])))) {
      if (target === old) continue;
      await move(ns, target, { op: "stage", map: MAP, records: [], orEntries: page.entries.filter((e) => e.key !== null && ownerOf(e.key) === target) });
    }
    const control = controlStub(ns);
    await runInDurableObject(control, async (instance: Control, storage) => {
      instance.mapPlacement(MAP);
      storage.storage.sql.exec("INSERT INTO reshard (map, from_shards, to_shards, started_at, phase) VALUES (?, 1, 4, 1, 'copying')", MAP);
      storage.storage.sql.exec("INSERT INTO reshard_copy (map, partition, next_leaf, copied) VALUES (?, ?, 0, 0)", MAP, old);
      storage.storage.sql.exec("INSERT INTO reshard_or_copy (map, partition, after, done, copied) VALUES (?, ?, ?, 0, 0)", MAP, old, page.after);
      await storage.storage.setAlarm(Date.now() + 60_000);
    });
    await evictDurableObject(control);
    for (const p of placement(MAP, 4)) await evictDurableObject(partition(ns, p));
    // Adds and removes after the eviction, of keys already copied and not: the old owner still notes them.
    const copied = page.entries.find((e) => e.key !== null && e.records.length > 0)?.key ?? "item-1";
    const late: Record<string, unknown>[] = [orAdd(copied, state.or.add(copied, "late")), orAdd("late-key", state.or.add("late-key", "new"))];
    for (const tag of state.or.remove(copied, "late")) late.push(orRemove(copied, tag));
    late.push(orAdd(copied, state.or.add(copied, "later")));
    await sendOps(writer, late);

    expect(await runDurableObjectAlarm(control)).toBe(true);
    expect(await finishReshard(ns, MAP)).toEqual({ status: "done", fromShards: 1, toShards: 4 });
    expect(await orCountsOf(ns, placement(MAP, 4))).toEqual(expectedOrCounts(state, 4));
    expect(await serverRoots(ns)).toEqual({ or: state.or.merkleTree.getRootHash(), lww: state.lww.merkleTree.getRootHash() });
    expect(await stagedRows(ns, placement(MAP, 4))).toEqual([0, 0, 0, 0]);
    writer.close();
  }, 60_000);
});
