import { describe, expect, it } from "vitest";
import { ALLOW_ALL } from "../../core/access-policy.ts";
import type { Principal } from "../../core/principal.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";
import type { Handlers } from "../session/dispatch.ts";
import { CallerBudgets } from "./caller-budgets.ts";
import { HttpGateway } from "./http-gateway.ts";

const alice: Principal = { id: "alice", roles: [], claims: {} };
const op = (key: string): ClientOp => ({ id: key, mapName: "m", key, opType: "PUT", record: { value: 1, timestamp: { millis: 1, counter: 0, nodeId: "n" } } });

/** A gateway over fake handlers that record what reached them. */
function setup(burst = 1_000) {
  const seen: string[] = [];
  const closed: string[] = [];
  const handlers = {
    access: { forPrincipal: async () => () => ALLOW_ALL },
    writes: {
      begin: async (_conn: string, ops: ClientOp[], _batch: unknown, replies: { send(m: unknown): void }) => {
        seen.push(...ops.map((o) => o.key));
        replies.send({ type: "OP_ACK", payload: { lastId: ops.at(-1)?.id ?? "unknown" } });
        return { done: Promise.resolve() };
      },
    },
    queries: {
      subscribe: async (conn: string, request: { queryId: string }, reply: (m: unknown) => void) => {
        seen.push(`query on ${conn.slice(0, 5)}`);
        reply({ type: "QUERY_RESP", payload: { queryId: request.queryId, results: [] } });
      },
    },
    connectionClosed: async (conn: string) => void closed.push(conn),
  } as unknown as Handlers;
  const gateway = new HttpGateway({ handlers, home: 0, budgets: new CallerBudgets({ clock: () => 0, ratePerSecond: 1, burst }) });
  return { gateway, seen, closed };
}

describe("HttpGateway", () => {
  it("collects each message's replies, and closes its one-request connection only after a message that leaves state", async () => {
    const { gateway, seen, closed } = setup();
    const written = await gateway.exchange(alice, [{ type: "OP_BATCH", payload: { ops: [op("a"), op("b")] } }]);
    expect(written).toEqual([{ replies: [{ type: "OP_ACK", payload: { lastId: "b" } }] }]);
    expect(closed).toEqual([]);
    const read = await gateway.exchange(alice, [{ type: "QUERY_SUB", payload: { queryId: "q", mapName: "m", query: {} } }]);
    expect(read[0]?.replies).toEqual([{ type: "QUERY_RESP", payload: { queryId: "q", results: [] } }]);
    expect(seen).toEqual(["a", "b", "query on http:"]);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatch(/^http:/);
  });

  it("answers 429 to every message of a caller over its op budget, and runs none of them", async () => {
    const { gateway, seen } = setup(3);
    await gateway.exchange(alice, [{ type: "OP_BATCH", payload: { ops: [op("a"), op("b")] } }]);
    const refused = await gateway.exchange(alice, [{ type: "OP_BATCH", payload: { ops: [op("c"), op("d")] } }, { type: "TOPIC_PUB", payload: { topic: "t", data: 1 } }]);
    expect(refused).toEqual([
      { replies: [], error: { code: 429, message: "rate limit exceeded, slow down" } },
      { replies: [], error: { code: 429, message: "rate limit exceeded, slow down" } },
    ]);
    expect(seen).toEqual(["a", "b"]);
    const bob = await gateway.exchange({ id: "bob", roles: [], claims: {} }, [{ type: "OP_BATCH", payload: { ops: [op("e")] } }]);
    expect(bob[0]?.error).toBeUndefined();
  });
});
