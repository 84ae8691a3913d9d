import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOfShard } from "../core/placement.ts";
import { partitionStub, testToken } from "../test/workerd/connect.ts";
import { WorkerdSocket } from "../test/workerd/socket.ts";
import type { Partition } from "./partition.ts";

async function connect(map: string, user = "alice"): Promise<WorkerdSocket> {
  const socket = await WorkerdSocket.open(`map=${encodeURIComponent(map)}`);
  await socket.waitFor("AUTH_REQUIRED");
  socket.send({ type: "AUTH", token: await testToken(user) });
  await socket.waitFor("AUTH_ACK");
  return socket;
}

function put(map: string, key: string, value: unknown, millis: number, id: string) {
  return { id, mapName: map, key, opType: "PUT", record: { value, timestamp: { millis, counter: 0, nodeId: "client-a" } } };
}

function homeStub(map: string) {
  return partitionStub(partitionOfShard(map, 0));
}

describe("Partition", () => {
  it("keeps an authenticated socket working after the object is evicted", async () => {
    const map = "evict-socket";
    const socket = await connect(map);
    socket.send({ type: "CLIENT_OP", payload: put(map, "k1", "before", Date.now(), "1") });
    await socket.waitFor("OP_ACK");

    await evictDurableObject(homeStub(map));

    socket.send({ type: "CLIENT_OP", payload: put(map, "k2", "after", Date.now(), "2") });
    const ack = await socket.waitFor("OP_ACK");
    expect(ack.payload).toEqual({ lastId: "2" });
    socket.send({ type: "SYNC_INIT", mapName: map });
    const root = await socket.waitFor("SYNC_RESP_ROOT");
    expect((root.payload as { rootHash: number }).rootHash).not.toBe(0);
    socket.close();
  });

  it("stores records in SQLite so they outlive the object's memory, and compacts the write log when it wakes", async () => {
    const map = "evict-records";
    const socket = await connect(map);
    socket.send({ type: "OP_BATCH", payload: { ops: [put(map, "a", 1, 100, "1"), put(map, "b", false, 200, "2")] } });
    await socket.waitFor("OP_ACK");
    const stub = homeStub(map);
    await evictDurableObject(stub);
    // The first event after the wake builds the services, which replay the write log into lww_record.
    const woken = await connect(map, "bob");
    const tables = await runInDurableObject(stub, (_instance: Partition, state) => ({
      records: state.storage.sql.exec("SELECT key, millis FROM lww_record WHERE map = ? ORDER BY key", map).toArray(),
      logged: state.storage.sql.exec("SELECT COUNT(*) AS n FROM lww_log").one().n,
    }));
    expect(tables).toEqual({
      records: [
        { key: "a", millis: 100 },
        { key: "b", millis: 200 },
      ],
      logged: 0,
    });
    socket.close();
    woken.close();
  });

  it("delivers a write to a socket on another home after both objects were evicted", async () => {
    const map = "evict-fanout";
    const reader = await WorkerdSocket.open("clientId=reader-1");
    await reader.waitFor("AUTH_REQUIRED");
    reader.send({ type: "AUTH", token: await testToken("bob") });
    await reader.waitFor("AUTH_ACK");
    reader.send({ type: "SYNC_INIT", mapName: map });
    await reader.waitFor("SYNC_RESP_ROOT");

    await evictDurableObject(homeStub(map)).catch(() => undefined);

    const writer = await connect(map);
    writer.send({ type: "CLIENT_OP", payload: put(map, "k", "v", Date.now(), "9") });
    const event = await reader.waitFor("SERVER_EVENT");
    expect(event.payload).toMatchObject({ mapName: map, eventType: "PUT", key: "k", record: { value: "v" } });
    reader.close();
    writer.close();
  });

  it("merges a coalesced call's requests as one write and answers each request by its own op indexes", async () => {
    const map = "coalesced-call";
    const reader = await connect(map);
    reader.send({ type: "SYNC_INIT", mapName: map });
    await reader.waitFor("SYNC_RESP_ROOT");
    const op = (index: number, key: string, value: unknown, millis: number) => ({
      index, type: "PUT" as const, map, key, record: { value, timestamp: { millis, counter: 0, nodeId: "client-b" } },
    });
    const writer = (conn: string) => ({ home: partitionOfShard(map, 0) + 1, conn });

    const answers = await homeStub(map).ownerApplyBatches({
      requests: [
        { ops: [op(0, "a", "first", 100)], writer: writer("w1") },
        { ops: [op(0, "a", "second", 200), op(1, "b", "other", 150)], writer: writer("w2") },
      ],
    });

    expect(answers).toEqual([[{ index: 0, ok: true }], [{ index: 0, ok: true }, { index: 1, ok: true }]]);
    const events = [await reader.waitFor("SERVER_EVENT"), await reader.waitFor("SERVER_EVENT"), await reader.waitFor("SERVER_EVENT")];
    expect(events.map((e) => (e.payload as { key: string }).key).sort()).toEqual(["a", "a", "b"]);
    const stored = await runInDurableObject(homeStub(map), (_instance: Partition, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM journal_batch").one().n,
    );
    expect(stored).toBe(1);
    reader.close();
  });

  it("answers an undecodable frame with ERROR and keeps the socket open", async () => {
    const map = "bad-frame";
    const socket = await connect(map);
    socket.sendRaw(new Uint8Array([0xc1, 0xff, 0x00]));
    const error = await socket.waitFor("ERROR");
    expect((error.payload as { code: number }).code).toBe(400);
    socket.send({ type: "CLIENT_OP", payload: put(map, "k", 1, Date.now(), "5") });
    await socket.waitFor("OP_ACK");
    socket.close();
  });
});
