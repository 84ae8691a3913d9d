import { describe, expect, it } from "vitest";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import { FakeServer, handshake, until, type FakeSocket } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";
import type { TopGunClient } from "./topgun-client.ts";

const startClient = startedClients();

/** The id of the op the client sent for `key`. */
async function sentOpId(client: TopGunClient, socket: FakeSocket, key: string): Promise<string> {
  await client.flush();
  const find = () => socket.sentOf("OP_BATCH").flatMap((m) => m.payload.ops).findLast((op) => op.key === key)?.id;
  await until(() => find() !== undefined, `the op for ${key}`);
  return find() ?? "";
}

describe("OP_REJECTED", () => {
  it("rolls a rejected LWW write back and syncs the map again to restore the server's record", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const notes = client.getMap<string>("notes");
    await notes.ready;
    const socket = await handshake(server);
    notes.set("n", "refused");
    const opId = await sentOpId(client, socket, "n");

    socket.deliver({ type: "OP_REJECTED", payload: { opId, reason: "timestamp too far ahead", code: 400 } });
    const rolledBack = notes.get("n");
    const serverTs = { millis: 1_000, counter: 0, nodeId: "srv" };
    socket.deliver({ type: "SYNC_RESP_LEAF", payload: { mapName: "notes", path: "0", records: [{ key: "n", record: { value: "server", timestamp: serverTs } }] } });

    expect(rolledBack).toBeUndefined();
    expect(socket.sentOf("SYNC_INIT").map((m) => m.mapName)).toEqual(["notes", "notes"]);
    expect(notes.get("n")).toBe("server");
  });

  it("keeps a newer local write when an older write of the key is rejected", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const notes = client.getMap<string>("notes");
    await notes.ready;
    const socket = await handshake(server);
    notes.set("n", "first");
    const opId = await sentOpId(client, socket, "n");
    notes.set("n", "second");

    socket.deliver({ type: "OP_REJECTED", payload: { opId, reason: "drift" } });

    expect(notes.get("n")).toBe("second");
  });

  it("removes a rolled-back write from storage", async () => {
    const server = new FakeServer();
    const storage = new MemoryAdapter();
    const client = await startClient(server, storage);
    const notes = client.getMap<string>("notes");
    await notes.ready;
    const socket = await handshake(server);
    notes.set("n", "refused");
    const opId = await sentOpId(client, socket, "n");

    socket.deliver({ type: "OP_REJECTED", payload: { opId, reason: "drift" } });
    await client.flush();

    expect(await storage.loadMap(notes.mapId)).toEqual([]);
  });

  it("takes a rejected write out of a live query at once", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const notes = client.getMap<string>("notes");
    await notes.ready;
    const query = client.query<string>("notes");
    const socket = await handshake(server);
    notes.set("n", "refused");
    const opId = await sentOpId(client, socket, "n");

    socket.deliver({ type: "OP_REJECTED", payload: { opId, reason: "drift" } });

    expect(query.results()).toEqual([]);
  });

  it("drops a rejected OR-Map add here and in storage, and syncs the map again", async () => {
    const server = new FakeServer();
    const storage = new MemoryAdapter();
    const client = await startClient(server, storage);
    const tags = client.getORMap<string>("tags");
    await tags.ready;
    const socket = await handshake(server);
    tags.add("k", "kept");
    tags.add("k", "refused");
    await client.flush();
    const ops = () => socket.sentOf("OP_BATCH").flatMap((m) => m.payload.ops);
    await until(() => ops().length === 2, "both adds sent");
    const refused = ops().find((op) => op.orRecord?.value === "refused");

    socket.deliver({ type: "OP_REJECTED", payload: { opId: refused?.id ?? "", reason: "drift" } });
    await client.flush();

    expect(tags.get("k")).toEqual(["kept"]);
    expect(tags.crdt.isTombstoned(refused?.orRecord?.tag ?? "")).toBe(false);
    const stored = await storage.loadMap(tags.mapId);
    expect(stored.flatMap((e) => (e.value.kind === "or" ? e.value.records.map((r) => r.value) : []))).toEqual(["kept"]);
    expect(socket.sentOf("ORMAP_SYNC_INIT")).toHaveLength(2);
  });

  it("undoes a rejected OR-Map remove, so the value the server still holds comes back", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tags = client.getORMap<string>("tags");
    await tags.ready;
    const socket = await handshake(server);
    const record = tags.add("k", "v");
    tags.remove("k", "v");
    await client.flush();
    const removeId = () => socket.sentOf("OP_BATCH").flatMap((m) => m.payload.ops).find((op) => op.opType === "OR_REMOVE")?.id;
    await until(() => removeId() !== undefined, "the remove sent");

    socket.deliver({ type: "OP_REJECTED", payload: { opId: removeId() ?? "", reason: "forbidden" } });
    expect(tags.crdt.isTombstoned(record.tag)).toBe(false);
    // What the re-sync delivers: the server's record of the key, no longer refused locally.
    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "tags", eventType: "OR_ADD", key: "k", orRecord: record, orTag: record.tag } });

    expect(tags.get("k")).toEqual(["v"]);
  });
});
