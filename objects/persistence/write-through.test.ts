import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeValue } from "../../core/codec.ts";
import { migrate, readMigrations } from "../../migrations/runner.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { Outbox } from "./outbox.ts";
import { OUTBOX_DDL } from "../storage/schema.ts";
import type { ChangeRow } from "./postgres-sink.ts";
import { RETRY_MAX_MS, WriteThrough, type PgConnection } from "./write-through.ts";

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
let admin: pg.Client;
let schema: string;

beforeEach(async () => {
  schema = `wt_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  await migrate(admin, readMigrations(`${import.meta.dirname}/../../migrations`));
});

afterEach(async () => {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
});

function setup() {
  const sql = nodeSqlPort();
  sql.exec(OUTBOX_DDL);
  const outbox = new Outbox(sql);
  let reachable = true;
  const connect = async (): Promise<PgConnection> => {
    // An unreachable Postgres: a port nothing listens on.
    const client = new pg.Client({ connectionString: reachable ? DATABASE_URL : "postgres://postgres@127.0.0.1:1/test", options: `-c search_path=${schema}` });
    await client.connect();
    return client;
  };
  const writeThrough = new WriteThrough({ outbox, connect, namespace: "default" });
  return { outbox, writeThrough, setReachable: (value: boolean) => void (reachable = value) };
}

const put = (key: string, millis: number): ChangeRow => ({ kind: "lww", map: "m", key, value: encodeValue(key), millis, counter: 0, node: "n" });

describe("WriteThrough", () => {
  it("retries at least every 8 s however long Postgres stays down, so every outbox drains soon after it is back", async () => {
    const { outbox, writeThrough, setReachable } = setup();
    setReachable(false);
    outbox.append([put("k", 1_000)]);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const result = await writeThrough.flush();
      if (!result.ok) waits.push(result.retryInMs);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
    expect(Math.max(...waits)).toBe(RETRY_MAX_MS);
  });

  it("keeps every change while Postgres is down and delivers each exactly once when it is back", async () => {
    const { outbox, writeThrough, setReachable } = setup();
    setReachable(false);
    outbox.append(Array.from({ length: 1_000 }, (_, i) => put(`k${i}`, 1_000 + i)));
    const failed = await writeThrough.flush();
    expect(failed).toMatchObject({ ok: false, retryInMs: 1_000 });
    expect(await writeThrough.flush()).toMatchObject({ ok: false, retryInMs: 2_000 });
    expect(await writeThrough.flush()).toMatchObject({ ok: false, retryInMs: 4_000 });
    expect(outbox.stats().depth).toBe(1_000);

    setReachable(true);
    expect(await writeThrough.flush()).toEqual({ ok: true, flushed: 1_000, remaining: 0 });
    const counts = await admin.query("SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM lww_records");
    expect(counts.rows[0]).toEqual({ n: 1_000, keys: 1_000 });
  });

  it("does nothing when the outbox is empty", async () => {
    const { writeThrough } = setup();
    expect(await writeThrough.flush()).toEqual({ ok: true, flushed: 0, remaining: 0 });
  });
});
