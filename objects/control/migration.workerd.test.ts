import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MerkleTree, lwwEntryHash } from "../../core/merkle-tree.ts";
import { partitionOf, partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { controlBinding, controlStub, finishReshard, partition, placement, reshardToEnd } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { MoveAnswer, MoveStep } from "../migration/move-step.ts";
import type { Partition } from "../partition.ts";
import { controlApi, type Control } from "./control.ts";

const MAP = "orders";
/** A move step run inside the partition (as the control object's RPC runs it). */
const move = (ns: string, p: number, step: MoveStep): Promise<MoveAnswer> => runInDurableObject(partition(ns, p), (instance: Partition) => instance.ownerMove(step));
const TS = (i: number, batch = 0) => ({ millis: 1_700_000_000_000 + i, counter: batch, nodeId: "w" });

/** Live entries of MAP in each of `partitions` (partition → count, zeros left out). */
async function countsOf(ns: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const p of partitions) {
    const [answer] = await partition(ns, p).ownerMapCounts({ maps: [MAP] });
    if (answer && answer.entryCount > 0) counts.set(p, answer.entryCount);
  }
  return counts;
}

/** Where `keys` of MAP belong under `shards` shards (partition → count). */
function expectedCounts(keys: readonly string[], shards: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of keys) {
    const p = partitionOf(new Map([[MAP, shards]]), MAP, key);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

/** Writes `keys` in one batch; a later batch (`batch` > 0) has newer timestamps than the first. */
async function writeKeys(socket: WorkerdSocket, keys: readonly string[], batchId: string, value: (key: string) => unknown = (key) => ({ key }), batch = 0): Promise<void> {
  const ops = keys.map((key, i) => ({ id: `${batchId}-${i}`, mapName: MAP, key, opType: "PUT", record: { value: value(key), timestamp: TS(i, batch) } }));
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `${batchId}-${keys.length - 1}`, 10_000);
  expect(socket.inbox.filter((m) => m.type === "OP_REJECTED" || m.type === "ERROR")).toEqual([]);
}

/** The root a client holding `keys` written by writeKeys computes. */
function rootOf(keys: readonly string[]): number {
  const tree = new MerkleTree();
  keys.forEach((key, i) => tree.update(key, lwwEntryHash(key, TS(i))));
  return tree.getRootHash();
}

async function syncRoot(socket: WorkerdSocket): Promise<number> {
  socket.send({ type: "SYNC_INIT", mapName: MAP });
  const root = await socket.waitFor("SYNC_RESP_ROOT");
  return (root.payload as { rootHash: number }).rootHash;
}

const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);

describe("moving a map that holds data to another shard count", () => {
  it("moves every record to its owner under the new count, and the map's root stays its content's", async () => {
    const ns = "mig-grow";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys, "a");
    expect(await reshardToEnd(ns, MAP, 16)).toEqual({ status: "done", fromShards: 1, toShards: 16 });
    expect(await countsOf(ns, placement(MAP, 16))).toEqual(expectedCounts(keys, 16));
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    expect(await syncRoot(reader)).toBe(rootOf(keys));
    writer.close();
    reader.close();
  });

  it("answers a reshard of a map with data as running at once, and shows the move's phase until the alarm ends it", async () => {
    const ns = "mig-progress";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys, "a");
    const control = controlApi(controlBinding(), ns);
    expect(await control.reshard({ map: MAP, shards: 16 })).toMatchObject({ status: "running", running: { fromShards: 1, toShards: 16, phase: "copying" } });
    expect(await control.mapPlacement(MAP)).toMatchObject({ shards: 1, reshard: { phase: "copying", toShards: 16 } });
    expect(await control.reshard({ map: MAP, shards: 4 })).toMatchObject({ status: "busy", running: { toShards: 16 } });
    expect(await finishReshard(ns, MAP)).toEqual({ status: "done", fromShards: 1, toShards: 16 });
    expect(await control.mapPlacement(MAP)).toMatchObject({ shards: 16, lastReshard: { result: "done" } });
    writer.close();
  });

  it("empties the partitions that own no shard under a smaller count", async () => {
    const ns = "mig-shrink";
    await reshardToEnd(ns, MAP, 16);
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys, "a");
    expect(await reshardToEnd(ns, MAP, 3)).toEqual({ status: "done", fromShards: 16, toShards: 3 });
    expect(await countsOf(ns, placement(MAP, 16))).toEqual(expectedCounts(keys, 3));
    expect(await controlApi(controlBinding(), ns).mapPlacement(MAP)).toMatchObject({ shards: 3, lastReshard: { result: "done" } });
    await writeKeys(writer, ["after-1", "after-2"], "b");
    expect(await countsOf(ns, placement(MAP, 3))).toEqual(expectedCounts([...keys, "after-1", "after-2"], 3));
    writer.close();
  });

  it("moves a map with data 16 → 271 → 8, every record at its owner after each move", async () => {
    const ns = "mig-wide";
    await reshardToEnd(ns, MAP, 16);
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys, "a");
    expect(await reshardToEnd(ns, MAP, 271)).toEqual({ status: "done", fromShards: 16, toShards: 271 });
    expect(await countsOf(ns, placement(MAP, 271))).toEqual(expectedCounts(keys, 271));
    expect(await reshardToEnd(ns, MAP, 8)).toEqual({ status: "done", fromShards: 271, toShards: 8 });
    expect(await countsOf(ns, placement(MAP, 271))).toEqual(expectedCounts(keys, 8));
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    expect(await syncRoot(reader)).toBe(rootOf(keys));
    writer.close();
    reader.close();
  }, 120_000);

  it("keeps a live query delivering the map's writes at its new owners", async () => {
    const ns = "mig-query";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys.slice(0, 40), "a");
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: MAP, query: {} } });
    const initial = await reader.waitFor("QUERY_RESP");
    expect((initial.payload as { results: unknown[] }).results).toHaveLength(40);
    expect(await reshardToEnd(ns, MAP, 16)).toMatchObject({ status: "done" });
    // Updates of moved keys and new keys, both now owned by 16 partitions.
    const later = [...keys.slice(0, 10), ...keys.slice(100, 110)];
    await writeKeys(writer, later, "b", (key) => ({ key, v: 2 }), 1);
    const updates = new Set<string>();
    for (const _ of later) {
      const update = await reader.waitFor("QUERY_UPDATE", (m) => !updates.has((m.payload as { key: string }).key));
      updates.add((update.payload as { key: string }).key);
    }
    expect([...updates].sort()).toEqual([...later].sort());
    writer.close();
    reader.close();
  });

  it("resumes a migration the eviction of the control object and of its partitions interrupted mid-copy", async () => {
    const ns = "mig-evict";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, keys, "a");
    const old = partitionOfShard(MAP, 0);
    const control = controlStub(ns);
    // The state a control object leaves when it stops after copying part of the old owner's records.
    await move(ns, old, { op: "track", map: MAP });
    const page = await move(ns, old, { op: "export", map: MAP, fromLeaf: 0, limit: 100 });
    if (page.op !== "export") throw new Error("expected an export page");
    const { nextLeaf } = page;
    const ownerOf = (key: string) => partitionOf(new Map([[MAP, 4]]), MAP, key);
    const moved = page.records.filter((r) => ownerOf(r.key) !== old);
    const targets = [...new Set(moved.map((r) => ownerOf(r.key)))];
    const copied = moved.length;
    for (const target of targets) await move(ns, target, { op: "stage", map: MAP, records: moved.filter((r) => ownerOf(r.key) === target) });
    await runInDurableObject(control, async (instance: Control, state) => {
      instance.shardSnapshot();
      state.storage.sql.exec("INSERT INTO reshard (map, from_shards, to_shards, started_at, phase) VALUES (?, 1, 4, 1, 'copying')", MAP);
      instance.mapPlacement(MAP);
      state.storage.sql.exec("INSERT INTO reshard_copy (map, partition, next_leaf, copied) VALUES (?, ?, ?, ?)", MAP, old, nextLeaf, copied);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    await evictDurableObject(control);
    await evictDurableObject(partition(ns, old));
    for (const target of targets) await evictDurableObject(partition(ns, target));
    // Writes after the eviction: the old owner still notes them (its tracking is in SQLite), so they are copied too.
    const late = ["late-1", "late-2", "late-3", keys[0] ?? ""];
    await writeKeys(writer, late, "b", (key) => ({ key, late: true }), 1);
    expect(await controlApi(controlBinding(), ns).mapPlacement(MAP)).toMatchObject({ reshard: { phase: "copying", copy: { owners: 1, ownersCopied: 0 } } });
    expect(await runDurableObjectAlarm(control)).toBe(true);
    expect(await finishReshard(ns, MAP)).toEqual({ status: "done", fromShards: 1, toShards: 4 });
    expect(await controlApi(controlBinding(), ns).mapPlacement(MAP)).toMatchObject({ shards: 4, lastReshard: { result: "done" } });
    const all = [...new Set([...keys, ...late])];
    expect(await countsOf(ns, placement(MAP, 4))).toEqual(expectedCounts(all, 4));
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: MAP, query: { where: { late: true } } } });
    const answer = await reader.waitFor("QUERY_RESP");
    expect((answer.payload as { results: { key: string }[] }).results.map((r) => r.key).sort()).toEqual([...late].sort());
    const staged = await Promise.all(placement(MAP, 4).map((p) => runInDurableObject(partition(ns, p), (_i: Partition, state) => Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM map_stage").one().n))));
    expect(staged).toEqual([0, 0, 0, 0]);
    writer.close();
    reader.close();
  });

  it("holds a write to a held map across the eviction of its owner and applies it once released", async () => {
    const ns = "mig-hold";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, ["a"], "a");
    const owner = partitionOfShard(MAP, 0);
    await move(ns, owner, { op: "hold", map: MAP });
    await evictDurableObject(partition(ns, owner));
    writer.send({ type: "OP_BATCH", payload: { ops: [{ id: "held-0", mapName: MAP, key: "b", opType: "PUT", record: { value: 1, timestamp: TS(1) } }] } });
    // A round trip to the owner after the write was sent: the write has reached it and waits.
    const stored = async () => runInDurableObject(partition(ns, owner), (_i: Partition, state) => Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM lww_log").one().n));
    const before = await stored();
    expect(writer.inbox.some((m) => m.type === "OP_ACK")).toBe(false);
    await move(ns, owner, { op: "release", map: MAP });
    await writer.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === "held-0");
    expect(await stored()).toBeGreaterThanOrEqual(before);
    expect(await countsOf(ns, [owner])).toEqual(new Map([[owner, 2]]));
    writer.close();
  });
});
