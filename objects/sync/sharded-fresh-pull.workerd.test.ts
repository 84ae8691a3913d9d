import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isStalePlacementError, partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { partition, reshardToEnd } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { Partition } from "../partition.ts";

/** A map of test/workerd/wrangler.test.toml declared with 8 shards; each test writes it in its own namespace. */
const SHARDED_MAP = "sharded-w";

interface Entry {
  key: string;
  records: { value: unknown }[];
  tombstones: string[];
}

type Answer = { payload: { buckets?: Record<string, number>; records?: { key: string }[]; entries?: Entry[] } };

let millis = Date.now() - 60_000;

function put(key: string, value: unknown) {
  return { mapName: SHARDED_MAP, key, opType: "PUT", record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "writer" } } };
}

function orAdd(key: string, value: unknown) {
  const timestamp = { millis: millis++, counter: 0, nodeId: "writer" };
  return { mapName: SHARDED_MAP, key, opType: "OR_ADD", orRecord: { value, timestamp, tag: `${timestamp.millis}:0:writer` } };
}

function orRemove(key: string, tag: string) {
  return { mapName: SHARDED_MAP, key, opType: "OR_REMOVE", orTag: tag };
}

async function write(socket: WorkerdSocket, ops: unknown[]): Promise<void> {
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK", undefined, 10_000);
}

const LWW = { init: "SYNC_INIT", root: "SYNC_RESP_ROOT", request: "MERKLE_REQ_BUCKET", buckets: "SYNC_RESP_BUCKETS", leaf: "SYNC_RESP_LEAF" };
const OR = { init: "ORMAP_SYNC_INIT", root: "ORMAP_SYNC_RESP_ROOT", request: "ORMAP_MERKLE_REQ_BUCKET", buckets: "ORMAP_SYNC_RESP_BUCKETS", leaf: "ORMAP_SYNC_RESP_LEAF" };
type Kind = typeof LWW;

/** A sync of the sharded map as a fresh client (no lastSyncTimestamp) or a returning one; waits for the root. */
async function syncInit(socket: WorkerdSocket, kind: Kind, lastSyncTimestamp?: number): Promise<void> {
  const since = lastSyncTimestamp ? { lastSyncTimestamp } : {};
  socket.send(kind === LWW ? { type: kind.init, mapName: SHARDED_MAP, ...since } : { type: kind.init, mapName: SHARDED_MAP, rootHash: 0, bucketHashes: {}, ...since });
  await socket.waitFor(kind.root, (m) => (m.payload as { mapName: string }).mapName === SHARDED_MAP);
  socket.inbox.length = 0;
}

/** Asks for the root node; answers the reply of `type` for it (fails naming what came instead). */
async function requestRoot(socket: WorkerdSocket, kind: Kind, type: string): Promise<Answer> {
  socket.send({ type: kind.request, payload: { mapName: SHARDED_MAP, path: "" } });
  return (await socket.waitFor(type, (m) => (m.payload as { path: string }).path === "")) as Answer;
}

const keys = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe("a sharded map's fresh pull", () => {
  it("answers a fresh client's request for a small LWW subtree with the records of every shard in one SYNC_RESP_LEAF", async () => {
    const socket = await connectAs("namespace=shard-pull-lww&clientId=fresh", "alice");
    await write(socket, keys(60, "k").map((key, i) => put(key, i)));
    await syncInit(socket, LWW);

    const answer = await requestRoot(socket, LWW, "SYNC_RESP_LEAF");

    expect(answer.payload.records?.map((r) => r.key).sort()).toEqual(keys(60, "k").sort());
    socket.close();
  });

  it("answers a returning client's LWW request above the leaves with buckets", async () => {
    const socket = await connectAs("namespace=shard-pull-lww-back&clientId=back", "alice");
    await write(socket, keys(60, "k").map((key, i) => put(key, i)));
    await syncInit(socket, LWW, Date.now() - 1000);

    const answer = await requestRoot(socket, LWW, "SYNC_RESP_BUCKETS");

    expect(Object.keys(answer.payload.buckets ?? {}).length).toBeGreaterThan(1);
    socket.close();
  });

  it("answers a fresh client's request for a small OR subtree with every shard's entries, removes included, in one ORMAP_SYNC_RESP_LEAF", async () => {
    const socket = await connectAs("namespace=shard-pull-or&clientId=fresh", "alice");
    const gone = orAdd("gone", "g");
    await write(socket, [...keys(60, "k").map((key, i) => orAdd(key, i)), gone]);
    await write(socket, [orRemove("gone", gone.orRecord.tag)]);
    await syncInit(socket, OR);

    const answer = await requestRoot(socket, OR, "ORMAP_SYNC_RESP_LEAF");

    expect(answer.payload.entries?.map((e) => e.key).sort()).toEqual([...keys(60, "k"), "gone"].sort());
    expect(answer.payload.entries?.find((e) => e.key === "gone")).toEqual({ key: "gone", records: [], tombstones: [gone.orRecord.tag] });
    socket.close();
  });

  it("answers a returning client's OR request above the leaves with buckets", async () => {
    const socket = await connectAs("namespace=shard-pull-or-back&clientId=back", "alice");
    await write(socket, keys(60, "k").map((key, i) => orAdd(key, i)));
    await syncInit(socket, OR, Date.now() - 1000);

    const answer = await requestRoot(socket, OR, "ORMAP_SYNC_RESP_BUCKETS");

    expect(Object.keys(answer.payload.buckets ?? {}).length).toBeGreaterThan(1);
    socket.close();
  });

  it("walks an OR subtree whose keys times the tombstones of all shards exceed the client's push-back limit", async () => {
    // 250 keys with values and 200 removed: 450 keys × 200 tombstones = 90,000 tags > 40,000, though each of the 8
    // shards alone (~56 keys × ~25 tombstones) would pass.
    const socket = await connectAs("namespace=shard-pull-or-guard&clientId=fresh", "alice");
    const removed = keys(200, "r").map((key) => orAdd(key, key));
    await write(socket, [...keys(250, "k").map((key, i) => orAdd(key, i)), ...removed]);
    await write(socket, removed.map((add) => orRemove(add.key, add.orRecord.tag)));
    await syncInit(socket, OR);

    const answer = await requestRoot(socket, OR, "ORMAP_SYNC_RESP_BUCKETS");

    expect(Object.keys(answer.payload.buckets ?? {}).length).toBeGreaterThan(1);
    socket.close();
  });

  it("refuses a leaf-range read placed by a shard count the owner's fence replaced", async () => {
    const ns = "shard-pull-stale";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await write(writer, keys(40, "k").map((key, i) => ({ ...put(key, i), mapName: "ledger" })));
    expect(await reshardToEnd(ns, "ledger", 16)).toMatchObject({ status: "done" });
    const first = partition(ns, partitionOfShard("ledger", 0));
    const read = (shards: number) => (p: Partition) => p.ownerReadLeafRange({ kind: "lww", map: "ledger", first: 0, last: 4095, shards });

    const stale = await runInDurableObject(first, (p: Partition) => read(1)(p).then(() => undefined, (err: unknown) => err));
    const fresh = await runInDurableObject(first, read(16));

    expect(isStalePlacementError(stale)).toBe(true);
    expect(fresh.type).toBe("lww-leaf");
    writer.close();
  });
});
