// npm run bench: starts the local server and measures write throughput and Merkle sync cost.
// Results are printed and recorded in bench/results/ (latest.json and a dated copy).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/support/server-harness.ts";
import { BenchSocket } from "./bench-socket.ts";
import { Replica, merklePull } from "./merkle-pull.ts";

const SHARDED_MAP = "bench-sharded";
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const BATCH = 100;
const WINDOW = 4; // batches in flight per connection
const SYNC_KEYS = 10_000;

let nodeCounter = 0;
function batchOf(map: string, prefix: string, keySpace: number, id: number) {
  const nodeId = `bench-${nodeCounter++ % 1000}`;
  const now = Date.now();
  const ops = [];
  for (let i = 0; i < BATCH; i++) {
    const key = `${prefix}${Math.floor(Math.random() * keySpace)}`;
    ops.push({
      id: String(id * BATCH + i),
      mapName: map,
      key,
      opType: "PUT",
      record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: now, counter: i, nodeId } },
    });
  }
  return { type: "OP_BATCH", payload: { ops } };
}

async function throughput(wsUrl: (p: Record<string, string>) => string, connections: number, mapOf: (i: number) => string) {
  const sockets = await Promise.all(
    Array.from({ length: connections }, (_, i) => BenchSocket.open(wsUrl({ map: mapOf(i), clientId: `bench-${i}` }))),
  );
  let acked = 0;
  const end = Date.now() + DURATION_MS;
  const started = Date.now();
  await Promise.all(
    sockets.map(
      (socket, i) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          let id = 0;
          const pump = () => {
            while (inFlight < WINDOW && Date.now() < end) {
              socket.send(batchOf(mapOf(i), `k${i}-`, 100_000, id++));
              inFlight++;
            }
            if (inFlight === 0) resolve();
          };
          socket.onMessage((message) => {
            if (message.type !== "OP_ACK") return;
            inFlight--;
            acked += BATCH;
            pump();
          });
          pump();
        }),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  for (const socket of sockets) socket.close();
  return { connections, ops: acked, seconds: round(seconds), opsPerSecond: Math.round(acked / seconds) };
}

async function syncCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-sync-${Date.now()}`;
  const writer = await BenchSocket.open(wsUrl({ map }));
  const keys = Array.from({ length: SYNC_KEYS }, (_, i) => `item-${i}`);
  const write = async (subset: string[], tag: string) => {
    for (let start = 0; start < subset.length; start += 500) {
      const now = Date.now();
      const ops = subset.slice(start, start + 500).map((key, i) => ({
        id: `${tag}-${start + i}`,
        mapName: map,
        key,
        record: { value: { key, tag, score: i }, timestamp: { millis: now, counter: i, nodeId: "bench-writer" } },
      }));
      const acked = writer.next("OP_ACK");
      writer.send({ type: "OP_BATCH", payload: { ops } });
      await acked;
    }
  };
  await write(keys, "v1");

  const reader = await BenchSocket.open(wsUrl({ map }));
  const replica = new Replica();
  const before = reader.bytesIn;
  const t0 = performance.now();
  const full = await merklePull(reader, map, replica);
  const fullMs = performance.now() - t0;
  const fullBytes = reader.bytesIn - before;
  if (replica.tree.getRootHash() !== full.rootHash || replica.records.size !== SYNC_KEYS) {
    throw new Error(`full sync diverged: ${replica.records.size} records`);
  }

  // The reader goes offline, 1% of the keys change, and it comes back with its replica and re-syncs.
  reader.close();
  await write(keys.filter((_, i) => i % 100 === 0), "v2");
  const returning = await BenchSocket.open(wsUrl({ map }));
  const before2 = returning.bytesIn;
  const t1 = performance.now();
  const delta = await merklePull(returning, map, replica);
  const deltaMs = performance.now() - t1;
  const deltaBytes = returning.bytesIn - before2;
  if (replica.tree.getRootHash() !== delta.rootHash) throw new Error("re-sync diverged");
  writer.close();
  returning.close();
  return {
    keys: SYNC_KEYS,
    fullSync: { ms: round(fullMs), bytes: fullBytes, requests: full.requests, records: full.records },
    resyncAfter1Percent: {
      ms: round(deltaMs),
      bytes: deltaBytes,
      requests: delta.requests,
      records: delta.records,
      percentOfFullBytes: round((100 * deltaBytes) / fullBytes),
    },
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main() {
  const server = await startServer({ noAuth: true, shardedMaps: `${SHARDED_MAP}:271` });
  const stamp = Date.now();
  try {
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
      settings: { durationMs: DURATION_MS, batch: BATCH, window: WINDOW },
      writes: {
        oneConnection: await throughput(server.wsUrl, 1, () => `bench-one-${stamp}`),
        tenConnectionsMapEach: await throughput(server.wsUrl, 10, (i) => `bench-ten-${i}-${stamp}`),
        tenConnectionsSharded271: await throughput(server.wsUrl, 10, () => SHARDED_MAP),
      },
      sync: await syncCost(server.wsUrl),
    };
    const text = JSON.stringify(results, null, 2);
    console.log(text);
    const dir = join(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "latest.json"), text + "\n");
    writeFileSync(join(dir, `${results.date.slice(0, 10)}.json`), text + "\n");
  } finally {
    await server.stop();
  }
}

await main();
