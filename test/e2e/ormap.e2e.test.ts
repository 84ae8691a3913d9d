import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { ORMap } from "../../core/or-map.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { clientOrSync } from "../support/merkle-sync-client.ts";
import { nilTtlPaths } from "../support/wire-checks.ts";
import { orAdd, orRemove, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();

async function diffRequest(client: TestClient, map: string, keys: string[]) {
  client.send({ type: "ORMAP_DIFF_REQUEST", payload: { mapName: map, keys } });
  const response = await client.waitFor("ORMAP_DIFF_RESPONSE", { where: (m) => m.payload.mapName === map });
  return response.payload.entries;
}

const byTag = (a: ORMapRecord, b: ORMapRecord) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

describe("OR-Map", () => {
  it("keeps a concurrent add when another client removes an observed tag (add wins)", async () => {
    const map = uniqueName("addwins");
    const a = await clients.authed({ map });
    const b = await clients.authed({ map });
    const local = new ORMap(new HLC("nodea"));
    const x = local.add("tags", "x");
    await a.write([orAdd(map, "tags", x)]);
    const [observed] = await diffRequest(b, map, ["tags"]);
    const observedTag = observed?.records[0]?.tag ?? "(not observed)";
    const y = local.add("tags", "y");

    await Promise.all([a.write([orAdd(map, "tags", y)]), b.write([orRemove(map, "tags", observedTag)])]);
    const [entry] = await diffRequest(await clients.authed({ map }), map, ["tags"]);

    expect(observedTag).toBe(x.tag);
    expect(entry?.records).toEqual([y]);
    expect(entry?.tombstones).toContain(x.tag);
  });

  it("delivers an OR_ADD to another client that synced the OR map, keeping the client's tag and timestamp", async () => {
    const map = uniqueName("orlive");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ map });
    await clientOrSync(reader, map, new ORMap(new HLC("reader")));
    const record = new ORMap(new HLC("nodea")).add("k", { v: 1 });

    await writer.write([orAdd(map, "k", record)]);

    const event = await reader.waitFor("SERVER_EVENT", { where: (m) => m.payload.key === "k" && m.payload.eventType === "OR_ADD" });
    expect(event.payload.orRecord).toEqual(record);
    expect(event.payload.orTag).toBe(record.tag);
  });

  it("serves ORMAP sync leaves whose root, computed with core's ORMap, equals ORMAP_SYNC_RESP_ROOT", async () => {
    const map = uniqueName("orsync");
    const writer = await clients.authed({ map });
    const source = new ORMap(new HLC("nodea"));
    const adds = [];
    for (let i = 0; i < 40; i++) {
      adds.push(source.add(`key-${i}`, `v${i}`));
      adds.push(source.add(`key-${i}`, { n: i, nested: { a: 1, z: 2 } }));
    }
    adds.push(source.add("with-ttl", "soon", 3_600_000));
    await writer.write(adds.map((record, i) => orAdd(map, i === adds.length - 1 ? "with-ttl" : `key-${Math.floor(i / 2)}`, record)));
    const removedTags = [...source.remove("key-3", "v3"), ...source.remove("key-4", "v4")];
    await writer.write(removedTags.map((tag, i) => orRemove(map, i === 0 ? "key-3" : "key-4", tag)));
    const joiner = await clients.authed({ map });
    const local = new ORMap(new HLC("joiner"));

    const synced = await clientOrSync(joiner, map, local);

    expect(synced.leafReplies).toBeGreaterThan(0);
    expect(joiner.history.flatMap((frame) => nilTtlPaths(frame.raw))).toEqual([]);
    expect(synced.serverRoot).toBe(source.merkleTree.getRootHash());
    expect(local.merkleTree.getRootHash()).toBe(synced.serverRoot);
    expect(local.get("key-3")).toEqual([{ n: 3, nested: { a: 1, z: 2 } }]);
  });

  it("merges ORMAP_PUSH_DIFF entries instead of replacing them, so ORMAP_DIFF_REQUEST returns the union", async () => {
    const map = uniqueName("push");
    const a = await clients.authed({ map });
    const b = await clients.authed({ map });
    const fromA = new ORMap(new HLC("nodea")).add("list", "from-a");
    const fromB = new ORMap(new HLC("nodeb")).add("list", "from-b");

    a.send({ type: "ORMAP_PUSH_DIFF", payload: { mapName: map, entries: [{ key: "list", records: [fromA], tombstones: [] }] } });
    await a.barrier();
    b.send({ type: "ORMAP_PUSH_DIFF", payload: { mapName: map, entries: [{ key: "list", records: [fromB], tombstones: [] }] } });
    await b.barrier();
    const [entry] = await diffRequest(await clients.authed({ map }), map, ["list"]);

    expect(entry?.key).toBe("list");
    expect([...(entry?.records ?? [])].sort(byTag)).toEqual([fromA, fromB].sort(byTag));
  });

  it("answers ORMAP_DIFF_REQUEST for an unknown key with empty records and tombstones", async () => {
    const map = uniqueName("unknown");
    const client = await clients.authed({ map });

    const entries = await diffRequest(client, map, ["nobody-wrote-this"]);

    expect(entries).toEqual([{ key: "nobody-wrote-this", records: [], tombstones: [] }]);
  });
});
