import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOfName, partitionOfShard } from "../../core/placement.ts";
import { connectAs as connect, partitionStub } from "../../test/workerd/connect.ts";

function ownerStub(map: string) {
  return partitionStub(partitionOfShard(map, 0));
}

describe("search subscriptions", () => {
  it("keep delivering SEARCH_UPDATE after the owner and the subscriber's home were evicted (index rebuilt from SQLite)", async () => {
    const map = "evict-search";
    expect(partitionOfName("search-reader-1")).not.toBe(partitionOfShard(map, 0)); // the reader's home is not the owner
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
    await evictDurableObject(partitionStub(partitionOfName("search-reader-1")));

    put("2", "k", { title: "quick brown fox" });
    const update = await reader.waitFor("SEARCH_UPDATE");
    expect(update.payload).toMatchObject({ subscriptionId: "s1", key: "k", value: { title: "quick brown fox" }, matchedTerms: ["fox"], changeType: "ENTER" });
    expect((update.payload as { score: number }).score).toBeGreaterThan(0);
    reader.close();
    writer.close();
  });
});
