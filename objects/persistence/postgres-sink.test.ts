import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeValue } from "../../core/codec.ts";
import { migrate, readMigrations } from "../../migrations/runner.ts";
import { jsonOf, writeChanges, type ChangeRow } from "./postgres-sink.ts";

// Against the machine's Postgres (CI starts it before the tests), each test in a schema of its own.
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
let client: pg.Client;
let schema: string;

beforeEach(async () => {
  schema = `sink_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  await migrate(client, readMigrations(`${import.meta.dirname}/../../migrations`));
});

afterEach(async () => {
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
});

const put = (key: string, value: unknown, millis: number, node = "a"): ChangeRow => ({
  kind: "lww", map: "m", key, value: value === null ? null : encodeValue(value), millis, counter: 0, node,
});

async function lwwRows() {
  return (await client.query("SELECT key, value, hlc_millis::int AS millis, hlc_node, tombstone FROM lww_records ORDER BY key")).rows;
}

describe("writeChanges", () => {
  it("stores values with their HLC and tombstones", async () => {
    await writeChanges(client, "default", [put("a", { n: 1 }, 100), put("b", null, 200)]);
    expect(await lwwRows()).toEqual([
      { key: "a", value: { n: 1 }, millis: 100, hlc_node: "a", tombstone: false },
      { key: "b", value: null, millis: 200, hlc_node: "a", tombstone: true },
    ]);
  });

  it("never lets an older change overwrite a newer one, whatever the flush order", async () => {
    await writeChanges(client, "default", [put("k", "new", 200)]);
    await writeChanges(client, "default", [put("k", "old", 100)]);
    expect((await lwwRows())[0]).toMatchObject({ value: "new", millis: 200 });
  });

  it("changes nothing when the same flush is written twice", async () => {
    const rows = [put("a", 1, 100), put("a", 2, 150), put("b", "x", 100)];
    await writeChanges(client, "default", rows);
    const before = await lwwRows();
    await writeChanges(client, "default", rows);
    expect(await lwwRows()).toEqual(before);
    expect(before.map((r) => r.key)).toEqual(["a", "b"]);
  });

  it("keeps binary values losslessly and leaves their JSON column empty", async () => {
    const bytes = new Uint8Array([0, 1, 255]);
    await writeChanges(client, "default", [put("bin", bytes, 1)]);
    const row = (await client.query("SELECT value, value_msgpack FROM lww_records")).rows[0];
    expect(row?.value).toBeNull();
    expect(new Uint8Array(row?.value_msgpack as Buffer)).toEqual(encodeValue(bytes));
    expect(jsonOf(encodeValue("a\u0000b"))).toBeNull();
  });

  it("keeps an OR tag removed even when its add is flushed later", async () => {
    const add: ChangeRow = { kind: "or-add", map: "l", key: "k", tag: "1:0:a", value: encodeValue("v"), millis: 1, counter: 0, node: "a" };
    const keep: ChangeRow = { kind: "or-add", map: "l", key: "k", tag: "2:0:b", value: encodeValue("w"), millis: 2, counter: 0, node: "b" };
    await writeChanges(client, "default", [{ kind: "or-remove", map: "l", key: "k", tag: "1:0:a" }]);
    await writeChanges(client, "default", [add, keep]);
    const tags = (await client.query("SELECT tag FROM or_records ORDER BY tag")).rows.map((r) => r.tag);
    expect(tags).toEqual(["2:0:b"]);
    expect((await client.query("SELECT tag FROM or_tombstones")).rows).toEqual([{ tag: "1:0:a" }]);
  });

  it("deletes the rows of pruned tombstones, and not a newer write of the key nor a live record", async () => {
    const prune = (key: string, millis: number): ChangeRow => ({ kind: "lww-prune", map: "m", key, millis, counter: 0, node: "a" });
    await writeChanges(client, "default", [put("gone", null, 100), put("rewritten", null, 100), put("live", 1, 100)]);
    await writeChanges(client, "default", [put("rewritten", "again", 300), prune("gone", 100), prune("rewritten", 100), prune("live", 100)]);
    expect((await lwwRows()).map((r) => [r.key, r.tombstone])).toEqual([["live", false], ["rewritten", false]]);
  });

  it("deletes a pruned OR tombstone's row, also when its removal is in the same flush", async () => {
    await writeChanges(client, "default", [{ kind: "or-remove", map: "l", key: "k", tag: "1:0:a" }, { kind: "or-remove", map: "l", key: "k", tag: "2:0:a" }]);
    await writeChanges(client, "default", [{ kind: "or-remove", map: "l", key: "k", tag: "3:0:a" }, { kind: "or-prune", map: "l", key: "k", tag: "1:0:a" }, { kind: "or-prune", map: "l", key: "k", tag: "3:0:a" }]);
    expect((await client.query("SELECT tag FROM or_tombstones")).rows).toEqual([{ tag: "2:0:a" }]);
  });
});
