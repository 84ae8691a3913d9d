// A fresh TopGunClient's pull of a sharded map (8 shards, set through the admin plane before any write): whole
// subtrees gathered from the shards, as an unsharded map's pull gets them, instead of one request per leaf.
import { describe, expect, it, vi } from "vitest";
import type { TopGunClient } from "../../client/topgun-client.ts";
import { adminCall } from "../support/admin-api.ts";
import { countingSockets } from "../support/counting-socket.ts";
import { clientPool } from "../support/e2e-clients.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";

/** ~2,200 of the 4,096 leaves hold a key: a walk to the leaves asks for each of them. */
const KEYS = 3_000;
const SHARDS = 8;
const WAIT = { timeout: 120_000, interval: 100 };
const clients = clientPool();

async function shardedMap(prefix: string): Promise<string> {
  const map = uniqueName(prefix);
  const answer = await adminCall(serverUrl(), `/api/admin/maps/${encodeURIComponent(map)}/shards`, { method: "PUT", body: { shards: SHARDS } });
  expect(answer).toMatchObject({ status: 200, body: { shards: SHARDS, changed: true } });
  return map;
}

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), WAIT);
}

describe("a fresh client's pull of a sharded map", () => {
  it("pulls a 3,000-key sharded LWW map in whole subtrees: at most 20 requests, the writer's root", async () => {
    const map = await shardedMap("shard-pull-lww");
    const writer = await clients.connected();
    const source = writer.getMap<string>(map);
    for (let i = 0; i < KEYS; i++) source.set(`k${i}`, `v-${i}`);
    await waitAcked(writer);

    const { factory, log } = countingSockets();
    const copy = (await clients.connected({ webSocketFactory: factory })).getMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(KEYS), WAIT);

    const leaves = log.received.filter((f) => f.type === "SYNC_RESP_LEAF");
    expect(log.sent.filter((f) => f.type === "MERKLE_REQ_BUCKET").length).toBeLessThanOrEqual(20);
    expect(leaves.reduce((n, f) => n + (f.records ?? 0), 0)).toBe(KEYS);
    expect(leaves.length).toBeLessThanOrEqual(16);
    expect(copy.crdt.merkleTree.getRootHash()).toBe(source.crdt.merkleTree.getRootHash());
  }, 240_000);

  it("pulls a 3,000-key sharded OR-Map in whole subtrees: at most 20 requests, the writer's root, nothing pushed back", async () => {
    const map = await shardedMap("shard-pull-or");
    const writer = await clients.connected();
    const source = writer.getORMap<string>(map);
    for (let i = 0; i < KEYS; i++) source.add(`k${i}`, `v-${i}`);
    await waitAcked(writer);

    const { factory, log } = countingSockets();
    const copy = (await clients.connected({ webSocketFactory: factory })).getORMap<string>(map);
    await vi.waitFor(() => expect(copy.entries()).toHaveLength(KEYS), WAIT);

    const leaves = log.received.filter((f) => f.type === "ORMAP_SYNC_RESP_LEAF");
    expect(log.sent.filter((f) => f.type === "ORMAP_MERKLE_REQ_BUCKET").length).toBeLessThanOrEqual(20);
    expect(leaves.reduce((n, f) => n + (f.entries ?? 0), 0)).toBe(KEYS);
    expect(leaves.length).toBeLessThanOrEqual(16);
    expect(copy.crdt.merkleTree.getRootHash()).toBe(source.crdt.merkleTree.getRootHash());
    expect(log.sent.map((f) => f.type)).not.toContain("ORMAP_PUSH_DIFF");
  }, 240_000);
});
