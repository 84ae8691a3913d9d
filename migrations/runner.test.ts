import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate, readMigrations, type Migration } from "./runner.ts";

// Runs against the machine's Postgres (CI starts it before the tests), each test in a schema of its own.
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let client: pg.Client;
let schema: string;

beforeEach(async () => {
  schema = `migrate_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
});

afterEach(async () => {
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
});

describe("migrate", () => {
  it("applies every numbered migration once and records it", async () => {
    const migrations = readMigrations(import.meta.dirname);
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(await migrate(client, migrations)).toEqual(migrations.map((m) => m.version));
    const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [schema]);
    expect(tables.rows.map((r) => r.table_name).sort()).toEqual(["lww_records", "or_records", "or_tombstones", "topgun_migrations"]);
  });

  it("changes nothing when run a second time", async () => {
    const migrations = readMigrations(import.meta.dirname);
    await migrate(client, migrations);
    await client.query(
      `INSERT INTO lww_records (namespace, map, key, value, hlc_millis, hlc_counter, hlc_node, tombstone)
       VALUES ('default', 'm', 'k', '{"a":1}', 1, 0, 'n', false)`,
    );
    expect(await migrate(client, migrations)).toEqual([]);
    expect((await client.query("SELECT count(*)::int AS n FROM lww_records")).rows[0]?.n).toBe(1);
  });

  it("rolls a failing migration back and applies nothing after it", async () => {
    const broken: Migration[] = [
      { version: 1, name: "ok", sql: "CREATE TABLE a (x int)" },
      { version: 2, name: "broken", sql: "CREATE TABLE b (x int); SELECT * FROM missing_table" },
      { version: 3, name: "later", sql: "CREATE TABLE c (x int)" },
    ];
    await expect(migrate(client, broken)).rejects.toThrow(/migration 2_broken failed/);
    const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [schema]);
    expect(tables.rows.map((r) => r.table_name).sort()).toEqual(["a", "topgun_migrations"]);
    expect((await client.query("SELECT version FROM topgun_migrations")).rows).toEqual([{ version: 1 }]);
  });
});
