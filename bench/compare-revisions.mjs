#!/usr/bin/env node
// A/B write throughput (or, with PART=coldStart, cold start; PART=live, live-query and topic latency; PART=connect,
// open → AUTH_ACK of 300 clients to running homes) of several git revisions on this machine, rounds
// interleaved so each revision sees the same load: `node bench/compare-revisions.mjs <rev> <rev> [...]` (ROUNDS,
// BENCH_SECONDS, PART). Each revision runs its own `bench/run.ts` with BENCH_ONLY=<part> in a temporary worktree
// sharing this checkout's node_modules; the medians are printed and recorded in bench/results/compare-<date>.json.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const revisions = process.argv.slice(2);
if (revisions.length < 2) {
  console.error("usage: node bench/compare-revisions.mjs <rev> <rev> [...]");
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? 3);
const seconds = process.env.BENCH_SECONDS ?? "4";
const benchPart = process.env.PART ?? "writes";
/** The figures compared, read from one run's results. */
const FIGURES = {
  writes: (results) => {
    const pick = (name) => results.writes?.[name]?.opsPerSecond ?? results.writes?.[name]?.ops?.opsPerSecond;
    // Server CPU µs per op, where the revision's bench records it (CPU time moves less with the machine's load).
    const cpu = (name) => results.writes?.[name]?.serverCpuUsPerOp;
    return {
      oneConnection: pick("oneConnection"), tenConnections: pick("tenConnectionsMapEach"), sharded: pick("tenConnectionsSharded271"),
      oneCpuUsPerOp: cpu("oneConnection"), tenCpuUsPerOp: cpu("tenConnectionsMapEach"), shardedCpuUsPerOp: cpu("tenConnectionsSharded271"),
    };
  },
  live: (results) => ({
    queryP50: results.liveQueries?.writeToQueryUpdateMs?.p50,
    queryP99: results.liveQueries?.writeToQueryUpdateMs?.p99,
    topicP50: results.topics?.publishToReceiveMs?.p50,
    topicP99: results.topics?.publishToReceiveMs?.p99,
    topicStreamPerSecond: results.topicStream?.deliveredPerSecond,
    topicStreamPublisherFreeMs: results.topicStream?.publisherFreeMs,
  }),
  connect: (results) => {
    const running = results.connect?.openToAuthAckMs?.runningHomes ?? [];
    return { connectP50: running[0]?.p50, connectP99: running[0]?.p99, connectP99Second: running[1]?.p99 };
  },
  coldStart: (results) => ({
    serverStartMs: results.coldStart?.serverStartMs,
    firstAuthRequiredMs: results.coldStart?.firstAuthRequiredMs,
    workerModuleLoadMs: results.coldStart?.workerModuleLoadMs,
  }),
};
const figuresOf = FIGURES[benchPart];
if (!figuresOf) {
  console.error(`PART must be one of ${Object.keys(FIGURES).join(", ")}`);
  process.exit(2);
}

const trees = revisions.map((rev) => {
  const sha = execFileSync("git", ["rev-parse", "--short", rev], { cwd: root, encoding: "utf8" }).trim();
  const dir = join(tmpdir(), `topgun-ab-${sha}`);
  if (!existsSync(dir)) execFileSync("git", ["worktree", "add", "--detach", dir, sha], { cwd: root, stdio: "ignore" });
  if (!existsSync(join(dir, "node_modules"))) symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return { rev, sha, dir, runs: [] };
});

/** The first JSON object printed by bench/run.ts. */
function resultsOf(stdout) {
  const start = stdout.indexOf("{\n");
  return JSON.parse(stdout.slice(start, stdout.lastIndexOf("\n}") + 2));
}

for (let round = 0; round < rounds; round++) {
  for (const tree of trees) {
    const run = spawnSync(process.execPath, ["--experimental-strip-types", "bench/run.ts"], {
      cwd: tree.dir,
      env: { ...process.env, BENCH_ONLY: benchPart, BENCH_SECONDS: seconds },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`${tree.rev}: bench failed\n${run.stderr.slice(-2000)}`);
    tree.runs.push(figuresOf(resultsOf(run.stdout)));
    const figures = Object.entries(tree.runs.at(-1)).map(([name, value]) => `${name}=${value}`);
    console.error(`round ${round + 1}: ${tree.rev} (${tree.sha}) ${figures.join(" ")}`);
  }
}

const median = (xs) => {
  const sorted = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.floor(sorted.length / 2)];
};
const mediansOf = (runs) => Object.fromEntries(Object.keys(runs[0] ?? {}).map((name) => [`${name}Median`, median(runs.map((r) => r[name]))]));
const summary = {
  date: new Date().toISOString(),
  part: benchPart,
  rounds,
  secondsPerRun: Number(seconds),
  revisions: trees.map((t) => ({ rev: t.rev, sha: t.sha, ...mediansOf(t.runs), runs: t.runs })),
};
console.log(JSON.stringify(summary, null, 2));
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `compare-${summary.date.slice(0, 19).replace(/:/g, "")}.json`), JSON.stringify(summary, null, 2) + "\n");
for (const tree of trees) {
  execFileSync("git", ["worktree", "remove", "--force", tree.dir], { cwd: root, stdio: "ignore" });
  rmSync(tree.dir, { recursive: true, force: true });
}
