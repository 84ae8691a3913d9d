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

describe("live queries", () => {
  it("keeps delivering QUERY_UPDATE after the owner object was evicted", async () => {
    const map = "evict-query";
    expect(partitionOfName("query-reader-1")).not.toBe(partitionOfShard(map, 0)); // the reader's home is not the owner
    const reader = await connect("clientId=query-reader-1", "bob");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q1", mapName: map, query: { where: { color: "red" } } } });
    const resp = await reader.waitFor("QUERY_RESP");
    expect(resp.payload).toEqual({ queryId: "q1", results: [] });

    await evictDurableObject(ownerStub(map));

    const writer = await connect(`map=${map}`, "alice");
    const record = { value: { color: "red" }, timestamp: { millis: Date.now(), counter: 0, nodeId: "client-a" } };
    writer.send({ type: "CLIENT_OP", payload: { id: "1", mapName: map, key: "k", opType: "PUT", record } });
    const update = await reader.waitFor("QUERY_UPDATE");
    expect(update.payload).toEqual({ queryId: "q1", key: "k", value: { color: "red" }, changeType: "ENTER" });
    reader.close();
    writer.close();
  });
});
