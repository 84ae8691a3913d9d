import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { ConnectionSubscriptions } from "./connection-subscriptions.ts";
import { applySchema } from "../storage/schema.ts";

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  return {
    queries: new ConnectionSubscriptions(sql, { name: "conn_query", id: "query_id" }),
    journal: new ConnectionSubscriptions(sql, { name: "conn_journal", id: "sub_id" }),
  };
}

describe("ConnectionSubscriptions", () => {
  it("remembers the map of each subscription per connection, and a replacement wins", () => {
    const { queries } = setup();
    queries.remember("c1", "q1", "todos");
    queries.remember("c2", "q1", "users");
    queries.remember("c1", "q1", "notes");
    expect(queries.mapOf("c1", "q1")).toBe("notes");
    expect(queries.mapOf("c2", "q1")).toBe("users");
    expect(queries.mapOf("c1", "other")).toBeUndefined();
  });

  it("tells a subscription on every map (null) from an unknown one (undefined)", () => {
    const { journal } = setup();
    journal.remember("c1", "all", null);
    expect(journal.mapOf("c1", "all")).toBeNull();
    journal.forget("c1", "all");
    expect(journal.mapOf("c1", "all")).toBeUndefined();
  });

  it("forgets a whole connection and answers the distinct maps it was on, leaving other connections alone", () => {
    const { queries } = setup();
    queries.remember("c1", "q1", "todos");
    queries.remember("c1", "q2", "todos");
    queries.remember("c1", "q3", "users");
    queries.remember("c2", "q1", "todos");
    expect(queries.forgetConnection("c1").sort()).toEqual(["todos", "users"]);
    expect(queries.forgetConnection("c1")).toEqual([]);
    expect(queries.mapOf("c2", "q1")).toBe("todos");
  });
});
