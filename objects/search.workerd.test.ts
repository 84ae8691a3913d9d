import { env, evictDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { partitionObjectName } from "../core/object-name.ts";
import { partitionOfName, partitionOfShard } from "../core/placement.ts";
import { WorkerdSocket } from "../test/workerd/socket.ts";

const SECRET = new TextEncoder().encode("workerd-test-secret");

async function connect(query: string, user: string): Promise<WorkerdSocket> {
  const socket = await WorkerdSocket.open(query);
  await socket.waitFor("AUTH_REQUIRED");
  const token = await new SignJWT({ roles: [] }).setProtectedHeader({ alg: "HS256" }).setSubject(user).setIssuedAt().setExpirationTime("1h").sign(SECRET);
  socket.send({ type: "AUTH", token });
  await socket.waitFor("AUTH_ACK");
  return socket;
}

function ownerStub(map: string) {
  return env.PARTITION.get(env.PARTITION.idFromName(partitionObjectName("default", partitionOfShard(map, 0))));
}

function partitionStub(partition: number) {
  return env.PARTITION.get(env.PARTITION.idFromName(partitionObjectName("default", partition)));
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
