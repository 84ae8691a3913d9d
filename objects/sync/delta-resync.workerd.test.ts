import { describe, expect, it } from "vitest";
import { connectAs } from "../../test/workerd/connect.ts";
import { type Entry, orAdd, orRemove, SHARDED_MAP, write } from "../../test/workerd/or-ops.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";

/** ORMAP_SYNC_INIT; answers the entries of the diffs that came before the root, in order, and the root's clock. */
async function syncInit(socket: WorkerdSocket, map: string, lastSyncTimestamp?: number) {
  socket.inbox.length = 0;
  socket.send({ type: "ORMAP_SYNC_INIT", mapName: map, rootHash: 0, bucketHashes: {}, ...(lastSyncTimestamp ? { lastSyncTimestamp } : {}) });
  const root = await socket.waitFor("ORMAP_SYNC_RESP_ROOT", (m) => (m.payload as { mapName: string }).mapName === map);
  const diffs = socket.inbox.filter((m) => m.type === "ORMAP_DIFF_RESPONSE");
  const entries = diffs.flatMap((m) => (m.payload as { entries: Entry[] }).entries);
  return { entries, serverMillis: (root.payload as { timestamp: { millis: number } }).timestamp.millis };
}

function summary(entries: readonly Entry[], prefix = "") {
  return entries
    .filter((e) => e.key.startsWith(prefix))
    .map((e) => [e.key, e.records.map((r) => r.value).sort(), e.tombstones.length])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
}

describe("OR-Map delta re-sync in the Partition", () => {
  it("sends a returning client ORMAP_DIFF_RESPONSE with the keys added to and removed from since its last sync, before the root", async () => {
    const map = "or-delta";
    const socket = await connectAs(`map=${map}`, "alice");
    const first = [orAdd(map, "a", "a1"), orAdd(map, "b", "b1"), orAdd(map, "c", "c1")];
    await write(socket, first);
    const fresh = await syncInit(socket, map);
    expect(fresh.entries).toEqual([]);

    await write(socket, [orAdd(map, "a", "a2"), orRemove(map, "b", first[1]!.orRecord.tag), orAdd(map, "d", "d1")]);
    const again = await syncInit(socket, map, fresh.serverMillis);

    expect(summary(again.entries)).toEqual([
      ["a", ["a1", "a2"], 0],
      ["b", [], 1],
      ["d", ["d1"], 0],
    ]);
    expect((await syncInit(socket, map, again.serverMillis)).entries).toEqual([]);
    socket.close();
  });

  it("gathers the delta of a sharded OR-Map from every shard", async () => {
    const prefix = "shard-delta-";
    const socket = await connectAs("clientId=delta-reader", "bob");
    const added = Array.from({ length: 24 }, (_, i) => orAdd(SHARDED_MAP, `${prefix}${i}`, i));
    await write(socket, added);
    const fresh = await syncInit(socket, SHARDED_MAP);

    await write(socket, [
      ...Array.from({ length: 12 }, (_, i) => orAdd(SHARDED_MAP, `${prefix}${i}`, 100 + i)),
      ...Array.from({ length: 12 }, (_, i) => orRemove(SHARDED_MAP, `${prefix}${12 + i}`, added[12 + i]!.orRecord.tag)),
    ]);
    const again = await syncInit(socket, SHARDED_MAP, fresh.serverMillis);

    expect(summary(again.entries, prefix)).toEqual(
      [
        ...Array.from({ length: 12 }, (_, i) => [`${prefix}${i}`, [i, 100 + i].sort(), 0]),
        ...Array.from({ length: 12 }, (_, i) => [`${prefix}${12 + i}`, [], 1]),
      ].sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
    socket.close();
  });
});
