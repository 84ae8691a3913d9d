import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { migrate, readMigrations } from "../../migrations/runner.ts";
import { restoreNamespace } from "../../migrations/restore.ts";
import { uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { startServer, type RunningServer } from "../support/server-harness.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { lwwPut, lwwRemove, orAdd, orRemove, TestClient } from "../support/ws-client.ts";

// A database of its own, reached by the server through a proxy the tests can cut (Postgres "down").
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = `topgun_e2e_${Date.now()}`;
const databaseUrl = (port: number) => `postgres://postgres@127.0.0.1:${port}/${database}`;
let proxy: TcpProxy;
let server: RunningServer;
let db: pg.Client;
const open: TestClient[] = [];

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  db = new pg.Client({ connectionString: databaseUrl(5432) });
  await db.connect();
  await migrate(db, readMigrations(`${import.meta.dirname}/../../migrations`));
  proxy = await TcpProxy.start(5432);
  server = await startServer({ noAuth: true, databaseUrl: databaseUrl(proxy.port) });
});

afterAll(async () => {
  for (const client of open) client.close();
  await server?.stop();
  await proxy?.stop();
  await db?.end();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

async function client(map: string, url: RunningServer = server): Promise<TestClient> {
  const c = await TestClient.connect(url.wsUrl({ map }), { autoAuth: true });
  open.push(c);
  return c;
}

/** Polls Postgres until `check` holds (bounded: fails with the last rows seen). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`Postgres never reached the expected state; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  return last;
}

interface Stats {
  namespace: string;
  writeThrough: boolean;
  outboxDepth: number;
  lagMs: number;
}

async function readStats(): Promise<Stats> {
  return (await (await fetch(`${server.url}/stats`)).json()) as Stats;
}

const rowsOf = async (map: string) =>
  (await db.query("SELECT key, value, hlc_millis::float8 AS millis, hlc_counter, hlc_node, tombstone FROM lww_records WHERE map = $1 ORDER BY key", [map])).rows;

describe("Postgres write-through", () => {
  it("writes values, HLC timestamps and tombstones through to Postgres", async () => {
    const map = uniqueName("pg");
    const c = await client(map);
    const hlc = new HLC("writera");
    const a = hlc.now();
    const b = hlc.now();
    const gone = hlc.now();
    await c.write([lwwPut(map, "a", { n: 1 }, a), lwwPut(map, "b", "two", b), lwwRemove(map, "b", gone)]);
    const rows = await eventually(() => rowsOf(map), (r) => r.length === 2 && r[1]?.tombstone === true);
    expect(rows).toEqual([
      { key: "a", value: { n: 1 }, millis: a.millis, hlc_counter: a.counter, hlc_node: "writera", tombstone: false },
      { key: "b", value: null, millis: gone.millis, hlc_counter: gone.counter, hlc_node: "writera", tombstone: true },
    ]);
  });

  it("writes OR-Map adds and removes through to Postgres", async () => {
    const map = uniqueName("pgor");
    const c = await client(map);
    const hlc = new HLC("writera");
    const t1 = hlc.now();
    const t2 = hlc.now();
    const tag1 = `${t1.millis}:${t1.counter}:${t1.nodeId}`;
    const tag2 = `${t2.millis}:${t2.counter}:${t2.nodeId}`;
    await c.write([
      orAdd(map, "list", { value: "x", timestamp: t1, tag: tag1 }),
      orAdd(map, "list", { value: "y", timestamp: t2, tag: tag2 }),
      orRemove(map, "list", tag1),
    ]);
    const read = async () => ({
      records: (await db.query("SELECT tag, value FROM or_records WHERE map = $1", [map])).rows,
      tombstones: (await db.query("SELECT tag FROM or_tombstones WHERE map = $1", [map])).rows,
    });
    const state = await eventually(read, (s) => s.records.length === 1 && s.tombstones.length === 1);
    expect(state).toEqual({ records: [{ tag: tag2, value: "y" }], tombstones: [{ tag: tag1 }] });
  });

  it("acknowledges 1,000 writes while Postgres is down and delivers each exactly once when it is back", async () => {
    const map = uniqueName("pgdown");
    const c = await client(map);
    const hlc = new HLC("writera");
    await proxy.cut();
    try {
      for (let batch = 0; batch < 10; batch++) {
        const ack = await c.write(Array.from({ length: 100 }, (_, i) => lwwPut(map, `k${batch * 100 + i}`, i, hlc.now())));
        expect(ack.payload.lastId).toBeDefined();
      }
    } finally {
      await proxy.resume();
    }
    const count = async () => (await db.query("SELECT count(*)::int AS n, count(DISTINCT key)::int AS k FROM lww_records WHERE map = $1", [map])).rows[0];
    expect(await eventually(count, (r) => r?.n === 1_000, 60_000)).toEqual({ n: 1_000, k: 1_000 });
  });

  it("drains every partition's outbox within 10 s of Postgres coming back after a 16 s outage, written to or not", async () => {
    // 2,000 changes spread over 20 maps (so over many partitions), all written early in the outage: every partition's
    // backoff grows for 16 s and nobody writes after Postgres returns, so only the capped retry brings them home.
    const maps = Array.from({ length: 20 }, (_, i) => uniqueName(`pgout${i}`));
    const hlc = new HLC("writera");
    const count = async () =>
      Number((await db.query("SELECT count(*)::int AS n FROM lww_records WHERE map = ANY($1)", [maps])).rows[0]?.n ?? 0);
    await proxy.cut();
    try {
      for (const map of maps) {
        const c = await client(map);
        await c.write(Array.from({ length: 100 }, (_, i) => lwwPut(map, `k${i}`, i, hlc.now())));
      }
      await new Promise((resolve) => setTimeout(resolve, 16_000));
      expect(await count()).toBe(0);
    } finally {
      await proxy.resume();
    }
    const back = performance.now();
    // The retry cap is 8 s; 10 s is the promise, and the extra seconds only absorb a loaded test machine.
    expect(await eventually(count, (n) => n === 2_000, 15_000)).toBe(2_000);
    expect(performance.now() - back).toBeLessThan(15_000);
  }, 60_000);

  it("reports outbox depth and lag at /stats, and an empty outbox once Postgres has everything", async () => {
    const map = uniqueName("pgstats");
    const c = await client(map);
    await proxy.cut();
    try {
      await c.write([lwwPut(map, "k", 1, new HLC("writera").now())]);
      const stats = await readStats();
      expect(stats).toMatchObject({ namespace: "default", writeThrough: true });
      expect(stats.outboxDepth).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.resume();
    }
    const drained = await eventually(readStats, (s) => s.outboxDepth === 0, 30_000);
    expect(drained).toMatchObject({ outboxDepth: 0, lagMs: 0 });
  });

  it("acknowledges a PERSISTED write only once its row is in Postgres", async () => {
    const map = uniqueName("pgpersisted");
    const c = await client(map);
    const ack = await c.write([lwwPut(map, "k", "durable", new HLC("writera").now())], { writeConcern: "PERSISTED" });
    const rows = await rowsOf(map);
    expect(ack.payload.achievedLevel).toBe("PERSISTED");
    expect(rows.map((r) => r.value)).toEqual(["durable"]);
  });

  it("reports the level reached when Postgres does not answer in time", async () => {
    const map = uniqueName("pgtimeout");
    const c = await client(map);
    await proxy.cut();
    try {
      const op = { ...lwwPut(map, "k", "late", new HLC("writera").now()), timeout: 1_000 };
      const ack = await c.write([op], { writeConcern: "PERSISTED", timeoutMs: 10_000 });
      expect(ack.payload.achievedLevel).toBe("APPLIED");
    } finally {
      await proxy.resume();
    }
  });

  it("restores a wiped namespace from Postgres with the same records and Merkle roots", async () => {
    const map = uniqueName("pgrestore");
    const c = await client(map);
    const hlc = new HLC("writera");
    const ops = Array.from({ length: 300 }, (_, i) => lwwPut(map, `k${i}`, { i }, hlc.now()));
    await c.write(ops);
    await c.write(Array.from({ length: 30 }, (_, i) => lwwRemove(map, `k${i}`, hlc.now())));
    const before = new LWWMap(new HLC("readera"));
    const synced = await clientSync(c, map, before);
    await eventually(() => rowsOf(map), (r) => r.filter((row) => row.tombstone).length === 30);

    const fresh = await startServer({ noAuth: true, databaseUrl: databaseUrl(proxy.port) });
    try {
      const result = await restoreNamespace({ databaseUrl: databaseUrl(5432), serverUrl: fresh.wsUrl(), namespace: "default" });
      expect(result.lww).toBeGreaterThanOrEqual(300);
      const after = new LWWMap(new HLC("readerb"));
      const reader = await client(map, fresh);
      const restored = await clientSync(reader, map, after);
      expect(restored.serverRoot).toBe(synced.serverRoot);
      expect(after.merkleTree.getRootHash()).toBe(before.merkleTree.getRootHash());
      expect(after.getRecord("k0")).toEqual(before.getRecord("k0"));
    } finally {
      await fresh.stop();
    }
  });
});
