// Memory of the local server as objects fill: three rounds, each writing 20 s at 10 connections into 10 new maps
// (a new owner object each, the write benchmark's load), and after each round the server workerd's V8 heap (used and
// total, before and after a forced GC, through the workerd inspector) and the resident size of its processes.
// The live heap after GC, per object written, is what the in-memory structures hold (the LWW head index's bounds are
// in core/limits.ts); the rest of the resident size is the runtime's (SQLite databases and their caches).
// Usage: node --experimental-strip-types bench/memory.ts   (writes bench/results/memory-<date>.json)
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { PROJECT_ROOT, startServer } from "../test/support/server-harness.ts";
// @ts-expect-error ws (a wrangler dependency) ships no types; Node's own WebSocket cannot send an Origin header.
import WebSocket from "ws";
import { throughput } from "./writes.ts";

const ROUND_MS = 20_000;
const ROUNDS = 3;
const CONNECTIONS = 10;
// The dev server's inspector only accepts DevTools' origin.
const DEVTOOLS_ORIGIN = "https://devtools.devprod.cloudflare.dev";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Resident MB of each workerd process of the server (wrangler's proxy and the server itself), by pid. */
function residentMb(stateDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "latin1").includes(`TOPGUN_STATE_DIR=${stateDir}\0`)) continue;
      const status = readFileSync(`/proc/${entry}/status`, "latin1");
      if (status.match(/^Name:\s+(\S+)/m)?.[1] !== "workerd") continue;
      out[`workerd-${entry}`] = Math.round(Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0) / 1024);
    } catch {
      // The process ended, or is not ours to read.
    }
  }
  return out;
}

/** The server isolate's heap in MB, before and after a forced GC. */
async function heapMb(inspectorPort: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { headers: { Origin: DEVTOOLS_ORIGIN } });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, (result: { usedSize: number; totalSize: number }) => void>();
  ws.on("message", (data: unknown) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: { usedSize: number; totalSize: number } };
    if (message.id !== undefined && message.result) pending.get(message.id)?.(message.result);
  });
  const call = (method: string) =>
    new Promise<{ usedSize: number; totalSize: number }>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params: {} }));
    });
  await call("Runtime.enable");
  const before = await call("Runtime.getHeapUsage");
  await call("HeapProfiler.collectGarbage");
  const after = await call("Runtime.getHeapUsage");
  ws.close();
  const mb = (n: number) => Math.round(n / 1e6);
  return { usedBeforeGc: mb(before.usedSize), totalBeforeGc: mb(before.totalSize), usedAfterGc: mb(after.usedSize), totalAfterGc: mb(after.totalSize) };
}

const inspectorPort = await freePort();
process.env.INSPECTOR_PORT = String(inspectorPort);
const server = await startServer({ noAuth: true, settings: { TOPGUN_OP_RATE: "off" } });
const stamp = Date.now();
try {
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const run = await throughput(server.wsUrl, CONNECTIONS, (i) => `memory-${round}-${i}-${stamp}`, ROUND_MS);
    const heap = await heapMb(inspectorPort);
    const result = { objectsWritten: round * CONNECTIONS, opsPerSecond: run.opsPerSecond, heapMb: heap, residentMb: residentMb(server.stateDir) };
    console.log(JSON.stringify(result));
    rounds.push(result);
  }
  const file = join(PROJECT_ROOT, "bench", "results", `memory-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), roundMs: ROUND_MS, connections: CONNECTIONS, rounds }, null, 1)}\n`);
  console.log(`written ${file}`);
} finally {
  await server.stop();
}
