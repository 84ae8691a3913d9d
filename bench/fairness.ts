// How fairly the local runtime shares its thread among Durable Objects once it is saturated: 10 connections, each to
// its own object of bench/do-echo/ (which spends BURN_MS of CPU per 100-op frame, about what the real server spends,
// then writes one row and answers OP_ACK), driven by the write benchmark's load. For each variant (hibernatable or
// plain socket, with or without the SQLite row) it records the acknowledged ops of each connection and the longest
// time a connection waited for an OP_ACK. None of the real server runs, so starvation seen here is the runtime's.
// Usage: node --experimental-strip-types bench/fairness.ts [seconds per run]   (writes bench/results/fairness-<date>.json)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, webSocketUrl } from "../test/support/server-harness.ts";
import { startSideWorker } from "./side-worker.ts";
import { throughput } from "./writes.ts";

const seconds = Number(process.argv[2] ?? 6);
const BURN_MS = Number(process.env.BURN_MS ?? 2.5);
const RUNS = 3;
const CONNECTIONS = 10;
const VARIANTS: Record<string, Record<string, string>> = {
  "hibernatable socket, one SQLite row per frame": {},
  "hibernatable socket, no storage": { storage: "off" },
  "plain socket, no storage": { socket: "plain", storage: "off" },
};

const worker = await startSideWorker("do-echo");
try {
  const out: Record<string, unknown[]> = {};
  for (const [variant, params] of Object.entries(VARIANTS)) {
    out[variant] = [];
    for (let run = 0; run < RUNS; run++) {
      const wsUrl = (p: Record<string, string>) => webSocketUrl(worker.url, { ...p, ...params, burnMs: String(BURN_MS) });
      const result = await throughput(wsUrl, CONNECTIONS, (i) => `fair-${i}-${run}-${variant}`, seconds * 1000, { token: "bench" });
      const perConnection = result.perConnection ?? [];
      const summary = {
        opsPerSecond: result.opsPerSecond,
        batchMs: result.batchMs,
        longestAckGapMs: result.longestAckGapMs,
        perConnection,
        // Connections that got under a tenth of a fair share of the acknowledged ops.
        starved: perConnection.filter((ops) => ops < result.ops / CONNECTIONS / 10).length,
      };
      console.log(variant, JSON.stringify(summary));
      out[variant].push(summary);
    }
  }
  const file = join(PROJECT_ROOT, "bench", "results", `fairness-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), burnMs: BURN_MS, connections: CONNECTIONS, seconds, runs: out }, null, 1)}\n`);
  console.log(`written ${file}`);
} finally {
  await worker.stop();
}
