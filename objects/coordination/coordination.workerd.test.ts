import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { homePartitionOfClient, partitionOfName } from "../../core/placement.ts";
import { connectAs, partitionStub } from "../../test/workerd/connect.ts";
import type { Partition } from "../partition.ts";

function connect(clientId: string, user: string) {
  return connectAs(`clientId=${clientId}`, user);
}

function ownerStub(name: string) {
  return partitionStub(partitionOfName(name));
}

describe("topics, counters and locks", () => {
  it("keeps delivering a topic subscription after the owner and the subscriber's home were evicted", async () => {
    const topic = "evict-topic";
    const [readerId, publisherId] = ["topic-reader-1", "topic-publisher-1"];
    expect(new Set([partitionOfName(topic), homePartitionOfClient(readerId), homePartitionOfClient(publisherId)]).size).toBe(3);
    const reader = await connect(readerId, "bob");
    reader.send({ type: "TOPIC_SUB", payload: { topic } });
    reader.send({ type: "PING", timestamp: 1 });
    await reader.waitFor("PONG");

    await evictDurableObject(ownerStub(topic));
    await evictDurableObject(partitionStub(homePartitionOfClient(readerId)));

    const publisher = await connect(publisherId, "alice");
    publisher.send({ type: "TOPIC_PUB", payload: { topic, data: { after: "eviction" } } });
    const message = await reader.waitFor("TOPIC_MESSAGE");
    expect(message.payload).toMatchObject({ topic, data: { after: "eviction" }, publisherId: "alice" });
    reader.close();
    publisher.close();
  });

  it("keeps a lock's fencing token in SQLite after the lock was released", async () => {
    const name = "evict-lock";
    const client = await connect("lock-client-1", "carol");
    client.send({ type: "LOCK_REQUEST", payload: { requestId: "r1", name } });
    const grant = await client.waitFor("LOCK_GRANTED");
    client.send({ type: "LOCK_RELEASE", payload: { requestId: "r2", name, fencingToken: (grant.payload as { fencingToken: number }).fencingToken } });
    await client.waitFor("LOCK_RELEASED");

    const stub = ownerStub(name);
    await evictDurableObject(stub);
    client.send({ type: "LOCK_REQUEST", payload: { requestId: "r3", name } });
    const again = await client.waitFor("LOCK_GRANTED");

    expect(again.payload).toEqual({ requestId: "r3", name, fencingToken: 2 });
    const rows = await runInDurableObject(stub, (_instance: Partition, state) =>
      state.storage.sql.exec("SELECT token FROM lock_state WHERE name = ?", name).toArray(),
    );
    expect(rows).toEqual([{ token: 2 }]);
    client.close();
  });
});
