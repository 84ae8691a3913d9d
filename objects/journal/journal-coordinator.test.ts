import { describe, expect, it } from "vitest";
import { PARTITION_COUNT, parseShardConfig, partitionOf } from "../../core/placement.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { dropClosedConnection } from "../session/connection-close.ts";
import { formatSequence } from "./journal-service.ts";
import { JournalCoordinator } from "./journal-coordinator.ts";
import type { OwnerApi } from "../owner-api.ts";
import { applySchema } from "../storage/schema.ts";

const event = (tick: number, partition: number, mapName: string): JournalEventData => ({
  sequence: formatSequence(tick, partition),
  type: "PUT",
  mapName,
  key: `k${tick}`,
  value: tick,
  timestamp: { millis: tick, counter: 0, nodeId: "n" },
  nodeId: "n",
});

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const calls: { partition: number; method: string; request: unknown }[] = [];
  // Partition p holds two events, at ticks p + 1 and p + 1000.
  const stored = (p: number) => [event(p + 1, p, "m"), event(p + 1000, p, "m")];
  const owners = (partition: number) =>
    ({
      journalRead: async (request: { fromSequence: string; limit: number; map?: string }) => {
        calls.push({ partition, method: "read", request });
        return stored(partition).filter((e) => BigInt(e.sequence) >= BigInt(request.fromSequence)).slice(0, request.limit);
      },
      journalSubscribe: async (request: unknown) => {
        calls.push({ partition, method: "subscribe", request });
        return [];
      },
      journalUnsubscribe: async (request: unknown) => void calls.push({ partition, method: "unsubscribe", request }),
      dropConnection: async (request: unknown) => void calls.push({ partition, method: "drop", request }),
    }) as unknown as OwnerApi;
  const shards = parseShardConfig("");
  const coordinator = new JournalCoordinator({ owners, shards: () => shards, sql, home: 3 });
  const replies: unknown[] = [];
  return { coordinator, owners, calls, replies, reply: (m: unknown) => void replies.push(m), owner: partitionOf(shards, "m", "") };
}

describe("JournalCoordinator", () => {
  it("asks only the map's owner for a map, all partitions otherwise, and merges by sequence", async () => {
    const { coordinator, calls, replies, reply, owner } = setup();
    await coordinator.read({ requestId: "r1", fromSequence: "0", limit: 1, mapName: "m" }, reply);
    expect(calls.map((c) => c.partition)).toEqual([owner]);
    expect(replies[0]).toMatchObject({ type: "JOURNAL_READ_RESPONSE", requestId: "r1", hasMore: true });
    calls.length = 0;
    await coordinator.read({ requestId: "r2", fromSequence: "0", limit: 3 }, reply);
    expect(calls).toHaveLength(PARTITION_COUNT);
    const second = replies[1] as { events: JournalEventData[]; hasMore: boolean };
    expect(second.events.map((e) => e.sequence)).toEqual([formatSequence(1, 0), formatSequence(2, 1), formatSequence(3, 2)]);
    expect(second.hasMore).toBe(true);
  });

  it("rejects a non-numeric fromSequence", async () => {
    const { coordinator, reply } = setup();
    await expect(coordinator.read({ requestId: "r", fromSequence: "abc" }, reply)).rejects.toThrow();
  });

  it("unsubscribes and drops a closed connection's subscriptions at their owners", async () => {
    const { coordinator, owners, calls, reply, owner } = setup();
    await coordinator.subscribe("c1", { requestId: "s1", mapName: "m" }, reply);
    await coordinator.subscribe("c1", { requestId: "s2", mapName: "m", types: ["DELETE"] }, reply);
    await coordinator.unsubscribe("c1", "s1");
    expect(calls.filter((c) => c.method === "unsubscribe")).toEqual([
      { partition: owner, method: "unsubscribe", request: { subscriptionId: "s1", subscriber: { home: 3, conn: "c1" } } },
    ]);
    await dropClosedConnection("c1", 3, [coordinator], owners);
    expect(calls.filter((c) => c.method === "drop")).toEqual([{ partition: owner, method: "drop", request: { home: 3, conn: "c1" } }]);
    calls.length = 0;
    await dropClosedConnection("c1", 3, [coordinator], owners);
    expect(calls).toEqual([]);
  });
});
