import "fake-indexeddb/auto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IDBAdapter } from "../../client/storage/idb-adapter.ts";
import { MemoryAdapter } from "../../client/storage/memory-adapter.ts";
import type { StorageAdapter } from "../../client/storage/storage-adapter.ts";
import { TopGunClient } from "../../client/topgun-client.ts";
import { openGlobalWebSocket, type WebSocketLike } from "../../client/web-socket.ts";
import { countingSockets } from "../support/counting-socket.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { findFreePort } from "../support/server-harness.ts";
import { signToken } from "../support/tokens.ts";

const WAIT = { timeout: 20_000, interval: 50 };
const open = new Set<TopGunClient>();

afterEach(async () => {
  await Promise.all([...open].map((client) => client.close()));
  open.clear();
});

async function startClient(storage: StorageAdapter, url: string = serverUrl()): Promise<TopGunClient> {
  const client = new TopGunClient({
    serverUrl: url,
    storage,
    tokenProvider: () => signToken({ sub: uniqueName("user") }),
    backoff: { initialMs: 50, maxMs: 500 },
  });
  open.add(client);
  await client.start();
  return client;
}

/** A URL where nothing listens, so the client stays offline and keeps retrying. */
async function unreachableUrl(): Promise<string> {
  return `ws://127.0.0.1:${await findFreePort()}/ws`;
}

async function closeClient(client: TopGunClient): Promise<void> {
  await client.close();
  open.delete(client);
}

async function waitConnected(client: TopGunClient): Promise<void> {
  await vi.waitFor(() => expect(client.getConnectionState()).toBe("CONNECTED"), WAIT);
}

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), WAIT);
}

/** Waits until a brand-new client has pulled exactly `expected` (sorted by key) for `map` from the server. */
async function expectServerView(map: string, expected: [string, unknown][]): Promise<void> {
  const reader = await startClient(new MemoryAdapter());
  const handle = reader.getMap(map);
  await vi.waitFor(() => expect(handle.entries().sort(([a], [b]) => a.localeCompare(b))).toEqual(expected), WAIT);
}

describe("client SDK against the server", () => {
  it("shows each client the other's writes", async () => {
    const map = uniqueName("client-live");
    const a = await startClient(new MemoryAdapter());
    const b = await startClient(new MemoryAdapter());
    const mapA = a.getMap<string>(map);
    const mapB = b.getMap<string>(map);
    await Promise.all([waitConnected(a), waitConnected(b)]);

    mapA.set("from-a", "1");
    mapB.set("from-b", "2");

    await vi.waitFor(() => expect(mapB.get("from-a")).toBe("1"), WAIT);
    await vi.waitFor(() => expect(mapA.get("from-b")).toBe("2"), WAIT);
  });

  it("shares OR-Map adds and removes between clients", async () => {
    const list = uniqueName("client-or");
    const a = await startClient(new MemoryAdapter());
    const b = await startClient(new MemoryAdapter());
    const listA = a.getORMap<string>(list);
    const listB = b.getORMap<string>(list);
    await Promise.all([waitConnected(a), waitConnected(b)]);

    listA.add("colors", "red");
    listA.add("colors", "blue");
    await vi.waitFor(() => expect(listB.get("colors").sort()).toEqual(["blue", "red"]), WAIT);
    listB.remove("colors", "red");

    await vi.waitFor(() => expect(listA.get("colors")).toEqual(["blue"]), WAIT);
  });

  it("delivers writes made offline once after a reload on the same IndexedDB", async () => {
    const map = uniqueName("client-offline");
    const list = uniqueName("client-offline-list");
    const databaseName = uniqueName("db");
    const offline = await startClient(new IDBAdapter({ databaseName }), await unreachableUrl());
    const lww = offline.getMap<number>(map);
    const or = offline.getORMap<string>(list);
    await Promise.all([lww.ready, or.ready]);
    for (let i = 0; i < 50; i++) lww.set(`k${String(i).padStart(2, "0")}`, i);
    lww.remove("k00");
    for (let i = 0; i < 10; i++) or.add("items", `item-${i}`);
    await closeClient(offline);

    const reloaded = await startClient(new IDBAdapter({ databaseName }));
    reloaded.getMap(map);
    reloaded.getORMap(list);
    await waitAcked(reloaded);

    const expected: [string, number][] = Array.from({ length: 49 }, (_, i) => [`k${String(i + 1).padStart(2, "0")}`, i + 1]);
    await expectServerView(map, expected);
    const reader = await startClient(new MemoryAdapter());
    const items = reader.getORMap<string>(list);
    await vi.waitFor(() => expect(items.get("items")).toHaveLength(10), WAIT);
    expect(items.get("items").sort()).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`).sort());
  });

  it("delivers OR-Map adds exactly once when the socket closes before they are acknowledged", async () => {
    const list = uniqueName("client-drop");
    const sockets: WebSocketLike[] = [];
    const client = new TopGunClient({
      serverUrl: serverUrl(),
      storage: new MemoryAdapter(),
      tokenProvider: () => signToken({ sub: uniqueName("user") }),
      backoff: { initialMs: 50, maxMs: 500 },
      webSocketFactory: (url) => {
        const socket = openGlobalWebSocket(url);
        sockets.push(socket);
        return socket;
      },
    });
    open.add(client);
    await client.start();
    const items = client.getORMap<number>(list);
    await waitConnected(client);

    for (let i = 0; i < 20; i++) items.add("k", i);
    sockets.at(-1)?.close();
    await waitAcked(client);

    const reader = await startClient(new MemoryAdapter());
    const copy = reader.getORMap<number>(list);
    await vi.waitFor(() => expect(copy.get("k").sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i)), WAIT);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
  });

  it("converges two clients that edited the same keys offline once both reconnect", async () => {
    const map = uniqueName("client-converge");
    const dbA = uniqueName("db-a");
    const dbB = uniqueName("db-b");
    const offlineUrl = await unreachableUrl();
    const offlineA = await startClient(new IDBAdapter({ databaseName: dbA }), offlineUrl);
    const offlineB = await startClient(new IDBAdapter({ databaseName: dbB }), offlineUrl);
    const editsA = offlineA.getMap<string>(map);
    const editsB = offlineB.getMap<string>(map);
    await Promise.all([editsA.ready, editsB.ready]);
    for (let i = 0; i < 20; i++) {
      editsA.set(`shared-${i}`, `a${i}`);
      editsB.set(`shared-${i}`, `b${i}`);
    }
    editsA.set("only-a", "a");
    editsB.set("only-b", "b");
    editsB.remove("only-a");
    await Promise.all([closeClient(offlineA), closeClient(offlineB)]);

    const a = await startClient(new IDBAdapter({ databaseName: dbA }));
    const b = await startClient(new IDBAdapter({ databaseName: dbB }));
    const mapA = a.getMap<string>(map);
    const mapB = b.getMap<string>(map);
    await Promise.all([waitAcked(a), waitAcked(b)]);

    const sorted = (entries: [string, string][]) => entries.sort(([x], [y]) => x.localeCompare(y));
    await vi.waitFor(() => expect(sorted(mapA.entries())).toEqual(sorted(mapB.entries())), WAIT);
    expect(mapA.get("only-b")).toBe("b");
    expect(mapA.entries().length).toBeGreaterThanOrEqual(21);
    await expectServerView(map, sorted(mapA.entries()));
  });

  it("re-syncs a client that comes back after 1% of a map changed with the changed records only, asking no bucket", async () => {
    const map = uniqueName("client-resync");
    const databaseName = uniqueName("db");
    const writer = await startClient(new MemoryAdapter());
    const source = writer.getMap<string>(map);
    for (let i = 0; i < 300; i++) source.set(`k${i}`, `v1-${i}`);
    await waitAcked(writer);
    const first = await startClient(new IDBAdapter({ databaseName }));
    const copy = first.getMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(300), WAIT);
    await closeClient(first);

    // Offline: 3 of the 300 keys change (one of them removed).
    source.set("k10", "v2-10");
    source.set("k200", "v2-200");
    source.remove("k42");
    await waitAcked(writer);

    const { factory, log } = countingSockets();
    const back = new TopGunClient({
      serverUrl: serverUrl(),
      storage: new IDBAdapter({ databaseName }),
      tokenProvider: () => signToken({ sub: uniqueName("user") }),
      backoff: { initialMs: 50, maxMs: 500 },
      webSocketFactory: factory,
    });
    open.add(back);
    await back.start();
    const again = back.getMap<string>(map);
    await vi.waitFor(() => {
      expect(again.get("k10")).toBe("v2-10");
      expect(again.get("k200")).toBe("v2-200");
      expect(again.get("k42")).toBeUndefined();
    }, WAIT);
    await vi.waitFor(() => expect(log.received.some((m) => m.type === "SYNC_RESP_ROOT")).toBe(true), WAIT);

    expect(again.entries()).toHaveLength(299);
    expect(log.sent.map((m) => m.type)).not.toContain("MERKLE_REQ_BUCKET");
    const leaves = log.received.filter((m) => m.type === "SYNC_RESP_LEAF");
    expect(leaves.reduce((n, m) => n + (m.records ?? 0), 0)).toBe(3);
  });
});
