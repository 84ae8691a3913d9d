import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The part of a pg client the runner needs (pg.Client and pg.PoolClient both fit). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Serialises concurrent runners (two deploys at once) on one database. */
const ADVISORY_LOCK_ID = 727_271;

/** The numbered SQL files of `dir`, in order. */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .flatMap((file) => {
      const match = FILE_PATTERN.exec(file);
      return match ? [{ version: Number(match[1]), name: match[2] ?? "", sql: readFileSync(join(dir, file), "utf8") }] : [];
    })
    .sort((a, b) => a.version - b.version);
}

/** Applies each migration not yet recorded, each in its own transaction; returns the versions it applied. */
export async function migrate(client: SqlClient, migrations: readonly Migration[]): Promise<number[]> {
  await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_ID]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS topgun_migrations (
         version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const done = new Set((await client.query("SELECT version FROM topgun_migrations")).rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query("INSERT INTO topgun_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${migration.version}_${migration.name} failed: ${String(err)}`, { cause: err });
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_ID]);
  }
}
