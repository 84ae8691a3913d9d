// Memory of the local server as objects fill: three rounds, each writing 20 s at 10 connections into 10 new maps
// (a new owner object each, the write benchmark's load), and after each round the server workerd's V8 heap (used and
// total, before and after a forced GC, through the workerd inspector) and the resident size of its processes.
// The live heap after GC, per object written, is what the in-memory structures hold (the LWW head index's bounds are
// in core/limits.ts); the rest of the resident size is the runtime's (SQLite databases and their caches).
// Over the whole run V8's sampling heap profiler records where the objects still live at the end were allocated:
// `liveBySite` gives the largest allocation sites (function, file:line) and their estimated MB.
// Each round also reads the isolate's cache bytes as the budget counts them (`/api/admin/status`, so the server
// verifies tokens here) and answers `heapPerEstimatedByte`: the live heap the writes added (after GC, over the idle
// server's) per byte the budget counts. The objects' own state is in that growth too, so a figure near 1 means the
// estimate counts what workerd really holds, and below 1 that it errs high.
// Usage: node --experimental-strip-types bench/memory.ts   (writes bench/results/memory-<date>.json)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findFreePort, PROJECT_ROOT, startServer } from "../test/support/server-harness.ts";
import { forEachServerProcess } from "./cpu-of-server.ts";
import { openInspector } from "./inspector.ts";
import { throughput } from "./writes.ts";
import { signToken } from "../test/support/tokens.ts";

const SECRET = "bench-memory-secret";

const ROUND_MS = 20_000;
const ROUNDS = 3;
const CONNECTIONS = 10;

/** Resident MB of each workerd process of the server (wrangler's proxy and the server itself), by pid. */
function residentMb(stateDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  forEachServerProcess(stateDir, (pid, name) => {
    if (name !== "workerd") return;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "latin1");
      out[`workerd-${pid}`] = Math.round(Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0) / 1024);
    } catch {
      // The process ended meanwhile.
    }
  });
  return out;
}

type InspectorCall = (method: string, params?: object) => Promise<unknown>;

/** The server isolate's heap in MB, before and after a forced GC. */
async function heapMb(call: InspectorCall) {
  type HeapUsage = { usedSize: number; totalSize: number };
  await call("Runtime.enable");
  const before = (await call("Runtime.getHeapUsage")) as HeapUsage;
  await call("HeapProfiler.collectGarbage");
  const after = (await call("Runtime.getHeapUsage")) as HeapUsage;
  const mb = (n: number) => Math.round(n / 1e6);
  return { usedBeforeGc: mb(before.usedSize), totalBeforeGc: mb(before.totalSize), usedAfterGc: mb(after.usedSize), totalAfterGc: mb(after.totalSize) };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** The live sampled bytes by allocation site (the allocating function and its caller), largest first, in MB. */
function liveBySite(root: SamplingNode, top = 15): { site: string; mb: number }[] {
  const bySite = new Map<string, number>();
  const frame = (node: SamplingNode) =>
    `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber + 1}`;
  const walk = (node: SamplingNode, parent: string) => {
    const site = `${frame(node)} <- ${parent}`;
    if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, frame(node));
  };
  walk(root, "");
  return [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([site, bytes]) => ({ site, mb: Math.round(bytes / 1e5) / 10 }));
}

const inspectorPort = await findFreePort();
process.env.INSPECTOR_PORT = String(inspectorPort);
const server = await startServer({ jwtSecret: SECRET, settings: { TOPGUN_OP_RATE: "off" } });
const token = await signToken({ secret: SECRET, sub: "bench-writer" });
const adminToken = await signToken({ secret: SECRET, sub: "bench-ops", roles: ["admin"] });
const stamp = Date.now();
const inspector = await openInspector(inspectorPort);
try {
  await inspector.call("HeapProfiler.startSampling", { samplingInterval: 16 * 1024 });
  const rounds = [];
  // The idle server's heap, once the isolate runs (read without a forced GC: the inspector's collectGarbage does not
  // answer before the first writes here; an idle isolate holds little garbage).
  await fetch(`${server.url}/health`);
  await inspector.call("Runtime.enable");
  const idleHeapMb = Math.round(((await inspector.call("Runtime.getHeapUsage")) as { usedSize: number }).usedSize / 1e6);
  for (let round = 1; round <= ROUNDS; round++) {
    const run = await throughput(server.wsUrl, CONNECTIONS, (i) => `memory-${round}-${i}-${stamp}`, ROUND_MS, { token });
    const heap = await heapMb(inspector.call);
    const status = (await (await fetch(`${server.url}/api/admin/status`, { headers: { Authorization: `Bearer ${adminToken}` } })).json()) as { isolateCacheBytes: number };
    const estimatedMb = status.isolateCacheBytes / 1e6;
    const result = {
      objectsWritten: round * CONNECTIONS, opsPerSecond: run.opsPerSecond, heapMb: heap, residentMb: residentMb(server.stateDir),
      idleHeapMb, estimatedCacheMb: Math.round(estimatedMb), heapPerEstimatedByte: Math.round((100 * (heap.usedAfterGc - idleHeapMb)) / estimatedMb) / 100,
    };
    console.log(JSON.stringify(result));
    rounds.push(result);
  }
  const { profile } = (await inspector.call("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
  const live = liveBySite(profile.head);
  console.log(live);
  const file = join(PROJECT_ROOT, "bench", "results", `memory-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), roundMs: ROUND_MS, connections: CONNECTIONS, rounds, liveBySite: live }, null, 1)}\n`);
  console.log(`written ${file}`);
} finally {
  inspector.close();
  await server.stop();
}
