// The runtime's own cost of a fan-out over Durable Object RPC, under wrangler dev on this machine: one object calls
// N others once each in parallel (bench/rpc/rpc-worker.ts), as a topic's owner calls its subscribers' homes.
// Usage: node --experimental-strip-types bench/rpc-cost.ts [targets=84] [rounds=200]
import { startSideWorker } from "./side-worker.ts";

const targets = Number(process.argv[2] ?? 84);
const rounds = Number(process.argv[3] ?? 200);

async function main() {
  const { url, stop } = await startSideWorker("rpc");
  try {
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
    await stop();
  }
}

await main();
