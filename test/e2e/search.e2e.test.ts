import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { partitionOf, parseShardConfig } from "../../core/placement.ts";
import type { SearchOptions } from "../../core/protocol/shared.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut, lwwRemove, orAdd, orRemove, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("searcher");

async function search(client: TestClient, map: string, query: string, options?: SearchOptions): Promise<MessageOf<"SEARCH_RESP">> {
  const requestId = uniqueName("r");
  client.send({ type: "SEARCH", payload: { requestId, mapName: map, query, ...(options ? { options } : {}) } });
  return client.waitFor("SEARCH_RESP", { description: `SEARCH_RESP ${requestId}`, where: (m) => m.payload.requestId === requestId });
}

async function subscribe(client: TestClient, map: string, query: string, subscriptionId: string, options?: SearchOptions) {
  client.send({ type: "SEARCH_SUB", payload: { subscriptionId, mapName: map, query, ...(options ? { options } : {}) } });
  return client.waitFor("SEARCH_RESP", { description: `SEARCH_RESP ${subscriptionId}`, where: (m) => m.payload.requestId === subscriptionId });
}

function waitForUpdate(client: TestClient, subscriptionId: string, key: string, changeType: "ENTER" | "UPDATE" | "LEAVE") {
  return client.waitFor("SEARCH_UPDATE", {
    description: `SEARCH_UPDATE ${changeType} ${subscriptionId}/${key}`,
    where: (m) => m.payload.subscriptionId === subscriptionId && m.payload.key === key && m.payload.changeType === changeType,
  });
}

async function putAll(client: TestClient, map: string, records: Record<string, unknown>): Promise<void> {
  await client.write(Object.entries(records).map(([key, value]) => lwwPut(map, key, value, hlc.now())));
}

const keysOf = (resp: MessageOf<"SEARCH_RESP">) => resp.payload.results.map((r) => r.key);
const scoresOf = (resp: MessageOf<"SEARCH_RESP">) => resp.payload.results.map((r) => r.score);

describe("full-text search", () => {
  it("ranks more relevant records first, with values, matched terms, descending scores and no error key", async () => {
    const map = uniqueName("rank");
    const client = await clients.authed({ map });
    await putAll(client, map, {
      best: { title: "Quantum computing", body: "quantum quantum bits" },
      some: { title: "Computing history", tags: ["quantum"] },
      none: { title: "Gardening", n: 5 },
    });

    const resp = await search(client, map, "quantum computing");

    expect(keysOf(resp)).toEqual(["best", "some"]);
    expect(resp.payload.totalCount).toBe(2);
    expect(resp.payload.results[0]?.value).toEqual({ title: "Quantum computing", body: "quantum quantum bits" });
    expect(resp.payload.results[0]?.matchedTerms.sort()).toEqual(["computing", "quantum"]);
    expect(scoresOf(resp).every((s) => s > 0)).toBe(true);
    expect(scoresOf(resp)).toEqual([...scoresOf(resp)].sort((a, b) => b - a));
    expect(resp.payload.error).toBeUndefined();
    expect(Object.hasOwn((client.rawOf(resp) as { payload: object }).payload, "error")).toBe(false);

    const empty = await search(client, uniqueName("nothing"), "quantum");
    expect([empty.payload.results, empty.payload.totalCount]).toEqual([[], 0]);
    expect(Object.hasOwn((client.rawOf(empty) as { payload: object }).payload, "error")).toBe(false);
  });

  it("honours limit (default 10) and minScore", async () => {
    const map = uniqueName("limit");
    const client = await clients.authed({ map });
    const records = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, { t: i === 0 ? "apple apple pie" : "apple" }]));
    await putAll(client, map, records);

    expect(keysOf(await search(client, map, "apple"))).toHaveLength(10);
    expect(keysOf(await search(client, map, "apple", { limit: 3 }))).toHaveLength(3);
    const top = await search(client, map, "apple pie");
    const best = top.payload.results[0]?.score ?? 0;
    expect(keysOf(await search(client, map, "apple pie", { minScore: best }))).toEqual(["k0"]);
  });

  it("sends live ENTER, UPDATE and LEAVE to a subscription", async () => {
    const map = uniqueName("live");
    const client = await clients.authed({ map });
    await putAll(client, map, { old: { t: "hello world" } });
    const sub = uniqueName("s");
    const resp = await subscribe(client, map, "hello", sub);
    expect(keysOf(resp)).toEqual(["old"]);

    await putAll(client, map, { k: { t: "hello there" } });
    const enter = await waitForUpdate(client, sub, "k", "ENTER");
    expect([enter.payload.value, enter.payload.matchedTerms, enter.payload.score > 0]).toEqual([{ t: "hello there" }, ["hello"], true]);
    await putAll(client, map, { k: { t: "hello again" } });
    expect((await waitForUpdate(client, sub, "k", "UPDATE")).payload.value).toEqual({ t: "hello again" });
    await putAll(client, map, { k: { t: "goodbye" } });
    const leave = await waitForUpdate(client, sub, "k", "LEAVE");
    expect([leave.payload.score, leave.payload.matchedTerms]).toEqual([0, []]);
    await client.write([lwwRemove(map, "old", hlc.now())]);
    await waitForUpdate(client, sub, "old", "LEAVE");

    client.send({ type: "SEARCH_UNSUB", payload: { subscriptionId: sub } });
    await putAll(client, map, { later: { t: "hello" } });
    await client.barrier();
    expect(client.collect("SEARCH_UPDATE").filter((m) => m.payload.key === "later")).toEqual([]);
    expect(client.collect("OP_ACK").map((m) => m.payload.lastId)).not.toContain(sub);
  });

  it("merges the shards of a sharded map by score and applies the limit", async () => {
    const run = uniqueName("run").replace(/[^a-z0-9]/gi, "");
    const client = await clients.authed();
    const keys = Array.from({ length: 12 }, (_, i) => `${run}-${i}`);
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    // Key i holds the run's token i+1 times: more repetitions, higher score.
    await putAll(client, SHARDED_MAP, Object.fromEntries(keys.map((key, i) => [key, { t: `${Array(i + 1).fill(run).join(" ")} ${"filler ".repeat(12 - i)}` }])));

    const all = await search(client, SHARDED_MAP, run, { limit: 100 });
    const top = await search(client, SHARDED_MAP, run, { limit: 5 });

    expect(keysOf(all).sort()).toEqual([...keys].sort());
    expect(scoresOf(all)).toEqual([...scoresOf(all)].sort((a, b) => b - a));
    expect(keysOf(top)).toEqual(keysOf(all).slice(0, 5));
    expect(top.payload.totalCount).toBe(5);
  });

  it("delivers SEARCH_UPDATE to a subscriber on another home partition", async () => {
    const map = uniqueName("remote");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    const sub = uniqueName("s");
    await subscribe(reader, map, "zebra", sub);

    await putAll(writer, map, { k: { name: "Zebra crossing" } });

    const enter = await waitForUpdate(reader, sub, "k", "ENTER");
    expect([enter.payload.value, enter.payload.matchedTerms]).toEqual([{ name: "Zebra crossing" }, ["zebra"]]);
  });

  it("ranks a hit in a boosted field above the same hit elsewhere", async () => {
    const map = uniqueName("boost");
    const client = await clients.authed({ map });
    await putAll(client, map, {
      inBody: { title: "notes", body: "falcon sightings" },
      inTitle: { title: "falcon", body: "bird notes here" },
    });

    const plain = await search(client, map, "falcon");
    const boosted = await search(client, map, "falcon", { boost: { title: 10 } });
    const bodyBoosted = await search(client, map, "falcon", { boost: { body: 10 } });

    expect(keysOf(boosted)).toEqual(["inTitle", "inBody"]);
    expect(boosted.payload.results[0]?.score).toBeCloseTo((plain.payload.results.find((r) => r.key === "inTitle")?.score ?? 0) * 10);
    expect(keysOf(bodyBoosted)).toEqual(["inBody", "inTitle"]);
  });

  it("understands +required, -excluded, AND and \"phrases\" in the query", async () => {
    const map = uniqueName("syntax");
    const client = await clients.authed({ map });
    await putAll(client, map, {
      fox: { t: "quick brown fox" },
      dog: { t: "lazy brown dog" },
      both: { t: "brown dog chases a quick fox" },
    });
    const sortedKeys = async (query: string) => keysOf(await search(client, map, query)).sort();

    expect(await sortedKeys("+fox brown")).toEqual(["both", "fox"]);
    expect(await sortedKeys("brown -fox")).toEqual(["dog"]);
    expect(await sortedKeys("quick AND dog")).toEqual(["both"]);
    expect(await sortedKeys('"brown fox"')).toEqual(["fox"]);
    expect(await sortedKeys('"fox brown"')).toEqual([]);
  });

  it("applies the query syntax to live updates", async () => {
    const map = uniqueName("livesyntax");
    const client = await clients.authed({ map });
    const sub = uniqueName("s");
    await subscribe(client, map, '"red panda" -zoo', sub);

    await putAll(client, map, { wild: { t: "a red panda in the forest" }, caged: { t: "red panda at the zoo" }, apart: { t: "panda, red" } });

    await waitForUpdate(client, sub, "wild", "ENTER");
    await client.barrier();
    expect(client.collect("SEARCH_UPDATE").map((m) => m.payload.key)).toEqual(["wild"]);
  });

  it("sends live updates from every shard of a sharded map", async () => {
    const run = uniqueName("live").replace(/[^a-z0-9]/gi, "");
    const client = await clients.authed();
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    const keys = Array.from({ length: 8 }, (_, i) => `${run}-${i}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    const sub = uniqueName("s");
    await subscribe(client, SHARDED_MAP, run, sub);

    await putAll(client, SHARDED_MAP, Object.fromEntries(keys.map((key) => [key, { t: run }])));
    for (const key of keys) await waitForUpdate(client, sub, key, "ENTER");
    await client.write(keys.map((key) => lwwRemove(SHARDED_MAP, key, hlc.now())));

    for (const key of keys) await waitForUpdate(client, sub, key, "LEAVE");
  });

  it("searches an OR-Map: each key's values are one document, and a removed tag's value stops matching", async () => {
    const map = uniqueName("or-search");
    const client = await clients.authed({ map });
    const record = (value: unknown, tag: string) => ({ value, timestamp: hlc.now(), tag });
    await client.write([
      orAdd(map, "post-1", record("edge computing", "t1")),
      orAdd(map, "post-1", record({ note: "durable objects" }, "t2")),
      orAdd(map, "post-2", record("sqlite", "t3")),
    ]);

    const before = await search(client, map, "durable");
    await client.write([orRemove(map, "post-1", "t2")]);
    const after = await search(client, map, "durable");

    expect(before.payload.results.map((r) => [r.key, r.value])).toEqual([["post-1", ["edge computing", { note: "durable objects" }]]]);
    expect(after.payload.results).toEqual([]);
  });
});
