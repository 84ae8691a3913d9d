import { describe, expect, it } from "vitest";
import { partitionOfShard } from "../../core/placement.ts";
import { connectAs } from "../../test/workerd/connect.ts";
import { ISOLATE_CACHE_BUDGET } from "./isolate-budget.ts";

function puts(map: string, n: number) {
  const millis = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    id: `${map}-${i}`, mapName: map, key: `k${i}`, opType: "PUT", record: { value: { n: i }, timestamp: { millis, counter: i, nodeId: "client-a" } },
  }));
}

describe("the isolate's cache budget", () => {
  it("counts the heads of every owner object the isolate runs in one budget", async () => {
    const maps = ["budget-a", "budget-b"];
    expect(partitionOfShard(maps[0]!, 0)).not.toBe(partitionOfShard(maps[1]!, 0));
    const before = ISOLATE_CACHE_BUDGET.bytes();
    for (const map of maps) {
      const socket = await connectAs(`map=${encodeURIComponent(map)}`, "alice");
      socket.send({ type: "OP_BATCH", payload: { ops: puts(map, 100) } });
      await socket.waitFor("OP_ACK");
      socket.close();
    }
    const after = ISOLATE_CACHE_BUDGET.bytes();
    // Each owner opened its account here, and its 100 logged heads (≥ 260 estimated bytes each) count here.
    expect(after.accounts - before.accounts).toBeGreaterThanOrEqual(2);
    expect(after.pinned - before.pinned).toBeGreaterThanOrEqual(2 * 100 * 260);
  });
});
