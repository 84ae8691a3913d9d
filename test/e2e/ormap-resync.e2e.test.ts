import { afterEach, describe, expect, it, vi } from "vitest";
import type { TopGunClient } from "../../client/topgun-client.ts";
import { countingSockets, type CountedFrame } from "../support/counting-socket.ts";
import { clientPool } from "../support/e2e-clients.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";

const KEYS = 10_000;
const WAIT = { timeout: 120_000, interval: 100 };
const clients = clientPool();
const proxies = new Set<TcpProxy>();

afterEach(async () => {
  await Promise.all([...proxies].map((proxy) => proxy.stop()));
  proxies.clear();
});

/** The server's URL through a proxy the test can cut, which takes the client offline as a lost network would. */
async function proxiedUrl(): Promise<{ url: string; proxy: TcpProxy }> {
  const target = new URL(serverUrl());
  const proxy = await TcpProxy.start(Number(target.port));
  proxies.add(proxy);
  target.port = String(proxy.port);
  return { url: target.toString(), proxy };
}

function sorted(entries: [string, string[]][]): [string, string[]][] {
  return entries.map(([key, values]): [string, string[]] => [key, [...values].sort()]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A client that wrote `count` keys `k0…` of the OR-Map `map` (values `${prefix}${i}`), all acknowledged. */
async function writtenMap(map: string, count: number, prefix: string) {
  const writer = await clients.connected({ url: serverUrl() });
  const source = writer.getORMap<string>(map);
  for (let i = 0; i < count; i++) source.add(`k${i}`, `${prefix}${i}`);
  await writer.flush();
  await vi.waitFor(() => expect(writer.getPendingOpCount()).toBe(0), WAIT);
  return { writer, source };
}

/** Bytes of the OR-Map sync frames (roots, buckets, leaves, diffs) among `frames`. */
function syncBytes(frames: readonly CountedFrame[]): number {
  return frames.filter((f) => f.type.startsWith("ORMAP_")).reduce((sum, f) => sum + f.bytes, 0);
}

describe("OR-Map delta re-sync", () => {
  it("brings a client that was offline while 1% of a 10,000-key OR-Map changed (adds and removes) up to date with the changed keys only, asking no bucket", async () => {
    const map = uniqueName("or-resync");
    const { writer, source } = await writtenMap(map, KEYS, "v1-");

    const { url, proxy } = await proxiedUrl();
    const { factory, log } = countingSockets();
    const reader = await clients.connected({ url, webSocketFactory: factory });
    const copy = reader.getORMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(KEYS), WAIT);
    const fullBytes = syncBytes(log.received);

    await proxy.cut();
    await vi.waitFor(() => expect(reader.getConnectionState()).not.toBe("CONNECTED"), WAIT);
    // Offline: 100 of the 10,000 keys change: 40 get a second value, 10 are new, 50 lose their value.
    for (let i = 0; i < 40; i++) source.add(`k${i * 100}`, `v2-${i}`);
    for (let i = 0; i < 10; i++) source.add(`new-${i}`, `v1-new-${i}`);
    for (let i = 0; i < 50; i++) source.remove(`k${i * 100 + 50}`, `v1-${i * 100 + 50}`);
    await writer.flush();
    await vi.waitFor(() => expect(writer.getPendingOpCount()).toBe(0), WAIT);
    const expected = sorted(source.entries());
    expect(expected).toHaveLength(KEYS - 50 + 10);

    log.clear();
    await proxy.resume();
    await vi.waitFor(() => expect(log.received.some((f) => f.type === "ORMAP_SYNC_RESP_ROOT")).toBe(true), WAIT);
    await vi.waitFor(() => expect(sorted(copy.entries())).toEqual(expected), WAIT);

    const diffs = log.received.filter((f) => f.type === "ORMAP_DIFF_RESPONSE");
    expect(diffs.reduce((n, f) => n + (f.entries ?? 0), 0)).toBe(100);
    const firstRoot = log.received.findIndex((f) => f.type === "ORMAP_SYNC_RESP_ROOT");
    expect(log.received.findIndex((f) => f.type === "ORMAP_DIFF_RESPONSE")).toBeLessThan(firstRoot);
    expect(log.sent.map((f) => f.type)).not.toContain("ORMAP_MERKLE_REQ_BUCKET");
    expect(log.received.map((f) => f.type)).not.toContain("ORMAP_SYNC_RESP_LEAF");
    expect(syncBytes(log.received)).toBeLessThan(fullBytes * 0.05);
  }, 240_000);
});

describe("OR-Map Merkle walk", () => {
  it("pulls a 10,000-key OR-Map into a fresh client in whole subtrees: few requests, many keys per leaf frame, the server's root", async () => {
    const map = uniqueName("or-fresh");
    const { source } = await writtenMap(map, KEYS, "v-");

    const { factory, log } = countingSockets();
    const reader = await clients.connected({ url: serverUrl(), webSocketFactory: factory });
    const copy = reader.getORMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(KEYS), WAIT);

    const leaves = log.received.filter((f) => f.type === "ORMAP_SYNC_RESP_LEAF");
    expect(log.sent.filter((f) => f.type === "ORMAP_MERKLE_REQ_BUCKET").length).toBeLessThanOrEqual(20);
    expect(leaves.reduce((n, f) => n + (f.entries ?? 0), 0)).toBe(KEYS);
    expect(Math.min(...leaves.map((f) => f.entries ?? 0))).toBeGreaterThan(100);
    expect(copy.crdt.merkleTree.getRootHash()).toBe(source.crdt.merkleTree.getRootHash());
    expect(log.sent.map((f) => f.type)).not.toContain("ORMAP_PUSH_DIFF");
  }, 240_000);

  it("brings a returning client the removes that left keys without values when its delta does not reach back to them", async () => {
    const map = uniqueName("or-walk-removes");
    const { writer, source } = await writtenMap(map, 2_000, "v-");

    const { url, proxy } = await proxiedUrl();
    const { factory, log } = countingSockets();
    const reader = await clients.connected({ url, webSocketFactory: factory });
    const copy = reader.getORMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(2_000), WAIT);

    await proxy.cut();
    await vi.waitFor(() => expect(reader.getConnectionState()).not.toBe("CONNECTED"), WAIT);
    // Offline: 5,000 new keys first (they fill the delta, which brings the oldest changes), then 50 removes.
    for (let i = 0; i < 5_000; i++) source.add(`new-${i}`, `n-${i}`);
    await writer.flush();
    for (let i = 0; i < 50; i++) source.remove(`k${i * 40}`, `v-${i * 40}`);
    await writer.flush();
    await vi.waitFor(() => expect(writer.getPendingOpCount()).toBe(0), WAIT);
    const expected = sorted(source.entries());
    expect(expected).toHaveLength(2_000 + 5_000 - 50);

    log.clear();
    await proxy.resume();
    await vi.waitFor(() => expect(sorted(copy.entries())).toEqual(expected), { ...WAIT, timeout: 60_000 });

    expect(log.sent.map((f) => f.type)).toContain("ORMAP_MERKLE_REQ_BUCKET");
    expect(copy.crdt.merkleTree.getRootHash()).toBe(source.crdt.merkleTree.getRootHash());
  }, 240_000);
});
