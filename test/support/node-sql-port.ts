import { DatabaseSync } from "node:sqlite";
import type { SqlPort, SqlRow, SqlValue } from "../../objects/storage/sql-port.ts";
import { MAX_SQL_PARAMS } from "../../objects/storage/sql-port.ts";

/**
 * The SqlPort over an in-memory node:sqlite database, for testing services in plain Node. It enforces the
 * Durable Object limit of bound parameters per statement so a statement that would fail on workerd fails here too.
 */
export function nodeSqlPort(): SqlPort {
  const db = new DatabaseSync(":memory:");
  let depth = 0;
  return {
    exec(query: string, ...bindings: SqlValue[]): SqlRow[] {
      if (bindings.length > MAX_SQL_PARAMS) throw new Error(`too many SQL variables: ${bindings.length}`);
      const statement = db.prepare(query);
      if (!/^\s*(SELECT|WITH)/i.test(query) && !/RETURNING/i.test(query)) {
        statement.run(...bindings);
        return [];
      }
      return statement.all(...bindings).map((row) => {
        const out: SqlRow = {};
        for (const [column, value] of Object.entries(row)) {
          out[column] = typeof value === "bigint" ? Number(value) : (value as SqlValue);
        }
        return out;
      });
    },
    transaction<T>(fn: () => T): T {
      const savepoint = `sp${depth++}`;
      db.exec(`SAVEPOINT ${savepoint}`);
      try {
        const result = fn();
        db.exec(`RELEASE ${savepoint}`);
        return result;
      } catch (err) {
        db.exec(`ROLLBACK TO ${savepoint}`);
        db.exec(`RELEASE ${savepoint}`);
        throw err;
      } finally {
        depth--;
      }
    },
  };
}
