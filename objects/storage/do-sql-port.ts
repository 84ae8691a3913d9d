import type { SqlPort, SqlRow, SqlValue } from "./sql-port.ts";

/** The SqlPort of a Durable Object's SQLite storage. */
export function durableObjectSqlPort(storage: DurableObjectStorage): SqlPort {
  return {
    exec(query: string, ...bindings: SqlValue[]): SqlRow[] {
      const rows: SqlRow[] = [];
      for (const raw of storage.sql.exec(query, ...bindings)) {
        const row: SqlRow = {};
        for (const [column, value] of Object.entries(raw)) {
          // Durable Object SQLite returns blobs as ArrayBuffer; services see Uint8Array only.
          row[column] = value instanceof ArrayBuffer ? new Uint8Array(value) : (value as SqlValue);
        }
        rows.push(row);
      }
      return rows;
    },
    transaction: <T>(fn: () => T): T => storage.transactionSync(fn),
  };
}
