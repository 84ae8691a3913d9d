import { afterEach, describe, expect, it } from "vitest";
import { FakeServer, handshake, until } from "./testing/fake-server.ts";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import type { StorageAdapter } from "./storage/storage-adapter.ts";
import { TopGunClient } from "./topgun-client.ts";

const open: TopGunClient[] = [];
afterEach(async () => {
  await Promise.all(open.map((client) => client.close()));
  open.length = 0;
});

async function startClient(server: FakeServer, storage: StorageAdapter = new MemoryAdapter(), token = "t0k"): Promise<TopGunClient> {
  const client = new TopGunClient({ serverUrl: "ws://server.test", storage, token, webSocketFactory: server.factory, backoff: { initialMs: 5 } });
  open.push(client);
  await client.start();
  return client;
}

function sentOpCount(server: FakeServer): number {
  return server.sockets.flatMap((s) => s.sentOf("OP_BATCH")).reduce((n, m) => n + m.payload.ops.length, 0);
}

describe("TopGunClient handshake", () => {
  it("connects to /ws with its node id as clientId and answers AUTH_REQUIRED with its token", async () => {
    const server = new FakeServer();
    const client = await startClient(server);

    const socket = await handshake(server);

    expect(socket.url).toBe(`ws://server.test/ws?clientId=${client.nodeId}`);
    expect(socket.sentOf("AUTH")).toEqual([{ type: "AUTH", token: "t0k" }]);
    expect(client.getConnectionState()).toBe("CONNECTED");
  });

  it("surfaces AUTH_FAIL and reconnects when a new token is set", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const errors: string[] = [];
    client.onError((e) => errors.push(e.kind));
    const socket = server.accept();
    await until(() => socket.sentOf("AUTH").length > 0, "AUTH");

    socket.deliver({ type: "AUTH_FAIL", error: "InvalidSignature" });
    client.setAuthToken("fresh");
    const retry = server.accept();
    await until(() => retry.sentOf("AUTH").length > 0, "second AUTH");

    expect(errors).toEqual(["AUTH_FAIL"]);
    expect(client.getConnectionState()).toBe("AUTHENTICATING");
    expect(retry.sentOf("AUTH")[0]?.token).toBe("fresh");
  });
});

describe("TopGunClient reconnect", () => {
  it("opens a new socket at once instead of waiting out the backoff", async () => {
    const server = new FakeServer();
    const client = new TopGunClient({ serverUrl: "ws://server.test", storage: new MemoryAdapter(), webSocketFactory: server.factory, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    open.push(client);
    await client.start();
    await handshake(server);
    server.last.drop();
    expect(client.getConnectionState()).toBe("BACKOFF");

    client.reconnect();

    expect(server.sockets).toHaveLength(2);
    expect(client.getConnectionState()).toBe("CONNECTING");
  });

  it("leaves a live connection alone", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    await handshake(server);

    client.reconnect();

    expect(server.sockets).toHaveLength(1);
    expect(client.getConnectionState()).toBe("CONNECTED");
  });
});

describe("TopGunClient op log", () => {
  it("sends 1,000 quick writes as 1,000 ops in a few OP_BATCH frames", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const todos = client.getMap<number>("todos");
    await todos.ready;

    for (let i = 0; i < 1_000; i++) todos.set(`k${i}`, i);
    await client.flush();

    expect(sentOpCount(server)).toBe(1_000);
    expect(socket.sentOf("OP_BATCH").length).toBeLessThanOrEqual(4);
  });

  it("answers reads at once, before anything is stored or sent", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const todos = client.getMap<string>("todos");

    todos.set("a", "x");

    expect(todos.get("a")).toBe("x");
    expect(sentOpCount(server)).toBe(0);
  });

  it("sends writes made offline once after AUTH_ACK", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const todos = client.getMap<string>("todos");
    todos.set("a", "1");
    todos.set("b", "2");
    await client.flush();

    const socket = await handshake(server);

    expect(socket.sentOf("OP_BATCH").flatMap((m) => m.payload.ops.map((op) => op.key))).toEqual(["a", "b"]);
  });

  it("re-sends unacknowledged ops on the next connection and not acknowledged ones", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const first = await handshake(server);
    const todos = client.getMap<string>("todos");
    todos.set("a", "1");
    await client.flush();
    const [ackedBatch] = first.sentOf("OP_BATCH");
    first.deliver({ type: "OP_ACK", payload: { lastId: ackedBatch?.payload.ops.at(-1)?.id ?? "" } });
    todos.set("b", "2");
    await client.flush();

    first.drop();
    await until(() => server.sockets.length === 2, "a reconnect");
    const second = await handshake(server);

    expect(second.sentOf("OP_BATCH").flatMap((m) => m.payload.ops.map((op) => op.key))).toEqual(["b"]);
    expect(client.getPendingOpCount()).toBe(1);
  });

  it("sends pending ops again after the server answers a write with UNAVAILABLE", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    client.getMap<string>("m").set("k", "v");
    await client.flush();

    socket.deliver({ type: "ERROR", payload: { code: 503, message: "write failed; resend" } });
    await until(() => socket.sentOf("OP_BATCH").length === 2, "a second OP_BATCH");

    expect(socket.sentOf("OP_BATCH").map((m) => m.payload.ops.map((op) => op.key))).toEqual([["k"], ["k"]]);
  });

  it("reports the ops an OP_ACK covers to onOpsAcknowledged listeners, and only those", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const acknowledged: string[][] = [];
    client.onOpsAcknowledged((ops) => acknowledged.push(ops.map((op) => `${op.mapName}/${op.key}`)));
    const todos = client.getMap<string>("todos");
    todos.set("a", "1");
    todos.set("b", "2");
    await client.flush();
    const sent = socket.sentOf("OP_BATCH").flatMap((m) => m.payload.ops);
    todos.set("c", "3");
    await client.flush();

    socket.deliver({ type: "OP_ACK", payload: { lastId: sent.at(-1)?.id ?? "" } });

    expect(acknowledged).toEqual([["todos/a", "todos/b"]]);
    expect(client.getPendingOpCount()).toBe(1);
  });

  it("reports OP_REJECTED to onOpRejected listeners", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const rejected: string[] = [];
    client.onOpRejected((r) => rejected.push(`${r.opId}:${r.reason}`));

    socket.deliver({ type: "OP_REJECTED", payload: { opId: "7", reason: "drift", code: 400 } });

    expect(rejected).toEqual(["7:drift"]);
  });
});

describe("TopGunClient sync", () => {
  it("sends SYNC_INIT and ORMAP_SYNC_INIT for open maps after AUTH_ACK", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    await client.getMap("lww").ready;
    await client.getORMap("or").ready;

    const socket = await handshake(server);

    expect(socket.sentOf("SYNC_INIT")).toEqual([{ type: "SYNC_INIT", mapName: "lww", lastSyncTimestamp: 0 }]);
    expect(socket.sentOf("ORMAP_SYNC_INIT").map((m) => m.mapName)).toEqual(["or"]);
  });

  it("walks differing buckets down to the leaf and merges its records", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const map = client.getMap<string>("m");
    await map.ready;
    const socket = await handshake(server);
    const ts = { millis: 1_000, counter: 0, nodeId: "srv" };

    socket.deliver({ type: "SYNC_RESP_ROOT", payload: { mapName: "m", rootHash: 42, timestamp: ts } });
    socket.deliver({ type: "SYNC_RESP_BUCKETS", payload: { mapName: "m", path: "", buckets: { e: 42 } } });
    socket.deliver({ type: "SYNC_RESP_LEAF", payload: { mapName: "m", path: "e40", records: [{ key: "a", record: { value: "remote", timestamp: ts } }] } });

    expect(socket.sentOf("MERKLE_REQ_BUCKET").map((m) => m.payload.path)).toEqual(["", "e"]);
    expect(map.get("a")).toBe("remote");
  });

  it("applies SERVER_EVENT puts and OR adds from other clients", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const lww = client.getMap<string>("m");
    const or = client.getORMap<string>("o");
    const socket = await handshake(server);
    const ts = { millis: Date.now(), counter: 0, nodeId: "other" };

    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "m", eventType: "PUT", key: "k", record: { value: "v", timestamp: ts } } });
    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "o", eventType: "OR_ADD", key: "k", orRecord: { value: "x", timestamp: ts, tag: "t1" } } });

    expect(lww.get("k")).toBe("v");
    expect(or.get("k")).toEqual(["x"]);
  });

  it("clears a map on SYNC_RESET_REQUIRED, keeps its pending writes and syncs it from lastSyncTimestamp 0", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const map = client.getMap<string>("m");
    await map.ready;
    const socket = await handshake(server);
    socket.deliver({ type: "SYNC_RESP_LEAF", payload: { mapName: "m", path: "e40", records: [{ key: "old", record: { value: "x", timestamp: { millis: 5, counter: 0, nodeId: "s" } } }] } });
    map.set("mine", "y");
    await client.flush();

    socket.deliver({ type: "SYNC_RESET_REQUIRED", payload: { mapName: "m", reason: "too old" } });
    await until(() => socket.sentOf("SYNC_INIT").length === 2, "a second SYNC_INIT");

    expect(map.get("old")).toBeUndefined();
    expect(map.get("mine")).toBe("y");
    expect(socket.sentOf("SYNC_INIT")[1]?.lastSyncTimestamp).toBe(0);
  });

  it("prunes tombstones older than GC_PRUNE's timestamp", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const map = client.getMap<string>("m");
    const socket = await handshake(server);
    map.set("a", "1");
    map.remove("a");

    socket.deliver({ type: "GC_PRUNE", payload: { olderThan: { millis: Date.now() + 1_000, counter: 0, nodeId: "s" } } });

    expect(map.crdt.getRecord("a")).toBeUndefined();
  });
});
