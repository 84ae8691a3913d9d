import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOfShard } from "../../core/placement.ts";
import { connectAs, partitionStub } from "../../test/workerd/connect.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { Partition } from "../partition.ts";

const DAY = 86_400_000;

function record(value: unknown, millis: number, ttlMs?: number) {
  return { value, timestamp: { millis, counter: 0, nodeId: "client-a" }, ...(ttlMs === undefined ? {} : { ttlMs }) };
}

function op(map: string, key: string, value: unknown, millis: number, id: string, ttlMs?: number) {
  return { id, mapName: map, key, opType: value === null ? "REMOVE" : "PUT", record: record(value, millis, ttlMs) };
}

async function connect(map: string, user: string): Promise<WorkerdSocket> {
  return connectAs(`map=${encodeURIComponent(map)}`, user);
}

async function root(socket: WorkerdSocket, map: string): Promise<number> {
  socket.send({ type: "SYNC_INIT", mapName: map });
  const reply = await socket.waitFor("SYNC_RESP_ROOT", (m) => (m.payload as { mapName: string }).mapName === map);
  return (reply.payload as { rootHash: number }).rootHash;
}

/** Runs the owner's alarms until none is due soon (the compaction, ~5 s after a write, then the sweep; the next wake is days away). */
async function runAlarms(map: string): Promise<void> {
  const owner = partitionStub(partitionOfShard(map, 0));
  for (let i = 0; i < 5; i++) {
    const due = await runInDurableObject(owner, async (_p: Partition, state) => {
      const at = await state.storage.getAlarm();
      return at !== null && at <= Date.now() + 6_000;
    });
    if (!due) return;
    await runDurableObjectAlarm(owner);
  }
}

function lwwRows(map: string) {
  return runInDurableObject(partitionStub(partitionOfShard(map, 0)), (_p: Partition, state) =>
    state.storage.sql.exec("SELECT key, value IS NULL AS tombstone FROM lww_record WHERE map = ? ORDER BY key", map).toArray(),
  );
}

describe("tombstone GC and TTL expiry in the Partition", () => {
  it("prunes a tombstone older than the horizon on the alarm: the root is the map's without it, and synced sockets get GC_PRUNE", async () => {
    const map = "gc-root";
    const writer = await connect(map, "alice");
    const reader = await connect(map, "bob");
    writer.send({ type: "CLIENT_OP", payload: op(map, "live", "v", Date.now(), "1") });
    await writer.waitFor("OP_ACK");
    const before = await root(reader, map);
    writer.send({ type: "CLIENT_OP", payload: op(map, "old", null, Date.now() - 31 * DAY, "2") });
    await writer.waitFor("OP_ACK");
    expect(await root(reader, map)).not.toBe(before);

    await runAlarms(map);

    const prune = await reader.waitFor("GC_PRUNE");
    const olderThan = (prune.payload as { olderThan: { millis: number } }).olderThan.millis;
    expect(Math.abs(olderThan - (Date.now() - 30 * DAY))).toBeLessThan(60_000);
    expect(await lwwRows(map)).toEqual([{ key: "live", tombstone: 0 }]);
    expect(await root(reader, map)).toBe(before);
    writer.close();
    reader.close();
  });

  it("deletes a record whose TTL ran out on the alarm after the owner was evicted: REMOVE to synced sockets, a DELETE in the journal", async () => {
    const map = "ttl-evict";
    const writer = await connect(map, "alice");
    const reader = await connect(map, "bob");
    await root(reader, map);
    writer.send({ type: "OP_BATCH", payload: { ops: [op(map, "brief", { n: 1 }, Date.now() - 5_000, "1", 1_000), op(map, "kept", { n: 2 }, Date.now(), "2")] } });
    await writer.waitFor("OP_ACK");
    // Hidden from reads at once, before the alarm deletes it.
    reader.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: map, query: {} } });
    const snapshot = await reader.waitFor("QUERY_RESP");
    expect((snapshot.payload as { results: { key: string }[] }).results.map((r) => r.key)).toEqual(["kept"]);

    await evictDurableObject(partitionStub(partitionOfShard(map, 0)));
    await runAlarms(map);

    const event = await reader.waitFor("SERVER_EVENT", (m) => (m.payload as { eventType: string }).eventType === "REMOVE");
    expect(event.payload).toMatchObject({ key: "brief", record: { value: null } });
    expect(await lwwRows(map)).toEqual([{ key: "brief", tombstone: 1 }, { key: "kept", tombstone: 0 }]);
    reader.send({ type: "JOURNAL_READ", requestId: "r", fromSequence: "0", limit: 10, mapName: map });
    const journal = await reader.waitFor("JOURNAL_READ_RESPONSE");
    expect((journal as unknown as { events: { type: string; key: string }[] }).events.map((e) => [e.type, e.key])).toEqual([
      ["PUT", "brief"],
      ["PUT", "kept"],
      ["DELETE", "brief"],
    ]);
    writer.close();
    reader.close();
  });

  it("answers SYNC_RESET_REQUIRED, and no root, to a client whose last sync is older than the horizon", async () => {
    const map = "gc-reset";
    const socket = await connect(map, "alice");
    socket.send({ type: "SYNC_INIT", mapName: map, lastSyncTimestamp: Date.now() - 31 * DAY });
    const reset = await socket.waitFor("SYNC_RESET_REQUIRED");
    expect(reset.payload).toMatchObject({ mapName: map });
    socket.send({ type: "ORMAP_SYNC_INIT", mapName: map, rootHash: 0, bucketHashes: {}, lastSyncTimestamp: Date.now() - 31 * DAY });
    await socket.waitFor("SYNC_RESET_REQUIRED");
    socket.send({ type: "SYNC_INIT", mapName: map, lastSyncTimestamp: Date.now() - 29 * DAY });
    await socket.waitFor("SYNC_RESP_ROOT");
    expect(socket.inbox.map((m) => m.type)).not.toContain("SYNC_RESP_ROOT");
    socket.close();
  });
});
