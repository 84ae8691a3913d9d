// Resharding through the admin plane against the local server: the shard count of a map kept per namespace, bad
// input refused, and real clients writing and querying a map moved to a new count (docs/resharding.md).
import { describe, expect, it, vi } from "vitest";
import type { TopGunClient } from "../../client/topgun-client.ts";
import { partitionsOfMap } from "../../core/placement.ts";
import { adminCall, untilReshardEnds } from "../support/admin-api.ts";
import { CLIENT_WAIT, clientPool } from "../support/e2e-clients.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { signToken } from "../support/tokens.ts";

const clients = clientPool();

const mapPath = (map: string) => `/api/admin/maps/${encodeURIComponent(map)}`;
const reshard = (namespace: string, map: string, body: unknown, token?: string | null) =>
  adminCall(serverUrl(), `${mapPath(map)}/shards`, { method: "PUT", namespace, body, ...(token === undefined ? {} : { token }) });

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), CLIENT_WAIT);
}

describe("resharding: /api/admin/maps/{map}/shards", () => {
  it("refuses a shard count outside 1..271 or not an integer with 400 naming the field, and changes nothing", async () => {
    const namespace = uniqueName("rs");
    for (const shards of [0, 272, 1.5, "8", null]) {
      expect(await reshard(namespace, "orders", { shards })).toEqual({ status: 400, body: { code: 400, message: "shards: an integer from 1 to 271", field: "shards" } });
    }
    expect((await reshard(namespace, "orders", {})).status).toBe(400);
    expect(await adminCall(serverUrl(), mapPath("orders"), { namespace })).toMatchObject({ status: 200, body: { name: "orders", shards: 1, source: "default", entryCount: 0 } });
  });

  it("answers 401 without a token and 403 to a token without the admin role", async () => {
    const namespace = uniqueName("rs");
    expect((await reshard(namespace, "orders", { shards: 4 }, null)).status).toBe(401);
    const user = await signToken({ sub: "u", roles: ["member"] });
    expect((await reshard(namespace, "orders", { shards: 4 }, user)).status).toBe(403);
    expect((await adminCall(serverUrl(), mapPath("orders"), { namespace, token: user })).status).toBe(403);
  });

  it("answers a reshard to the current count, the deployment's default included, as unchanged", async () => {
    const namespace = uniqueName("rs");
    expect(await adminCall(serverUrl(), mapPath(SHARDED_MAP), { namespace })).toMatchObject({ body: { shards: SHARDED_MAP_SHARDS, source: "default" } });
    expect(await reshard(namespace, SHARDED_MAP, { shards: SHARDED_MAP_SHARDS })).toEqual({ status: 200, body: { name: SHARDED_MAP, shards: SHARDED_MAP_SHARDS, changed: false } });
  });

  it("moves an empty map 1 → 16 → 271 → 8 and keeps the count per namespace", async () => {
    const namespace = uniqueName("rs");
    let from = 1;
    for (const shards of [16, 271, 8]) {
      expect(await reshard(namespace, "orders", { shards })).toEqual({ status: 200, body: { name: "orders", shards, previousShards: from, changed: true } });
      from = shards;
    }
    const shown = await adminCall(serverUrl(), mapPath("orders"), { namespace });
    expect(shown).toMatchObject({ status: 200, body: { shards: 8, source: "namespace", partitions: partitionsOfMap(new Map([["orders", 8]]), "orders"), lastReshard: { result: "done", fromShards: 271, toShards: 8 } } });
    expect(await adminCall(serverUrl(), mapPath("orders"), { namespace: uniqueName("other") })).toMatchObject({ body: { shards: 1, source: "default" } });
  });

  it("spreads a resharded map's writes over its new shards, and clients read and query all of them", async () => {
    const namespace = uniqueName("rs");
    const map = "orders";
    expect((await reshard(namespace, map, { shards: 16 })).status).toBe(200);
    const [writer, reader] = [await clients.connected({ namespace }), await clients.connected({ namespace })];
    const orders = writer.getMap<{ n: number }>(map);
    for (let i = 0; i < 200; i++) orders.set(`k${i}`, { n: i });
    await waitAcked(writer);
    const query = reader.query(map, { predicate: { op: "gte", attribute: "n", value: 100 } });
    await vi.waitFor(() => expect(query.results()).toHaveLength(100), CLIENT_WAIT);
    orders.set("k-late", { n: 500 });
    await waitAcked(writer);
    await vi.waitFor(() => expect(query.results()).toHaveLength(101), CLIENT_WAIT);
    query.close();
    expect(await adminCall(serverUrl(), mapPath(map), { namespace })).toMatchObject({ body: { entryCount: 201 } });
    const directory = await adminCall(serverUrl(), "/api/admin/maps", { namespace });
    expect((directory.body as { maps: { name: string; entryCount: number }[] }).maps).toEqual([{ name: map, entryCount: 201 }]);
  });

  it("moves a map that holds OR-Map entries (202, then done), and clients keep adding, removing and reading its values", async () => {
    const namespace = uniqueName("rs");
    const [writer, reader] = [await clients.connected({ namespace }), await clients.connected({ namespace })];
    const tags = writer.getORMap<string>("tags");
    for (let i = 0; i < 40; i++) tags.add(`k${i}`, `v${i}`);
    tags.add("k0", "second");
    tags.remove("k1", "v1");
    await waitAcked(writer);
    expect(await reshard(namespace, "tags", { shards: 16 })).toMatchObject({ status: 202, body: { name: "tags", shards: 1, toShards: 16, running: true } });
    expect(await untilReshardEnds(serverUrl(), namespace, "tags")).toMatchObject({ shards: 16, entryCount: 39, lastReshard: { result: "done", fromShards: 1, toShards: 16 } });
    tags.add("k1", "back");
    tags.remove("k0", "v0");
    tags.add("k-new", "new");
    await waitAcked(writer);
    const seen = reader.getORMap<string>("tags");
    await vi.waitFor(() => {
      expect(seen.get("k0")).toEqual(["second"]);
      expect(seen.get("k1")).toEqual(["back"]);
      expect(seen.get("k-new")).toEqual(["new"]);
      expect(seen.get("k39")).toEqual(["v39"]);
    }, CLIENT_WAIT);
    expect(await adminCall(serverUrl(), mapPath("tags"), { namespace })).toMatchObject({ body: { shards: 16, entryCount: 41 } });
  });

  it("moves a map that holds data and a live query, and the query keeps delivering", async () => {
    const namespace = uniqueName("rs");
    const [writer, reader] = [await clients.connected({ namespace }), await clients.connected({ namespace })];
    const notes = writer.getMap<{ n: number }>("notes");
    for (let i = 0; i < 50; i++) notes.set(`k${i}`, { n: i });
    await waitAcked(writer);
    const query = reader.query("notes", { predicate: { op: "gte", attribute: "n", value: 40 } });
    await vi.waitFor(() => expect(query.results()).toHaveLength(10), CLIENT_WAIT);
    expect(await reshard(namespace, "notes", { shards: 16 })).toEqual({ status: 202, body: { name: "notes", shards: 1, toShards: 16, phase: "copying", running: true } });
    expect(await untilReshardEnds(serverUrl(), namespace, "notes")).toMatchObject({ shards: 16, lastReshard: { result: "done" } });
    notes.set("k0", { n: 100 });
    notes.set("k-new", { n: 200 });
    await waitAcked(writer);
    await vi.waitFor(() => expect(query.results()).toHaveLength(12), CLIENT_WAIT);
    expect(await adminCall(serverUrl(), mapPath("notes"), { namespace })).toMatchObject({ body: { shards: 16, entryCount: 51, lastReshard: { result: "done" } } });
    query.close();
  });
});
