import { describe, expect, it } from "vitest";
import { partitionOfName } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import type { CoordinationApi } from "./coordination-api.ts";
import { CoordinationCoordinator } from "./coordination-coordinator.ts";
import { applySchema } from "../storage/schema.ts";

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const calls: string[] = [];
  const owners = (partition: number): CoordinationApi => ({
    topicSubscribe: async (r) => void calls.push(`p${partition} sub ${r.topic}`),
    topicUnsubscribe: async (r) => void calls.push(`p${partition} unsub ${r.topic}`),
    topicPublish: async (r) => void calls.push(`p${partition} pub ${r.topic} by ${r.publisherId}`),
    counterRequest: async () => ({ p: { a: 1 }, n: {} }),
    counterSync: async (r) => r.state,
    lockRequest: async (r) => (r.ttlMs === 10_000 ? { granted: true, fencingToken: 4 } : { granted: false }),
    lockRelease: async () => true,
    dropConnection: async (r) => void calls.push(`p${partition} drop ${r.home}/${r.conn}`),
  });
  const replies: unknown[] = [];
  const home = new CoordinationCoordinator({ owners, sql, home: 9 });
  return { home, calls, replies, reply: (m: unknown) => void replies.push(m) };
}

describe("CoordinationCoordinator", () => {
  it("on close, tells each owner the connection subscribed or locked at, once", async () => {
    const { home, calls, reply } = setup();
    await home.topicSubscribe("c1", "t1");
    await home.topicSubscribe("c1", "t1");
    await home.counterRequest("c1", "n1", reply);
    await home.lockRequest("c1", { requestId: "r", name: "l1" }, reply);
    calls.length = 0;

    await home.closed("c1");
    await home.closed("c1");

    const expected = [...new Set(["t1", "n1", "l1"].map((name) => `p${partitionOfName(name)} drop 9/c1`))];
    expect(calls.sort()).toEqual(expected.sort());
  });

  it("answers a granted LOCK_REQUEST with the default TTL and a counter in both spellings", async () => {
    const { home, replies, reply } = setup();
    await home.lockRequest("c1", { requestId: "r", name: "l1" }, reply);
    await home.lockRequest("c1", { requestId: "q", name: "l1", ttl: 50 }, reply);
    await home.counterRequest("c1", "n1", reply);
    expect(replies).toEqual([
      { type: "LOCK_GRANTED", payload: { requestId: "r", name: "l1", fencingToken: 4 } },
      { type: "COUNTER_RESPONSE", payload: { name: "n1", state: { p: { a: 1 }, n: {}, positive: { a: 1 }, negative: {} } } },
    ]);
  });
});
