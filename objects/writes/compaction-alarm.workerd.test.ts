import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOfShard } from "../../core/placement.ts";
import { connectAs, partitionStub } from "../../test/workerd/connect.ts";
import type { Partition } from "../partition.ts";

function op(map: string, key: string, value: unknown, id: string) {
  return { id, mapName: map, key, opType: value === null ? "REMOVE" : "PUT", record: { value, timestamp: { millis: Date.now(), counter: 0, nodeId: "client-a" } } };
}

/** Writes `ops` to `map` through a socket homed at its owner; answers the owner's alarm time, seconds from now. */
async function alarmAfterWriting(map: string, ops: ReturnType<typeof op>[]): Promise<number> {
  const socket = await connectAs(`map=${encodeURIComponent(map)}`, "alice");
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK");
  socket.close();
  const at = await runInDurableObject(partitionStub(partitionOfShard(map, 0)), (_p: Partition, state) => state.storage.getAlarm());
  if (at === null) throw new Error(`no alarm after writing ${map}`);
  return (at - Date.now()) / 1_000;
}

describe("the write log's compaction alarm", () => {
  it("comes 15–25 s after a small write of plain values, and compacts the log and writes the Merkle sums", async () => {
    const map = "compaction-later";
    const inSeconds = await alarmAfterWriting(map, [op(map, "a", 1, "1"), op(map, "b", 2, "2")]);
    expect(inSeconds).toBeGreaterThan(14);
    expect(inSeconds).toBeLessThanOrEqual(25);

    const owner = partitionStub(partitionOfShard(map, 0));
    await runDurableObjectAlarm(owner);
    const tables = await runInDurableObject(owner, (_p: Partition, state) => ({
      logged: state.storage.sql.exec("SELECT COUNT(*) AS n FROM lww_log").one().n,
      records: state.storage.sql.exec("SELECT COUNT(*) AS n FROM lww_record WHERE map = ?", map).one().n,
      current: state.storage.sql.exec("SELECT COUNT(*) AS n FROM merkle_current WHERE map = ?", map).one().n,
    }));
    expect(tables).toEqual({ logged: 0, records: 2, current: 1 });
  });

  it("stores the Merkle snapshot after the round's last step, not after each step", async () => {
    const map = "compaction-steps";
    const socket = await connectAs(`map=${encodeURIComponent(map)}`, "alice");
    // 1,200 keys: a round of three 500-row steps.
    for (let batch = 0; batch < 3; batch++) {
      socket.send({ type: "OP_BATCH", payload: { ops: Array.from({ length: 400 }, (_, i) => op(map, `k${batch * 400 + i}`, i, `${batch}-${i}`)) } });
      await socket.waitFor("OP_ACK");
    }
    socket.close();
    const owner = partitionStub(partitionOfShard(map, 0));
    const tables = () => runInDurableObject(owner, (_p: Partition, state) => ({
      logged: state.storage.sql.exec("SELECT COUNT(*) AS n FROM lww_log").one().n,
      current: state.storage.sql.exec("SELECT COUNT(*) AS n FROM merkle_current WHERE map = ?", map).one().n,
    }));
    await runDurableObjectAlarm(owner);
    expect((await tables()).current).toBe(0);
    for (let step = 0; step < 3 && Number((await tables()).logged) > 0; step++) await runDurableObjectAlarm(owner);
    expect(await tables()).toEqual({ logged: 0, current: 1 });
  });

  it("comes within 4 s after a tombstone, which the expiry sweep reads from lww_record", async () => {
    const map = "compaction-soon";
    const inSeconds = await alarmAfterWriting(map, [op(map, "a", 1, "1"), op(map, "b", null, "2")]);
    expect(inSeconds).toBeLessThanOrEqual(4);
  });
});
