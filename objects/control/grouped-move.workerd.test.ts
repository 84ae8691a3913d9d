import { describe, expect, it } from "vitest";
import { connectAs } from "../../test/workerd/connect.ts";
import { reshardToEnd } from "../../test/workerd/control.ts";
import type { WorkerdSocket } from "../../test/workerd/socket.ts";

const MAP = "scores";
const TEAMS = ["a", "b"] as const;
let batch = 0;

async function put(socket: WorkerdSocket, records: [string, { team: string; n: number }][]): Promise<void> {
  const id = `b${batch++}`;
  const ops = records.map(([key, value], i) => ({ id: `${id}-${i}`, mapName: MAP, key, opType: "PUT", record: { value, timestamp: { millis: Date.now(), counter: i, nodeId: "w" } } }));
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === `${id}-${records.length - 1}`, 10_000);
}

/** Waits for the grouped query's row of `team` to show `count` records. */
function countReaches(reader: WorkerdSocket, team: string, count: number) {
  return reader.waitFor("QUERY_UPDATE", (m) => {
    const value = (m.payload as { value: { team?: string; __count?: number } | null }).value;
    return value?.team === team && value.__count === count;
  }, 10_000);
}

describe("grouped live queries across a reshard", () => {
  it("counts every record once after the map moves 1 → 16 and again 16 → 3", async () => {
    const ns = "grouped-move";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    await put(writer, Array.from({ length: 40 }, (_, i) => [`s-${i}`, { team: TEAMS[i % 2]!, n: i }]));
    const reader = await connectAs(`namespace=${ns}&clientId=r1`, "someone");
    reader.send({ type: "QUERY_SUB", payload: { queryId: "g", mapName: MAP, query: { groupBy: ["team"], aggregations: [{ func: "sum", field: "n" }] } } });
    const initial = await reader.waitFor("QUERY_RESP");
    expect((initial.payload as { results: { value: { team: string; __count: number } }[] }).results.map((r) => [r.value.team, r.value.__count]).sort()).toEqual([["a", 20], ["b", 20]]);

    let expected = 20;
    for (const shards of [16, 3]) {
      expect(await reshardToEnd(ns, MAP, shards)).toMatchObject({ status: "done" });
      expected += 1;
      // A new record of each team: its row counts the records the move spread over the new owners once each.
      for (const team of TEAMS) {
        await put(writer, [[`new-${shards}-${team}`, { team, n: 100 }]]);
        await countReaches(reader, team, expected);
      }
    }
    writer.close();
    reader.close();
  });
});
