// What resharding costs today (docs/resharding.md): how long the admin call takes to give an empty map a new shard
// count (1 → 16 → 271 → 8, partitions cold on the first pass), how long it takes to refuse a map holding 20,000 keys
// (moving a map's records online is not built), and what a stream of reshards does to the write throughput of other
// maps (rounds alternating with a quiet baseline, so both see the same machine load).
import { signToken } from "../test/support/tokens.ts";
import { startServer } from "../test/support/server-harness.ts";
import { BenchSocket } from "./bench-socket.ts";
import { round } from "./measure.ts";
import { throughput } from "./writes.ts";

const SECRET = "bench-reshard-secret";
const NAMESPACE = "bench-reshard";
const ROUNDS = 2;
const LOADED_KEYS = 20_000;

const sign = (claims: { sub: string; roles: string[] }) => signToken({ secret: SECRET, ...claims });

export async function reshardCost(durationMs: number) {
  const server = await startServer({ jwtSecret: SECRET });
  try {
    const admin = await sign({ sub: "bench-admin", roles: ["admin"] });
    const token = await sign({ sub: "bench-writer", roles: [] });
    const reshard = async (map: string, shards: number) => {
      const started = performance.now();
      const response = await fetch(`${server.url}/api/admin/maps/${map}/shards?namespace=${NAMESPACE}`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
        body: JSON.stringify({ shards }),
      });
      const body = await response.text();
      return { status: response.status, ms: round(performance.now() - started), body };
    };
    const steps = async (map: string) => {
      const times: Record<string, number> = {};
      let from = 1;
      for (const to of [16, 271, 8]) {
        const answer = await reshard(map, to);
        if (answer.status !== 200) throw new Error(`reshard ${from} → ${to} answered ${answer.status}: ${answer.body}`);
        times[`${from}to${to}Ms`] = answer.ms;
        from = to;
      }
      return times;
    };
    const emptyMapCold = await steps("bench-empty-cold");
    const emptyMapWarm = await steps("bench-empty-warm");

    const loader = await BenchSocket.open(server.wsUrl({ namespace: NAMESPACE, map: "bench-loaded", clientId: "bench-loader" }), token);
    for (let first = 0; first < LOADED_KEYS; first += 100) {
      const ops = Array.from({ length: 100 }, (_, i) => ({
        id: String(first + i),
        mapName: "bench-loaded",
        key: `k${first + i}`,
        opType: "PUT",
        record: { value: { n: first + i }, timestamp: { millis: Date.now(), counter: i, nodeId: "bench-loader" } },
      }));
      const acked = loader.next("OP_ACK", 60_000);
      loader.send({ type: "OP_BATCH", payload: { ops } });
      await acked;
    }
    loader.close();
    const refused = await reshard("bench-loaded", 16);
    if (refused.status !== 409) throw new Error(`a reshard of a map with data answered ${refused.status}`);

    const stamp = Date.now();
    const wsUrl = (params: Record<string, string>) => server.wsUrl({ ...params, namespace: NAMESPACE });
    // Untimed: the first run of a fresh server wakes its objects and warms the isolate.
    await throughput(wsUrl, 10, (i) => `bench-warm-${i}-${stamp}`, 1_000, { token });
    const quiet: number[] = [];
    const resharding: number[] = [];
    let reshards = 0;
    for (let r = 0; r < ROUNDS; r++) {
      quiet.push((await throughput(wsUrl, 10, (i) => `bench-quiet-${r}-${i}-${stamp}`, durationMs, { token })).opsPerSecond);
      let running = true;
      const loop = (async () => {
        for (let n = 0; running; n++) {
          await reshard(`bench-moving-${r}-${n}`, 16);
          reshards += 1;
        }
      })();
      resharding.push((await throughput(wsUrl, 10, (i) => `bench-busy-${r}-${i}-${stamp}`, durationMs, { token })).opsPerSecond);
      running = false;
      await loop;
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    return {
      emptyMapCold,
      emptyMapWarm,
      refuseMapWith20000KeysMs: refused.ms,
      writes: {
        rounds: ROUNDS,
        quietOpsPerSecond: mean(quiet),
        whileReshardingOpsPerSecond: mean(resharding),
        shareOfQuiet: round(mean(resharding) / mean(quiet)),
        reshardsDuringWrites: reshards,
      },
      movingMapsWithData: "not built (docs/resharding.md)",
    };
  } finally {
    await server.stop();
  }
}
