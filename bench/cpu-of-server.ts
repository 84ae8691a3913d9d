// CPU time (user + system, ms) of the processes of a local server started by test/support/server-harness.ts: those
// whose environment names its state directory (wrangler's node process and its workerd children). Linux only.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/**
 * Visits each process of the server under `stateDir` (its environment names that state directory) with its pid and
 * its /proc name; processes that end meanwhile or are not ours to read are skipped.
 */
export function forEachServerProcess(stateDir: string, visit: (pid: string, name: string) => void): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let name: string;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "latin1").includes(`TOPGUN_STATE_DIR=${stateDir}\0`)) continue;
      name = readFileSync(`/proc/${entry}/comm`, "latin1").trim();
    } catch {
      continue;
    }
    visit(entry, name);
  }
}

/** Per process name (node, workerd, …), the CPU ms used so far by the server's processes. */
export function serverCpuMs(stateDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  forEachServerProcess(stateDir, (pid, base) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      // workerd processes are told apart by pid: wrangler dev runs its proxy in one and the server in another.
      const name = base === "workerd" ? `workerd-${pid}` : base;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      out[name] = (out[name] ?? 0) + (ticks * 1000) / TICKS_PER_SECOND;
    } catch {
      // The process ended meanwhile.
    }
  });
  return out;
}

/** The CPU ms each process name used between two readings. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) out[name] = Math.round(ms - (before[name] ?? 0));
  return out;
}

/**
 * Waits until the server's processes used under `busyMs` of CPU in a second (alarms of an earlier measure, such as
 * compactions, have run), at most `maxMs`; answers how long it waited.
 */
export async function waitUntilQuiet(stateDir: string, { busyMs = 50, maxMs = 30_000 } = {}): Promise<number> {
  const started = Date.now();
  let before = serverCpuMs(stateDir);
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = serverCpuMs(stateDir);
    const used = Object.values(cpuDelta(before, after)).reduce((a, b) => a + b, 0);
    if (used < busyMs) break;
    before = after;
  }
  return Date.now() - started;
}
