import { describe, expect, it } from "vitest";
import { parseShardConfig } from "../../core/placement.ts";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { QueryReader } from "../queries/query-reader.ts";
import { QueryService } from "../queries/query-service.ts";
import { applySchema } from "../storage/schema.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore } from "../writes/or-store.ts";
import { SqlCoordinator } from "./sql-coordinator.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { PredicateNode } from "../../core/protocol/shared.ts";

const orders: Record<string, Record<string, unknown>> = {
  o1: { status: "open", amount: 10, customer: "ann" },
  o2: { status: "open", amount: 20, customer: "bob" },
  o3: { status: "open", amount: 12, customer: "cid" },
  o4: { status: "done", amount: 5, customer: "ann" },
  o5: { status: "done", amount: 7 },
  o6: { status: "late", amount: 1, customer: "dan" },
};

/** Two owners, each holding some of the orders (as two shards of a map), plus one deleted record. */
function sqlOver(records: Record<string, Record<string, unknown>>, enabled = true) {
  const owners = [0, 1].map(() => {
    const sql = nodeSqlPort();
    applySchema(sql);
    const merkle = new MerkleStore(sql);
    const lww = new LwwStore(sql, merkle);
    const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
    return { writer, queries: new QueryService({ sql, lww, interest: new InterestRegistry(sql), deliver: async () => [] }) };
  });
  let millis = 1;
  Object.entries(records).forEach(([key, value], i) => {
    owners[i % 2]!.writer.apply([{ index: 0, type: "PUT", map: "orders", key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } }]);
  });
  owners[0]!.writer.apply([{ index: 0, type: "PUT", map: "orders", key: "gone", record: { value: { status: "open", amount: 1000 }, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } }]);
  owners[0]!.writer.apply([{ index: 0, type: "REMOVE", map: "orders", key: "gone", record: { value: null, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } }]);
  const config = parseShardConfig("orders:2");
  const partitions = new Map<number, (typeof owners)[number]>();
  const reader = new QueryReader({
    shards: () => config,
    owners: (partition) => ({
      queryRead: async (request) => {
        if (!partitions.has(partition)) partitions.set(partition, owners[partitions.size]!);
        return partitions.get(partition)!.queries.read(request);
      },
    }),
  });
  const coordinator = new SqlCoordinator({ reader, enabled });
  return (sql: string, readFilter?: (map: string) => PredicateNode | undefined) =>
    coordinator.run({ sql, queryId: "s1" }, readFilter ? { readFilter } : {});
}

const run = sqlOver(orders);

describe("SQL over a map", () => {
  it("selects columns in select-list order, _key included, with aliases, leaving out tombstones", async () => {
    const resp = await run("SELECT _key, customer AS who, amount FROM orders WHERE status = 'done' ORDER BY _key");
    expect(resp).toEqual({ queryId: "s1", columns: ["_key", "who", "amount"], rows: [["o4", "ann", 5], ["o5", null, 7]] });
  });

  it("answers SELECT * with _key and every field", async () => {
    const resp = await run("SELECT * FROM orders WHERE _key = 'o1'");
    expect(resp.columns).toEqual(["_key", "status", "amount", "customer"]);
    expect(resp.rows).toEqual([["o1", "open", 10, "ann"]]);
  });

  it("filters with comparisons, AND, OR, NOT, LIKE, IN, BETWEEN and IS NULL", async () => {
    const keys = async (where: string) => (await run(`SELECT _key FROM orders WHERE ${where} ORDER BY _key`)).rows.map((r) => r[0]);
    expect(await keys("amount > 10")).toEqual(["o2", "o3"]);
    expect(await keys("10 <= amount")).toEqual(["o1", "o2", "o3"]);
    expect(await keys("amount >= 10 AND status <> 'open'")).toEqual([]);
    expect(await keys("status = 'late' OR amount = 5")).toEqual(["o4", "o6"]);
    expect(await keys("NOT status = 'open'")).toEqual(["o4", "o5", "o6"]);
    expect(await keys("customer LIKE 'a%'")).toEqual(["o1", "o4"]);
    expect(await keys("customer NOT LIKE 'a%'")).toEqual(["o2", "o3", "o5", "o6"]);
    expect(await keys("customer IN ('bob', 'dan')")).toEqual(["o2", "o6"]);
    expect(await keys("_key NOT IN ('o1', 'o2', 'o3')")).toEqual(["o4", "o5", "o6"]);
    expect(await keys("amount BETWEEN 5 AND 10")).toEqual(["o1", "o4", "o5"]);
    expect(await keys("customer IS NULL")).toEqual(["o5"]);
    expect(await keys("customer IS NOT NULL AND amount < 6")).toEqual(["o4", "o6"]);
  });

  it("orders by several keys, by alias and by position, then applies OFFSET and LIMIT", async () => {
    expect((await run("SELECT _key FROM orders ORDER BY status DESC, amount LIMIT 3")).rows).toEqual([["o1"], ["o3"], ["o2"]]);
    expect((await run("SELECT _key, amount AS a FROM orders ORDER BY a DESC LIMIT 2 OFFSET 1")).rows).toEqual([["o3", 12], ["o1", 10]]);
    expect((await run("SELECT amount, _key FROM orders ORDER BY 1 LIMIT 1, 2")).rows).toEqual([[5, "o4"], [7, "o5"]]);
  });

  it("groups with COUNT, SUM, MIN, MAX and AVG across shards", async () => {
    const resp = await run(
      "SELECT status, COUNT(*) AS n, SUM(amount) AS total, MIN(amount), MAX(amount), AVG(amount) FROM orders GROUP BY status ORDER BY total DESC",
    );
    expect(resp.columns).toEqual(["status", "n", "total", "MIN(amount)", "MAX(amount)", "AVG(amount)"]);
    expect(resp.rows).toEqual([
      ["open", 3, 42, 10, 20, 14],
      ["done", 2, 12, 5, 7, 6],
      ["late", 1, 1, 1, 1, 1],
    ]);
  });

  it("filters groups with HAVING, also on an aggregate it does not select", async () => {
    const resp = await run("SELECT status FROM orders GROUP BY status HAVING COUNT(*) > 1 AND MAX(amount) < 10");
    expect(resp.rows).toEqual([["done"]]);
  });

  it("aggregates the whole map without GROUP BY, 0 rows counted when nothing matches", async () => {
    expect((await run("SELECT COUNT(*), SUM(amount) FROM orders")).rows).toEqual([[6, 55]]);
    expect((await run("SELECT COUNT(*) AS n FROM orders WHERE amount > 999")).rows).toEqual([[0]]);
  });

  it.each([
    ["SELECT a FROM orders JOIN users ON orders.u = users.id", "unsupported SQL: INNER JOIN"],
    ["SELECT a FROM (SELECT 1)", "unsupported SQL: a subquery or expression in FROM"],
    ["SELECT _key FROM orders WHERE amount IN (SELECT amount FROM x)", "unsupported SQL: subqueries"],
    ["SELECT _key FROM orders WHERE amount = (SELECT MAX(amount) FROM orders)", "unsupported SQL: subqueries"],
    ["DELETE FROM orders", "unsupported SQL: DELETE statements (only SELECT is supported)"],
    ["INSERT INTO orders (a) VALUES (1)", "unsupported SQL: INSERT statements (only SELECT is supported)"],
    ["UPDATE orders SET a = 1", "unsupported SQL: UPDATE statements (only SELECT is supported)"],
    ["DROP TABLE lww_record", "unsupported SQL: DROP statements (only SELECT is supported)"],
    ["SELECT upper(customer) FROM orders", "unsupported SQL: function UPPER"],
    ["SELECT amount + 1 FROM orders", "unsupported SQL: expression with +"],
    ["SELECT DISTINCT status FROM orders", "unsupported SQL: DISTINCT"],
    ["SELECT a FROM orders UNION SELECT b FROM orders", "unsupported SQL: UNION"],
    ["SELECT a FROM orders; SELECT b FROM orders", "unsupported SQL: more than one statement"],
    ["SELECT customer, COUNT(*) FROM orders GROUP BY status", "unsupported SQL: column customer outside GROUP BY and aggregates"],
    ["SELECT COUNT(customer) FROM orders", "unsupported SQL: COUNT of a column (use COUNT(*))"],
    ["SELECT _key FROM orders WHERE amount = ?", "unsupported SQL: parameter ? (bind values into the text)"],
  ])("refuses %s, naming the unsupported part", async (sql, error) => {
    const resp = await run(sql);
    expect(resp).toEqual({ queryId: "s1", columns: [], rows: [], error, code: "UNSUPPORTED" });
  });

  it("answers a syntax error as an error, not an internal error", async () => {
    const resp = await run("SELEKT nothing");
    expect(resp.code).toBe("SYNTAX_ERROR");
    expect(resp.error).toMatch(/^SQL syntax error: /);
  });

  it("reads only the records the caller's access filter lets through, in rows and aggregates alike", async () => {
    const own: PredicateNode = { op: "eq", attribute: "customer", value: "ann" };
    const maps: string[] = [];
    const filter = (map: string) => {
      maps.push(map);
      return own;
    };
    expect((await run("SELECT _key FROM orders ORDER BY _key", filter)).rows).toEqual([["o1"], ["o4"]]);
    expect((await run("SELECT COUNT(*) FROM orders WHERE amount > 6", filter)).rows).toEqual([[1]]);
    expect(maps).toEqual(["orders", "orders"]);
  });

  it("answers a denied read as an error with code FORBIDDEN", async () => {
    const resp = await run("SELECT * FROM orders", () => {
      throw new ProtocolError("FORBIDDEN", "forbidden: read access denied for map: orders");
    });
    expect(resp).toEqual({ queryId: "s1", columns: [], rows: [], error: "forbidden: read access denied for map: orders", code: "FORBIDDEN" });
  });

  it("answers FEATURE_DISABLED when SQL is off", async () => {
    const resp = await sqlOver(orders, false)("SELECT * FROM orders");
    expect(resp).toEqual({ queryId: "s1", columns: [], rows: [], error: "SQL is not available on this server", code: "FEATURE_DISABLED" });
  });
});
