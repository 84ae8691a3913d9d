import type { JsonSchema, MapSchema, SchemaChanges } from "../../core/map-schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";

const DDL = `
  CREATE TABLE IF NOT EXISTS map_schema (map TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS control_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

const VERSION = "schema_version";

/**
 * A namespace's map JSON Schemas, durable in the control object's SQLite. Every change raises the set's version
 * (never reused, deletions included); a stored schema carries the version its change made, which partitions and
 * clients compile once.
 */
export class SchemaStore {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    for (const statement of DDL.split(";").map((s) => s.trim()).filter(Boolean)) sql.exec(statement);
  }

  /** The whole set, unless the caller already holds version `known`. */
  changesSince(known?: number): SchemaChanges {
    const version = this.#version();
    return known === version ? { version } : { version, schemas: this.list() };
  }

  list(): MapSchema[] {
    return this.#sql.exec("SELECT map, version, body FROM map_schema ORDER BY map").map(rowToSchema);
  }

  get(map: string): MapSchema | undefined {
    const row = this.#sql.exec("SELECT map, version, body FROM map_schema WHERE map = ?", map)[0];
    return row === undefined ? undefined : rowToSchema(row);
  }

  count(): number {
    return Number(this.#sql.exec("SELECT COUNT(*) AS n FROM map_schema")[0]?.n ?? 0);
  }

  /** Stores `schema` as the map's (replacing any), at a new version. */
  put(map: string, schema: JsonSchema): MapSchema {
    return this.#sql.transaction(() => {
      const version = this.#version() + 1;
      this.#sql.exec("INSERT OR REPLACE INTO map_schema (map, version, body) VALUES (?, ?, ?)", map, version, JSON.stringify(schema));
      this.#setVersion(version);
      return { map, version, schema };
    });
  }

  /** Deletes the map's schema; true when it had one. */
  delete(map: string): boolean {
    return this.#sql.transaction(() => {
      const existed = this.#sql.exec("SELECT 1 AS one FROM map_schema WHERE map = ?", map).length > 0;
      if (existed) {
        this.#sql.exec("DELETE FROM map_schema WHERE map = ?", map);
        this.#setVersion(this.#version() + 1);
      }
      return existed;
    });
  }

  #version(): number {
    const value = this.#sql.exec("SELECT value FROM control_meta WHERE name = ?", VERSION)[0]?.value;
    return typeof value === "number" ? value : 0;
  }

  #setVersion(value: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO control_meta (name, value) VALUES (?, ?)", VERSION, value);
  }
}

function rowToSchema(row: Record<string, unknown>): MapSchema {
  return { map: String(row.map), version: Number(row.version), schema: JSON.parse(String(row.body)) as JsonSchema };
}
