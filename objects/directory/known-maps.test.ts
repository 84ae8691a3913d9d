import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { KnownMaps } from "./known-maps.ts";

function setup(report: (maps: string[]) => Promise<void>) {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, known: new KnownMaps({ sql, report }) };
}

describe("KnownMaps", () => {
  it("reports each map once, the first time a write touches it", async () => {
    const reports: string[][] = [];
    const { known } = setup(async (maps) => void reports.push(maps));
    known.noteWritten(["todos", "todos", "notes"]);
    await known.settled();
    known.noteWritten(["todos"]);
    known.noteWritten(["notes", "tags"]);
    await known.settled();
    expect(reports).toEqual([["notes", "todos"], ["tags"]]);
  });

  it("reports again on a later write when a report failed, and remembers maps across a restart", async () => {
    let fail = true;
    const reports: string[][] = [];
    const { sql, known } = setup(async (maps) => {
      if (fail) throw new Error("control object unavailable");
      reports.push(maps);
    });
    known.noteWritten(["todos"]);
    await known.settled();
    expect(reports).toEqual([]);
    fail = false;
    known.noteWritten(["todos"]);
    await known.settled();
    expect(reports).toEqual([["todos"]]);
    const restarted = new KnownMaps({ sql, report: async (maps) => void reports.push(maps) });
    restarted.noteWritten(["todos"]);
    await restarted.settled();
    expect(reports).toEqual([["todos"]]);
  });

  it("takes the maps written before the directory existed from the records, and reports them on the next write", async () => {
    const sql = nodeSqlPort();
    sql.exec("CREATE TABLE schema_step (step INTEGER PRIMARY KEY)");
    for (let step = 1; step <= 8; step++) sql.exec("INSERT INTO schema_step (step) VALUES (?)", step);
    // An object that stopped at step 8, with the two tables step 9 reads.
    sql.exec("CREATE TABLE lww_record (map TEXT, key TEXT, value BLOB, millis INTEGER, counter INTEGER, node TEXT, ttl_ms INTEGER, leaf INTEGER, hash INTEGER)");
    sql.exec("CREATE TABLE or_key (map TEXT, key TEXT, leaf INTEGER, hash INTEGER)");
    sql.exec("INSERT INTO lww_record VALUES ('old-lww', 'k', NULL, 1, 0, 'n', NULL, 0, 0)");
    sql.exec("INSERT INTO or_key VALUES ('old-or', 'k', 0, 0)");
    // Up to step 9 only: later steps (12 converts journal_event) need tables this two-table object does not have.
    applySchema(sql, 9);
    const reports: string[][] = [];
    const known = new KnownMaps({ sql, report: async (maps) => void reports.push(maps) });
    known.noteWritten(["old-lww"]);
    await known.settled();
    expect(reports).toEqual([["old-lww", "old-or"]]);
  });
});
