// The server's CPU per topic publish and per live-query write, beside the latencies of bench/live-latency.ts: the
// same loops on a fresh local server, after one untimed run, with the CPU time (user + system) its workerd process
// used during each measured run. Wall-clock percentiles swing with whatever else the machine runs; CPU per publish
// moves only with the work done. Usage: node --experimental-strip-types bench/live-cpu.ts [runs=3]
import { startServer } from "../test/support/server-harness.ts";
import { cpuDelta, serverCpuMs } from "./cpu-of-server.ts";
import { queryLatency, topicLatency } from "./live-latency.ts";

const runs = Number(process.argv[2] ?? 3);

/** The CPU ms of the server's busiest process (the workerd that runs the objects) during `load`. */
async function measured<T>(stateDir: string, load: () => Promise<T>): Promise<{ result: T; serverCpuMs: number }> {
  const before = serverCpuMs(stateDir);
  const result = await load();
  const used = cpuDelta(before, serverCpuMs(stateDir));
  return { result, serverCpuMs: Math.max(...Object.entries(used).filter(([name]) => name.startsWith("workerd")).map(([, ms]) => ms)) };
}

const server = await startServer({ noAuth: true, settings: { TOPGUN_OP_RATE: "off" } });
try {
  await topicLatency(server.wsUrl);
  await queryLatency(server.wsUrl);
  for (let run = 0; run < runs; run++) {
    const topic = await measured(server.stateDir, () => topicLatency(server.wsUrl));
    const query = await measured(server.stateDir, () => queryLatency(server.wsUrl));
    console.log(
      JSON.stringify({
        topicP50: topic.result.publishToReceiveMs.p50,
        topicP99: topic.result.publishToReceiveMs.p99,
        topicCpuMsPerPublish: +(topic.serverCpuMs / topic.result.publishes).toFixed(2),
        queryP50: query.result.writeToQueryUpdateMs.p50,
        queryP99: query.result.writeToQueryUpdateMs.p99,
        queryCpuMsPerWrite: +(query.serverCpuMs / query.result.writes).toFixed(2),
      }),
    );
  }
} finally {
  await server.stop();
}
