import { describe, expect, it } from "vitest";
import { leafIndexOf, leafPathOf } from "../../core/merkle-tree.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { type Entry, orAdd, orRemove, SHARDED_MAP, write } from "../../test/workerd/or-ops.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";

/** ORMAP_SYNC_INIT as a fresh client (no lastSyncTimestamp) or a returning one; waits for the root. */
async function syncInit(socket: WorkerdSocket, map: string, lastSyncTimestamp?: number): Promise<void> {
  socket.send({ type: "ORMAP_SYNC_INIT", mapName: map, rootHash: 0, bucketHashes: {}, ...(lastSyncTimestamp ? { lastSyncTimestamp } : {}) });
  await socket.waitFor("ORMAP_SYNC_RESP_ROOT", (m) => (m.payload as { mapName: string }).mapName === map);
  socket.inbox.length = 0;
}

type Answer = { payload: { buckets?: Record<string, number>; entries?: Entry[] } };

/** ORMAP_MERKLE_REQ_BUCKET for `path`; answers the reply of `type` for that path (fails naming what came instead). */
async function requestPath(socket: WorkerdSocket, map: string, path: string, type: "ORMAP_SYNC_RESP_BUCKETS" | "ORMAP_SYNC_RESP_LEAF"): Promise<Answer> {
  socket.send({ type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName: map, path } });
  return (await socket.waitFor(type, (m) => (m.payload as { path: string }).path === path)) as Answer;
}

/** Two keys `prefix…` that share one leaf. */
function keysSharingALeaf(prefix: string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `${prefix}${i}`;
    const other = seen.get(leafIndexOf(key));
    if (other !== undefined) return [other, key];
    seen.set(leafIndexOf(key), key);
  }
}

describe("OR-Map Merkle walk in the Partition", () => {
  it("answers a fresh client's request for a small subtree with the entries of all its leaves in one ORMAP_SYNC_RESP_LEAF", async () => {
    const map = "or-walk-fresh";
    const socket = await connectAs(`map=${map}`, "alice");
    await write(socket, Array.from({ length: 40 }, (_, i) => orAdd(map, `k${i}`, i)));
    await syncInit(socket, map);

    const answer = await requestPath(socket, map, "", "ORMAP_SYNC_RESP_LEAF");

    expect(answer.payload.entries?.map((e) => e.key).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
    socket.close();
  });

  it("answers a returning client's request above the leaves with buckets", async () => {
    const map = "or-walk-returning";
    const socket = await connectAs(`map=${map}`, "alice");
    await write(socket, Array.from({ length: 40 }, (_, i) => orAdd(map, `k${i}`, i)));
    await syncInit(socket, map, Date.now() - 1000);

    const answer = await requestPath(socket, map, "", "ORMAP_SYNC_RESP_BUCKETS");

    expect(Object.keys(answer.payload.buckets ?? {}).length).toBeGreaterThan(1);
    socket.close();
  });

  it("lists a child whose only key holds only tombstones, with hash 0, and answers its leaf with that key's tombstone", async () => {
    const map = "or-walk-removed";
    const socket = await connectAs(`map=${map}`, "alice");
    const add = orAdd(map, "a", "a1");
    await write(socket, [add, orAdd(map, "b", "b1")]);
    await write(socket, [orRemove(map, "a", add.orRecord.tag)]);
    await syncInit(socket, map, Date.now() - 1000);
    const leaf = leafPathOf(leafIndexOf("a"));

    const parent = await requestPath(socket, map, leaf.slice(0, 2), "ORMAP_SYNC_RESP_BUCKETS");
    const answer = await requestPath(socket, map, leaf, "ORMAP_SYNC_RESP_LEAF");

    expect(parent.payload.buckets).toEqual({ [leaf[2]!]: 0 });
    expect(answer.payload.entries).toEqual([{ key: "a", records: [], tombstones: [add.orRecord.tag] }]);
    socket.close();
  });

  it("answers a leaf with its tombstone-only key beside the keys that hold values", async () => {
    const map = "or-walk-mixed-leaf";
    const [kept, gone] = keysSharingALeaf("mixed-");
    const socket = await connectAs(`map=${map}`, "alice");
    const add = orAdd(map, gone, "g");
    await write(socket, [orAdd(map, kept, "k"), add]);
    await write(socket, [orRemove(map, gone, add.orRecord.tag)]);
    await syncInit(socket, map, Date.now() - 1000);

    const answer = await requestPath(socket, map, leafPathOf(leafIndexOf(gone)), "ORMAP_SYNC_RESP_LEAF");

    const summary = answer.payload.entries?.map((e) => [e.key, e.records.map((r) => r.value), e.tombstones]);
    expect(summary?.sort()).toEqual([[gone, [], [add.orRecord.tag]], [kept, ["k"], []]].sort());
    socket.close();
  });

  it("answers a sharded map's leaf with a tombstone-only key from the shard that holds it", async () => {
    const key = "shard-walk-removed";
    const socket = await connectAs("clientId=walk-reader", "bob");
    const add = orAdd(SHARDED_MAP, key, "v");
    await write(socket, [add]);
    await write(socket, [orRemove(SHARDED_MAP, key, add.orRecord.tag)]);
    await syncInit(socket, SHARDED_MAP, Date.now() - 1000);

    const answer = await requestPath(socket, SHARDED_MAP, leafPathOf(leafIndexOf(key)), "ORMAP_SYNC_RESP_LEAF");

    expect(answer.payload.entries?.filter((e) => e.key === key)).toEqual([{ key, records: [], tombstones: [add.orRecord.tag] }]);
    socket.close();
  });
});
