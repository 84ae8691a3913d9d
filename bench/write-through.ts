import pg from "pg";
import { migrate, readMigrations } from "../migrations/runner.ts";
import { startServer } from "../test/support/server-harness.ts";
import { TcpProxy } from "../test/support/tcp-proxy.ts";
import { BenchSocket } from "./bench-socket.ts";
import { percentiles, round } from "./measure.ts";
import { throughput } from "./writes.ts";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const LAG_SAMPLES = 30;

interface Stats {
  outboxDepth: number;
  lagMs: number;
}

/**
 * Write throughput with Postgres write-through on (10 connections, a map each), how long the outbox takes to
 * drain afterwards, and the lag from one acknowledged write to its row in Postgres.
 */
export async function writeThroughCost(durationMs: number) {
  const database = `topgun_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  await migrate(db, readMigrations(`${import.meta.dirname}/../migrations`));
  const server = await startServer({ noAuth: true, databaseUrl: url.toString() });
  try {
    const stats = async (): Promise<Stats> => (await (await fetch(`${server.url}/stats`)).json()) as Stats;
    const stamp = Date.now();
    let maxLagMs = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxLagMs = Math.max(maxLagMs, (await stats()).lagMs);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const writes = await throughput(server.wsUrl, 10, (i) => `bench-wt-${i}-${stamp}`, durationMs);
    sampling = false;
    await sampler;
    const drainStart = performance.now();
    while ((await stats()).outboxDepth > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const drainMs = performance.now() - drainStart;

    const map = `bench-wt-lag-${stamp}`;
    const socket = await BenchSocket.open(server.wsUrl({ map }));
    const lags: number[] = [];
    for (let n = 0; n < LAG_SAMPLES; n++) {
      const acked = socket.next("OP_ACK");
      socket.send({ type: "CLIENT_OP", payload: { id: String(n), mapName: map, key: `k${n}`, record: { value: n, timestamp: { millis: Date.now(), counter: 0, nodeId: "bench" } } } });
      await acked;
      const ackedAt = performance.now();
      while ((await db.query("SELECT 1 FROM lww_records WHERE map = $1 AND key = $2", [map, `k${n}`])).rows.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      lags.push(performance.now() - ackedAt);
    }
    socket.close();
    const rows = (await db.query("SELECT count(*)::int AS n FROM lww_records")).rows[0]?.n;
    const outage = await outageDrain(url.toString(), db);
    return {
      tenConnectionsMapEach: writes,
      maxOutboxLagDuringRunMs: maxLagMs,
      drainAfterRunMs: round(drainMs),
      rowsInPostgres: rows,
      ackToRowInPostgresMs: percentiles(lags),
      outage,
    };
  } finally {
    await server.stop();
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

const OUTAGE_MS = 16_000;
const OUTAGE_MAPS = 20;

/**
 * Postgres goes away for 16 s while 2,000 changes are written over 20 maps (so over many partitions), then comes
 * back with nobody writing: how long until every row is in Postgres (the retry backoff's cap decides it).
 */
async function outageDrain(databaseUrl: string, db: pg.Client) {
  const target = new URL(databaseUrl);
  const proxy = await TcpProxy.start(Number(target.port || 5432));
  target.port = String(proxy.port);
  const server = await startServer({ noAuth: true, databaseUrl: target.toString() });
  const stamp = Date.now();
  const maps = Array.from({ length: OUTAGE_MAPS }, (_, i) => `bench-outage-${i}-${stamp}`);
  try {
    await proxy.cut();
    for (const map of maps) {
      const socket = await BenchSocket.open(server.wsUrl({ map }));
      const acked = socket.next("OP_ACK");
      const ops = Array.from({ length: 100 }, (_, i) => ({
        id: String(i), mapName: map, key: `k${i}`, opType: "PUT", record: { value: i, timestamp: { millis: Date.now(), counter: i, nodeId: "bench" } },
      }));
      socket.send({ type: "OP_BATCH", payload: { ops } });
      await acked;
      socket.close();
    }
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await proxy.resume();
    const back = performance.now();
    const count = async () => Number((await db.query("SELECT count(*)::int AS n FROM lww_records WHERE map = ANY($1)", [maps])).rows[0]?.n ?? 0);
    while ((await count()) < OUTAGE_MAPS * 100) {
      if (performance.now() - back > 120_000) throw new Error("the outbox did not drain within 120 s of Postgres coming back");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { outageMs: OUTAGE_MS, changes: OUTAGE_MAPS * 100, partitionsWritten: OUTAGE_MAPS, allInPostgresAfterMs: round(performance.now() - back) };
  } finally {
    await server.stop();
    await proxy.stop();
  }
}
