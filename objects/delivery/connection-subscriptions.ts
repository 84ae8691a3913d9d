import type { SqlPort } from "../storage/sql-port.ts";

type Table = { name: "conn_query"; id: "query_id" } | { name: "conn_search"; id: "sub_id" } | { name: "conn_journal"; id: "sub_id" };

/**
 * A home's record of the map each of its connections' subscriptions of one kind is registered on (null: every map),
 * kept in SQLite so that an UNSUB or the connection's close still reaches the owners after the home was evicted.
 */
export class ConnectionSubscriptions {
  readonly #sql: SqlPort;
  readonly #table: Table;

  constructor(sql: SqlPort, table: Table) {
    this.#sql = sql;
    this.#table = table;
  }

  /** The map the subscription is on: a name, null for every map, undefined when the connection has no such id. */
  mapOf(conn: string, id: string): string | null | undefined {
    const { name, id: column } = this.#table;
    const row = this.#sql.exec(`SELECT map FROM ${name} WHERE conn = ? AND ${column} = ?`, conn, id)[0];
    if (row === undefined) return undefined;
    return row.map === null ? null : String(row.map);
  }

  remember(conn: string, id: string, map: string | null): void {
    const { name, id: column } = this.#table;
    this.#sql.exec(`INSERT OR REPLACE INTO ${name} (conn, ${column}, map) VALUES (?, ?, ?)`, conn, id, map);
  }

  forget(conn: string, id: string): void {
    const { name, id: column } = this.#table;
    this.#sql.exec(`DELETE FROM ${name} WHERE conn = ? AND ${column} = ?`, conn, id);
  }

  /** Forgets every subscription of the connection; answers the distinct maps they were on. */
  forgetConnection(conn: string): (string | null)[] {
    const { name } = this.#table;
    const maps = this.#sql.exec(`SELECT DISTINCT map FROM ${name} WHERE conn = ?`, conn).map((row) => (row.map === null ? null : String(row.map)));
    if (maps.length > 0) this.#sql.exec(`DELETE FROM ${name} WHERE conn = ?`, conn);
    return maps;
  }
}
