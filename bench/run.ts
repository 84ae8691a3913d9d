// npm run bench: starts local servers and measures write throughput, Merkle sync cost, live-query and topic
// latency, and Postgres write-through. Results are printed and recorded in bench/results/ (latest.json and a dated copy).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/support/server-harness.ts";
import { bundleSizes } from "./bundle-size.ts";
import { coldStart } from "./cold-start.ts";
import { queryLatency, topicLatency, topicStream } from "./live-latency.ts";
import { queryCost } from "./queries.ts";
import { syncCost } from "./sync.ts";
import { connectCost } from "./connect.ts";
import { WRITE_SETTINGS, throughput } from "./writes.ts";
import { shareOf, startEchoServer, type EchoServer } from "./echo-ceiling.ts";
import { writeThroughCost } from "./write-through.ts";
import { accessCost } from "./access-cost.ts";
import { schemaCost } from "./schema-cost.ts";
import { HTTP_SETTINGS, httpThroughput } from "./http.ts";
import { reshardCost } from "./reshard.ts";
import { gcCost } from "./gc.ts";
import { cpuDelta, serverCpuMs, waitUntilQuiet } from "./cpu-of-server.ts";

const SHARDED_MAP = "bench-sharded";
/** The map whose fresh pull `sync` measures sharded (`shardedFullSync`). */
const SHARDED_SYNC_MAP = { name: "bench-sync-sharded", shards: 8 };
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const SUSTAINED_MS = Number(process.env.BENCH_SUSTAINED_SECONDS ?? 60) * 1000;
/** How long the echo ceiling is measured right before each write measure. */
const CEILING_MS = 3000;
/**
 * BENCH_ONLY=writes,sync runs only those parts (ceiling, writes, sustained, sync, connect, live, queries, writeThrough, access,
 * schemas, bundles, coldStart, http, reshard, gc) and records nothing.
 */
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : undefined;
/** Set by main: waits until the server has finished the work an earlier part left (compactions, alarms). */
let settle: () => Promise<void> = async () => {};
const part = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
  if (ONLY && !ONLY.has(name)) return undefined;
  await settle();
  return run();
};

/** Ops of the last 10 s of a run against its first 10 s, in percent. */
function lastVsFirst(perSecond: readonly number[]): number {
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const whole = perSecond.slice(0, Math.floor(SUSTAINED_MS / 1000));
  return Math.round((1000 * sum(whole.slice(-10))) / Math.max(1, sum(whole.slice(0, 10)))) / 10;
}

type WsUrl = (params: Record<string, string>) => string;

/**
 * A write throughput and, measured right before it with the same connection count, the echo ceiling (machines of
 * this kind are shared and vary: the share of the ceiling is the figure that compares across runs). Also the CPU the
 * server's processes used during the run per acknowledged op (`serverCpuUsPerOp`; CPU time, so a busy machine moves
 * it less than it moves the throughput; from the end of the warm-up to the last ack, compactions that ran meanwhile and wrangler's proxy included).
 */
async function measured(
  echo: EchoServer | undefined,
  target: { wsUrl: WsUrl; stateDir: string },
  connections: number,
  mapOf: (i: number) => string,
  options: { durationMs: number; warmUpBatches?: number; window?: number },
) {
  const { durationMs, ...load } = options;
  await settle();
  const ceiling = echo
    ? (await throughput(echo.wsUrl, connections, (i) => `echo-${i}`, CEILING_MS, options.window ? { window: options.window } : {})).opsPerSecond
    : undefined;
  let cpuBefore: Record<string, number> = {};
  const run = await throughput(target.wsUrl, connections, mapOf, durationMs, { ...load, onMeasureStart: () => (cpuBefore = serverCpuMs(target.stateDir)) });
  const serverCpu = cpuDelta(cpuBefore, serverCpuMs(target.stateDir));
  const cpuMs = Object.values(serverCpu).reduce((a, b) => a + b, 0);
  const withCpu = { ...run, serverCpuMs: serverCpu, serverCpuUsPerOp: Math.round((10_000 * cpuMs) / Math.max(1, run.ops)) / 10 };
  return ceiling ? { ...withCpu, echoCeilingOpsPerSecond: ceiling, shareOfCeilingPercent: shareOf(run.opsPerSecond, ceiling) } : withCpu;
}

async function main() {
  // The echo Worker runs beside the real server the whole time (idle between its measures).
  const echo = !ONLY || ONLY.has("ceiling") ? await startEchoServer() : undefined;
  // The op budget (20,000 ops/s per connection by default) is off: the bench measures what the server can take.
  const shardedMaps = `${SHARDED_MAP}:271,${SHARDED_SYNC_MAP.name}:${SHARDED_SYNC_MAP.shards}`;
  const server = await startServer({ noAuth: true, shardedMaps, settings: { TOPGUN_OP_RATE: "off" } });
  const stamp = Date.now();
  // Each part starts once the server is idle again, so one part's background work does not slow the next.
  settle = async () => {
    const waited = await waitUntilQuiet(server.stateDir);
    if (waited > 1500) console.error(`[bench] waited ${(waited / 1000).toFixed(1)} s for the server to go quiet`);
  };
  try {
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
      settings: { durationMs: DURATION_MS, sustainedMs: SUSTAINED_MS, ceilingMs: CEILING_MS, ...WRITE_SETTINGS },
      writes: await part("writes", async () => ({
        oneConnection: await measured(echo, server, 1, () => `bench-one-${stamp}`, { durationMs: DURATION_MS }),
        tenConnectionsMapEach: await measured(echo, server, 10, (i) => `bench-ten-${i}-${stamp}`, { durationMs: DURATION_MS }),
        tenConnectionsSharded271: await measured(echo, server, 10, () => SHARDED_MAP, { durationMs: DURATION_MS, warmUpBatches: 5 }),
      })),
      sustained: await part("sustained", async () => {
        const run = await measured(echo, server, 10, (i) => `bench-long-${i}-${stamp}`, { durationMs: SUSTAINED_MS });
        // The issue's own load: each connection sends its next batch when the last one is acknowledged (one in flight),
        // which is what its p99 target is for; with 4 in flight Little's law alone puts a batch's wait at ~40 batches'
        // worth of work.
        // `measured` first lets the objects of the run above compact the backlog its saturation left (their alarms do
        // not fire while the local runtime is saturated), which would otherwise slow this run's first seconds.
        const oneInFlight = await measured(echo, server, 10, (i) => `bench-long1-${i}-${stamp}`, { durationMs: SUSTAINED_MS, window: 1 });
        return {
          ...run,
          lastTenSecondsVsFirstPercent: lastVsFirst(run.perSecond),
          oneInFlight: { ...oneInFlight, lastTenSecondsVsFirstPercent: lastVsFirst(oneInFlight.perSecond) },
        };
      }),
      sync: await part("sync", () => syncCost(server.wsUrl, SHARDED_SYNC_MAP)),
      connect: await part("connect", () => connectCost()),
      liveQueries: await part("live", () => queryLatency(server.wsUrl)),
      topics: await part("live", () => topicLatency(server.wsUrl)),
      topicStream: await part("live", () => topicStream(server.wsUrl)),
      queries: await part("queries", () => queryCost(server.wsUrl)),
      writeThrough: await part("writeThrough", () => writeThroughCost(DURATION_MS)),
      accessPolicies: await part("access", () => accessCost(DURATION_MS)),
      mapSchemas: await part("schemas", () => schemaCost(DURATION_MS)),
      bundles: await part("bundles", () => bundleSizes()),
      coldStart: await part("coldStart", () => coldStart()),
      http: await part("http", async () => ({ settings: HTTP_SETTINGS, ...(await httpThroughput(server.url, DURATION_MS)) })),
      reshard: await part("reshard", () => reshardCost(DURATION_MS)),
      tombstoneGc: await part("gc", () => gcCost(server.wsUrl)),
    };
    const text = JSON.stringify(results, null, 2);
    console.log(text);
    if (ONLY) return;
    const dir = join(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "latest.json"), text + "\n");
    writeFileSync(join(dir, `${results.date.slice(0, 10)}.json`), text + "\n");
  } finally {
    await server.stop();
    await echo?.stop();
  }
}

await main();
