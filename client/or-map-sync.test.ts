import { describe, expect, it } from "vitest";
import { HLC } from "../core/hlc.ts";
import { bucketPath } from "../core/merkle-tree.ts";
import { ORMap } from "../core/or-map.ts";
import { FakeServer, handshake } from "./testing/fake-server.ts";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import { TopGunClient } from "./topgun-client.ts";

async function connectedClient() {
  const server = new FakeServer();
  const client = new TopGunClient({ serverUrl: "ws://server.test", storage: new MemoryAdapter(), webSocketFactory: server.factory });
  await client.start();
  const list = client.getORMap<string>("list");
  await list.ready;
  list.add("k", "mine");
  await client.flush();
  const socket = await handshake(server);
  return { client, list, socket };
}

describe("OR-Map Merkle sync", () => {
  it("sends its root and top-level bucket hashes in ORMAP_SYNC_INIT", async () => {
    const { list, socket, client } = await connectedClient();

    const [init] = socket.sentOf("ORMAP_SYNC_INIT");

    expect(init?.rootHash).toBe(list.crdt.merkleTree.getRootHash());
    expect(init?.bucketHashes).toEqual(list.crdt.merkleTree.getBuckets(""));
    await client.close();
  });

  it("merges a leaf's entries and pushes its own records of that leaf back", async () => {
    const { list, socket, client } = await connectedClient();
    const remote = { value: "theirs", timestamp: { millis: 5, counter: 0, nodeId: "s" }, tag: "5:0:s" };

    socket.deliver({ type: "ORMAP_SYNC_RESP_LEAF", payload: { mapName: "list", path: bucketPath("k").slice(0, 3), entries: [{ key: "k", records: [remote], tombstones: [] }] } });

    expect(list.get("k").sort()).toEqual(["mine", "theirs"]);
    const [push] = socket.sentOf("ORMAP_PUSH_DIFF");
    expect(push?.payload.entries.map((e) => e.records.map((r) => r.value).sort())).toEqual([["mine", "theirs"]]);
    await client.close();
  });

  it("pushes back no key of a leaf whose records the server already holds as this client does", async () => {
    const { list, socket, client } = await connectedClient();
    const records = list.crdt.getEntry("k").records;

    socket.deliver({ type: "ORMAP_SYNC_RESP_LEAF", payload: { mapName: "list", path: bucketPath("k").slice(0, 3), entries: [{ key: "k", records, tombstones: [] }] } });

    expect(socket.sentOf("ORMAP_PUSH_DIFF")).toEqual([]);
    await client.close();
  });

  it("merges an ORMAP_DIFF_RESPONSE sent before the root (a delta re-sync), adds and removes, so an equal root asks no bucket", async () => {
    const { list, socket, client } = await connectedClient();
    const old = { value: "old", timestamp: { millis: 3, counter: 0, nodeId: "s" }, tag: "3:0:s" };
    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "list", eventType: "OR_ADD", key: "gone", orRecord: old } });
    const theirs = { value: "theirs", timestamp: { millis: 5, counter: 0, nodeId: "s" }, tag: "5:0:s" };
    const mine = list.crdt.getEntry("k").records;
    const server = new ORMap(new HLC("server"));
    server.mergeKey("k", [...mine, theirs], []);

    socket.deliver({ type: "ORMAP_DIFF_RESPONSE", payload: { mapName: "list", entries: [
      { key: "k", records: [...mine, theirs], tombstones: [] },
      { key: "gone", records: [], tombstones: ["3:0:s"] },
    ] } });
    socket.deliver({ type: "ORMAP_SYNC_RESP_ROOT", payload: { mapName: "list", rootHash: server.merkleTree.getRootHash(), timestamp: { millis: 9, counter: 0, nodeId: "s" } } });

    expect(list.get("k").sort()).toEqual(["mine", "theirs"]);
    expect(list.get("gone")).toEqual([]);
    expect(socket.sentOf("ORMAP_MERKLE_REQ_BUCKET")).toEqual([]);
    await client.close();
  });

  it("pushes keys under a bucket the server does not have", async () => {
    const { socket, client } = await connectedClient();

    socket.deliver({ type: "ORMAP_SYNC_RESP_BUCKETS", payload: { mapName: "list", path: "", buckets: {} } });

    expect(socket.sentOf("ORMAP_PUSH_DIFF").flatMap((m) => m.payload.entries.map((e) => e.key))).toEqual(["k"]);
    await client.close();
  });

  it("applies a remote OR_REMOVE to the tagged value only", async () => {
    const { list, socket, client } = await connectedClient();
    const other = { value: "other", timestamp: { millis: 5, counter: 0, nodeId: "s" }, tag: "5:0:s" };
    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "list", eventType: "OR_ADD", key: "k", orRecord: other } });

    socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "list", eventType: "OR_REMOVE", key: "k", orTag: "5:0:s" } });

    expect(list.get("k")).toEqual(["mine"]);
    await client.close();
  });
});
