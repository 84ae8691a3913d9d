// The runtime's own cost of a fan-out over Durable Object RPC, under wrangler dev on this machine: one object calls
// N others once each in parallel (bench/rpc/rpc-worker.ts), as a topic's owner calls its subscribers' homes.
// Usage: node --experimental-strip-types bench/rpc-cost.ts [targets=84] [rounds=200]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { findFreePort, PROJECT_ROOT } from "../test/support/server-harness.ts";

const targets = Number(process.argv[2] ?? 84);
const rounds = Number(process.argv[3] ?? 200);

async function main() {
  const port = await findFreePort();
  const stateDir = await mkdtemp(join(tmpdir(), "topgun-rpc-"));
  const wrangler = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const child = spawn(
    process.execPath,
    [wrangler, "dev", "--config", join(PROJECT_ROOT, "bench", "rpc", "wrangler.toml"), "--port", String(port),
      "--ip", "127.0.0.1", "--persist-to", stateDir, "--inspector-port", "0", "--show-interactive-dev-session=false",
      "--log-level", "warn"],
    { cwd: PROJECT_ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: "ignore", detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (const deadline = Date.now() + 60_000; ; await delay(250)) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        // Not listening yet: poll again until the deadline.
      }
      if (Date.now() > deadline) throw new Error("rpc worker did not start");
    }
    const fan = async (payload: boolean, memory = false, viaFetch = false) => {
      const started = performance.now();
      const query = `targets=${targets}&rounds=${rounds}&payload=${payload ? 1 : 0}&memory=${memory ? 1 : 0}&fetch=${viaFetch ? 1 : 0}`;
      const { ms } = (await (await fetch(`${url}/fan?${query}`)).json()) as { ms: number };
      return { inObjectMsPerRound: ms, wallMs: performance.now() - started };
    };
    await fan(false); // warm-up: every target woken
    await fan(false, true);
    const variants = [[false, false, false], [true, false, false], [false, true, false], [true, false, true], [false, false, true]] as const;
    for (const [payload, memory, viaFetch] of [...variants, ...variants]) {
      const { inObjectMsPerRound, wallMs } = await fan(payload, memory, viaFetch);
      const perRound = wallMs / rounds;
      console.log(
        JSON.stringify({ targets, rounds, storage: memory ? "none" : "sqlite", call: viaFetch ? "fetch" : "rpc", payload, msPerRound: +perRound.toFixed(2), usPerRpc: Math.round((1000 * perRound) / targets), inObjectMsPerRound: +inObjectMsPerRound.toFixed(2) }),
      );
    }
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
