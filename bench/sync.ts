import { round } from "./measure.ts";
import { BenchSocket } from "./bench-socket.ts";
import { Replica, merklePull } from "./merkle-pull.ts";

const SYNC_KEYS = 10_000;

/** Time and bytes of a fresh client's Merkle sync of a 10,000-key map, and of a re-sync after 1% changed offline. */
export async function syncCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-sync-${Date.now()}`;
  const writer = await BenchSocket.open(wsUrl({ map }));
  const keys = Array.from({ length: SYNC_KEYS }, (_, i) => `item-${i}`);
  const write = async (subset: string[], tag: string) => {
    for (let start = 0; start < subset.length; start += 500) {
      const now = Date.now();
      const ops = subset.slice(start, start + 500).map((key, i) => ({
        id: `${tag}-${start + i}`,
        mapName: map,
        key,
        record: { value: { key, tag, score: i }, timestamp: { millis: now, counter: i, nodeId: "bench-writer" } },
      }));
      const acked = writer.next("OP_ACK");
      writer.send({ type: "OP_BATCH", payload: { ops } });
      await acked;
    }
  };
  await write(keys, "v1");

  const reader = await BenchSocket.open(wsUrl({ map }));
  const replica = new Replica();
  const before = reader.bytesIn;
  const t0 = performance.now();
  const full = await merklePull(reader, map, replica);
  const fullMs = performance.now() - t0;
  const fullBytes = reader.bytesIn - before;
  if (replica.tree.getRootHash() !== full.rootHash || replica.records.size !== SYNC_KEYS) {
    throw new Error(`full sync diverged: ${replica.records.size} records`);
  }

  // The reader goes offline, 1% of the keys change, and it comes back with its replica and re-syncs.
  reader.close();
  await write(keys.filter((_, i) => i % 100 === 0), "v2");
  const returning = await BenchSocket.open(wsUrl({ map }));
  const before2 = returning.bytesIn;
  const t1 = performance.now();
  const delta = await merklePull(returning, map, replica, full.serverMillis);
  const deltaMs = performance.now() - t1;
  const deltaBytes = returning.bytesIn - before2;
  if (replica.tree.getRootHash() !== delta.rootHash) throw new Error("re-sync diverged");
  writer.close();
  returning.close();
  return {
    keys: SYNC_KEYS,
    fullSync: { ms: round(fullMs), bytes: fullBytes, requests: full.requests, records: full.records },
    resyncAfter1Percent: {
      ms: round(deltaMs),
      bytes: deltaBytes,
      requests: delta.requests,
      records: delta.records,
      deltaFrames: delta.deltaFrames,
      percentOfFullBytes: round((100 * deltaBytes) / fullBytes),
    },
  };
}

