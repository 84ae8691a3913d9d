import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOf, partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { controlBinding, controlStub, partition, placement } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { Partition } from "../partition.ts";
import { controlApi, type Control } from "./control.ts";


/** Live entries of `map` in each of `partitions` (partition → count, zeros left out). */
async function countsOf(ns: string, map: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const p of partitions) {
    const [answer] = await partition(ns, p).ownerMapCounts({ maps: [map] });
    if (answer && answer.entryCount > 0) counts.set(p, answer.entryCount);
  }
  return counts;
}

/** Where `keys` of `map` belong under `shards` shards (partition → count). */
function expectedCounts(map: string, keys: readonly string[], shards: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of keys) {
    const p = partitionOf(new Map([[map, shards]]), map, key);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

async function writeKeys(socket: WorkerdSocket, map: string, keys: readonly string[], batchId: string): Promise<void> {
  const ops = keys.map((key, i) => ({ id: `${batchId}-${i}`, mapName: map, key, opType: "PUT", record: { value: { key }, timestamp: { millis: Date.now(), counter: i, nodeId: "w" } } }));
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `${batchId}-${keys.length - 1}`);
  expect(socket.inbox.filter((m) => m.type === "OP_REJECTED" || m.type === "ERROR")).toEqual([]);
}

const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);

describe("resharding a map through the control object", () => {
  it("places the writes of an empty map by its new shard count once resharded", async () => {
    const ns = "rs-place";
    expect(await controlApi(controlBinding(), ns).reshard({ map: "orders", shards: 16 })).toEqual({ status: "done", fromShards: 1, toShards: 16 });
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeKeys(writer, "orders", keys, "a");
    expect(await countsOf(ns, "orders", placement("orders", 16))).toEqual(expectedCounts("orders", keys, 16));
    writer.close();
  });

  it("refuses a home whose copy of the shard counts is stale, which places the batch again by the new count", async () => {
    const ns = "rs-stale";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    // The home takes its copy now (it trusts it for a second): the reshard below is not in it.
    await writeKeys(writer, "warm-up", ["x"], "w");
    expect(await controlApi(controlBinding(), ns).reshard({ map: "orders", shards: 16 })).toMatchObject({ status: "done" });
    await writeKeys(writer, "orders", keys, "a");
    expect(await countsOf(ns, "orders", placement("orders", 16))).toEqual(expectedCounts("orders", keys, 16));
    writer.close();
  });

  it("refuses a live query a stale home places by the old count, which subscribes again at every new shard", async () => {
    const ns = "rs-stale-query";
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    await writeKeys(reader, "warm-up", ["x"], "w");
    expect(await controlApi(controlBinding(), ns).reshard({ map: "orders", shards: 16 })).toMatchObject({ status: "done" });
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: "orders", query: {} } });
    await reader.waitFor("QUERY_RESP");
    const subscriptions = await Promise.all(
      placement("orders", 16).map((p) =>
        runInDurableObject(partition(ns, p), (_instance: Partition, state) => Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM query_sub WHERE map = 'orders'").one().n)),
      ),
    );
    expect(subscriptions).toEqual(placement("orders", 16).map(() => 1));
    const writer = await connectAs(`namespace=${ns}&clientId=w2`, "someone");
    await writeKeys(writer, "orders", keys.slice(0, 16), "a");
    const updates = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const update = await reader.waitFor("QUERY_UPDATE", (m) => !updates.has((m.payload as { key: string }).key));
      updates.add((update.payload as { key: string }).key);
    }
    expect([...updates].sort()).toEqual(keys.slice(0, 16).sort());
    reader.close();
    writer.close();
  });

  it("answers a second reshard of the same map as busy while the first runs", async () => {
    const ns = "rs-busy";
    const control = controlApi(controlBinding(), ns);
    const [first, second] = await Promise.all([control.reshard({ map: "orders", shards: 16 }), control.reshard({ map: "orders", shards: 4 })]);
    expect(first).toMatchObject({ status: "done", toShards: 16 });
    expect(second).toMatchObject({ status: "busy", running: { toShards: 16 } });
    expect((await control.mapPlacement("orders")).shards).toBe(16);
  });

  it("resumes a reshard the control object's eviction interrupted, from its alarm", async () => {
    const ns = "rs-resume";
    const stub = controlStub(ns);
    // The state a control object leaves when it stops after starting to fence the partitions.
    await runInDurableObject(stub, async (_instance: Control, state) => {
      await _instance.shardSnapshot();
      state.storage.sql.exec("INSERT INTO reshard (map, from_shards, to_shards, started_at, phase) VALUES ('orders', 1, 16, 1, 'fencing')");
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    await evictDurableObject(stub);
    expect(await controlApi(controlBinding(), ns).mapPlacement("orders")).toMatchObject({ shards: 1, reshard: { toShards: 16, phase: "fencing" } });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await controlApi(controlBinding(), ns).mapPlacement("orders");
    expect(after).toMatchObject({ shards: 16, source: "namespace", lastReshard: { result: "done" } });
    expect(after.reshard).toBeUndefined();
  });

  it("keeps a partition's fence across its eviction", async () => {
    const ns = "rs-fence";
    await controlApi(controlBinding(), ns).reshard({ map: "orders", shards: 16 });
    const first = partitionOfShard("orders", 0);
    const stray = keys.find((key) => partitionOf(new Map([["orders", 16]]), "orders", key) !== first) ?? "";
    await evictDurableObject(partition(ns, first));
    const op = { index: 0, type: "PUT" as const, map: "orders", key: stray, record: { value: 1, timestamp: { millis: Date.now(), counter: 0, nodeId: "w" } } };
    const refusal = await runInDurableObject(partition(ns, first), (instance: Partition) =>
      instance.ownerApply({ ops: [op], writer: { home: first, conn: "c" } }).then(
        () => "applied",
        (err: unknown) => String(err),
      ),
    );
    expect(refusal).toContain("stale placement");
  });
});
