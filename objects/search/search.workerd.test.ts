import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { homePartitionOfClient, parseShardConfig, partitionOf, partitionOfShard } from "../../core/placement.ts";
import { connectAs as connect, partitionStub } from "../../test/workerd/connect.ts";

function ownerStub(map: string) {
  return partitionStub(partitionOfShard(map, 0));
}

describe("search subscriptions", () => {
  it("keep delivering SEARCH_UPDATE after the owner and the subscriber's home were evicted (index rebuilt from SQLite)", async () => {
    const map = "evict-search";
    expect(homePartitionOfClient("search-reader-1")).not.toBe(partitionOfShard(map, 0)); // the reader's home is not the owner
    const writer = await connect(`map=${map}`, "alice");
    const put = (id: string, key: string, value: unknown) =>
      writer.send({ type: "CLIENT_OP", payload: { id, mapName: map, key, opType: "PUT", record: { value, timestamp: { millis: Date.now(), counter: Number(id), nodeId: "client-a" } } } });
    put("1", "old", { title: "red fox" });
    await writer.waitFor("OP_ACK");

    const reader = await connect("clientId=search-reader-1", "bob");
    reader.send({ type: "SEARCH_SUB", payload: { subscriptionId: "s1", mapName: map, query: "fox" } });
    const resp = await reader.waitFor("SEARCH_RESP");
    expect(resp.payload).toMatchObject({ requestId: "s1", totalCount: 1, results: [{ key: "old", value: { title: "red fox" }, matchedTerms: ["fox"] }] });

    await evictDurableObject(ownerStub(map));
    await evictDurableObject(partitionStub(homePartitionOfClient("search-reader-1")));

    put("2", "k", { title: "quick brown fox" });
    const update = await reader.waitFor("SEARCH_UPDATE");
    expect(update.payload).toMatchObject({ subscriptionId: "s1", key: "k", value: { title: "quick brown fox" }, matchedTerms: ["fox"], changeType: "ENTER" });
    expect((update.payload as { score: number }).score).toBeGreaterThan(0);
    reader.close();
    writer.close();
  });

  it("scores a sharded map's hits with the whole map's term statistics, as the same records in one partition score", async () => {
    const texts: Record<string, string> = {
      a: "whole edge sync edge",
      b: "whole durable objects at the edge",
      c: "whole sqlite in durable objects",
      d: "whole merkle trees sync offline clients",
      e: "whole edge edge edge edge search",
      f: "whole a long document about many things but also about sync and the edge of the map",
    };
    const config = parseShardConfig("sharded-w:8");
    expect(new Set(Object.keys(texts).map((key) => partitionOf(config, "sharded-w", `stats-${key}`))).size).toBeGreaterThan(2);
    const client = await connect("clientId=search-stats", "carol");
    const ops = (map: string) =>
      Object.entries(texts).map(([key, text], i) => ({
        id: `${map}-${i}`,
        mapName: map,
        key: `stats-${key}`,
        opType: "PUT",
        record: { value: { text }, timestamp: { millis: Date.now(), counter: i, nodeId: "client-c" } },
      }));
    client.send({ type: "OP_BATCH", payload: { ops: [...ops("sharded-w"), ...ops("stats-plain")] } });
    await client.waitFor("OP_ACK");

    const scores = async (map: string, requestId: string) => {
      client.send({ type: "SEARCH", payload: { requestId, mapName: map, query: "edge sync" } });
      const resp = await client.waitFor("SEARCH_RESP", (m) => (m.payload as { requestId: string }).requestId === requestId);
      const results = (resp.payload as { results: { key: string; score: number }[] }).results.filter((r) => r.key.startsWith("stats-"));
      return Object.fromEntries(results.map((r) => [r.key, r.score]));
    };
    const sharded = await scores("sharded-w", "r-sharded");
    const plain = await scores("stats-plain", "r-plain");

    expect(Object.keys(sharded).sort()).toEqual(Object.keys(plain).sort());
    for (const [key, score] of Object.entries(plain)) expect(sharded[key]).toBeCloseTo(score, 9);
    client.close();
  });
});
