// The client SDK's queries of TopGun main against the local server: a live grouped query and a live top-N window on
// the sharded map while another client writes, and a projected query.
import { describe, expect, it, vi } from "vitest";
import type { TopGunClient } from "../../client/topgun-client.ts";
import { SHARDED_MAP } from "../support/e2e-config.ts";
import { uniqueName } from "../support/e2e-context.ts";
import { CLIENT_WAIT, clientPool } from "../support/e2e-clients.ts";

const WAIT = CLIENT_WAIT;
const clients = clientPool();

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), WAIT);
}

interface Order {
  run: string;
  team: string;
  amount: number;
}

describe("client queries against the server", () => {
  it("keeps a grouped query's rows live over a sharded map while another client writes", async () => {
    const run = uniqueName("run");
    const [writer, reader] = [await clients.connected(), await clients.connected()];
    const orders = writer.getMap<Order>(SHARDED_MAP);
    for (let i = 0; i < 6; i++) orders.set(`${run}-${i}`, { run, team: i % 2 === 0 ? "red" : "blue", amount: i });
    await waitAcked(writer);

    const query = reader.query(SHARDED_MAP, {
      predicate: { op: "eq", attribute: "run", value: run },
      groupBy: ["team"],
      aggregations: [{ func: "sum", field: "amount" }],
    });
    const rows = () => Object.fromEntries(query.results().map(([, v]) => [(v as { team: string }).team, v]));
    await vi.waitFor(() => expect(rows()).toEqual({ red: { team: "red", __count: 3, __sum_amount: 6 }, blue: { team: "blue", __count: 3, __sum_amount: 9 } }), WAIT);

    orders.set(`${run}-new`, { run, team: "green", amount: 10 });
    orders.remove(`${run}-1`);
    await waitAcked(writer);

    await vi.waitFor(
      () =>
        expect(rows()).toEqual({
          red: { team: "red", __count: 3, __sum_amount: 6 },
          blue: { team: "blue", __count: 2, __sum_amount: 8 },
          green: { team: "green", __count: 1, __sum_amount: 10 },
        }),
      WAIT,
    );
    query.close();
  });

  it("never shows more than limit rows of a live top-N query while another client writes", async () => {
    const run = uniqueName("top");
    const [writer, reader] = [await clients.connected(), await clients.connected()];
    const orders = writer.getMap<Order>(SHARDED_MAP);
    for (let i = 0; i < 5; i++) orders.set(`${run}-${i}`, { run, team: "t", amount: i * 10 });
    await waitAcked(writer);

    const query = reader.query<Order>(SHARDED_MAP, {
      predicate: { op: "eq", attribute: "run", value: run },
      sort: [{ field: "amount", direction: "desc" }],
      limit: 3,
    });
    const sizes: number[] = [];
    query.subscribe((results) => sizes.push(results.length));
    await vi.waitFor(() => expect(query.results().map(([k]) => k)).toEqual([`${run}-4`, `${run}-3`, `${run}-2`]), WAIT);

    orders.set(`${run}-big`, { run, team: "t", amount: 35 });
    orders.set(`${run}-small`, { run, team: "t", amount: 1 });
    orders.remove(`${run}-4`);
    await waitAcked(writer);

    await vi.waitFor(() => expect(query.results().map(([k]) => k)).toEqual([`${run}-big`, `${run}-3`, `${run}-2`]), WAIT);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    query.close();
  });

  it("projects a query's values to the requested fields", async () => {
    const map = uniqueName("proj");
    const [writer, reader] = [await clients.connected(), await clients.connected()];
    writer.getMap(map).set("k", { title: "milk", secret: "s" });
    await waitAcked(writer);

    const query = reader.query(map, {}, { fields: ["title"] });

    await vi.waitFor(() => expect(query.results()).toEqual([["k", { title: "milk" }]]), WAIT);
    query.close();
  });
});
