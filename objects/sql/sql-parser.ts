// The one place that touches node-sql-parser: its SQLite grammar build (about 200 KB, not the 5 MB of every
// dialect), whose AST the rest of objects/sql reads as unknown data and checks node by node.
import sqlite from "node-sql-parser/build/sqlite.js";

const parser = new sqlite.Parser();

/** The parsed statement(s) of `text`, or the parser's message when it is not valid SQL. */
export function parseSql(text: string): { ok: true; ast: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, ast: parser.astify(text) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, message };
  }
}
