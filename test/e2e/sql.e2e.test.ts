// SQL_QUERY over the raw protocol and through the client SDK (PROTOCOL-NEXT.md §7), on plain and sharded maps, and a
// server started with TOPGUN_SQL=off.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SqlError } from "../../client/sql-requests.ts";
import { MemoryAdapter } from "../../client/storage/memory-adapter.ts";
import { TopGunClient } from "../../client/topgun-client.ts";
import { HLC } from "../../core/hlc.ts";
import { SHARDED_MAP } from "../support/e2e-config.ts";
import { clientPool, serverUrl, uniqueName } from "../support/e2e-context.ts";
import { startServer, type RunningServer } from "../support/server-harness.ts";
import { signToken } from "../support/tokens.ts";
import { lwwPut, lwwRemove, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("sql-writer");

async function sql(client: TestClient, text: string): Promise<MessageOf<"SQL_QUERY_RESP">["payload"]> {
  const queryId = uniqueName("sql");
  client.send({ type: "SQL_QUERY", payload: { sql: text, queryId } });
  return (await client.waitFor("SQL_QUERY_RESP", { description: `SQL_QUERY_RESP ${queryId}`, where: (m) => m.payload.queryId === queryId })).payload;
}

async function putAll(client: TestClient, map: string, records: Record<string, unknown>): Promise<void> {
  await client.write(Object.entries(records).map(([key, value]) => lwwPut(map, key, value, hlc.now())));
}

describe("SQL_QUERY over the protocol", () => {
  it("selects, filters, orders and limits a map's records, leaving out deleted ones", async () => {
    const map = uniqueName("people");
    const client = await clients.authed({ map });
    await putAll(client, map, { a: { name: "Ann", age: 31 }, b: { name: "Bob", age: 17 }, c: { name: "Cid", age: 45 }, d: { name: "Dee", age: 52 } });
    await client.write([lwwRemove(map, "d", hlc.now())]);

    const resp = await sql(client, `SELECT _key, name AS who FROM "${map}" WHERE age >= 18 ORDER BY age DESC LIMIT 5`);

    expect(resp).toEqual({ queryId: resp.queryId, columns: ["_key", "who"], rows: [["c", "Cid"], ["a", "Ann"]] });
  });

  it("groups a sharded map with aggregates and HAVING, merged over every shard", async () => {
    const run = uniqueName("run");
    const client = await clients.authed({ clientId: uniqueName("sql-client") });
    await putAll(client, SHARDED_MAP, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${run}-${i}`, { run, team: ["a", "b", "c"][i % 3], v: i }])));

    const resp = await sql(
      client,
      `SELECT team, COUNT(*) AS n, SUM(v) AS total, MIN(v), MAX(v) FROM "${SHARDED_MAP}" WHERE run = '${run}' GROUP BY team HAVING COUNT(*) > 6 ORDER BY team`,
    );

    expect(resp.columns).toEqual(["team", "n", "total", "MIN(v)", "MAX(v)"]);
    expect(resp.rows).toEqual([
      ["a", 7, 63, 0, 18],
      ["b", 7, 70, 1, 19],
    ]);
  });

  it("refuses a JOIN and a write with an error naming them, and changes nothing", async () => {
    const map = uniqueName("keep");
    const client = await clients.authed({ map });
    await putAll(client, map, { k: { n: 1 } });

    const join = await sql(client, `SELECT * FROM "${map}" JOIN other ON "${map}".a = other.a`);
    const drop = await sql(client, "DROP TABLE lww_record");
    const after = await sql(client, `SELECT * FROM "${map}"`);

    expect(join).toMatchObject({ columns: [], rows: [], error: "unsupported SQL: INNER JOIN", code: "UNSUPPORTED" });
    expect(drop).toMatchObject({ columns: [], rows: [], error: "unsupported SQL: DROP statements (only SELECT is supported)" });
    expect(after.rows).toEqual([["k", 1]]);
  });
});

describe("client.sql", () => {
  const open = new Set<TopGunClient>();
  afterEach(async () => {
    await Promise.all([...open].map((c) => c.close()));
    open.clear();
  });

  async function connectedClient(url: string): Promise<TopGunClient> {
    const client = new TopGunClient({
      serverUrl: url,
      storage: new MemoryAdapter(),
      tokenProvider: () => signToken({ sub: uniqueName("user") }),
      backoff: { initialMs: 50, maxMs: 500 },
    });
    open.add(client);
    await client.start();
    await vi.waitFor(() => expect(client.getConnectionState()).toBe("CONNECTED"), { timeout: 20_000, interval: 50 });
    return client;
  }

  it("runs a SELECT over what the client wrote", async () => {
    const client = await connectedClient(serverUrl());
    const map = uniqueName("todos");
    const todos = client.getMap<{ title: string; done: boolean }>(map);
    todos.set("t1", { title: "milk", done: false });
    todos.set("t2", { title: "eggs", done: true });
    await client.flush();
    await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), { timeout: 20_000, interval: 50 });

    const result = await client.sql(`SELECT title FROM "${map}" WHERE done = false`);

    expect(result).toEqual({ columns: ["title"], rows: [["milk"]] });
  });

  it("rejects with a SqlError carrying the server's code", async () => {
    const client = await connectedClient(serverUrl());
    const error = await client.sql("UPDATE t SET a = 1").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SqlError);
    expect(error).toMatchObject({ code: "UNSUPPORTED" });
  });

  describe("on a server with TOPGUN_SQL=off", () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ noAuth: true, settings: { TOPGUN_SQL: "off" } });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("answers every SQL_QUERY as a server without SQL", async () => {
      const client = await connectedClient(server.url);
      const error = await client.sql("SELECT * FROM anything").catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SqlError);
      expect(error).toMatchObject({ code: "FEATURE_DISABLED", message: "SQL is not available on this server" });
    });
  });
});
