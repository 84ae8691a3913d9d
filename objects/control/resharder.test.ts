import { describe, expect, it } from "vitest";
import { parseShardConfig, partitionsOfMap } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import type { MapOccupancy } from "../placement/map-fence.ts";
import { MOVE_SLICE_MS, RESHARD_RESUME_MS, Resharder, type ReshardTargets } from "./resharder.ts";
import { ShardStore } from "./shard-store.ts";
import { LEAF_COUNT } from "../../core/merkle-tree.ts";
import type { MoveAnswer, MoveStep } from "../migration/move-step.ts";

const EMPTY: MapOccupancy = { holdsData: false, holdsOrData: false, subscribers: 0 };
const LWW_DATA: MapOccupancy = { holdsData: true, holdsOrData: false, subscribers: 0 };

/** A partition's answer to a move step when it holds nothing to copy. */
function emptyMove(step: MoveStep): MoveAnswer {
  switch (step.op) {
    case "export":
      return { op: "export", records: [], nextLeaf: LEAF_COUNT };
    case "exportOr":
      return { op: "exportOr", entries: [], after: null, done: true };
    case "dirty":
      return { op: "dirty", records: [], orEntries: [], upToSeq: 0 };
    case "subscriptions":
      return { op: "subscriptions", subscriptions: { queries: [], searches: [], journals: [], listeners: [] } };
    case "cutOver":
      return { op: "cutOver", merged: 0, deleted: 0 };
    default:
      return { op: "done" };
  }
}

function setup(options: { defaults?: string; occupancy?: (partition: number) => MapOccupancy; occupancyAfterFence?: (partition: number) => MapOccupancy; msPerMove?: number } = {}) {
  let now = 5_000;
  const sql = nodeSqlPort();
  const store = new ShardStore(sql);
  const fences = new Map<number, number>();
  const calls: string[] = [];
  let failFence = false;
  const targets: ReshardTargets = {
    inspect: async (partition) => {
      calls.push(`inspect p${partition}`);
      return options.occupancy?.(partition) ?? EMPTY;
    },
    fence: async (partition, _map, shards) => {
      if (failFence) throw new Error("partition away");
      calls.push(`fence p${partition}:${shards}`);
      fences.set(partition, shards);
      return options.occupancyAfterFence?.(partition) ?? options.occupancy?.(partition) ?? EMPTY;
    },
    move: async (partition, step) => {
      calls.push(`${step.op} p${partition}`);
      now += options.msPerMove ?? 0;
      return emptyMove(step);
    },
  };
  const wakes: number[] = [];
  const make = () =>
    new Resharder({ store: new ShardStore(sql), defaults: () => parseShardConfig(options.defaults ?? ""), targets, clock: () => now, wakeAt: async (at) => void wakes.push(at) });
  return { store, make, resharder: make(), fences, calls, wakes, failFences: (on: boolean) => (failFence = on), time: () => now };
}

const placement = (map: string, shards: number) => partitionsOfMap(new Map([[map, shards]]), map);

describe("Resharder", () => {
  it("moves an empty map to the new count after fencing every partition of both placements", async () => {
    const { resharder, store, fences } = setup();
    expect(await resharder.reshard("m", 16)).toEqual({ status: "done", fromShards: 1, toShards: 16 });
    expect(store.snapshot()).toEqual({ version: 1, maps: { m: 16 } });
    expect([...fences.keys()].sort()).toEqual(placement("m", 16).sort());
    expect([...fences.values()].every((s) => s === 16)).toBe(true);
  });

  it("starts from the deployment's default count", async () => {
    const { resharder, fences } = setup({ defaults: "m:16" });
    expect(await resharder.reshard("m", 8)).toEqual({ status: "done", fromShards: 16, toShards: 8 });
    expect(fences.size).toBe(16);
  });

  it("answers a reshard to the current count as unchanged and does nothing", async () => {
    const { resharder, calls, store } = setup({ defaults: "m:8" });
    expect(await resharder.reshard("m", 8)).toEqual({ status: "unchanged", shards: 8 });
    expect(calls).toEqual([]);
    expect(store.snapshot().version).toBe(0);
  });

  it("answers a map that holds data as running once its move is recorded, and leaves the move to the alarm", async () => {
    const home = placement("m", 1)[0];
    const { resharder, store, calls, wakes } = setup({ occupancy: (p) => (p === home ? LWW_DATA : EMPTY) });
    expect(await resharder.reshard("m", 16)).toEqual({ status: "running", running: { map: "m", fromShards: 1, toShards: 16, startedAt: 5_000, phase: "copying" } });
    expect(calls.every((c) => c.startsWith("inspect"))).toBe(true);
    expect(store.running("m")).toMatchObject({ phase: "copying" });
    expect(wakes.at(-1)).toBe(5_000);
  });

  it("moves a map that holds data online from the alarm and commits the new count after the cut-over", async () => {
    const home = placement("m", 1)[0];
    const { resharder, store, fences, calls } = setup({ occupancy: (p) => (p === home ? LWW_DATA : EMPTY) });
    await resharder.reshard("m", 16);
    await resharder.resume();
    expect(store.lastOutcome("m")).toMatchObject({ result: "done", fromShards: 1, toShards: 16 });
    expect(store.snapshot()).toEqual({ version: 2, maps: { m: 16 } });
    expect(fences.size).toBe(0);
    const ops = calls.filter((c) => !c.startsWith("inspect")).map((c) => c.split(" ")[0]);
    expect([...new Set(ops)]).toEqual(["track", "export", "exportOr", "dirty", "hold", "subscriptions", "cutOver", "release"]);
    expect(calls.filter((c) => c.startsWith("cutOver")).length).toBe(16);
  });

  it("moves a map that holds OR-Map entries online like one with LWW records", async () => {
    const home = placement("m", 1)[0];
    const { resharder, store, calls } = setup({ occupancy: (p) => (p === home ? { ...LWW_DATA, holdsOrData: true } : EMPTY) });
    expect(await resharder.reshard("m", 16)).toMatchObject({ status: "running" });
    await resharder.resume();
    expect(store.lastOutcome("m")).toMatchObject({ result: "done", toShards: 16 });
    expect(calls.filter((c) => c.startsWith("exportOr"))).toEqual([`exportOr p${home}`]);
  });

  it("moves a map with live subscribers and no data online", async () => {
    const { resharder, store, calls } = setup({ occupancy: () => ({ ...EMPTY, subscribers: 1 }) });
    expect(await resharder.reshard("m", 4)).toMatchObject({ status: "running" });
    await resharder.resume();
    expect(store.lastOutcome("m")).toMatchObject({ result: "done", toShards: 4 });
    expect(calls.some((c) => c.startsWith("subscriptions"))).toBe(true);
  });

  it("advances a move a slice per alarm, asking for the next alarm at once while the copy goes on", async () => {
    const home = placement("m", 1)[0];
    const { resharder, store, wakes, time } = setup({ occupancy: (p) => (p === home ? LWW_DATA : EMPTY), msPerMove: MOVE_SLICE_MS });
    await resharder.reshard("m", 16);
    await resharder.resume();
    expect(store.running("m")).toMatchObject({ phase: "copying" });
    expect(wakes.at(-1)).toBe(time());
    for (let slices = 0; store.running("m") && slices < 20; slices++) await resharder.resume();
    expect(store.lastOutcome("m")).toMatchObject({ result: "done", toShards: 16 });
  });

  it("fences the partitions back to the old count when data arrives between the look and the fence", async () => {
    const home = placement("m", 1)[0];
    const { resharder, store, fences } = setup({ occupancyAfterFence: (p) => (p === home ? LWW_DATA : EMPTY) });
    expect(await resharder.reshard("m", 16)).toMatchObject({ status: "refused" });
    expect([...fences.values()].every((s) => s === 1)).toBe(true);
    expect(store.snapshot().version).toBe(0);
  });

  it("answers a second reshard of the same map as busy while the first runs", async () => {
    const { resharder, store } = setup();
    store.begin({ map: "m", fromShards: 1, toShards: 16, startedAt: 1 });
    expect(await resharder.reshard("m", 4)).toMatchObject({ status: "busy", running: { toShards: 16 } });
  });

  it("resumes a reshard a restart interrupted from the alarm, and keeps trying while a partition is away", async () => {
    const { resharder, make, store, failFences, wakes } = setup();
    failFences(true);
    expect(await resharder.reshard("m", 16)).toMatchObject({ status: "running", running: { phase: "fencing" } });
    expect(wakes).toEqual([5_000 + RESHARD_RESUME_MS]);
    expect(store.running("m")).toMatchObject({ phase: "fencing" });
    await make().resume();
    expect(wakes).toEqual([5_000 + RESHARD_RESUME_MS, 5_000 + RESHARD_RESUME_MS]);
    expect(store.running("m")).toMatchObject({ phase: "fencing" });
    failFences(false);
    await make().resume();
    expect(store.running("m")).toBeUndefined();
    expect(store.snapshot().maps).toEqual({ m: 16 });
  });
});
