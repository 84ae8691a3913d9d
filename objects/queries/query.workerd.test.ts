import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { homePartitionOfClient, parseShardConfig, partitionOf, partitionOfShard, partitionsOfMap } from "../../core/placement.ts";
import { connectAs as connect, partitionStub } from "../../test/workerd/connect.ts";

function ownerStub(map: string) {
  return partitionStub(partitionOfShard(map, 0));
}

describe("live queries", () => {
  it("keeps delivering QUERY_UPDATE after the owner and the subscriber's home were evicted", async () => {
    const map = "evict-query";
    expect(homePartitionOfClient("query-reader-1")).not.toBe(partitionOfShard(map, 0)); // the reader's home is not the owner
    const reader = await connect("clientId=query-reader-1", "bob");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q1", mapName: map, query: { where: { color: "red" } } } });
    const resp = await reader.waitFor("QUERY_RESP");
    expect(resp.payload).toEqual({ queryId: "q1", results: [] });

    await evictDurableObject(ownerStub(map));
    await evictDurableObject(partitionStub(homePartitionOfClient("query-reader-1")));

    const writer = await connect(`map=${map}`, "alice");
    const record = { value: { color: "red" }, timestamp: { millis: Date.now(), counter: 0, nodeId: "client-a" } };
    writer.send({ type: "CLIENT_OP", payload: { id: "1", mapName: map, key: "k", opType: "PUT", record } });
    const update = await reader.waitFor("QUERY_UPDATE");
    expect(update.payload).toEqual({ queryId: "q1", key: "k", value: { color: "red" }, changeType: "ENTER" });
    reader.close();
    writer.close();
  });

  it("keeps delivering QUERY_UPDATE from every shard of a sharded map after all its shards were evicted", async () => {
    const map = "sharded-w";
    const config = parseShardConfig("sharded-w:8");
    const keys = Array.from({ length: 12 }, (_, i) => `evict-q-${i}`);
    expect(new Set(keys.map((key) => partitionOf(config, map, key))).size).toBeGreaterThan(1);
    const reader = await connect("clientId=query-reader-2", "bob");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q2", mapName: map, query: { where: { run: "evict-q" } } } });
    await reader.waitFor("QUERY_RESP");

    for (const partition of [...partitionsOfMap(config, map), homePartitionOfClient("query-reader-2")]) {
      await evictDurableObject(partitionStub(partition));
    }

    const writer = await connect("clientId=query-writer-2", "alice");
    const ops = keys.map((key, i) => ({ id: String(i), mapName: map, key, opType: "PUT", record: { value: { run: "evict-q" }, timestamp: { millis: Date.now(), counter: i, nodeId: "client-a" } } }));
    writer.send({ type: "OP_BATCH", payload: { ops } });
    for (const key of keys) {
      const update = await reader.waitFor("QUERY_UPDATE", (m) => (m.payload as { key: string }).key === key);
      expect(update.payload).toEqual({ queryId: "q2", key, value: { run: "evict-q" }, changeType: "ENTER" });
    }
    reader.close();
    writer.close();
  });

  it("keeps a grouped query's rows and a top-N window live after the home and every shard were evicted", async () => {
    const map = "sharded-w";
    const config = parseShardConfig("sharded-w:8");
    const reader = await connect("clientId=query-reader-3", "bob");
    const writer = await connect("clientId=query-writer-3", "alice");
    const put = (ops: [string, unknown][], id: string) => {
      writer.send({
        type: "OP_BATCH",
        payload: { ops: ops.map(([key, value], i) => ({ id: `${id}-${i}`, mapName: map, key, opType: "PUT", record: { value, timestamp: { millis: Date.now(), counter: i, nodeId: "client-a" } } })) },
      });
      return writer.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `${id}-${ops.length - 1}`);
    };
    await put([["g-1", { run: "g", team: "a", n: 1 }], ["g-2", { run: "g", team: "a", n: 5 }], ["g-3", { run: "g", team: "b", n: 3 }]], "seed");
    const run = { op: "eq", attribute: "run", value: "g" };
    reader.send({ type: "QUERY_SUB", payload: { queryId: "grp", mapName: map, query: { predicate: run, groupBy: ["team"], aggregations: [{ func: "max", field: "n" }] } } });
    await reader.waitFor("QUERY_RESP", (m) => (m.payload as { queryId: string }).queryId === "grp");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "top", mapName: map, query: { predicate: run, sort: [{ field: "n", direction: "desc" }], limit: 2 } } });
    const top = await reader.waitFor("QUERY_RESP", (m) => (m.payload as { queryId: string }).queryId === "top");
    expect((top.payload as { results: { key: string }[] }).results.map((r) => r.key)).toEqual(["g-2", "g-3"]);

    for (const partition of [...partitionsOfMap(config, map), homePartitionOfClient("query-reader-3")]) {
      await evictDurableObject(partitionStub(partition));
    }
    await put([["g-4", { run: "g", team: "b", n: 9 }]], "after");

    const group = await reader.waitFor("QUERY_UPDATE", (m) => (m.payload as { queryId: string }).queryId === "grp");
    expect((group.payload as { value: unknown; changeType: string })).toMatchObject({ changeType: "UPDATE", value: { team: "b", __count: 2, __max_n: 9 } });
    const leave = await reader.waitFor("QUERY_UPDATE", (m) => (m.payload as { queryId: string }).queryId === "top");
    expect(leave.payload).toMatchObject({ key: "g-3", changeType: "LEAVE", value: null });
    const enter = await reader.waitFor("QUERY_UPDATE", (m) => (m.payload as { queryId: string; changeType: string }).queryId === "top" && (m.payload as { changeType: string }).changeType === "ENTER");
    expect(enter.payload).toMatchObject({ key: "g-4", value: { run: "g", team: "b", n: 9 } });
    reader.close();
    writer.close();
  });
});
