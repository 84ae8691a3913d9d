import { describe, expect, it } from "vitest";
import { homePartitionOfClient, partitionOfName } from "../../core/placement.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import type { TestClient } from "../support/ws-client.ts";

const clients = clientPool();

/** A client id whose home partition is none of `taken` (so the test crosses homes), and records its partition. */
function clientIdAvoiding(taken: Set<number>): string {
  for (;;) {
    const id = uniqueName("client");
    const partition = homePartitionOfClient(id);
    if (!taken.has(partition)) {
      taken.add(partition);
      return id;
    }
  }
}

async function subscribe(client: TestClient, topic: string): Promise<void> {
  client.send({ type: "TOPIC_SUB", payload: { topic } });
  await client.barrier();
}

describe("topics", () => {
  it("delivers a publish to subscribers on other home partitions with publisherId and a server timestamp", async () => {
    const topic = uniqueName("news");
    const homes = new Set([partitionOfName(topic)]);
    const publisherUser = uniqueName("user");
    const publisher = await clients.authed({ clientId: clientIdAvoiding(homes) }, publisherUser);
    const reader1 = await clients.authed({ clientId: clientIdAvoiding(homes) });
    const reader2 = await clients.authed({ clientId: clientIdAvoiding(homes) });
    await subscribe(reader1, topic);
    await subscribe(reader2, topic);

    const before = Date.now();
    publisher.send({ type: "TOPIC_PUB", payload: { topic, data: { text: "hello", n: [1, 2] } } });

    for (const reader of [reader1, reader2]) {
      const message = await reader.waitFor("TOPIC_MESSAGE");
      expect(message.payload).toMatchObject({ topic, data: { text: "hello", n: [1, 2] }, publisherId: publisherUser });
      expect(message.payload.timestamp).toBeGreaterThanOrEqual(before - 1_000);
    }
  });

  it("never echoes a publish to the publisher, even when it subscribed", async () => {
    const topic = uniqueName("echo");
    const publisher = await clients.authed({ clientId: uniqueName("client") });
    const reader = await clients.authed({ clientId: uniqueName("client") });
    await subscribe(publisher, topic);
    await subscribe(reader, topic);

    publisher.send({ type: "TOPIC_PUB", payload: { topic, data: 1 } });
    await reader.waitFor("TOPIC_MESSAGE");
    await publisher.barrier();

    expect(publisher.collect("TOPIC_MESSAGE")).toEqual([]);
  });

  it("delivers only the topics a connection subscribed to", async () => {
    const a = uniqueName("topic-a");
    const b = uniqueName("topic-b");
    const publisher = await clients.authed({ clientId: uniqueName("client") });
    const readerA = await clients.authed({ clientId: uniqueName("client") });
    const readerB = await clients.authed({ clientId: uniqueName("client") });
    await subscribe(readerA, a);
    await subscribe(readerB, b);

    publisher.send({ type: "TOPIC_PUB", payload: { topic: a, data: "for-a" } });
    publisher.send({ type: "TOPIC_PUB", payload: { topic: b, data: "for-b" } });
    await readerA.waitFor("TOPIC_MESSAGE");
    await readerB.waitFor("TOPIC_MESSAGE");
    await readerA.barrier();
    await readerB.barrier();

    expect(readerA.collect("TOPIC_MESSAGE").map((m) => m.payload.data)).toEqual(["for-a"]);
    expect(readerB.collect("TOPIC_MESSAGE").map((m) => m.payload.data)).toEqual(["for-b"]);
  });

  it("delivers a publisher's messages in publish order", async () => {
    const topic = uniqueName("order");
    const publisher = await clients.authed({ clientId: uniqueName("client") });
    const reader = await clients.authed({ clientId: uniqueName("client") });
    await subscribe(reader, topic);

    const sent = Array.from({ length: 100 }, (_, i) => i); // more than an owner takes before the publisher waits
    for (const n of sent) publisher.send({ type: "TOPIC_PUB", payload: { topic, data: n } });
    for (let i = 0; i < sent.length; i++) await reader.waitFor("TOPIC_MESSAGE");

    expect(reader.collect("TOPIC_MESSAGE").map((m) => m.payload.data)).toEqual(sent);
  });

  it("stops delivering after TOPIC_UNSUB", async () => {
    const topic = uniqueName("unsub");
    const publisher = await clients.authed({ clientId: uniqueName("client") });
    const stays = await clients.authed({ clientId: uniqueName("client") });
    const leaves = await clients.authed({ clientId: uniqueName("client") });
    await subscribe(stays, topic);
    await subscribe(leaves, topic);
    leaves.send({ type: "TOPIC_UNSUB", payload: { topic } });
    await leaves.barrier();

    publisher.send({ type: "TOPIC_PUB", payload: { topic, data: 1 } });
    await stays.waitFor("TOPIC_MESSAGE");
    await leaves.barrier();

    expect(leaves.collect("TOPIC_MESSAGE")).toEqual([]);
  });

  it("answers a topic name outside the rule (1..256 of A-Z a-z 0-9 _ - . : /) with ERROR and delivers nothing", async () => {
    const subscriber = await clients.authed({ clientId: uniqueName("client") });
    const publisher = await clients.authed({ clientId: uniqueName("client") });
    const valid = uniqueName("rule");
    await subscribe(subscriber, valid);

    const cases: [string, number][] = [["chat room", 422], ["", 422], ["émoji", 422], ["x".repeat(257), 413]];
    for (const [topic, code] of cases) {
      publisher.send({ type: "TOPIC_PUB", payload: { topic, data: 1 } });
      expect((await publisher.waitFor("ERROR")).payload.code, JSON.stringify(topic)).toBe(code);
    }
    subscriber.send({ type: "TOPIC_SUB", payload: { topic: "bad topic" } });
    expect((await subscriber.waitFor("ERROR")).payload.message).toContain("topic");
    publisher.send({ type: "TOPIC_PUB", payload: { topic: `${valid}/${"y".repeat(256 - valid.length - 1)}`, data: "longest" } });
    publisher.send({ type: "TOPIC_PUB", payload: { topic: valid, data: "valid" } });

    expect((await subscriber.waitFor("TOPIC_MESSAGE")).payload.data).toBe("valid");
    await publisher.barrier();
    await subscriber.barrier();
    expect(subscriber.collect("TOPIC_MESSAGE").map((m) => m.payload.data)).toEqual(["valid"]);
    expect(publisher.collect("ERROR")).toHaveLength(4); // the 256-character name was accepted
  });
});
