import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap, type LWWRecord } from "../../core/lww-map.ts";
import { bucketPath, lwwEntryHash, MerkleTree, MERKLE_DEPTH } from "../../core/merkle-tree.ts";
import { SHARDED_MAP } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { nilTtlPaths } from "../support/wire-checks.ts";
import { lwwPut, lwwRemove, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const KEY_COUNT = 1_000;
const TOMBSTONE_COUNT = 100;

/** Falsy values are real values (PROTOCOL.md §13.9): mix them in. */
function valueOf(i: number): unknown {
  const kinds = [false, 0, "", i, `text-${i}`, { n: i, nested: { ok: true } }, [i, "x"]];
  return kinds[i % kinds.length];
}

/**
 * Writes KEY_COUNT keys then tombstones TOMBSTONE_COUNT of them; answers the records the server should hold.
 */
async function writeDataset(writer: TestClient, map: string, prefix: string): Promise<Map<string, LWWRecord>> {
  const hlc = new HLC("loader");
  const expected = new Map<string, LWWRecord>();
  const puts = Array.from({ length: KEY_COUNT }, (_, i) => {
    const key = `${prefix}${i}`;
    const record = { value: valueOf(i), timestamp: hlc.now() };
    expected.set(key, record);
    return lwwPut(map, key, record.value, record.timestamp);
  });
  await writer.write(puts);
  const removes = Array.from({ length: TOMBSTONE_COUNT }, (_, i) => {
    const key = `${prefix}${i * 10}`;
    const record = { value: null, timestamp: hlc.now() };
    expected.set(key, record);
    return lwwRemove(map, key, record.timestamp);
  });
  await writer.write(removes);
  return expected;
}

function rootOf(records: Map<string, LWWRecord>): number {
  const tree = new MerkleTree();
  for (const [key, record] of records) tree.update(key, lwwEntryHash(key, record.timestamp));
  return tree.getRootHash();
}

describe("LWW Merkle sync", () => {
  it("brings a late joiner 1,000 keys including 100 tombstones and ends with the server's root hash", async () => {
    const map = uniqueName("late");
    const expected = await writeDataset(await clients.authed({ map }), map, "k");
    const joiner = await clients.authed({ map });
    const local = new LWWMap(new HLC("joiner"));

    const synced = await clientSync(joiner, map, local);

    expect(new Map(synced.records.map((r) => [r.key, r.record]))).toEqual(expected);
    expect(joiner.history.flatMap((frame) => nilTtlPaths(frame.raw))).toEqual([]);
    expect(synced.records.filter((r) => r.record.value === null)).toHaveLength(TOMBSTONE_COUNT);
    expect(synced.serverRoot).toBe(rootOf(expected));
    expect(local.merkleTree.getRootHash()).toBe(synced.serverRoot);
  });

  it("brings a late joiner the same through a sharded map and ends with the server's root hash", async () => {
    const prefix = `${uniqueName("late")}-`;
    const expected = await writeDataset(await clients.authed({ map: SHARDED_MAP }), SHARDED_MAP, prefix);
    const local = new LWWMap(new HLC("joiner"));

    const synced = await clientSync(await clients.authed({ clientId: uniqueName("joiner") }), SHARDED_MAP, local);

    // Other tests share the sharded map: check our keys, and that the joiner's tree is the server's.
    const ours = new Map(synced.records.filter((r) => r.key.startsWith(prefix)).map((r) => [r.key, r.record]));
    expect(ours).toEqual(expected);
    expect(local.merkleTree.getRootHash()).toBe(synced.serverRoot);
  });

  it("answers SYNC_RESP_ROOT equal to the root of a client that holds everything, and nothing more is exchanged", async () => {
    const map = uniqueName("insync");
    await writeDataset(await clients.authed({ map }), map, "k");
    const client = await clients.authed({ map });
    const local = new LWWMap(new HLC("joiner"));
    await clientSync(client, map, local);
    const framesBefore = client.history.length;

    const again = await clientSync(client, map, local);
    await client.barrier();

    expect(again.serverRoot).toBe(local.merkleTree.getRootHash());
    expect(again.requests).toBe(0);
    expect(client.history.slice(framesBefore).map((f) => f.type)).toEqual(["SYNC_RESP_ROOT", "PONG"]);
  });

  it.each([
    { kind: "an unsharded map", sharded: false },
    { kind: "the sharded map", sharded: true },
  ])("sends a client re-syncing $kind the 10 records changed since its last sync before the root, so it walks nothing", async ({ sharded }) => {
    const map = sharded ? SHARDED_MAP : uniqueName("resync");
    const prefix = `${uniqueName("re")}-`;
    const writer = await clients.authed(sharded ? { clientId: uniqueName("writer") } : { map });
    await writeDataset(writer, map, prefix);
    const joiner = await clients.authed(sharded ? { clientId: uniqueName("joiner") } : { map });
    const local = new LWWMap(new HLC("joiner"));
    const first = await clientSync(joiner, map, local);
    const hlc = new HLC("editor");
    const changed = Array.from({ length: 10 }, (_, i) => `${prefix}${i * 7 + 1}`);
    const edits = [
      ...changed.slice(0, 9).map((key) => lwwPut(map, key, `changed-${key}`, hlc.now())),
      lwwRemove(map, changed[9]!, hlc.now()),
    ];
    await writer.write(edits);

    const second = await clientSync(joiner, map, local, { lastSyncTimestamp: first.serverMillis });

    // Other tests write to the sharded map too: its delta holds their changes as well, never fewer than ours.
    const deltaKeys = second.delta.map((r) => r.key).filter((key) => key.startsWith(prefix)).sort();
    expect(deltaKeys).toEqual([...changed].sort());
    if (!sharded) {
      expect(second.delta).toHaveLength(10);
      expect(second.requests).toBe(0);
      expect(second.bytesReceived).toBeLessThan(first.bytesReceived / 20);
    }
    for (const op of edits) expect(local.getRecord(op.key)).toEqual(op.record);
    expect(local.merkleTree.getRootHash()).toBe(second.serverRoot);
  });

  it("walks a client down to the changed leaves when its delta misses a change (last sync claimed after it)", async () => {
    const map = uniqueName("returning");
    const writer = await clients.authed({ map });
    await writeDataset(writer, map, "r");
    const joiner = await clients.authed({ map });
    const local = new LWWMap(new HLC("joiner"));
    await clientSync(joiner, map, local);
    await writer.write([lwwPut(map, "r1", "changed", new HLC("editor").now())]);

    const second = await clientSync(joiner, map, local, { lastSyncTimestamp: Date.now() + 60_000 });

    expect(second.delta).toEqual([]);
    expect(second.bucketReplies).toBe(3);
    expect(second.leafReplies).toBe(1);
    expect(second.records.length).toBeLessThan(10);
    expect(local.getRecord("r1")?.value).toBe("changed");
    expect(local.merkleTree.getRootHash()).toBe(second.serverRoot);
  });
});

describe("LWW Merkle sync of a fresh client", () => {
  it("answers a client that never synced the map with whole subtrees of records: 2,000 keys in 17 requests", async () => {
    const map = uniqueName("fresh");
    const writer = await clients.authed({ map });
    const hlc = new HLC("loader");
    const expected = new Map<string, LWWRecord>();
    for (let batch = 0; batch < 4; batch++) {
      const ops = Array.from({ length: 500 }, (_, i) => {
        const key = `f${batch * 500 + i}`;
        const record = { value: { n: i }, timestamp: hlc.now() };
        expected.set(key, record);
        return lwwPut(map, key, record.value, record.timestamp);
      });
      await writer.write(ops);
    }
    const joiner = await clients.authed({ map });
    const local = new LWWMap(new HLC("joiner"));

    const sync = await clientSync(joiner, map, local);

    // "" holds 2,000 records (over the 1,000 a subtree answer carries): buckets; each of its 16 children: records.
    expect(sync.requests).toBe(17);
    expect(sync.bucketReplies).toBe(1);
    expect(local.size).toBe(2_000);
    expect(local.merkleTree.getRootHash()).toBe(rootOf(expected));
    expect(sync.serverRoot).toBe(rootOf(expected));
  });
});
