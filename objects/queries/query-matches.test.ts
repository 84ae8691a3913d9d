import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { matchId, QueryMatches } from "./query-matches.ts";

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, matches: new QueryMatches(sql) };
}

describe("QueryMatches", () => {
  it("answers only the held pairs among every subscription and key, ids and keys with quotes, commas and backslashes", () => {
    const { matches } = setup();
    const odd = { home: 3, conn: 'c"\u00e9,1', queryId: "q]\\" };
    const plain = { home: 4, conn: "c2", queryId: "q" };
    matches.update([{ ...odd, key: "k\u2603\"x" }, { ...plain, key: "a" }], []);

    const held = matches.held([odd, plain], ["k\u2603\"x", "a", "b"]);

    expect([...held].sort()).toEqual([matchId({ ...odd, key: "k\u2603\"x" }), matchId({ ...plain, key: "a" })].sort());
  });

  it("removes the pairs that left and keeps the others", () => {
    const { sql, matches } = setup();
    const sub = { home: 1, conn: "c", queryId: "q" };
    matches.update([{ ...sub, key: "a" }, { ...sub, key: "b" }], []);

    matches.update([], [{ ...sub, key: "a" }]);

    expect(sql.exec("SELECT key FROM query_match").map((row) => row.key)).toEqual(["b"]);
  });

  it("splits a lookup too large for one statement and still finds every held pair", () => {
    const { matches } = setup();
    const subs = Array.from({ length: 40 }, (_, i) => ({ home: i, conn: `conn-${i}`.padEnd(200, "x"), queryId: "q" }));
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
    matches.update(subs.map((sub) => ({ ...sub, key: "key-99" })), []);

    expect(matches.held(subs, keys).size).toBe(40);
  });
});
