import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { recordingSender } from "../../test/support/recording-sender.ts";
import { CounterService, mergeCounterStates } from "./counter-service.ts";
import { applySchema } from "../storage/schema.ts";

const alice = { home: 3, conn: "alice" };
const bob = { home: 5, conn: "bob" };

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const { sender, sent, gone } = recordingSender();
  return { counters: new CounterService({ sql, sender }), sent, gone, sql };
}

describe("mergeCounterStates", () => {
  it("takes the maximum per node, separately for p and n", () => {
    expect(mergeCounterStates({ p: { a: 3, b: 1 }, n: { a: 2 } }, { p: { a: 1, c: 4 }, n: { a: 5, b: 1 } })).toEqual({
      p: { a: 3, b: 1, c: 4 },
      n: { a: 5, b: 1 },
    });
  });
});

describe("CounterService", () => {
  it("answers an empty state for a new counter", () => {
    const { counters } = setup();
    expect(counters.request("c", alice)).toEqual({ p: {}, n: {} });
  });

  it("keeps the merged state in SQLite", async () => {
    const { counters, sql, sent } = setup();
    await counters.sync("c", { p: { a: 2 }, n: {} }, alice);
    await counters.sync("c", { p: { a: 1, b: 4 }, n: { a: 1 } }, bob);

    const again = new CounterService({ sql, sender: recordingSender().sender });
    expect(again.request("c", alice)).toEqual({ p: { a: 2, b: 4 }, n: { a: 1 } });
    expect(sent).toHaveLength(1);
  });

  it("sends COUNTER_UPDATE in both spellings to other subscribers, not to the sender", async () => {
    const { counters, sent } = setup();
    counters.request("c", alice);
    counters.request("c", bob);

    const merged = await counters.sync("c", { p: { a: 2 }, n: { b: 1 } }, alice);

    expect(merged).toEqual({ p: { a: 2 }, n: { b: 1 } });
    expect(sent).toEqual([
      {
        to: bob,
        message: { type: "COUNTER_UPDATE", payload: { name: "c", state: { p: { a: 2 }, n: { b: 1 }, positive: { a: 2 }, negative: { b: 1 } } } },
      },
    ]);
  });

  it("subscribes the sender of a COUNTER_SYNC", async () => {
    const { counters, sent } = setup();
    await counters.sync("c", { p: { a: 1 }, n: {} }, alice);
    await counters.sync("c", { p: { b: 1 }, n: {} }, bob);
    expect(sent.map((s) => s.to)).toEqual([alice]);
  });

  it("stops updating a closed connection", async () => {
    const { counters, sent } = setup();
    counters.request("c", bob);
    counters.dropConnection(bob);
    await counters.sync("c", { p: { a: 1 }, n: {} }, alice);
    expect(sent).toEqual([]);
  });
});
