import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { ORMap } from "../../core/or-map.ts";
import { parseShardConfig, partitionOf } from "../../core/placement.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { lwwPut, lwwRemove, orAdd, orRemove, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("journal-test");

async function read(client: TestClient, request: { fromSequence: string; limit?: number; mapName?: string }): Promise<MessageOf<"JOURNAL_READ_RESPONSE">> {
  const requestId = uniqueName("jr");
  client.send({ type: "JOURNAL_READ", requestId, ...request });
  return client.waitFor("JOURNAL_READ_RESPONSE", { where: (m) => m.requestId === requestId, timeoutMs: 20_000 });
}

const numeric = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

describe("event journal", () => {
  it("journals PUT, UPDATE and DELETE with previous values", async () => {
    const map = uniqueName("jmap");
    const client = await clients.authed({ map });
    await client.write([lwwPut(map, "k", { v: 1 }, hlc.now())]);
    await client.write([lwwPut(map, "k", { v: 2 }, hlc.now())]);
    await client.write([lwwRemove(map, "k", hlc.now())]);
    const { events, hasMore } = await read(client, { fromSequence: "0", mapName: map });
    expect(hasMore).toBe(false);
    expect(events.map((e) => [e.type, e.key, e.value, e.previousValue])).toEqual([
      ["PUT", "k", { v: 1 }, undefined],
      ["UPDATE", "k", { v: 2 }, { v: 1 }],
      ["DELETE", "k", undefined, { v: 2 }],
    ]);
    expect(events.every((e) => e.mapName === map && e.nodeId === "journal-test" && e.timestamp.nodeId === "journal-test")).toBe(true);
  });

  it("pages in sequence order with hasMore, fromSequence inclusive", async () => {
    const map = uniqueName("jpage");
    const client = await clients.authed({ map });
    for (let i = 0; i < 7; i++) await client.write([lwwPut(map, `k${i}`, i, hlc.now())]);
    const first = await read(client, { fromSequence: "0", limit: 3, mapName: map });
    expect(first.events.map((e) => e.key)).toEqual(["k0", "k1", "k2"]);
    expect(first.hasMore).toBe(true);
    const seqs = first.events.map((e) => e.sequence);
    expect([...seqs].sort(numeric)).toEqual(seqs);
    // Inclusive: starting at the last event of the page repeats it.
    const again = await read(client, { fromSequence: seqs[2]!, limit: 3, mapName: map });
    expect(again.events.map((e) => e.key)).toEqual(["k2", "k3", "k4"]);
    const next = (BigInt(seqs[2]!) + 1n).toString();
    const rest = await read(client, { fromSequence: next, limit: 10, mapName: map });
    expect(rest.events.map((e) => e.key)).toEqual(["k3", "k4", "k5", "k6"]);
    expect(rest.hasMore).toBe(false);
  });

  it("filters by map before applying the limit", async () => {
    const map = uniqueName("jfilter");
    const noise = uniqueName("jnoise");
    const client = await clients.authed({ map });
    for (let i = 0; i < 3; i++) await client.write([lwwPut(noise, `n${i}`, i, hlc.now()), lwwPut(noise, `m${i}`, i, hlc.now())]);
    await client.write([lwwPut(map, "only", 1, hlc.now())]);
    const { events, hasMore } = await read(client, { fromSequence: "0", limit: 1, mapName: map });
    expect(events.map((e) => e.key)).toEqual(["only"]);
    expect(hasMore).toBe(false);
  });

  it("reads across maps (all partitions) in sequence order", async () => {
    const maps = [uniqueName("ja"), uniqueName("jb"), uniqueName("jc")];
    const client = await clients.authed();
    for (const map of maps) {
      await client.write([lwwPut(map, "x", map, hlc.now())]);
      // Across partitions the order is the owners' wall clocks (ms): let one pass between the writes.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [start] = (await read(client, { fromSequence: "0", mapName: maps[0]! })).events;
    const { events } = await read(client, { fromSequence: start!.sequence, limit: 1000 });
    const ours = events.filter((e) => maps.includes(e.mapName));
    expect(ours.map((e) => e.mapName)).toEqual(maps);
    const seqs = events.map((e) => e.sequence);
    expect([...seqs].sort(numeric)).toEqual(seqs);
  });

  it("streams new events to a subscriber, filtered by map and type, until unsubscribed", async () => {
    const map = uniqueName("jsub");
    const subscriber = await clients.authed({ clientId: uniqueName("s") });
    const writer = await clients.authed({ clientId: uniqueName("w") });
    const requestId = uniqueName("js");
    subscriber.send({ type: "JOURNAL_SUBSCRIBE", requestId, mapName: map, types: ["PUT", "DELETE"] });
    await subscriber.barrier();
    await writer.write([lwwPut(map, "a", 1, hlc.now())]);
    await writer.write([lwwPut(map, "a", 2, hlc.now())]);
    await writer.write([lwwRemove(map, "a", hlc.now())]);
    const first = await subscriber.waitFor("JOURNAL_EVENT", { where: (m) => (m.event as JournalEventData).mapName === map });
    const second = await subscriber.waitFor("JOURNAL_EVENT", { where: (m) => (m.event as JournalEventData).mapName === map });
    expect([first.event, second.event].map((e) => [e.type, e.value, e.previousValue])).toEqual([
      ["PUT", 1, undefined],
      ["DELETE", undefined, 2],
    ]);
    const ofMap = () => subscriber.collect("JOURNAL_EVENT").filter((m) => m.event.mapName === map);
    await subscriber.barrier();
    expect(ofMap()).toHaveLength(2); // The UPDATE was filtered out.
    subscriber.send({ type: "JOURNAL_UNSUBSCRIBE", subscriptionId: requestId });
    await subscriber.barrier();
    await writer.write([lwwPut(map, "b", 1, hlc.now())]);
    await subscriber.barrier();
    await writer.barrier();
    expect(ofMap()).toHaveLength(2);
  });

  it("replays from fromSequence on subscribe, then streams", async () => {
    const map = uniqueName("jreplay");
    const client = await clients.authed({ map });
    await client.write([lwwPut(map, "old", 1, hlc.now())]);
    client.send({ type: "JOURNAL_SUBSCRIBE", requestId: uniqueName("js"), fromSequence: "0", mapName: map });
    const replayed = await client.waitFor("JOURNAL_EVENT");
    expect(replayed.event).toMatchObject({ type: "PUT", key: "old" });
    await client.write([lwwPut(map, "new", 2, hlc.now())]);
    const live = await client.waitFor("JOURNAL_EVENT");
    expect(live.event).toMatchObject({ type: "PUT", key: "new", value: 2 });
  });

  it("journals OR-Map adds, removes and ORMAP_PUSH_DIFF merges with the key's values after and before", async () => {
    const map = uniqueName("jor");
    const client = await clients.authed({ map });
    const local = new ORMap<string>(new HLC("journal-or"));
    const first = local.add("tags", "red");
    const second = local.add("tags", "blue");
    await client.write([orAdd(map, "tags", first)]);
    await client.write([orAdd(map, "tags", second)]);
    await client.write([orRemove(map, "tags", first.tag)]);
    const pushed = local.add("other", "green");
    client.send({ type: "ORMAP_PUSH_DIFF", payload: { mapName: map, entries: [{ key: "other", records: [pushed], tombstones: [] }] } });
    await client.barrier();

    const { events } = await read(client, { fromSequence: "0", mapName: map });

    expect(events.map((e) => [e.type, e.key, e.value, e.previousValue])).toEqual([
      ["PUT", "tags", ["red"], undefined],
      ["UPDATE", "tags", ["red", "blue"], ["red"]],
      ["UPDATE", "tags", ["blue"], ["red", "blue"]],
      ["PUT", "other", ["green"], undefined],
    ]);
    expect(events[0]?.timestamp).toEqual(first.timestamp);
  });

  it("reads a sharded map's events from every shard, merged in sequence order", async () => {
    const run = uniqueName("jshard");
    const client = await clients.authed();
    const keys = Array.from({ length: 8 }, (_, i) => `${run}-${i}`);
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    // Sequences are at least the owner's wall clock in µs (× 1000 + partition); the server runs on this machine's clock.
    const before = (BigInt(Date.now()) * 1_000_000n).toString();
    await client.write(keys.map((key, i) => lwwPut(SHARDED_MAP, key, i, hlc.now())));

    const { events } = await read(client, { fromSequence: before, limit: 1000, mapName: SHARDED_MAP });

    const ours = events.filter((e) => e.key.startsWith(run));
    expect(ours.map((e) => e.key).sort()).toEqual([...keys].sort());
    expect(events.every((e) => e.mapName === SHARDED_MAP)).toBe(true);
    const seqs = events.map((e) => e.sequence);
    expect([...seqs].sort(numeric)).toEqual(seqs);
  });
});
