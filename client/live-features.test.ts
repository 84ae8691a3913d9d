import { describe, expect, it } from "vitest";
import { FakeServer, handshake, until } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";

const startClient = startedClients();

describe("topics", () => {
  it("subscribes and sends offline publishes after AUTH_ACK", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const topic = client.getTopic("chat");
    topic.subscribe(() => {});
    topic.publish("hello");

    const socket = await handshake(server);

    expect(socket.sentOf("TOPIC_SUB").map((m) => m.payload.topic)).toEqual(["chat"]);
    expect(socket.sentOf("TOPIC_PUB").map((m) => m.payload.data)).toEqual(["hello"]);
  });

  it("delivers TOPIC_MESSAGE to the topic's listeners", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const received: unknown[] = [];
    client.getTopic("chat").subscribe((m) => received.push(m.data));
    const socket = await handshake(server);

    socket.deliver({ type: "TOPIC_MESSAGE", payload: { topic: "chat", data: { text: "hi" }, timestamp: 1 } });

    expect(received).toEqual([{ text: "hi" }]);
  });

  it("sends TOPIC_UNSUB when the last listener leaves", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const unsubscribe = client.getTopic("chat").subscribe(() => {});

    unsubscribe();

    expect(socket.sentOf("TOPIC_UNSUB")).toHaveLength(1);
  });
});

describe("PN counters", () => {
  it("pushes offline increments with COUNTER_SYNC after AUTH_ACK", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const likes = client.getPNCounter("likes");
    likes.increment(3);
    likes.decrement();

    const socket = await handshake(server);

    expect(likes.get()).toBe(2);
    expect(socket.sentOf("COUNTER_SYNC").at(-1)?.payload.state).toEqual({ p: { [client.nodeId]: 3 }, n: { [client.nodeId]: 1 } });
  });

  it("merges a server state by taking the larger count per node", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const likes = client.getPNCounter("likes");
    const socket = await handshake(server);
    likes.increment(2);

    socket.deliver({ type: "COUNTER_UPDATE", payload: { name: "likes", state: { p: { [client.nodeId]: 1, other: 5 }, n: {} } } });

    expect(likes.get()).toBe(7);
  });
});

describe("live queries", () => {
  it("takes the QUERY_RESP snapshot and applies ENTER, UPDATE and LEAVE", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const query = client.query<number>("scores", { where: { team: "a" } });
    const socket = await handshake(server);
    const [sub] = socket.sentOf("QUERY_SUB");
    const queryId = sub?.payload.queryId ?? "";

    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "x", value: 1 }, { key: "y", value: 2 }] } });
    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "z", value: 3, changeType: "ENTER" } });
    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "x", value: 10, changeType: "UPDATE" } });
    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "y", value: 2, changeType: "LEAVE" } });

    expect(sub?.payload).toEqual({ queryId, mapName: "scores", query: { where: { team: "a" } } });
    expect(query.results()).toEqual([["x", 10], ["z", 3]]);
  });

  it("subscribes again after a reconnect and stops with QUERY_UNSUB on close", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const query = client.query("scores");
    const first = await handshake(server);
    first.drop();
    await until(() => server.sockets.length === 2, "a reconnect");
    const second = await handshake(server);

    query.close();

    expect(second.sentOf("QUERY_SUB").map((m) => m.payload.queryId)).toEqual([query.id]);
    expect(second.sentOf("QUERY_UNSUB").map((m) => m.payload.queryId)).toEqual([query.id]);
  });
});

describe("locks", () => {
  it("resolves lock() with the fencing token of LOCK_GRANTED", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const granted = client.getLock("job").lock(5_000);
    const [request] = socket.sentOf("LOCK_REQUEST");

    socket.deliver({ type: "LOCK_GRANTED", payload: { requestId: request?.payload.requestId ?? "", name: "job", fencingToken: 7 } });

    expect(request?.payload.ttl).toBe(5_000);
    expect(await granted).toBe(7);
  });

  it("sends a lock request made offline after AUTH_ACK and resolves unlock() from LOCK_RELEASED", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const lock = client.getLock("job");
    const granted = lock.lock();
    const socket = await handshake(server);
    const requestId = socket.sentOf("LOCK_REQUEST")[0]?.payload.requestId ?? "";
    socket.deliver({ type: "LOCK_GRANTED", payload: { requestId, name: "job", fencingToken: 1 } });
    const released = lock.unlock(await granted);
    const releaseId = socket.sentOf("LOCK_RELEASE")[0]?.payload.requestId ?? "";

    socket.deliver({ type: "LOCK_RELEASED", payload: { requestId: releaseId, name: "job", success: true } });

    expect(await released).toBe(true);
  });
});

describe("search", () => {
  it("resolves a one-shot search from its SEARCH_RESP", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const answer = client.search("docs", "hello", { limit: 5 });
    const [request] = socket.sentOf("SEARCH");
    const hit = { key: "d1", value: { text: "hello" }, score: 1.5, matchedTerms: ["hello"] };

    socket.deliver({ type: "SEARCH_RESP", payload: { requestId: request?.payload.requestId ?? "", results: [hit], totalCount: 1 } });

    expect(request?.payload.options).toEqual({ limit: 5 });
    expect(await answer).toEqual({ hits: [hit], totalCount: 1 });
  });

  it("keeps a live search's hits best first through ENTER and LEAVE", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const live = client.searchSubscribe("docs", "hello");
    const hit = (key: string, score: number) => ({ key, value: null, score, matchedTerms: ["hello"] });

    socket.deliver({ type: "SEARCH_RESP", payload: { requestId: live.id, results: [hit("a", 1)], totalCount: 1 } });
    socket.deliver({ type: "SEARCH_UPDATE", payload: { subscriptionId: live.id, ...hit("b", 2), changeType: "ENTER" } });
    socket.deliver({ type: "SEARCH_UPDATE", payload: { subscriptionId: live.id, ...hit("a", 1), changeType: "LEAVE" } });

    expect(live.hits().map((h) => h.key)).toEqual(["b"]);
  });
});
