import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { compareTimestamps } from "../core/hlc.ts";
import { FakeServer, handshake } from "./testing/fake-server.ts";
import { IDBAdapter } from "./storage/idb-adapter.ts";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import type { StorageAdapter } from "./storage/storage-adapter.ts";
import { TopGunClient } from "./topgun-client.ts";

let dbCounter = 0;

/** Each backend as a function that opens "the same storage" again, the way a page reload does. */
const backends: [string, () => () => StorageAdapter][] = [
  ["MemoryAdapter", () => {
    const adapter = new MemoryAdapter();
    return () => adapter;
  }],
  ["IDBAdapter", () => {
    const databaseName = `reload-${++dbCounter}`;
    return () => new IDBAdapter({ databaseName });
  }],
];

const sessions: TopGunClient[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((client) => client.close()));
  sessions.length = 0;
});

async function session(storage: StorageAdapter, server = new FakeServer()): Promise<TopGunClient> {
  const client = new TopGunClient({ serverUrl: "ws://server.test", storage, webSocketFactory: server.factory });
  sessions.push(client);
  await client.start();
  return client;
}

describe.each(backends)("reload with %s", (_label, backend) => {
  it("keeps LWW and OR-Map records, the node id and pending ops across a reload", async () => {
    const reopen = backend();
    const before = await session(reopen());
    before.getMap<string>("todos").set("a", "1");
    before.getMap<string>("todos").remove("gone");
    before.getORMap<string>("tags").add("k", "red");
    await before.close();

    const after = await session(reopen());
    const todos = after.getMap<string>("todos");
    const tags = after.getORMap<string>("tags");
    await Promise.all([todos.ready, tags.ready]);

    expect(after.nodeId).toBe(before.nodeId);
    expect(todos.entries()).toEqual([["a", "1"]]);
    expect(todos.crdt.getRecord("gone")?.value).toBeNull();
    expect(tags.get("k")).toEqual(["red"]);
    expect(after.getPendingOpCount()).toBe(3);
  });

  it("keeps a PN counter's own counts across a reload and pushes them, with changes made before they were read on top", async () => {
    const reopen = backend();
    const before = await session(reopen());
    before.getPNCounter("likes").increment(5);
    before.getPNCounter("likes").decrement(1);
    await before.flush();
    await before.close();

    const server = new FakeServer();
    const after = await session(reopen(), server);
    const likes = after.getPNCounter("likes");
    likes.increment(2); // before the stored state is read: added on top of it, not lost to the max-merge
    await likes.loaded;
    expect(likes.get()).toBe(6);

    const socket = await handshake(server);
    expect(socket.sentOf("COUNTER_SYNC").at(-1)?.payload.state).toEqual({ p: { [after.nodeId]: 7 }, n: { [after.nodeId]: 1 } });
    // The server's older view of this node's counts (5 before the reload) does not take the new increments back.
    socket.deliver({ type: "COUNTER_UPDATE", payload: { name: "likes", state: { p: { [after.nodeId]: 5, other: 10 }, n: {} } } });
    expect(likes.get()).toBe(16);
  });

  it("orders a write after a reload after the same node's writes before it", async () => {
    const reopen = backend();
    const before = await session(reopen());
    const first = before.getMap<string>("m").set("k", "first");
    await before.close();

    const after = await session(reopen());
    const map = after.getMap<string>("m");
    await map.ready;
    const second = map.set("k", "second");

    expect(compareTimestamps(second.timestamp, first.timestamp)).toBe(1);
    expect(map.get("k")).toBe("second");
  });

  it("continues op ids after a reload and re-sends only ops not acknowledged", async () => {
    const reopen = backend();
    const server = new FakeServer();
    const before = await session(reopen(), server);
    const socket = await handshake(server);
    before.getMap<string>("m").set("acked", "1");
    await before.flush();
    socket.deliver({ type: "OP_ACK", payload: { lastId: "1" } });
    before.getMap<string>("m").set("pending", "2");
    await before.close();

    const server2 = new FakeServer();
    const after = await session(reopen(), server2);
    after.getMap<string>("m").set("later", "3");
    await after.flush();
    const socket2 = await handshake(server2);

    expect(socket2.sentOf("OP_BATCH").flatMap((m) => m.payload.ops.map((op) => `${op.id}:${op.key}`))).toEqual(["2:pending", "3:later"]);
  });

  it("reports each map's lastSyncTimestamp from the last session in SYNC_INIT", async () => {
    const reopen = backend();
    const server = new FakeServer();
    const before = await session(reopen(), server);
    await before.getMap("m").ready;
    const socket = await handshake(server);
    socket.deliver({ type: "SYNC_RESP_ROOT", payload: { mapName: "m", rootHash: 0, timestamp: { millis: 1234, counter: 0, nodeId: "s" } } });
    await before.close();

    const server2 = new FakeServer();
    const after = await session(reopen(), server2);
    await after.getMap("m").ready;
    const socket2 = await handshake(server2);

    expect(socket2.sentOf("SYNC_INIT")[0]?.lastSyncTimestamp).toBe(1234);
  });
});
