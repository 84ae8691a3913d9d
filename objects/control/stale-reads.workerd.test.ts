import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isStalePlacementError, partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { partition, reshardToEnd } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";
import type { Partition } from "../partition.ts";

const MAP = "ledger";
const KEYS = Array.from({ length: 200 }, (_, i) => `entry-${i}`);

async function writeAll(socket: WorkerdSocket): Promise<void> {
  const ops = KEYS.map((key, i) => ({ id: `w-${i}`, mapName: MAP, key, opType: "PUT", record: { value: { i }, timestamp: { millis: 1_700_000_000_000 + i, counter: 0, nodeId: "w" } } }));
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `w-${KEYS.length - 1}`, 10_000);
}

async function countBySql(socket: WorkerdSocket, queryId: string): Promise<unknown> {
  socket.send({ type: "SQL_QUERY", payload: { queryId, sql: `SELECT COUNT(*) AS n FROM ${MAP}` } });
  const answer = await socket.waitFor("SQL_QUERY_RESP", (m) => (m.payload as { queryId: string }).queryId === queryId);
  return (answer.payload as { rows: unknown[][] }).rows[0]?.[0];
}

describe("one-shot reads right after a reshard", () => {
  it("reads the whole map through a home whose copy of the shard counts still has the old count", async () => {
    const ns = "stale-read";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeAll(writer);
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    // The reader's home now holds a copy of the counts with the map in one partition.
    expect(await countBySql(reader, "before")).toBe(KEYS.length);
    expect(await reshardToEnd(ns, MAP, 16)).toMatchObject({ status: "done" });
    // The first read after the move is placed by that copy: the old partition still owns shard 0 and refuses it as
    // stale instead of answering with a sixteenth of the map; the home refreshes its copy and reads all 16.
    expect(await countBySql(reader, "after")).toBe(KEYS.length);
    writer.close();
    reader.close();
  });

  it("refuses a one-shot read placed by another count than the owner's fence, and answers one placed by it", async () => {
    const ns = "stale-owner";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await writeAll(writer);
    expect(await reshardToEnd(ns, MAP, 16)).toMatchObject({ status: "done" });
    const first = partition(ns, partitionOfShard(MAP, 0));
    const stale = await runInDurableObject(first, (p: Partition) => p.ownerQueryRead({ map: MAP, query: {}, shards: 1 }).then(() => undefined, (err: unknown) => err));
    expect(isStalePlacementError(stale)).toBe(true);
    const keysRead = await runInDurableObject(first, (p: Partition) => p.ownerReadRecords({ map: MAP, keys: KEYS, shards: 1 }).then(() => undefined, (err: unknown) => err));
    expect(isStalePlacementError(keysRead)).toBe(true);
    const fresh = await runInDurableObject(first, (p: Partition) => p.ownerQueryRead({ map: MAP, query: {}, shards: 16 }));
    expect(fresh.kind).toBe("entries");
    writer.close();
  });
});
