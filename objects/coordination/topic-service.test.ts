import { describe, expect, it } from "vitest";
import { decodeMessage, encodeValue } from "../../core/codec.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { deferred } from "../../test/support/deferred.ts";
import { recordingSender } from "../../test/support/recording-sender.ts";
import { ConnectionSender } from "../delivery/connection-sender.ts";
import { applySchema } from "../storage/schema.ts";
import { TOPIC_BACKLOG, TopicService } from "./topic-service.ts";

const alice = { home: 3, conn: "alice" };
const bob = { home: 5, conn: "bob" };
const carol = { home: 5, conn: "carol" };

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const { sender, sent, gone } = recordingSender();
  const topics = new TopicService({ sql, sender, clock: () => 1_234 });
  // Taken, then delivered: the tests below read what was sent.
  const publish = async (topic: string, data: unknown, publisher = alice) => {
    await topics.publish({ topic, data: encodeValue(data), publisher, publisherId: `user-${publisher.conn}` });
    await topics.drained();
  };
  return { topics, sent, gone, publish, sql };
}

/** A topic service whose deliveries wait until the test releases them; records the data of each delivery. */
function heldDeliveries() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const release = deferred<void>();
  const delivered: number[] = [];
  const sender = new ConnectionSender(async (_home, _conns, frames) => {
    await release.promise;
    for (const frame of frames) delivered.push((decodeMessage(frame) as { payload: { data: number } }).payload.data);
    return [];
  });
  const topics = new TopicService({ sql, sender });
  topics.subscribe("t", bob);
  const publish = (n: number) => topics.publish({ topic: "t", data: encodeValue(n), publisher: alice, publisherId: "alice" });
  return { topics, delivered, publish, release: () => release.resolve() };
}

/** Whether `promise` has settled by the time the pending callbacks have run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

describe("TopicService", () => {
  it("delivers a publish to every subscriber with the data, publisherId and server timestamp", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("news", bob);
    topics.subscribe("news", carol);

    await publish("news", { headline: "hi", tags: [1, null] });

    expect(sent).toEqual([bob, carol].map((to) => ({
      to,
      message: { type: "TOPIC_MESSAGE", payload: { topic: "news", data: { headline: "hi", tags: [1, null] }, publisherId: "user-alice", timestamp: 1_234 } },
    })));
  });

  it("never sends a publish back to the publisher's connection", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("news", alice);
    topics.subscribe("news", bob);

    await publish("news", 1);

    expect(sent.map((s) => s.to)).toEqual([bob]);
  });

  it("delivers only to subscribers of the published topic", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("a", bob);
    topics.subscribe("b", carol);

    await publish("a", "x");

    expect(sent.map((s) => s.to)).toEqual([bob]);
  });

  it("delivers concurrent publishes in the order they arrived", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("t", bob);

    await Promise.all([1, 2, 3, 4, 5].map((n) => publish("t", n)));

    expect(sent.map((s) => s.message.payload.data)).toEqual([1, 2, 3, 4, 5]);
  });

  it("answers a publish before its delivery finishes, so the publisher's home goes on with its next frame", async () => {
    const { topics, delivered, publish, release } = heldDeliveries();

    expect(await settledNow(publish(1))).toBe(true);
    expect(delivered).toEqual([]);
    release();
    await topics.drained();

    expect(delivered).toEqual([1]);
  });

  it("makes a publisher wait for its delivery once the topic's backlog is full, and delivers everything in order", async () => {
    const { topics, delivered, publish, release } = heldDeliveries();
    const taken = Array.from({ length: TOPIC_BACKLOG }, (_, n) => publish(n));
    expect(await settledNow(Promise.all(taken))).toBe(true);

    const over = publish(TOPIC_BACKLOG);
    expect(await settledNow(over)).toBe(false);
    release();
    await over;
    await topics.drained();

    expect(delivered).toEqual(Array.from({ length: TOPIC_BACKLOG + 1 }, (_, n) => n));
    // Delivered: the backlog is empty again, so the next publish is taken at once.
    expect(await settledNow(publish(99))).toBe(true);
  });

  it("stops delivering after unsubscribe", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("t", bob);
    topics.unsubscribe("t", bob);

    await publish("t", 1);

    expect(sent).toEqual([]);
  });

  it("forgets a subscriber whose home reports it unknown", async () => {
    const { topics, gone, publish, sql } = setup();
    topics.subscribe("t", bob);
    gone.add("5/bob");

    await publish("t", 1);

    expect(sql.exec("SELECT conn FROM topic_sub")).toEqual([]);
  });

  it("stops delivering to a subscriber whose home reported it unknown", async () => {
    const { topics, sent, gone, publish } = setup();
    topics.subscribe("t", bob);
    topics.subscribe("t", carol);
    gone.add("5/bob");
    await publish("t", 1);
    gone.delete("5/bob");

    await publish("t", 2);

    expect(sent.filter((s) => s.message.payload.data === 2).map((s) => s.to)).toEqual([carol]);
  });

  it("drops every subscription of a closed connection", async () => {
    const { topics, sent, publish } = setup();
    topics.subscribe("a", bob);
    topics.subscribe("b", bob);
    topics.subscribe("b", carol);

    topics.dropConnection(bob);
    await publish("a", 1);
    await publish("b", 2);

    expect(sent.map((s) => s.to)).toEqual([carol]);
  });
});
