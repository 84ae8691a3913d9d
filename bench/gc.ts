import { setTimeout as delay } from "node:timers/promises";
import { round } from "./measure.ts";
import { BenchSocket } from "./bench-socket.ts";

const GC_TOMBSTONES = 20_000;
const DAY_MS = 86_400_000;

/**
 * Tombstone GC through the alarm (objects/expiry/): 20,000 tombstones written with timestamps 31 days old (past the
 * default 30-day horizon) into one map; a second socket that synced the map notes when the first GC_PRUNE arrives
 * (the first alarm's chunk of 500), and the writer polls the root until it is 0 (every tombstone pruned). Reported:
 * that span, the rate over it, and the GC_PRUNEs (one per chunk that pruned some).
 */
export async function gcCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-gc-${Date.now()}`;
  const watcher = await BenchSocket.open(wsUrl({ map }));
  const synced = watcher.next("SYNC_RESP_ROOT");
  watcher.send({ type: "SYNC_INIT", mapName: map });
  await synced;
  let firstPrune: number | undefined;
  let prunes = 0;
  watcher.onMessage((message) => {
    if (message.type !== "GC_PRUNE") return;
    firstPrune ??= performance.now();
    prunes++;
  });
  const writer = await BenchSocket.open(wsUrl({ map }));
  const millis = Date.now() - 31 * DAY_MS;
  for (let start = 0; start < GC_TOMBSTONES; start += 500) {
    const ops = Array.from({ length: 500 }, (_, i) => ({
      id: `gc-${start + i}`,
      mapName: map,
      key: `gone-${start + i}`,
      opType: "REMOVE",
      record: { value: null, timestamp: { millis, counter: start + i, nodeId: "bench-writer" } },
    }));
    const acked = writer.next("OP_ACK");
    writer.send({ type: "OP_BATCH", payload: { ops } });
    await acked;
  }
  for (;;) {
    const root = writer.next("SYNC_RESP_ROOT");
    writer.send({ type: "SYNC_INIT", mapName: map });
    if ((await root).payload?.rootHash === 0) break;
    await delay(20);
  }
  const done = performance.now();
  watcher.close();
  writer.close();
  const ms = done - (firstPrune ?? done);
  return {
    tombstones: GC_TOMBSTONES,
    gcPrunes: prunes,
    msFromFirstGcPruneUntilAllPruned: round(ms),
    tombstonesPerSecond: round((GC_TOMBSTONES - 500) / Math.max(0.001, ms / 1000)),
  };
}
