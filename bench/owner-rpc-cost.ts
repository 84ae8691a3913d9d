// workerd's own cost of the sharded write path's owner calls and alarms on this machine (bench/owner-rpc/): calls per
// second and the server's CPU per call for an empty call, the owner call's arguments as objects or as msgpack bytes,
// and calls that run the owner's fixed SQL (one transaction with 0, 1 or 2 one-row inserts); alarms per second and CPU
// per alarm for 271 objects that only re-arm. MODES=<mode,...> runs those modes only (no alarms);
// IN_FLIGHT=<n> keeps n calls in flight (default 16).
// Usage: node --experimental-strip-types bench/owner-rpc-cost.ts [calls]
// CPU is the server's (user + system of its workerd processes); on a shared machine `cpuShare` says how much of the
// wall time its thread got, and CPU per call is the figure that compares across runs.
import { cpuDelta, serverCpuMs } from "./cpu-of-server.ts";
import { startSideWorker } from "./side-worker.ts";

const calls = Number(process.argv[2] ?? 4000);
/** Calls the caller keeps in flight (the home's MAX_CALLS_IN_FLIGHT is 16). */
const inFlight = Number(process.env.IN_FLIGHT ?? 16);
const { url, stateDir, stop } = await startSideWorker("owner-rpc");
const workerdMs = (d: Record<string, number>) => Object.entries(d).filter(([k]) => k.startsWith("workerd")).reduce((a, [, v]) => a + v, 0);

async function measure<T extends { ms: number }>(path: string, count: (r: T) => number) {
  await fetch(`${url}/wake`);
  const before = serverCpuMs(stateDir);
  const started = Date.now();
  const result = (await (await fetch(`${url}${path}`)).json()) as T;
  const wallMs = Date.now() - started;
  const cpu = workerdMs(cpuDelta(before, serverCpuMs(stateDir)));
  const n = count(result);
  // The CPU share says how much of the wall time the server's thread was busy (the machine is shared).
  return { perSecond: Math.round((1000 * n) / wallMs), cpuUsPerUnit: Math.round((1000 * cpu) / n), cpuShare: Math.round((100 * cpu) / wallMs) / 100, wallMs };
}

try {
  await fetch(`${url}/run?mode=txn2&calls=1000`);
  const out: Record<string, unknown> = {};
  const modes = (process.env.MODES ?? "noop,objects,requestOnly,answerOnly,bytes,txn0,txn1,txn2").split(",");
  for (const round of [1, 2]) {
    for (const mode of modes) {
      out[`${mode}#${round}`] = await measure<{ calls: number; ms: number }>(`/run?mode=${mode}&calls=${calls}&inFlight=${inFlight}`, (r) => r.calls);
    }
    if (!process.env.MODES) out[`alarm#${round}`] = await measure<{ alarms: number; ms: number }>(`/alarms?rounds=8`, (r) => r.alarms);
  }
  console.log(JSON.stringify(out, null, 1));
} finally {
  await stop();
}
