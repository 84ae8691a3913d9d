import { setTimeout as delay } from "node:timers/promises";
import { round } from "./measure.ts";
import { BenchSocket } from "./bench-socket.ts";

const GC_TOMBSTONES = 20_000;
const DAY_MS = 86_400_000;

/**
 * Tombstone GC through the alarm (objects/expiry/): 20,000 tombstones written with timestamps 31 days old (past the
 * default 30-day horizon) into one map, then the time from the last OP_ACK until the map's Merkle root is 0 (every
 * tombstone pruned, 500 per alarm). It includes the ~2 s before the first alarm (the write log's compaction delay),
 * reported apart as `firstAlarmDelayMs`.
 */
export async function gcCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-gc-${Date.now()}`;
  const socket = await BenchSocket.open(wsUrl({ map }));
  const millis = Date.now() - 31 * DAY_MS;
  for (let start = 0; start < GC_TOMBSTONES; start += 500) {
    const ops = Array.from({ length: 500 }, (_, i) => ({
      id: `gc-${start + i}`,
      mapName: map,
      key: `gone-${start + i}`,
      opType: "REMOVE",
      record: { value: null, timestamp: { millis, counter: start + i, nodeId: "bench-writer" } },
    }));
    const acked = socket.next("OP_ACK");
    socket.send({ type: "OP_BATCH", payload: { ops } });
    await acked;
  }
  const t0 = performance.now();
  for (;;) {
    const root = socket.next("SYNC_RESP_ROOT");
    socket.send({ type: "SYNC_INIT", mapName: map });
    if ((await root).payload?.rootHash === 0) break;
    await delay(50);
  }
  const ms = performance.now() - t0;
  socket.close();
  const FIRST_ALARM_DELAY_MS = 2_000;
  return {
    tombstones: GC_TOMBSTONES,
    msUntilAllPruned: round(ms),
    firstAlarmDelayMs: FIRST_ALARM_DELAY_MS,
    tombstonesPerSecondAfterFirstAlarm: round(GC_TOMBSTONES / Math.max(0.001, (ms - FIRST_ALARM_DELAY_MS) / 1000)),
  };
}
