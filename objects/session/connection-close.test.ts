import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { HOME_CONNECTION_TABLES, holdsConnectionState } from "./connection-close.ts";

function schema() {
  const sql = nodeSqlPort();
  applySchema(sql);
  return sql;
}

describe("holdsConnectionState", () => {
  it("lists every table of the schema with a conn column and no home column", () => {
    const sql = schema();
    const tables = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").map((row) => String(row.name));
    const homeTables = tables.filter((table) => {
      const columns = sql.exec("SELECT name FROM pragma_table_info(?)", table).map((row) => String(row.name));
      return columns.includes("conn") && !columns.includes("home");
    });

    expect([...HOME_CONNECTION_TABLES].sort()).toEqual(homeTables.sort());
  });

  it("is false for a connection that left nothing, and true when any one table holds a row of it", () => {
    const sql = schema();
    expect(holdsConnectionState(sql, "c1")).toBe(false);

    sql.exec("INSERT INTO conn_coordination (conn, partition) VALUES (?, ?)", "c1", 4);

    expect(holdsConnectionState(sql, "c1")).toBe(true);
    expect(holdsConnectionState(sql, "c2")).toBe(false);
  });
});
