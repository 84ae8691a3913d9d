// Tombstone GC and TTL expiry against a server whose tombstone horizon (TOPGUN_TOMBSTONE_TTL) is a few seconds:
// pruned tombstones reach synced clients as GC_PRUNE, a client whose last sync is older than the horizon is reset
// (SYNC_RESET_REQUIRED) and keeps its unacknowledged writes, and records whose TTL ran out are hidden, then deleted
// by the alarm (LEAVE to live queries and search subscriptions, DELETE in the journal), also across a crash.
import "fake-indexeddb/auto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import { IDBAdapter } from "../../client/storage/idb-adapter.ts";
import { MemoryAdapter } from "../../client/storage/memory-adapter.ts";
import type { StorageAdapter } from "../../client/storage/storage-adapter.ts";
import { TopGunClient } from "../../client/topgun-client.ts";
import { openGlobalWebSocket, type WebSocketFactory, type WebSocketLike } from "../../client/web-socket.ts";
import { decodeMessage } from "../../core/codec.ts";
import { E2E_JWT_SECRET } from "../support/e2e-config.ts";
import { uniqueName } from "../support/e2e-context.ts";
import { apiCall, syncCall, userToken } from "../support/http-api.ts";
import type { HttpSyncResponse } from "../../core/protocol/http-sync.ts";
import { findFreePort, startServer, webSocketUrl, type RunningServer } from "../support/server-harness.ts";
import { signToken } from "../support/tokens.ts";
import { lwwPut, lwwRemove, TestClient } from "../support/ws-client.ts";

const HORIZON = "3s";
const HORIZON_MS = 3_000;
/** The horizon, the alarm's wake-up after it and a loaded machine. */
const GC_WAIT = { timeout: 30_000, interval: 100 };
const WAIT = { timeout: 20_000, interval: 50 };

let server: RunningServer;
const clients = new Set<TopGunClient>();
const sockets = new Set<TestClient>();

beforeAll(async () => {
  server = await startServer({ jwtSecret: E2E_JWT_SECRET, settings: { TOPGUN_TOMBSTONE_TTL: HORIZON } });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  for (const socket of sockets) socket.close();
  sockets.clear();
});

/** Opens real sockets and notes the type (and SYNC_INIT's lastSyncTimestamp) of every frame each way. */
function recordingSockets(log: string[]): WebSocketFactory {
  const note = (direction: string, data: unknown) => {
    const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
    if (!bytes) return;
    const message = decodeMessage(bytes) as { type: string; lastSyncTimestamp?: number };
    log.push(`${direction} ${message.type}${message.type === "SYNC_INIT" ? ` ${message.lastSyncTimestamp ?? "-"}` : ""}`);
  };
  return (url) => {
    const ws = openGlobalWebSocket(url);
    const wrapper: WebSocketLike = {
      get binaryType() {
        return ws.binaryType;
      },
      set binaryType(value) {
        ws.binaryType = value;
      },
      send(data) {
        note(">", data);
        ws.send(data);
      },
      close: (code, reason) => ws.close(code, reason),
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    ws.onopen = (event) => wrapper.onopen?.(event);
    ws.onmessage = (event) => {
      note("<", event.data);
      wrapper.onmessage?.(event);
    };
    ws.onclose = (event) => wrapper.onclose?.(event);
    ws.onerror = (event) => wrapper.onerror?.(event);
    return wrapper;
  };
}

async function startClient(storage: StorageAdapter, url: string, log?: string[]): Promise<TopGunClient> {
  const client = new TopGunClient({
    serverUrl: url,
    storage,
    tokenProvider: () => signToken({ sub: "gc-user" }),
    backoff: { initialMs: 50, maxMs: 500 },
    ...(log ? { webSocketFactory: recordingSockets(log) } : {}),
  });
  clients.add(client);
  await client.start();
  return client;
}

async function closeClient(client: TopGunClient): Promise<void> {
  await client.close();
  clients.delete(client);
}

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), WAIT);
}

async function socketTo(target: RunningServer, map: string): Promise<TestClient> {
  const socket = await TestClient.connect(webSocketUrl(target.url, { map }), { token: await signToken({ sub: uniqueName("watcher") }) });
  sockets.add(socket);
  return socket;
}

const sorted = <V>(entries: [string, V][]) => entries.sort(([a], [b]) => a.localeCompare(b));

describe("tombstone GC", () => {
  it("prunes a tombstone once older than the horizon and tells the clients that synced the map with GC_PRUNE", async () => {
    const map = uniqueName("gc-prune");
    const watcher = await socketTo(server, map);
    watcher.send({ type: "SYNC_INIT", mapName: map });
    const emptyRoot = (await watcher.waitFor("SYNC_RESP_ROOT")).payload.rootHash;
    const hlc = new HLC("writera");
    await watcher.write([lwwPut(map, "k", "v", hlc.now())]);
    await watcher.write([lwwRemove(map, "k", hlc.now())]);

    const prune = await watcher.waitFor("GC_PRUNE", { timeoutMs: GC_WAIT.timeout });
    expect(prune.payload.olderThan.millis).toBeGreaterThan(Date.now() - HORIZON_MS - GC_WAIT.timeout);
    watcher.send({ type: "SYNC_INIT", mapName: map });
    expect((await watcher.waitFor("SYNC_RESP_ROOT")).payload.rootHash).toBe(emptyRoot);
  });

  it("resets a client whose last sync is older than the horizon: it drops what was deleted meanwhile and keeps its unacknowledged writes", async () => {
    const map = uniqueName("gc-reset");
    const databaseName = uniqueName("db");
    const firstFrames: string[] = [];
    const first = await startClient(new IDBAdapter({ databaseName }), webSocketUrl(server.url), firstFrames);
    const handle = first.getMap<string>(map);
    await handle.ready;
    handle.set("keep", "a");
    handle.set("gone", "b");
    await waitAcked(first);
    // The root's server time is the last sync the client keeps (and reports next time).
    await vi.waitFor(() => expect(firstFrames).toContain("< SYNC_RESP_ROOT"), WAIT);
    await closeClient(first);

    // Someone else deletes "gone"; the tombstone is pruned once older than the horizon.
    const watcher = await socketTo(server, map);
    watcher.send({ type: "SYNC_INIT", mapName: map });
    await watcher.waitFor("SYNC_RESP_ROOT");
    await watcher.write([lwwRemove(map, "gone", new HLC("writerb").now())]);
    await watcher.waitFor("GC_PRUNE", { timeoutMs: GC_WAIT.timeout });

    // Offline, the first client's storage gets a write the server has not acknowledged.
    const offline = await startClient(new IDBAdapter({ databaseName }), `ws://127.0.0.1:${await findFreePort()}/ws`);
    const offlineHandle = offline.getMap<string>(map);
    await offlineHandle.ready;
    offlineHandle.set("offline", "c");
    await closeClient(offline);

    // Back online with a last sync older than the horizon: SYNC_RESET_REQUIRED, a sync from scratch, the write kept.
    const frames: string[] = [];
    const back = await startClient(new IDBAdapter({ databaseName }), webSocketUrl(server.url), frames);
    const backHandle = back.getMap<string>(map);
    await waitAcked(back);
    await vi.waitFor(() => expect(sorted(backHandle.entries()), frames.join("\n")).toEqual([["keep", "a"], ["offline", "c"]]), WAIT);
    expect(frames).toContain("< SYNC_RESET_REQUIRED");
    expect(frames.filter((f) => f.startsWith("> SYNC_INIT")).at(-1)).toBe("> SYNC_INIT 0");
    const reader = await startClient(new MemoryAdapter(), webSocketUrl(server.url));
    const readerHandle = reader.getMap<string>(map);
    await vi.waitFor(() => expect(sorted(readerHandle.entries())).toEqual([["keep", "a"], ["offline", "c"]]), WAIT);
  });
});

describe("POST /sync after the horizon", () => {
  it("answers a map whose lastSyncTimestamp is older than the horizon with a 410 error instead of a delta, and a recent one with its delta", async () => {
    const map = uniqueName("gc-http");
    const watcher = await socketTo(server, map);
    const t = new HLC("writera").now();
    await watcher.write([lwwPut(map, "k", 1, t)]);
    const token = await userToken("backend");
    const body = (millis: number) => ({
      clientId: uniqueName("backend"),
      clientHlc: new HLC("backend").now(),
      syncMaps: [{ mapName: map, lastSyncTimestamp: { millis, counter: 0, nodeId: "" } }],
    });
    const stale = (await syncCall(server.url, body(Date.now() - 60_000), { token })).body as HttpSyncResponse;
    expect(stale.deltas ?? []).toEqual([]);
    expect(stale.errors).toEqual([{ code: 410, message: expect.stringContaining("SYNC_RESET_REQUIRED"), context: map }]);
    const recent = (await syncCall(server.url, body(t.millis - 1), { token })).body as HttpSyncResponse;
    expect(recent.deltas?.[0]?.records.map((r) => r.key)).toEqual(["k"]);
    const fresh = (await syncCall(server.url, body(0), { token })).body as HttpSyncResponse;
    expect(fresh.deltas?.[0]?.records.map((r) => r.key)).toEqual(["k"]);
  });
});

describe("TTL expiry", () => {
  it("hides a record whose TTL ran out, then deletes it: LEAVE to live queries and search subscriptions, DELETE in the journal", async () => {
    const map = uniqueName("ttl");
    const watcher = await socketTo(server, map);
    watcher.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: map, query: {} } });
    await watcher.waitFor("QUERY_RESP");
    watcher.send({ type: "SEARCH_SUB", payload: { subscriptionId: "s", mapName: map, query: "ephemeral" } });
    await watcher.waitFor("SEARCH_RESP");
    watcher.send({ type: "JOURNAL_SUBSCRIBE", requestId: "j", mapName: map, types: ["DELETE"] });
    await watcher.barrier();

    const writer = await startClient(new MemoryAdapter(), webSocketUrl(server.url));
    const handle = writer.getMap<{ title: string }>(map);
    handle.set("brief", { title: "ephemeral note" }, 2_000);
    handle.set("lasting", { title: "ephemeral forever" });
    await waitAcked(writer);
    await watcher.waitFor("QUERY_UPDATE", { where: (m) => m.payload.key === "brief" && m.payload.changeType === "ENTER" });

    const leave = await watcher.waitFor("QUERY_UPDATE", { where: (m) => m.payload.changeType === "LEAVE", timeoutMs: GC_WAIT.timeout });
    expect(leave.payload).toMatchObject({ key: "brief", value: { title: "ephemeral note" } });
    const searchLeave = await watcher.waitFor("SEARCH_UPDATE", { where: (m) => m.payload.changeType === "LEAVE" });
    expect(searchLeave.payload.key).toBe("brief");
    const deleted = await watcher.waitFor("JOURNAL_EVENT");
    expect([(deleted.event as JournalEventData).type, (deleted.event as JournalEventData).key]).toEqual(["DELETE", "brief"]);

    const token = await userToken("gc-user");
    expect((await apiCall(server.url, `/v1/maps/${map}/records/brief`, { token })).status).toBe(404);
    expect((await apiCall(server.url, `/v1/maps/${map}/records/lasting`, { token })).status).toBe(200);
    await vi.waitFor(() => expect(handle.get("brief")).toBeUndefined(), WAIT);
  });

  it("is hidden from reads at once, before the alarm deletes it", async () => {
    const map = uniqueName("ttl-hidden");
    const watcher = await socketTo(server, map);
    const past = Date.now() - 10_000;
    await watcher.write([{ ...lwwPut(map, "stale", "x", { millis: past, counter: 0, nodeId: "writera" }), record: { value: "x", timestamp: { millis: past, counter: 0, nodeId: "writera" }, ttlMs: 1_000 } }]);
    const token = await userToken("gc-user");
    expect((await apiCall(server.url, `/v1/maps/${map}/records/stale`, { token })).status).toBe(404);
    watcher.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: map, query: {} } });
    expect((await watcher.waitFor("QUERY_RESP")).payload.results).toEqual([]);
  });

  it("still deletes an expired record and prunes a tombstone after the server was killed before its alarm ran", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "topgun-gc-crash-"));
    try {
      const map = uniqueName("ttl-crash");
      const first = await startServer({ jwtSecret: E2E_JWT_SECRET, stateDir, settings: { TOPGUN_TOMBSTONE_TTL: HORIZON } });
      try {
        const writer = await socketTo(first, map);
        const hlc = new HLC("writera");
        const now = hlc.now();
        await writer.write([
          { ...lwwPut(map, "brief", "x", now), record: { value: "x", timestamp: now, ttlMs: 4_000 } },
          lwwPut(map, "kept", "y", hlc.now()),
          lwwRemove(map, "old", hlc.now()),
        ]);
      } finally {
        await first.kill();
      }
      const second = await startServer({ jwtSecret: E2E_JWT_SECRET, stateDir, settings: { TOPGUN_TOMBSTONE_TTL: HORIZON } });
      try {
        const watcher = await socketTo(second, map);
        watcher.send({ type: "JOURNAL_SUBSCRIBE", requestId: "j", fromSequence: "0", mapName: map, types: ["DELETE"] });
        const deleted = await watcher.waitFor("JOURNAL_EVENT", { where: (m) => (m.event as JournalEventData).key === "brief", timeoutMs: GC_WAIT.timeout });
        expect((deleted.event as JournalEventData).type).toBe("DELETE");
        // Both tombstones ("old", then the expiry's) are pruned in time: a sync ships "kept" alone.
        await vi.waitFor(async () => {
          const synced = await clientSync(watcher, map, new LWWMap(new HLC("reader")));
          expect(synced.records.map((r) => r.key)).toEqual(["kept"]);
        }, GC_WAIT);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 150_000); // two server starts and two waits for the alarm, on a machine the other e2e files share
});
