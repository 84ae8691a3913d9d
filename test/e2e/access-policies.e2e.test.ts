import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { putPolicies } from "../support/admin-api.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { signToken } from "../support/tokens.ts";
import { lwwPut, lwwRemove, orAdd, TestClient, type MessageOf } from "../support/ws-client.ts";
import { webSocketUrl } from "../support/server-harness.ts";
import { afterEach } from "vitest";

const hlc = new HLC("policy-e2e");
const open = new Set<TestClient>();
afterEach(() => {
  for (const client of open) client.close();
  open.clear();
});

/** A socket of `user` (with `roles`) in `namespace`, homed at `map`. */
async function connect(namespace: string, user: string, options: { roles?: string[]; map?: string } = {}): Promise<TestClient> {
  const token = await signToken({ sub: user, roles: options.roles ?? [] });
  const client = await TestClient.connect(webSocketUrl(serverUrl(), { namespace, ...(options.map ? { map: options.map } : {}) }), { token });
  open.add(client);
  return client;
}

/** A namespace holding the todo app's policies: everyone reads and writes their own todos only. */
async function todoNamespace(): Promise<string> {
  const namespace = uniqueName("todo");
  await putPolicies(serverUrl(), namespace, [{ mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" }]);
  return namespace;
}

const forbidden = (client: TestClient) =>
  client.waitFor("ERROR", { description: "ERROR 403", where: (m) => m.payload.code === 403 });

async function query(client: TestClient, map: string, queryId = uniqueName("q")): Promise<MessageOf<"QUERY_RESP">> {
  client.send({ type: "QUERY_SUB", payload: { queryId, mapName: map, query: {} } });
  return client.waitFor("QUERY_RESP", { where: (m) => m.payload.queryId === queryId });
}

describe("access policies: a todo app where users see only their own todos", () => {
  it("applies a user's own writes and rejects the others with ERROR 403 first, then OP_REJECTED, then OP_ACK", async () => {
    const namespace = await todoNamespace();
    const alice = await connect(namespace, "alice");
    const own = lwwPut("todos", "t1", { ownerId: "alice", title: "mine" }, hlc.now(), { id: "op-own" });
    const foreign = lwwPut("todos", "t2", { ownerId: "bob", title: "planted" }, hlc.now(), { id: "op-foreign" });
    alice.sendBatch([own, foreign]);
    const ack = await alice.waitFor("OP_ACK", { where: (m) => m.payload.lastId === "op-foreign" });
    const order = alice.history.map((f) => f.type).filter((t) => ["ERROR", "OP_REJECTED", "OP_ACK"].includes(t));
    expect(order).toEqual(["ERROR", "OP_REJECTED", "OP_ACK"]);
    expect(alice.collect("ERROR")[0]?.payload).toEqual({ code: 403, message: "forbidden: write access denied for map: todos" });
    expect(alice.collect("OP_REJECTED")[0]?.payload).toMatchObject({ opId: "op-foreign", code: 403 });
    expect(ack.payload.lastId).toBe("op-foreign");
    expect((await query(alice, "todos")).payload.results).toEqual([{ key: "t1", value: { ownerId: "alice", title: "mine" } }]);
  });

  it("never lets a user take over or delete another user's todo", async () => {
    const namespace = await todoNamespace();
    const alice = await connect(namespace, "alice");
    const bob = await connect(namespace, "bob");
    await alice.write([lwwPut("todos", "t1", { ownerId: "alice", title: "mine" }, hlc.now(), { id: "a1" })]);
    await bob.write([lwwPut("todos", "t1", { ownerId: "bob", title: "stolen" }, hlc.now(), { id: "b1" })]);
    await bob.write([lwwRemove("todos", "t1", hlc.now(), { id: "b2" })]);
    expect(bob.collect("OP_REJECTED").map((m) => [m.payload.opId, m.payload.code])).toEqual([
      ["b1", 403],
      ["b2", 403],
    ]);
    expect((await query(alice, "todos")).payload.results).toEqual([{ key: "t1", value: { ownerId: "alice", title: "mine" } }]);
    await alice.write([lwwRemove("todos", "t1", hlc.now(), { id: "a2" })]);
    expect(alice.collect("OP_REJECTED")).toEqual([]);
  });

  it("filters query results and live updates to the reader's own records", async () => {
    const namespace = await todoNamespace();
    const alice = await connect(namespace, "alice");
    const bob = await connect(namespace, "bob");
    await alice.write([lwwPut("todos", "a1", { ownerId: "alice" }, hlc.now(), { id: "w1" })]);
    await bob.write([lwwPut("todos", "b1", { ownerId: "bob" }, hlc.now(), { id: "w2" })]);
    const queryId = uniqueName("q");
    expect((await query(bob, "todos", queryId)).payload.results.map((r) => r.key)).toEqual(["b1"]);

    await alice.write([lwwPut("todos", "a2", { ownerId: "alice" }, hlc.now(), { id: "w3" })]);
    await bob.write([lwwPut("todos", "b2", { ownerId: "bob" }, hlc.now(), { id: "w4" })]);
    await bob.waitFor("QUERY_UPDATE", { where: (m) => m.payload.queryId === queryId && m.payload.key === "b2" });
    await bob.barrier();
    expect(bob.collect("QUERY_UPDATE").map((m) => m.payload.key)).toEqual(["b2"]);
  });

  it("filters search hits to the reader's own records and refuses live search on a filtered map", async () => {
    const namespace = await todoNamespace();
    const alice = await connect(namespace, "alice");
    const bob = await connect(namespace, "bob");
    await alice.write([lwwPut("todos", "a1", { ownerId: "alice", title: "buy milk" }, hlc.now(), { id: "w1" })]);
    await bob.write([lwwPut("todos", "b1", { ownerId: "bob", title: "buy bread" }, hlc.now(), { id: "w2" })]);
    bob.send({ type: "SEARCH", payload: { requestId: "s1", mapName: "todos", query: "buy" } });
    const resp = await bob.waitFor("SEARCH_RESP", { where: (m) => m.payload.requestId === "s1" });
    expect(resp.payload.results.map((r) => r.key)).toEqual(["b1"]);
    bob.send({ type: "SEARCH_SUB", payload: { subscriptionId: "s2", mapName: "todos", query: "buy" } });
    expect((await forbidden(bob)).payload.message).toMatch(/^forbidden: read access denied for map: todos/);
  });

  it("refuses Merkle sync, the journal and OR-Map merges of a map the user may read only in part", async () => {
    const namespace = await todoNamespace();
    const bob = await connect(namespace, "bob");
    bob.send({ type: "SYNC_INIT", mapName: "todos" });
    expect((await forbidden(bob)).payload.message).toMatch(/Merkle sync needs read access to every record/);
    bob.send({ type: "ORMAP_SYNC_INIT", mapName: "todos", rootHash: 0, bucketHashes: {} });
    await forbidden(bob);
    bob.send({ type: "JOURNAL_READ", requestId: "j1", fromSequence: "0", mapName: "todos" });
    await forbidden(bob);
    bob.send({ type: "JOURNAL_READ", requestId: "j2", fromSequence: "0" });
    expect((await forbidden(bob)).payload.message).toMatch(/journal of all maps/);
    await bob.barrier();
    expect(bob.collect("SYNC_RESP_ROOT")).toEqual([]);
    expect(bob.collect("JOURNAL_READ_RESPONSE")).toEqual([]);
  });
});

describe("access policies: a shared board for members", () => {
  async function boardNamespace(): Promise<string> {
    const namespace = uniqueName("board");
    await putPolicies(serverUrl(), namespace, [
      { mapPattern: "board", action: "all", effect: "allow", conditionExpr: "'member' in auth.roles" },
      { mapPattern: "topic:board.*", action: "all", effect: "allow", conditionExpr: "'member' in auth.roles" },
    ]);
    return namespace;
  }

  it("lets members read, write and Merkle-sync the whole board, and gives outsiders nothing", async () => {
    const namespace = await boardNamespace();
    const member = await connect(namespace, "m1", { roles: ["member"] });
    const outsider = await connect(namespace, "x1");
    await member.write([lwwPut("board", "card", { text: "hello" }, hlc.now(), { id: "m-w" })]);
    member.send({ type: "SYNC_INIT", mapName: "board" });
    await member.waitFor("SYNC_RESP_ROOT");

    outsider.sendBatch([lwwPut("board", "card", { text: "defaced" }, hlc.now(), { id: "x-w" })]);
    await outsider.waitFor("OP_ACK", { where: (m) => m.payload.lastId === "x-w" });
    expect(outsider.collect("OP_REJECTED").map((m) => m.payload.code)).toEqual([403]);
    expect((await forbidden(outsider)).payload.message).toBe("forbidden: write access denied for map: board");
    outsider.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: "board", query: {} } });
    expect((await forbidden(outsider)).payload.message).toBe("forbidden: read access denied for map: board");
    outsider.send({ type: "SYNC_INIT", mapName: "board" });
    await forbidden(outsider);
    // A returning client's SYNC_INIT would first get the records changed since its last sync: refused the same way.
    outsider.send({ type: "SYNC_INIT", mapName: "board", lastSyncTimestamp: 1 });
    await forbidden(outsider);
    outsider.send({ type: "SEARCH", payload: { requestId: "s", mapName: "board", query: "hello" } });
    await forbidden(outsider);
    await outsider.barrier();
    expect(outsider.collect("QUERY_RESP")).toEqual([]);
    expect(outsider.collect("SEARCH_RESP")).toEqual([]);
    expect(outsider.collect("SYNC_RESP_ROOT")).toEqual([]);
    expect(outsider.collect("SYNC_RESP_LEAF")).toEqual([]);
    expect((await query(member, "board")).payload.results).toEqual([{ key: "card", value: { text: "hello" } }]);
  });

  it("keeps outsiders off the board's topics, counters, locks, processors and OR-Maps", async () => {
    const namespace = await boardNamespace();
    const member = await connect(namespace, "m1", { roles: ["member"] });
    const outsider = await connect(namespace, "x1");
    member.send({ type: "TOPIC_SUB", payload: { topic: "board.chat" } });
    await member.barrier();

    outsider.send({ type: "TOPIC_PUB", payload: { topic: "board.chat", data: { text: "spam" } } });
    expect((await forbidden(outsider)).payload.message).toBe("forbidden: write access denied for topic:board.chat");
    outsider.send({ type: "TOPIC_SUB", payload: { topic: "board.chat" } });
    await forbidden(outsider);
    outsider.send({ type: "COUNTER_SYNC", payload: { name: "likes", state: { p: { x1: 5 }, n: {} } } });
    await forbidden(outsider);
    outsider.send({ type: "COUNTER_REQUEST", payload: { name: "likes" } });
    await forbidden(outsider);
    outsider.send({ type: "LOCK_REQUEST", payload: { requestId: "l1", name: "edit", ttl: 1000 } });
    await forbidden(outsider);
    outsider.send({ type: "ENTRY_PROCESS", requestId: "p1", mapName: "board", key: "card", processor: { name: "increment", code: "" } });
    await forbidden(outsider);
    outsider.sendBatch([orAdd("board", "tags", { value: "x", timestamp: hlc.now(), tag: "t-x" }, { id: "or1" })]);
    await outsider.waitFor("OP_ACK", { where: (m) => m.payload.lastId === "or1" });
    expect(outsider.collect("OP_REJECTED").map((m) => m.payload.opId)).toEqual(["or1"]);

    member.send({ type: "TOPIC_PUB", payload: { topic: "board.chat", data: { text: "hi" } } });
    const other = await connect(namespace, "m2", { roles: ["member"] });
    other.send({ type: "TOPIC_PUB", payload: { topic: "board.chat", data: { text: "from m2" } } });
    const received = await member.waitFor("TOPIC_MESSAGE");
    expect(received.payload.data).toEqual({ text: "from m2" });
    await member.barrier();
    expect(member.collect("TOPIC_MESSAGE").map((m) => m.payload.data)).toEqual([{ text: "from m2" }]);
  });

  it("sees a policy change within about a second, without reconnecting", async () => {
    const namespace = await boardNamespace();
    const outsider = await connect(namespace, "x1");
    outsider.sendBatch([lwwPut("board", "c1", { text: "early" }, hlc.now(), { id: "x1" })]);
    await outsider.waitFor("OP_ACK", { where: (m) => m.payload.lastId === "x1" });
    expect(outsider.collect("OP_REJECTED")).toHaveLength(1);

    await putPolicies(serverUrl(), namespace, [{ mapPattern: "board", action: "write", effect: "allow" }]);
    const deadline = Date.now() + 3_000;
    let attempt = 0;
    for (;;) {
      const id = `x-retry-${attempt++}`;
      outsider.sendBatch([lwwPut("board", "c1", { text: "later" }, hlc.now(), { id })]);
      await outsider.waitFor("OP_ACK", { where: (m) => m.payload.lastId === id });
      if (!outsider.collect("OP_REJECTED").some((m) => m.payload.opId === id)) break;
      if (Date.now() > deadline) throw new Error("the new policy was not applied within 3 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});

describe("access policies: changes reach live streams", () => {
  it("stops SERVER_EVENTs, query updates and topic messages within about a second of a deny, without a reconnect", async () => {
    const namespace = uniqueName("revoke");
    await putPolicies(serverUrl(), namespace, [
      { id: "all", mapPattern: "*", action: "all", effect: "allow" },
      { id: "topics", mapPattern: "topic:*", action: "all", effect: "allow" },
    ]);
    const reader = await connect(namespace, "reader");
    const writer = await connect(namespace, "writer");
    reader.send({ type: "SYNC_INIT", mapName: "board" });
    await reader.waitFor("SYNC_RESP_ROOT");
    const queryId = uniqueName("q");
    await query(reader, "board", queryId);
    reader.send({ type: "TOPIC_SUB", payload: { topic: "news" } });
    await reader.barrier();
    await writer.write([lwwPut("board", "before", { n: 1 }, hlc.now(), { id: "w0" })]);
    await reader.waitFor("SERVER_EVENT", { where: (m) => m.payload.key === "before" });
    await reader.waitFor("QUERY_UPDATE", { where: (m) => m.payload.key === "before" });

    await putPolicies(serverUrl(), namespace, [
      { id: "no-board", mapPattern: "board", action: "read", effect: "deny" },
      { id: "no-news", mapPattern: "topic:news", action: "read", effect: "deny" },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await writer.write([lwwPut("board", "after", { n: 2 }, hlc.now(), { id: "w1" })]);
    writer.send({ type: "TOPIC_PUB", payload: { topic: "news", data: "after" } });
    await writer.barrier();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await reader.barrier();
    expect(reader.collect("SERVER_EVENT").map((m) => m.payload.key)).toEqual(["before"]);
    expect(reader.collect("QUERY_UPDATE").map((m) => m.payload.key)).toEqual(["before"]);
    expect(reader.collect("TOPIC_MESSAGE")).toEqual([]);
  });

  it("sends a LEAVE without the value when a record leaves a reader's view for a value it may not see", async () => {
    const namespace = uniqueName("leave");
    await putPolicies(serverUrl(), namespace, [
      { id: "read", mapPattern: "docs", action: "all", effect: "allow" },
      { id: "hide", mapPattern: "docs", action: "read", effect: "deny", conditionExpr: "data.secret == true" },
    ]);
    const reader = await connect(namespace, "reader");
    const writer = await connect(namespace, "writer");
    await writer.write([lwwPut("docs", "d1", { secret: false, text: "public" }, hlc.now(), { id: "w0" })]);
    const queryId = uniqueName("q");
    expect((await query(reader, "docs", queryId)).payload.results.map((r) => r.key)).toEqual(["d1"]);
    await writer.write([lwwPut("docs", "d1", { secret: true, text: "classified" }, hlc.now(), { id: "w1" })]);
    const leave = await reader.waitFor("QUERY_UPDATE", { where: (m) => m.payload.queryId === queryId && m.payload.changeType === "LEAVE" });
    expect(leave.payload.value ?? null).toBeNull();
  });
});
