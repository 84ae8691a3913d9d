// CPU profile of the local server under a write load, through the workerd inspector's CDP Profiler domain.
// Usage: node --experimental-strip-types bench/profile.ts [one|ten|sharded|connect|query|topic] [out.cpuprofile]
// (connect: 300 clients connecting and authenticating at once, bench/connect.ts, after one untimed round; query and
// topic: the live-latency loops of bench/live-latency.ts, after one untimed run)
// Prints the functions with the most self and inclusive samples (native SQLite time shows as "exec :0"), and
// writes the profile (open it in Chrome DevTools) and a copy of the bundle its line numbers refer to.
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { findFreePort, startServer, PROJECT_ROOT } from "../test/support/server-harness.ts";
import { openInspector } from "./inspector.ts";
import { throughput } from "./writes.ts";
import { CONNECT_SECRET, connectAll, connectTokens } from "./connect.ts";
import { queryLatency, topicLatency } from "./live-latency.ts";

const mode = process.argv[2] ?? "sharded";
const out = process.argv[3] ?? `profile-${mode}.cpuprofile`;
const SHARDED_MAP = "bench-sharded";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

async function main() {
  const inspectorPort = await findFreePort();
  process.env.INSPECTOR_PORT = String(inspectorPort);
  const server = await startServer(mode === "connect" ? { jwtSecret: CONNECT_SECRET } : { noAuth: true, shardedMaps: `${SHARDED_MAP}:271`, settings: { TOPGUN_OP_RATE: "off" } });
  const stamp = Date.now();
  const tokens = mode === "connect" ? await connectTokens() : [];
  const load = async (warmUp: boolean) => {
    if (mode === "connect") return connectAll(server.wsUrl, tokens, stamp);
    if (mode === "query") return queryLatency(server.wsUrl);
    if (mode === "topic") return topicLatency(server.wsUrl);
    return warmUp
      ? throughput(server.wsUrl, connections, mapOf, 3000, { warmUpBatches: mode === "sharded" ? 5 : 0 })
      : throughput(server.wsUrl, connections, mapOf, 6000);
  };
  const connections = mode === "one" ? 1 : 10;
  const mapOf = mode === "sharded" ? () => SHARDED_MAP : mode === "one" ? () => `one-${stamp}` : (i: number) => `ten-${i}-${stamp}`;
  try {
    console.log("warm-up", await load(true));
    const { call, close } = await openInspector(inspectorPort);
    await call("Profiler.enable");
    await call("Profiler.setSamplingInterval", { interval: 200 });
    await call("Profiler.start");
    console.log("measured", await load(false));
    const { profile } = (await call("Profiler.stop")) as { profile: Profile };
    close();
    writeFileSync(out, JSON.stringify(profile));
    const bundle = execSync(`ls -td ${PROJECT_ROOT}/.wrangler/tmp/*/ | head -1`).toString().trim();
    writeFileSync(`${out}.bundle.js`, readFileSync(`${bundle}index.js`));
    summarize(profile);
  } finally {
    await server.stop();
  }
}

function summarize(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").at(-1)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const sample of profile.samples) {
    const node = byId.get(sample)!;
    self.set(name(node), (self.get(name(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const label = name(byId.get(id)!);
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + 1);
    }
  }
  const total = profile.samples.length;
  const top = (counts: Map<string, number>, n: number) =>
    [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([label, count]) => `${((100 * count) / total).toFixed(1).padStart(5)}% ${label}`).join("\n");
  console.log(`samples: ${total}\n== self\n${top(self, 30)}\n== inclusive\n${top(inclusive, 40)}`);
}

await main();
