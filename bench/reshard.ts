// What resharding costs (docs/resharding.md): how long the admin call takes to give an empty map a new shard count
// (1 → 16 → 271 → 8, partitions cold on the first pass); how long moving a map of 20,000 keys from 1 to 16 shards
// takes while 10 connections write to that map, and their write throughput during the move against the same writers
// on the same map just before it; and what a stream of reshards of empty maps does to the write throughput of other
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
const KEYS_PER_WRITER = LOADED_KEYS / 10;

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
    /** Asks the map's state until no reshard of it runs (a move answers 202 and goes on in the control object's alarm). */
    const untilEnded = async (map: string): Promise<{ result?: string }> => {
      for (;;) {
        const response = await fetch(`${server.url}/api/admin/maps/${map}?namespace=${NAMESPACE}`, { headers: { Authorization: `Bearer ${admin}` } });
        const body = (await response.json()) as { reshard?: unknown; lastReshard?: { result: string } };
        if (!body.reshard) return body.lastReshard ?? {};
      }
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
    /**
     * Loads 20,000 keys into `map` (`k<i>-<j>`, the keys the writers below overwrite), measures 10 writers on it for
     * `durationMs`, then the same writers while the map moves 1 → 16 (the reshard starts a second in).
     */
    const moveLoadedMap = async (map: string, durationMs: number) => {
      const loader = await BenchSocket.open(server.wsUrl({ namespace: NAMESPACE, clientId: `loader-${map}` }), token);
      for (let first = 0; first < LOADED_KEYS; first += 500) {
        const ops = Array.from({ length: 500 }, (_, i) => {
          const n = first + i;
          return {
            id: String(n),
            mapName: map,
            key: `k${Math.floor(n / KEYS_PER_WRITER)}-${n % KEYS_PER_WRITER}`,
            opType: "PUT",
            record: { value: { n }, timestamp: { millis: Date.now(), counter: i, nodeId: "bench-loader" } },
          };
        });
        const acked = loader.next("OP_ACK", 60_000);
        loader.send({ type: "OP_BATCH", payload: { ops } });
        await acked;
      }
      loader.close();
      console.error(`[bench reshard] ${map}: ${LOADED_KEYS} keys loaded`);
      const wsUrl = (params: Record<string, string>) => server.wsUrl({ ...params, namespace: NAMESPACE });
      const options = { token, keySpace: KEYS_PER_WRITER };
      const before = await throughput(wsUrl, 10, () => map, durationMs, options);
      const runStarted = performance.now();
      const writing = throughput(wsUrl, 10, () => map, Math.max(durationMs, 8_000), options);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const reshardStarted = performance.now();
      const asked = await reshard(map, 16);
      if (asked.status !== 202) throw new Error(`moving ${map} answered ${asked.status}: ${asked.body}`);
      const outcome = await untilEnded(map);
      const reshardEnded = performance.now();
      const moved = { ms: round(reshardEnded - reshardStarted) };
      console.error(`[bench reshard] ${map}: moved 1 → 16 in ${moved.ms} ms (${outcome.result ?? "?"}; the PUT answered 202 in ${asked.ms} ms)`);
      const during = await writing;
      if (outcome.result !== "done") throw new Error(`moving ${map} ended ${JSON.stringify(outcome)}`);
      // The writers' acknowledged ops of the whole seconds the reshard overlapped, per second.
      const first = Math.floor((reshardStarted - runStarted) / 1000);
      const last = Math.floor((reshardEnded - runStarted) / 1000);
      const window = during.perSecond.slice(first, last + 1);
      return {
        seconds: round(moved.ms / 1000),
        opsPerSecondBefore: before.opsPerSecond,
        opsPerSecondDuring: Math.round(window.reduce((a, b) => a + b, 0) / Math.max(1, window.length)),
        batchMsBefore: before.batchMs,
        batchMsOfRunWithReshard: during.batchMs,
        failedBatches: during.failedBatches ?? 0,
      };
    };

    const emptyMapCold = await steps("bench-empty-cold");
    const emptyMapWarm = await steps("bench-empty-warm");
    console.error("[bench reshard] empty maps resharded");

    const moves = [];
    for (let r = 0; r < ROUNDS; r++) moves.push(await moveLoadedMap(`bench-loaded-${r}`, durationMs));

    const stamp = Date.now();
    const wsUrl = (params: Record<string, string>) => server.wsUrl({ ...params, namespace: NAMESPACE });
    // Untimed: the first run of a fresh server wakes its objects and warms the isolate.
    await throughput(wsUrl, 10, (i) => `bench-warm-${i}-${stamp}`, 1_000, { token });
    console.error("[bench reshard] writes while empty maps are resharded");
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
      moveMapWith20000Keys: summarize(moves),
      writes: {
        rounds: ROUNDS,
        quietOpsPerSecond: mean(quiet),
        whileReshardingOpsPerSecond: mean(resharding),
        shareOfQuiet: round(mean(resharding) / mean(quiet)),
        reshardsDuringWrites: reshards,
      },
    };
  } finally {
    await server.stop();
  }
}

/** The rounds of moving a loaded map, and their means. */
function summarize(moves: { seconds: number; opsPerSecondBefore: number; opsPerSecondDuring: number; failedBatches: number }[]) {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const before = mean(moves.map((m) => m.opsPerSecondBefore));
  const during = mean(moves.map((m) => m.opsPerSecondDuring));
  return {
    keys: LOADED_KEYS,
    fromShards: 1,
    toShards: 16,
    writers: 10,
    meanSeconds: round(mean(moves.map((m) => m.seconds))),
    meanOpsPerSecondBefore: Math.round(before),
    meanOpsPerSecondDuring: Math.round(during),
    shareOfBefore: round(during / before),
    rounds: moves,
  };
}
